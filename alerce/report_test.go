package alerce_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// streamReport runs p.StreamReport on in and returns the datums, the
// report and the error.
func streamReport(t *testing.T, p alerce.Processor, in []byte) ([]dataproduct.Datum, dataproduct.Report, error) {
	t.Helper()
	var rep dataproduct.Report
	ds, err := processor.Collect(p.StreamReport(context.Background(), bytes.NewReader(in), processor.Input{}, &rep))
	return ds, rep, err
}

// The real sample (samples README): 9 rows; the exposure listed twice
// (detections 4 and 5, the second without rfid, starting on line 143)
// is reported as a duplicate; the four detections with the
// sigmapsf_corr = 100 sentinel (lines 38, 108, 143, 178) are not skipped
// for it, since the processor never reads sigmapsf_corr.
func TestProcessorReportsSampleSkips(t *testing.T) {
	for _, strict := range []bool{false, true} {
		ds, rep, err := streamReport(t, alerce.Processor{Strict: strict}, sample(t))
		require.NoError(t, err, "a duplicate never refuses a file (strict %v)", strict)
		assert.Len(t, ds, 8)
		assert.Equal(t, dataproduct.Report{Rows: 9, Datums: 8, Skipped: []dataproduct.SkippedRows{
			{Reason: alerce.ReasonDuplicate, Count: 1, Lines: []int{143}},
		}}, rep)
		// The sentinel rows of other exposures give their detection, with
		// sigmapsf as the error.
		mags := map[float64]float64{}
		for _, d := range ds {
			if ph := d.Value.(dataproduct.Photometry); ph.Magnitude != nil {
				mags[*ph.MJD] = *ph.Error
			}
		}
		for mjd, sigma := range map[float64]float64{58859.5222800998: 0.028132094, 58908.3409258998: 0.049207658, 58967.22704860009: 0.102947116} {
			assert.Equal(t, sigma, mags[mjd], "the sentinel row at MJD %v gives a detection with sigmapsf", mjd)
		}
	}

	// Apparent magnitudes: the two r detections ALeRCE did not correct
	// (lines 3 and 73) are left out by that choice, even with Strict.
	for _, strict := range []bool{false, true} {
		ds, rep, err := streamReport(t, alerce.Processor{MagnitudeKind: alerce.MagnitudeApparent, Strict: strict}, sample(t))
		require.NoError(t, err)
		assert.Len(t, ds, 6)
		assert.Equal(t, dataproduct.Report{Rows: 9, Datums: 6, Skipped: []dataproduct.SkippedRows{
			{Reason: alerce.ReasonNotCorrected, Count: 2, Lines: []int{3, 73}},
			{Reason: alerce.ReasonDuplicate, Count: 1, Lines: []int{143}},
		}}, rep)
	}
}

// skipFile has one row of each kind that gives no datum, one per line,
// and one good row (line 2).
const skipFile = `{"detections": [
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
{"survey_id": "lsst", "mjd": 60009, "band": 1, "psfFlux": 0.0, "psfFluxErr": 0.0},
{"survey_id": "lsst", "mjd": 60010, "band": 1, "psfFlux": 10.0, "psfFluxErr": 1.0, "timeWithdrawnMjdTai": 60011}
]}`

// Every row that gives no datum is reported with its reason and the line
// on which its object starts, in the order of the file.
func TestProcessorReportsSkippedRows(t *testing.T) {
	ds, rep, err := streamReport(t, alerce.Processor{}, []byte(skipFile))
	require.NoError(t, err)
	assert.Len(t, ds, 1)
	assert.Equal(t, dataproduct.Report{Rows: 11, Datums: 1, Skipped: []dataproduct.SkippedRows{
		{Reason: alerce.ReasonNoTime, Count: 1, Lines: []int{3}},
		{Reason: alerce.ReasonNoFilter, Count: 1, Lines: []int{4}},
		{Reason: alerce.ReasonNoMagnitude, Count: 1, Lines: []int{5}},
		{Reason: alerce.ReasonNoMagnitudeError, Count: 1, Lines: []int{6}},
		{Reason: alerce.ReasonOtherSurvey, Count: 1, Lines: []int{7}},
		{Reason: alerce.ReasonNoLimit, Count: 1, Lines: []int{9}},
		{Reason: alerce.ReasonSentinel, Count: 1, Lines: []int{11}},
		{Reason: "flagged epoch (procstatus 61)", Count: 1, Lines: []int{12}},
		{Reason: alerce.ReasonNoFlux, Count: 1, Lines: []int{13}},
		{Reason: alerce.ReasonWithdrawn, Count: 1, Lines: []int{14}},
	}}, rep)

	// KeepFlagged keeps the flagged epoch.
	ds, rep, err = streamReport(t, alerce.Processor{KeepFlagged: true}, []byte(skipFile))
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	assert.Equal(t, 9, rep.SkippedCount())

	// Rows are judged in two passes (no time while reading, duplicates
	// and missing values once the whole file is read), and a duplicate
	// may be found after the row it replaces (the later row has rfid):
	// the report still lists them in the order of the file.
	dup := ztfFile(`
{"mjd": 60000, "fid": 1, "pid": 5},
{"mjd": 60002, "fid": 1, "pid": 6, "magpsf": 18, "sigmapsf": 0.1, "rfid": null},
{"mjd": 60002, "fid": 1, "pid": 6, "magpsf": 18, "sigmapsf": 0.1, "rfid": 7},
{"mjd": 60003, "fid": 1, "pid": 7, "magpsf": 18, "sigmapsf": 0.1},
{"mjd": 60003, "fid": 1, "pid": 7, "magpsf": 18, "sigmapsf": 0.1}
`, `{"fid": 2}`, "")
	ds, rep, err = streamReport(t, alerce.Processor{}, []byte(dup))
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	assert.Equal(t, []dataproduct.SkippedRows{
		{Reason: alerce.ReasonNoMagnitude, Count: 1, Lines: []int{2}},
		{Reason: alerce.ReasonDuplicate, Count: 2, Lines: []int{3, 6}},
		{Reason: alerce.ReasonNoTime, Count: 1, Lines: []int{7}},
	}, rep.Skipped)
}

// Strict refuses a file with a row that is no measurement, naming the
// first such row of the file and its field; rows left out by design or
// choice (another survey, a duplicate, a flagged epoch, an uncorrected
// detection) never refuse it.
func TestProcessorStrict(t *testing.T) {
	good := `{"mjd": 60001, "fid": 1, "pid": 1, "magpsf": 18, "sigmapsf": 0.1}`
	for _, c := range []struct {
		name, file, column, reason string
	}{
		{"no mjd", ztfFile(good+",\n"+`{"fid": 1, "magpsf": 18}`, "", ""), "mjd", alerce.ReasonNoTime},
		{"unknown fid", ztfFile(good+",\n"+`{"mjd": 60002, "fid": 9, "magpsf": 18}`, "", ""), "fid", alerce.ReasonNoFilter},
		{"no magpsf", ztfFile(good+",\n"+`{"mjd": 60002, "fid": 1}`, "", ""), "magpsf", alerce.ReasonNoMagnitude},
		{"negative detection without sigmapsf", ztfFile(good+",\n"+`{"mjd": 60002, "fid": 1, "magpsf": 18, "isdiffpos": -1}`, "", ""), "sigmapsf", alerce.ReasonNoMagnitudeError},
		{"no diffmaglim", ztfFile(good, "\n"+`{"mjd": 60002, "fid": 2}`, ""), "diffmaglim", alerce.ReasonNoLimit},
		{"e_mag sentinel", ztfFile(good, "", "\n"+`{"mjd": 60002, "fid": 1, "mag": 18, "e_mag": 100}`), "e_mag", alerce.ReasonSentinel},
		{"no LSST flux error", lsstFile(good+",\n"+`{"survey_id": "lsst", "mjd": 60002, "band": 1, "psfFlux": 0.0, "psfFluxErr": 0.0}`, ""), "psfFluxErr", alerce.ReasonNoFlux},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds, rep, err := streamReport(t, alerce.Processor{}, []byte(c.file))
			require.NoError(t, err)
			assert.Len(t, ds, 1)
			assert.Equal(t, []dataproduct.SkippedRows{{Reason: c.reason, Count: 1, Lines: []int{2}}}, rep.Skipped)

			ds, err = alerce.Processor{Strict: true}.Process(context.Background(), strings.NewReader(c.file))
			require.Error(t, err)
			assert.Empty(t, ds)
			assert.ErrorIs(t, err, processor.ErrNoMeasurement)
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 2, pe.Line)
			assert.Equal(t, c.column, pe.Column)
			assert.Contains(t, err.Error(), c.reason)
		})
	}

	// Rows are judged in two passes (the file's processing block may come
	// last), yet Strict names the first row of the file: line 2 (no
	// magnitude, second pass) before line 3 (no mjd, first pass).
	file := ztfFile("\n"+`{"mjd": 60002, "fid": 1},`+"\n"+`{"fid": 1, "magpsf": 18}`, "", "")
	_, err := alerce.Processor{Strict: true}.Process(context.Background(), strings.NewReader(file))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Line)

	// Left out by design or choice: accepted by a strict processor.
	for name, file := range map[string]string{
		"ATLAS row":     ztfFile(good+",\n"+`{"tid": "atlas", "mjd": 60005, "fid": 1, "magpsf": 18}`, "", ""),
		"duplicate":     ztfFile(good+",\n"+good, "", ""),
		"flagged epoch": ztfFile(good, "", `{"mjd": 60008, "fid": 1, "mag": 18, "e_mag": 0.1, "procstatus": 61}`),
		"uncorrected":   `{"processing": {"magnitude_kind": "apparent"}, ` + ztfFile(good+`, {"mjd": 60002, "fid": 1, "magpsf": 17, "sigmapsf": 0.1, "corrected": true, "magpsf_corr": 16.5, "sigmapsf_corr_ext": 0.05}`, "", "")[1:],
	} {
		ds, rep, err := streamReport(t, alerce.Processor{Strict: true}, []byte(file))
		require.NoError(t, err, name)
		assert.Len(t, ds, 1, name)
		assert.Equal(t, 1, rep.SkippedCount(), name)
	}
}
