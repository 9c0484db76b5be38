package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs the command with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

type line struct {
	Timestamp string         `json:"timestamp"`
	MJD       float64        `json:"mjd"`
	Source    string         `json:"source"`
	DataType  string         `json:"data_type"`
	Value     map[string]any `json:"value"`
}

func parseLines(t *testing.T, out string) []line {
	t.Helper()
	var ls []line
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "line %q", sc.Text())
		ls = append(ls, l)
	}
	return ls
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestProcessPhotometryTable(t *testing.T) {
	f := writeFile(t, "upload.csv", "time,filter,magnitude,error,limit\n60000.5,g,17,0.1,\n60001.25,r,,,19.5\n")
	out, errOut, code := runCLI(t, "-process", "photometry", "-file", f)
	require.Equal(t, 0, code, errOut)
	ls := parseLines(t, out)
	require.Len(t, ls, 2)
	assert.Equal(t, "2023-02-25T12:00:00Z", ls[0].Timestamp)
	assert.Equal(t, 60000.5, ls[0].MJD)
	assert.Equal(t, "photometry", ls[0].DataType)
	assert.Equal(t, 17.0, ls[0].Value["magnitude"])
	assert.Equal(t, "g", ls[0].Value["filter"])
	assert.Equal(t, 19.5, ls[1].Value["limit"])
	assert.NotContains(t, ls[1].Value, "magnitude")
	assert.Contains(t, errOut, "converted 2 datums (no -db")

	out, _, code = runCLI(t, "-process", "photometry", "-file", f, "-format", "csv")
	require.Equal(t, 0, code)
	rows := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, rows, 3)
	assert.True(t, strings.HasPrefix(rows[0], "timestamp,mjd,source,data_type,filter,magnitude"))
	assert.Equal(t, "2023-02-26T06:00:00Z,60001.250000,upload,photometry,r,,,19.5,,,,,", rows[2])
}

func TestProcessErrors(t *testing.T) {
	bad := writeFile(t, "bad.csv", "time,filter,magnitude\n60000.5,g,17\n60001,g,bright\n")
	out, errOut, code := runCLI(t, "-process", "photometry", "-file", bad)
	assert.Equal(t, 1, code)
	assert.Empty(t, out, "nothing printed for a bad file")
	assert.Contains(t, errOut, "line 3")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "a one-line reason: %q", errOut)

	_, errOut, code = runCLI(t, "-process", "nope", "-file", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `no processor for data product type "nope"`)
	_, _, code = runCLI(t, "-process", "photometry")
	assert.Equal(t, 2, code)
	_, _, code = runCLI(t, "-format", "xml", "-process", "photometry", "-file", bad)
	assert.Equal(t, 2, code)
	_, _, code = runCLI(t, "-bogus")
	assert.Equal(t, 2, code)
	_, errOut, code = runCLI(t, "-process", "photometry", "-file", filepath.Join(t.TempDir(), "missing.csv"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file")
}

func TestProcessSpectrum(t *testing.T) {
	f := writeFile(t, "spectrum.csv", "# DATE-OBS: 2024-01-27T04:05:06\n# FACILITY: NOT\nwavelength,flux\n4000,1e-16\n4001,2e-16\n")
	out, errOut, code := runCLI(t, "-process", "spectroscopy", "-file", f, "-format", "json")
	require.Equal(t, 0, code, errOut)
	ls := parseLines(t, out)
	require.Len(t, ls, 1, "one line per spectrum")
	assert.Equal(t, "2024-01-27T04:05:06Z", ls[0].Timestamp)
	assert.Equal(t, "spectroscopy", ls[0].DataType)
	assert.Equal(t, "NOT", ls[0].Source)
	assert.Equal(t, []any{4000.0, 4001.0}, ls[0].Value["wavelength"])
	assert.Equal(t, []any{1e-16, 2e-16}, ls[0].Value["flux"])
	assert.Equal(t, "Angstrom", ls[0].Value["wavelength_units"])
	assert.Equal(t, "erg / (Angstrom s cm2)", ls[0].Value["flux_units"])
	assert.Contains(t, errOut, "converted 1 datum (no -db")

	bad := writeFile(t, "notes.txt", "# DATE-OBS: 2024-01-27\nwavelength,flux\n4000,bright\n")
	_, errOut, code = runCLI(t, "-process", "spectroscopy", "-file", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "notes.txt line 3")
}

// With -db the file is stored and its datums ingested: the same lines as
// without, and a second run adds nothing. A bad file stores nothing.
func TestProcessIntoDatabase(t *testing.T) {
	f := writeFile(t, "upload.csv", "time,filter,magnitude,error,limit\n60000.5,g,17,0.1,\n60001.25,r,,,19.5\n60001.25,r,,,19.5\n")
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "tom.db"))
	plain, _, code := runCLI(t, "-process", "photometry", "-file", f)
	require.Equal(t, 0, code)
	out, errOut, code := runCLI(t, "-process", "photometry", "-file", f, "-db", db)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, plain, out, "the same output with and without a store")
	assert.Contains(t, errOut, "added 2, skipped 1\n")
	_, errOut, code = runCLI(t, "-process", "photometry", "-file", f, "-db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "added 0, skipped 3\n")

	bad := writeFile(t, "bad.csv", "time,filter,magnitude\n60100.5,g,17\n60101,g,bright\n")
	out, errOut, code = runCLI(t, "-process", "photometry", "-file", bad, "-db", db)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "bad.csv line 3")
	_, errOut, code = runCLI(t, "-process", "photometry", "-file", f, "-db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "added 0, skipped 3\n", "the bad file added nothing")
}

// Output larger than the spool's memory goes through a temporary file:
// all of it is printed in order, a bad last line prints none of it, and no
// temporary file is left behind either way.
func TestProcessLargeOutput(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var b strings.Builder
	b.WriteString("time,filter,magnitude,error\n")
	const rows = 30_000
	for i := range rows {
		fmt.Fprintf(&b, "%d.5,g,17.%03d,0.1\n", 50000+i, i%1000)
	}
	f := writeFile(t, "big.csv", b.String())
	out, errOut, code := runCLI(t, "-process", "photometry", "-file", f, "-format", "csv")
	require.Equal(t, 0, code, errOut)
	require.Greater(t, len(out), spoolMemory, "the output is larger than the spool's memory")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, rows+1)
	for i, l := range lines[1:] {
		require.Contains(t, l, fmt.Sprintf(",%d.500000,", 50000+i))
	}
	assert.Contains(t, errOut, fmt.Sprintf("converted %d datums", rows))

	bad := writeFile(t, "bigbad.csv", b.String()+"60000,g,bright,0.1\n")
	out, errOut, code = runCLI(t, "-process", "photometry", "-file", bad, "-format", "csv")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, fmt.Sprintf("line %d", rows+2))
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file left")
}
