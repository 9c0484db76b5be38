package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var windowLine = regexp.MustCompile(`(?m)^window: MJD ([0-9.]+) – ([0-9.]+|now)\nadded (\d+), skipped (\d+)$`)

// -refresh against -db: the first run (nothing stored) asks the form's
// window; the next ones ask from the newest stored epoch less ATLAS's
// three days, add nothing and print no datum; -targets -refresh does the
// same for many targets.
func TestRefreshCommand(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "tom.db")
	args := []string{"-simulate", "-service", "ATLAS", "-name", "SN 2023ixf", "-ra", "210.910674", "-dec", "54.311686",
		"-db", db, "-param", "min_date_mjd=60300", "-param", "max_date_mjd=60330", "-refresh"}
	out, errOut, code := runCLI(t, args...)
	require.Equal(t, 0, code, errOut)
	m := windowLine.FindStringSubmatch(errOut)
	require.NotNil(t, m, errOut)
	assert.Equal(t, []string{"60300", "60330"}, m[1:3], "nothing stored: the form's window")
	first, _ := strconv.Atoi(m[3])
	require.Positive(t, first)
	ls := parseLines(t, out)
	require.Len(t, ls, first)
	newest := ls[len(ls)-1].MJD
	for _, l := range ls {
		newest = max(newest, l.MJD)
	}

	for range 2 {
		out, errOut, code = runCLI(t, args...)
		require.Equal(t, 0, code, errOut)
		m = windowLine.FindStringSubmatch(errOut)
		require.NotNil(t, m, errOut)
		from, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		assert.InDelta(t, newest-3, from, 2e-5, "from the newest epoch less the overlap")
		assert.Equal(t, "60330", m[2])
		assert.Equal(t, "0", m[3], "nothing new")
		assert.NotEqual(t, "0", m[4], "the overlap came back")
		assert.Empty(t, out, "no new datum to print")
	}

	// Many targets.
	f := writeFile(t, "targets.txt", "SN 2023ixf, 210.910674, 54.311686\nNGC 1566, 65.00165, -54.93795\n")
	batch := []string{"-simulate", "-service", "ATLAS", "-targets", f, "-db", db, "-param", "min_date_mjd=60300",
		"-param", "max_date_mjd=60330", "-refresh", "-progress-every", "50ms"}
	for round := range 2 {
		out, errOut, code = runCLI(t, batch...)
		require.Equal(t, 0, code, errOut)
		var lines []summaryLine
		for l := range strings.Lines(out) {
			var s summaryLine
			require.NoError(t, json.Unmarshal([]byte(l), &s), l)
			lines = append(lines, s)
		}
		require.Len(t, lines, 2)
		for _, l := range lines {
			assert.Equal(t, "succeeded", l.State)
			assert.True(t, strings.HasPrefix(l.Window, "MJD "), l.Window)
		}
		assert.Equal(t, 0, lines[0].Added, "round %d: SN 2023ixf (id 1) is up to date", round)
		if round == 0 {
			assert.Positive(t, lines[1].Added, "NGC 1566 was new")
			assert.Equal(t, "MJD 60300 – 60330", lines[1].Window)
		} else {
			assert.Equal(t, 0, lines[1].Added)
			assert.NotEqual(t, "MJD 60300 – 60330", lines[1].Window)
		}
	}

	_, errOut, code = runCLI(t, "-simulate", "-service", "ATLAS", "-name", "x", "-ra", "1", "-dec", "1", "-refresh")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-refresh asks for what is new since the last query: it needs the store")
}
