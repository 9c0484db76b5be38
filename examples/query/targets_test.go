package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadTargets(t *testing.T) {
	in := `# my targets
name, ra, dec
SN 2023ixf, 210.910674, 54.311686
"AT 2024xyz",10,-5   # quoted name
NGC 1566   65.00165  -54.93795
PS1-13cbe 04:20:00.396 -54:56:16.62

  # indented comment
Sgr A* 17:45:40.04 -00:29:00.0
`
	ts, err := readTargets("t.txt", strings.NewReader(in), 10)
	require.NoError(t, err)
	require.Len(t, ts, 5)
	assert.Equal(t, "SN 2023ixf", ts[0].Name)
	assert.Equal(t, int64(10), ts[0].ID)
	assert.InDelta(t, 210.910674, ts[0].RA, 1e-12)
	assert.Equal(t, "AT 2024xyz", ts[1].Name)
	assert.Equal(t, -5.0, ts[1].Dec)
	assert.Equal(t, "NGC 1566", ts[2].Name, "white space: the last two fields are ra and dec")
	assert.Equal(t, int64(12), ts[2].ID)
	assert.InDelta(t, 65.00165, ts[3].RA, 1e-9, "04:20:00.396 hours")
	assert.InDelta(t, -(54 + 56.0/60 + 16.62/3600), ts[3].Dec, 1e-12)
	assert.Equal(t, "Sgr A*", ts[4].Name)
	assert.InDelta(t, -(29.0 / 60), ts[4].Dec, 1e-12, "the sign of -00:29 is kept")
}

func TestReadTargetsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a, 1, 2\nb, 1\n", "t.txt:2: want name, ra, dec; got 2 field(s)"},
		{"a 1\n", "t.txt:1: want name, ra, dec; got 2 field(s)"},
		{"a, one, 2\n", `t.txt:1: ra "one": not a number of degrees`},
		{"# c\na, 1, 95\n", "t.txt:2: dec: Must be in [-90, 90] degrees, not 95"},
		{"a, 370, 5\n", "t.txt:1: ra: Must be in [0, 360) degrees, not 370"},
		{"a, 12:61:00, 5\n", `t.txt:1: ra "12:61:00": bad sexagesimal part "61"`},
		{"a, 1, 2\nb, 3, 4\na, 5, 6\n", `t.txt:3: target "a" is already on line 1`},
		// The same name once normalised (a double space) is the same target.
		{"SN 2023ixf, 1, 2\nSN  2023ixf, 3, 4\n", `t.txt:2: target "SN 2023ixf" is already on line 1`},
		{", 1, 2\n", "t.txt:1: the name is empty"},
		{"# nothing\n\n", "t.txt: no targets"},
	} {
		_, err := readTargets("t.txt", strings.NewReader(tc.in), 1)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestBatchCommand(t *testing.T) {
	f := writeFile(t, "targets.txt", "# name, ra, dec\nSN 2023ixf, 210.910674, 54.311686\nNGC 1566 65.00165 -54.93795\nSouth Pole, 10, -89.5\n")
	out, errOut, code := runCLI(t, "-simulate", "-service", "ATLAS", "-targets", f, "-target-id", "7", "-progress-every", "50ms")
	require.Equal(t, 0, code, "a target with no data is not a failure: %s", errOut)
	var lines []summaryLine
	for l := range strings.Lines(out) {
		var s summaryLine
		require.NoError(t, json.Unmarshal([]byte(l), &s), l)
		lines = append(lines, s)
	}
	require.Len(t, lines, 3)
	assert.Equal(t, "SN 2023ixf", lines[0].Target)
	assert.Equal(t, int64(7), lines[0].ID)
	assert.Equal(t, "succeeded", lines[0].State)
	require.Len(t, lines[0].Products, 1)
	assert.Positive(t, lines[0].Added)
	assert.NotEmpty(t, lines[0].Remote)
	assert.Equal(t, "succeeded", lines[1].State)
	assert.Equal(t, "failed", lines[2].State, "the simulator has no data near the pole")
	assert.Contains(t, lines[2].Error, "No data returned")
	assert.Contains(t, errOut, "ATLAS: 3 targets")
	assert.Contains(t, errOut, "2/3 done, 1 failed")
	assert.Contains(t, errOut, "added ")

	out, _, code = runCLI(t, "-simulate", "-service", "ATLAS", "-targets", f, "-format", "csv")
	require.Equal(t, 0, code)
	rows := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, rows, 4)
	assert.Equal(t, "target,target_id,state,products,added,skipped,remote_task,error,window", rows[0])
	assert.True(t, strings.HasPrefix(rows[1], "SN 2023ixf,1,succeeded,atlas_"), rows[1])
}

func TestBatchCommandRefusesBadInput(t *testing.T) {
	bad := writeFile(t, "targets.txt", "a, 1, 2\nb, 1, 200\n")
	out, errOut, code := runCLI(t, "-simulate", "-service", "ATLAS", "-targets", bad)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "targets.txt:2: dec: Must be in [-90, 90] degrees, not 200")

	good := writeFile(t, "ok.txt", "a, 1, 2\n")
	_, errOut, code = runCLI(t, "-simulate", "-service", "ATLAS", "-targets", good, "-name", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-targets and -name")
	_, errOut, code = runCLI(t, "-simulate", "-service", "ATLAS", "-targets", good, "-param", "min_date_mjd=soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "min_date_mjd")
	_, errOut, code = runCLI(t, "-simulate", "-service", "ATLAS", "-targets", "/no/such/file")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no such file")
}
