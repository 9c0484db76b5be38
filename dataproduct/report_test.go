package dataproduct_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

func TestReport(t *testing.T) {
	var r dataproduct.Report
	r.Product = "job.txt"
	r.Rows, r.Datums = 1790, 1770
	r.Skip(79, "no flux error")
	for _, line := range []int{314, 315, 637, 676, 677, 700, 701} {
		r.Skip(line, "failed solution")
	}
	r.Skip(1217, "no flux error")
	r.Skip(0, "no flux error") // a point of a format without lines
	r.Note("units assumed")
	r.Note("units assumed")
	assert.Equal(t, []dataproduct.SkippedRows{
		{Reason: "no flux error", Count: 3, Lines: []int{79, 1217}},
		{Reason: "failed solution", Count: 7, Lines: []int{314, 315, 637, 676, 677}},
	}, r.Skipped, "grouped by reason in order of appearance, the first MaxReportLines lines kept")
	assert.Equal(t, 10, r.SkippedCount())
	assert.Equal(t, []string{"units assumed"}, r.Notes, "a note once")
	assert.Equal(t, "job.txt: 1790 rows, 1770 datums; 10 rows skipped: 3 no flux error (lines 79, 1217, ...);"+
		" 7 failed solution (lines 314, 315, 637, 676, 677, ...); note: units assumed", r.String())

	b, err := json.Marshal(dataproduct.IngestResult{Added: 2, Reports: []dataproduct.Report{r}})
	require.NoError(t, err)
	var back dataproduct.IngestResult
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r, back.Reports[0], "a report survives JSON (job rows)")
	b, err = json.Marshal(dataproduct.IngestResult{Added: 2})
	require.NoError(t, err)
	assert.JSONEq(t, `{"added": 2, "skipped": 0}`, string(b), "no reports key without reports")

	var none *dataproduct.Report
	none.Skip(1, "x") // a processor may record into a nil report
	none.Note("x")
	assert.Zero(t, none.SkippedCount())
	assert.Empty(t, none.String())
	one := dataproduct.Report{Rows: 1, Datums: 1}
	assert.Equal(t, "1 row, 1 datum", one.String())
}
