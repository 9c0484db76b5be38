package alerce

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every row that gives no datum is counted with its reason and line.
func TestProcessorReportsSkippedRows(t *testing.T) {
	b, err := os.ReadFile("alercetest/data/ztf20aaelulu_lightcurve.json")
	require.NoError(t, err)
	ds, rep, err := Processor{}.run(context.Background(), strings.NewReader(string(b)))
	require.NoError(t, err)
	assert.Len(t, ds, 8)
	assert.Equal(t, 9, rep.rows)
	assert.Equal(t, map[string]int{skipDuplicate: 1}, rep.counts)
	assert.Equal(t, []int{143}, rep.skipped[skipDuplicate], "the row of the pair without rfid, which starts on line 143")

	file := `{"detections": [
{"mjd": 60001, "fid": 1, "magpsf": 18, "sigmapsf": 0.1, "isdiffpos": 1},
{"fid": 1, "magpsf": 18},
{"mjd": 60002, "fid": 9, "magpsf": 18},
{"mjd": 60003, "fid": 1},
{"mjd": 60004, "fid": 1, "magpsf": 18, "isdiffpos": -1},
{"tid": "atlas", "mjd": 60005, "fid": 1, "magpsf": 18}
], "non_detections": [
{"mjd": 60006, "fid": 2}
], "forced_photometry": [
{"mjd": 60007, "fid": 1, "mag": 99, "e_mag": 0.1},
{"mjd": 60008, "fid": 1, "mag": 18, "e_mag": 0.1, "procstatus": 61},
{"survey_id": "lsst", "mjd": 60009, "band": 1, "psfFlux": 0.0, "psfFluxErr": 0.0}
]}`
	ds, rep, err = Processor{}.run(context.Background(), strings.NewReader(file))
	require.NoError(t, err)
	assert.Len(t, ds, 1)
	assert.Equal(t, 10, rep.rows)
	assert.Equal(t, map[string][]int{
		skipNoMJD:       {3},
		skipFilter:      {4},
		skipNoMagnitude: {5},
		skipNoError:     {6},
		skipSurvey:      {7},
		skipNoLimit:     {9},
		skipSentinel:    {11},
		skipProcstatus:  {12},
		skipNoFlux:      {13},
	}, rep.skipped)
}

func TestSanitizeJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": NaN, "b": Infinity, "c": -Infinity}`: `{"a": null, "b": null, "c": null}`,
		`{"s": "NaN and Infinity", "t": "\"NaN"}`:   `{"s": "NaN and Infinity", "t": "\"NaN"}`,
		`[1, -1, NaN]`: `[1, -1, null]`,
		`{"x": 1}`:     `{"x": 1}`,
	} {
		assert.Equal(t, want, string(sanitizeJSON([]byte(in))), in)
	}
}
