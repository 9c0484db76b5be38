package processor_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
)

func TestMJD(t *testing.T) {
	assert.Equal(t, time.Date(2023, 2, 25, 0, 0, 0, 0, time.UTC), processor.MJDToTime(60000))
	assert.Equal(t, time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC), processor.MJDToTime(0))
	assert.Equal(t, time.Date(2024, 1, 26, 6, 0, 0, 0, time.UTC), processor.MJDToTime(60335.25))
	// Microsecond rounding: the same MJD always gives the same time.
	got := processor.MJDToTime(60316.123456)
	assert.Equal(t, 0, got.Nanosecond()%1000)
	assert.InDelta(t, 60316.123456, processor.TimeToMJD(got), 1e-10)
	assert.Equal(t, time.Date(2023, 2, 25, 12, 0, 0, 0, time.UTC), processor.JDToTime(2460001.0))
	for _, mjd := range []float64{-1000.5, 51544.5, 60316.000001, 88069.999999} {
		assert.InDelta(t, mjd, processor.TimeToMJD(processor.MJDToTime(mjd)), 2e-11, "round trip %v", mjd)
	}
}

func TestFluxMagnitude(t *testing.T) {
	assert.InDelta(t, 23.9, processor.ABMag(1), 1e-12)
	assert.InDelta(t, 16.4, processor.ABMag(1000), 1e-12)
	// 3631 Jy is magnitude 0.
	assert.InDelta(t, 0, processor.ABMag(3631e6), 1e-3)
	assert.True(t, math.IsNaN(processor.ABMag(0)))
	assert.True(t, math.IsNaN(processor.ABMag(-5)))
	assert.InDelta(t, 1000, processor.FluxUJy(16.4), 1e-9)
	assert.InDelta(t, 0.10857362, processor.MagErr(10, 1), 1e-8)
	assert.InDelta(t, 0.10857362, processor.MagErr(-10, 1), 1e-8)
	assert.InDelta(t, 23.9-2.5*math.Log10(30), processor.LimitMag(3, 10), 1e-12)
}

func TestFloats(t *testing.T) {
	var f processor.Floats
	ps := make([]*float64, 3000)
	for i := range ps {
		ps[i] = f.New(float64(i))
	}
	for i, p := range ps {
		require.Equal(t, float64(i), *p, "pointers stay valid across blocks")
	}
}

const table = `# uploaded by a user
time,filter,magnitude,error,limit,telescope,airmass,observer
60316.1,g,17.25,0.05,,LT,1.2,ana
60316.2,r,,,19.5,LT,1.3,
60317.0,r,17.0,0.04,,,,bo
`

func TestPhotometryTable(t *testing.T) {
	ds, err := processor.PhotometryTable{}.Process(context.Background(), strings.NewReader(table))
	require.NoError(t, err)
	require.Len(t, ds, 3)
	p0 := ds[0].Value.(dataproduct.Photometry)
	assert.Equal(t, 17.25, *p0.Magnitude)
	assert.Equal(t, 0.05, *p0.Error)
	assert.Nil(t, p0.Limit)
	assert.Equal(t, "g", p0.Filter)
	assert.Equal(t, "LT", p0.Telescope)
	assert.Equal(t, map[string]any{"airmass": 1.2, "observer": "ana"}, p0.Extra)
	assert.Equal(t, "upload", ds[0].Source)
	assert.Equal(t, processor.MJDToTime(60316.1), ds[0].Timestamp)
	p1 := ds[1].Value.(dataproduct.Photometry)
	assert.Nil(t, p1.Magnitude)
	assert.Equal(t, 19.5, *p1.Limit)
	assert.Equal(t, map[string]any{"airmass": 1.3}, p1.Extra)
	assert.Equal(t, map[string]any{"observer": "bo"}, ds[2].Value.(dataproduct.Photometry).Extra)
}

func TestPhotometryTableErrors(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		line int
		col  string
	}{
		"bad number":     {"time,filter,magnitude\n60316,g,17\n60317,g,bright\n", 3, "magnitude"},
		"no time column": {"# c\nmjd,filter,magnitude\n", 2, "time"},
		"empty time":     {"time,filter,magnitude\n,g,17\n", 2, "time"},
		"short row":      {"time,filter,magnitude\n60316,g\n", 2, ""},
		"nan":            {"time,filter,magnitude\n60316,g,NaN\n", 2, "magnitude"},
		"empty":          {"", 0, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := processor.PhotometryTable{}.Process(context.Background(), strings.NewReader(c.in))
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.line, pe.Line, "%v", err)
			assert.Equal(t, c.col, pe.Column, "%v", err)
		})
	}
}

// A row with neither a magnitude nor a limit is no measurement: skipped
// and reported, or refused by a strict processor.
func TestPhotometryTableSkippedRows(t *testing.T) {
	in := "time,filter,magnitude,limit\n60316,g,17.5,\n60317,g,,\n# note\n60318,r,,19.9\n60319,r,,\n"
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(context.Background(), processor.PhotometryTable{}, strings.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	assert.Equal(t, dataproduct.Report{Rows: 4, Datums: 2, Skipped: []dataproduct.SkippedRows{
		{Reason: processor.ReasonNoMagnitudeOrLimit, Count: 2, Lines: []int{3, 6}}}}, rep)

	_, err = processor.PhotometryTable{Strict: true}.Process(context.Background(), strings.NewReader(in))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, "magnitude", pe.Column)
	assert.ErrorIs(t, err, processor.ErrNoMeasurement)
}

func TestPhotometryTableConformance(t *testing.T) {
	var large strings.Builder
	large.WriteString("time,filter,magnitude,error\n")
	for i := range 20000 {
		fmt.Fprintf(&large, "60316.%05d,g,17.5,0.1\n", i)
	}
	processortest.Run(t, processortest.Harness{
		Processor:  processor.PhotometryTable{},
		Input:      []byte(table),
		WantDatums: 3,
		Bad:        []byte("time,filter,magnitude\n60316,g,17\n60317,g,17\n60318,g,x\n"),
		BadLine:    4,
		Large:      []byte(large.String()),
	})
}

func TestCheckMJD(t *testing.T) {
	for _, mjd := range []float64{processor.MinMJD, 0, 60000.5, processor.MaxMJD - 1e-6} {
		if err := processor.CheckMJD(mjd); err != nil {
			t.Errorf("CheckMJD(%v) = %v", mjd, err)
		}
		if _, err := processor.MJDToTime(mjd).MarshalJSON(); err != nil {
			t.Errorf("MJDToTime(%v) does not encode: %v", mjd, err)
		}
	}
	for _, mjd := range []float64{processor.MinMJD - 1e-3, processor.MaxMJD, 7e6, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if err := processor.CheckMJD(mjd); err == nil {
			t.Errorf("CheckMJD(%v) = nil", mjd)
		}
	}
}

// plain is a processor that is not a Reporter.
type plain struct{}

func (plain) DataType() string { return dataproduct.TypePhotometry }
func (plain) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.PhotometryTable{}.Process(ctx, r)
}

func TestStreamReportOfAnyProcessor(t *testing.T) {
	in := "time,filter,magnitude\n60316,g,17\n60317,g,17.1\n"
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(context.Background(), plain{}, strings.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	assert.Equal(t, dataproduct.Report{Datums: 2}, rep, "datums counted; rows unknown")
	ds, err = processor.Collect(processor.StreamReport(context.Background(), plain{}, strings.NewReader(in), processor.Input{}, nil))
	require.NoError(t, err)
	assert.Len(t, ds, 2, "a nil report is fine")

	// SkipRow: a report entry, or the strict refusal.
	require.NoError(t, processor.SkipRow(&rep, false, 7, "flux", "no flux"))
	assert.Equal(t, []dataproduct.SkippedRows{{Reason: "no flux", Count: 1, Lines: []int{7}}}, rep.Skipped)
	err = processor.SkipRow(&rep, true, 9, "flux", "no flux")
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 9, pe.Line)
	assert.Equal(t, "flux", pe.Column)
	assert.ErrorIs(t, err, processor.ErrNoMeasurement)
	assert.Equal(t, 1, rep.SkippedCount(), "a refusal is not recorded as a skip")
}
