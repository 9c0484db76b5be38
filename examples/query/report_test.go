package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The report of a -process run goes to stderr: rows read, datums, rows
// skipped by reason with their lines, notes.
func TestProcessReport(t *testing.T) {
	f := writeFile(t, "job.txt", "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n"+
		"60000.1 17.5 0.04 355 13 o 0 1.1 10 20 5000 4000 2.3 2.1 12 -0.4 19.4 20.3 02a60000o0101o\n"+
		"60000.2 0.000 0.000 0 0 o 0 nan 10 20 6211 10071 nan 1.5 -80 -0.43 -2.95 -2.10 02a60000o0108o\n"+
		"60000.3 -5.402 0.060 502113864201 29871234567 o 0 1.2 10 20 1533 5741 2.05 1.97 -52 -0.47 -4.02 -3.60 02a60000o0115o\n")
	out, errOut, code := runCLI(t, "-process", "atlas_photometry", "-file", f)
	require.Equal(t, 0, code, errOut)
	assert.Len(t, parseLines(t, out), 1)
	report := "job.txt: 3 rows read, 1 datum, 2 rows skipped\n" +
		"  skipped 1: no flux error (duJy ≤ 0) (line 3)\n" +
		"  skipped 1: failed photometric solution (mag5sig < 10) (line 4)\n"
	assert.Contains(t, errOut, report+"converted 1 datum (no -db: none stored, duplicates not checked)\n")
	// With a store, the same report and what the store did.
	_, errOut, code = runCLI(t, "-process", "atlas_photometry", "-file", f, "-db", "sqlite://"+filepath.ToSlash(filepath.Join(t.TempDir(), "tom.db")))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, report+"added 1, skipped 0\n")

	_, errOut, code = runCLI(t, "-process", "atlas_photometry", "-file", f, "-observation-time", "2024-01-01T00:00:00")
	require.Equal(t, 0, code, errOut, "a time is only used by formats whose files may hold none")
}

func TestProcessObservationTime(t *testing.T) {
	f := writeFile(t, "spec1.csv", "wavelengths,fluxes\n3315.6,-1.5e-16\n3321.1,1.1e-15\n")
	out, errOut, code := runCLI(t, "-process", "spectroscopy", "-file", f)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "no observation time")

	out, errOut, code = runCLI(t, "-process", "spectroscopy", "-file", f, "-observation-time", "2020-09-15T09:37:01")
	require.Equal(t, 0, code, errOut)
	ls := parseLines(t, out)
	require.Len(t, ls, 1)
	assert.Equal(t, "2020-09-15T09:37:01Z", ls[0].Timestamp)
	assert.Contains(t, errOut, "note: the file gives no observation time: the time given with it is used (2020-09-15T09:37:01Z)")

	out, _, code = runCLI(t, "-process", "spectroscopy", "-file", f, "-observation-time", "59107.5")
	require.Equal(t, 0, code)
	assert.Equal(t, "2020-09-15T12:00:00Z", parseLines(t, out)[0].Timestamp, "an MJD")

	_, errOut, code = runCLI(t, "-process", "spectroscopy", "-file", f, "-observation-time", "soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-observation-time")
	_, errOut, code = runCLI(t, "-observation-time", "2020-09-15", "-service", "ATLAS", "-simulate", "-name", "x", "-ra", "1", "-dec", "1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-observation-time goes with -process")
}
