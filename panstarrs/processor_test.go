package panstarrs_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func process(t *testing.T, p panstarrs.Processor, in string) []dataproduct.Datum {
	t.Helper()
	ds, err := p.Process(context.Background(), strings.NewReader(in))
	require.NoError(t, err)
	return ds
}

func phot(d dataproduct.Datum) dataproduct.Photometry { return d.Value.(dataproduct.Photometry) }

func parseErr(t *testing.T, in string) *dataproduct.ParseError {
	t.Helper()
	ds, err := panstarrs.Processor{}.Process(context.Background(), strings.NewReader(in))
	require.Error(t, err)
	assert.Empty(t, ds)
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe, "%v", err)
	return pe
}

// replaceLine replaces line n (1-based) of a file.
func replaceLine(b []byte, n int, line string) []byte {
	lines := strings.Split(string(b), "\n")
	lines[n-1] = line
	return []byte(strings.Join(lines, "\n"))
}

func TestProcessorConformance(t *testing.T) {
	det := sample(t, "panstarrs_dr2_detection.csv")
	processortest.Run(t, processortest.Harness{
		Processor:  panstarrs.Processor{},
		Input:      det,
		WantDatums: 70,
		Bad:        replaceLine(det, 40, "157262307155530976,160006000000000000,2,56000.1,230.7155,41.0503,1.2e-4x,3e-6,1,1,1,1,1,0,0,0"),
		BadLine:    40,
		Large:      detectionFile(20000),
	})
	t.Run("Mean", func(t *testing.T) {
		mean := sample(t, "panstarrs_dr2_mean.csv")
		processortest.Run(t, processortest.Harness{
			Processor:  panstarrs.Processor{},
			Input:      mean,
			WantDatums: 17,
			Bad:        replaceLine(mean, 3, "157252307094655476,PSO J230.7091+41.0457,230.709,41.045,0.001,0.001,55957.9,66,12,10,18,13,13,19.1,0.007,bright,0.006,18.5,0.004,18.4,0.004,18.3,0.004"),
			BadLine:    3,
		})
	})
	t.Run("StackJSON", func(t *testing.T) {
		stack := sample(t, "panstarrs_dr2_stack_trimmed.json")
		processortest.Run(t, processortest.Harness{
			Processor:  panstarrs.Processor{},
			Input:      stack,
			WantDatums: 8,
			Bad:        bytes.Replace(stack, []byte(`"epochMean": 55973.0672338`), []byte(`"epochMean": "soon"`), 1),
		})
	})
}

func TestDetectionSample(t *testing.T) {
	ds := process(t, panstarrs.Processor{}, string(sample(t, "panstarrs_dr2_detection.csv")))
	require.Len(t, ds, 70, "71 rows, one with psfFlux -999")
	perBand := map[string]int{}
	for _, d := range ds {
		ph := phot(d)
		perBand[ph.Filter]++
		require.NotNil(t, ph.Magnitude, "every sample row is a detection at high S/N")
		assert.Nil(t, ph.Limit)
		assert.Equal(t, "157262307155530976", ph.Extra["objID"], "objID kept exactly, as text")
		assert.Equal(t, "PanSTARRS 1", ph.Telescope)
		assert.Equal(t, "PANSTARRS", d.Source)
		assert.Equal(t, time.UTC, d.Timestamp.Location())
	}
	assert.Equal(t, map[string]int{"g": 11, "r": 12, "i": 18, "z": 15, "y": 14}, perBand)

	// First row: y, obsTime 55343.3043901 (TAI), psfFlux 2.529053e-04 ± 4.413761e-06 Jy.
	first := phot(ds[0])
	assert.Equal(t, "y", first.Filter)
	f, e := 2.529053e-04, 4.413761e-06
	assert.InDelta(t, -2.5*math.Log10(f/3631), *first.Magnitude, 1e-4, "AB magnitude from Jy")
	assert.InDelta(t, 8.9-2.5*math.Log10(f), *first.Magnitude, 1e-9, "8.9 - 2.5 log10(f)")
	assert.InDelta(t, 2.5/math.Ln10*e/f, *first.Error, 1e-12, "error 1.0857 σf/f")
	assert.InDelta(t, f*1e6, *first.FluxUJy, 1e-9)
	assert.InDelta(t, e*1e6, *first.FluxErrUJy, 1e-9)
	// In 2010 TAI - UTC was 34 s.
	want := processor.MJDToTime(55343.3043901).Add(-34 * time.Second)
	assert.Equal(t, want, ds[0].Timestamp)
	assert.InDelta(t, 55343.3043901-34.0/86400, *first.MJD, 1e-9)
}

func TestMeanSample(t *testing.T) {
	ds := process(t, panstarrs.Processor{}, string(sample(t, "panstarrs_dr2_mean.csv")))
	require.Len(t, ds, 17, "3 objects × 5 bands + r and i of the fourth")
	last := ds[15:]
	assert.Equal(t, "r", phot(last[0]).Filter)
	assert.Equal(t, 22.3050, *phot(last[0]).Magnitude)
	assert.Equal(t, 0.42480, *phot(last[0]).Error)
	assert.Equal(t, "i", phot(last[1]).Filter)
	assert.Equal(t, "157252307171249958", phot(last[1]).Extra["objID"])
	assert.Equal(t, processor.MJDToTime(56021.46087341812), last[0].Timestamp, "epochMean, as the TOM uses it")
	g := phot(ds[0])
	assert.Equal(t, "g", g.Filter)
	assert.Equal(t, 19.6513, *g.Magnitude)
	assert.Equal(t, 0.01196, *g.Error)
	assert.Nil(t, g.FluxUJy, "the mean table has no fluxes")
	assert.Equal(t, 56062.89623394777, *g.MJD)
}

// TestSampleReports: the -999 detection row, and the stack's secondary
// detection (a duplicate: reported, never refused by Strict).
func TestSampleReports(t *testing.T) {
	for _, tc := range []struct {
		file string
		want dataproduct.Report
	}{
		{"panstarrs_dr2_detection.csv", dataproduct.Report{Rows: 71, Datums: 70,
			Skipped: []dataproduct.SkippedRows{{Reason: panstarrs.ReasonNoFlux, Count: 1, Lines: []int{19}}}}},
		{"panstarrs_dr2_mean.csv", dataproduct.Report{Rows: 4, Datums: 17}},
	} {
		var rep dataproduct.Report
		_, err := processor.Collect(processor.StreamReport(context.Background(), panstarrs.Processor{}, bytes.NewReader(sample(t, tc.file)), processor.Input{}, &rep))
		require.NoError(t, err)
		assert.Equal(t, tc.want, rep, tc.file)
	}
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(context.Background(), panstarrs.Processor{Strict: true},
		bytes.NewReader(sample(t, "panstarrs_dr2_stack_trimmed.json")), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Len(t, ds, 8)
	assert.Equal(t, 4, rep.Rows)
	assert.Equal(t, 8, rep.Datums)
	require.Len(t, rep.Skipped, 1)
	assert.Equal(t, panstarrs.ReasonSecondary, rep.Skipped[0].Reason)
	assert.Equal(t, 1, rep.Skipped[0].Count)

	// An object row with no band at all gives no datum and is reported.
	in := "objID,epochMean,gMeanPSFMag,gMeanPSFMagErr,rMeanPSFMag,rMeanPSFMagErr\n1,56000.5,-999,-999,-999.0,-999\n2,56000.6,19.5,0.02,-999,-999\n"
	rep = dataproduct.Report{}
	ds, err = processor.Collect(processor.StreamReport(context.Background(), panstarrs.Processor{}, strings.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Len(t, ds, 1)
	assert.Equal(t, []dataproduct.SkippedRows{{Reason: panstarrs.ReasonNoBand, Count: 1, Lines: []int{2}}}, rep.Skipped)
}

func TestStackSample(t *testing.T) {
	ds := process(t, panstarrs.Processor{}, string(sample(t, "panstarrs_dr2_stack_trimmed.json")))
	// Row 1: g r y; row 2: g r y; row 3: r y (g is -999); row 4 is a
	// primaryDetection=0 duplicate.
	require.Len(t, ds, 8)
	var got []string
	for _, d := range ds {
		got = append(got, phot(d).Filter+":"+phot(d).Extra["objID"].(string)[12:])
	}
	assert.Equal(t, []string{"g:530976", "r:530976", "y:530976", "g:625287", "r:625287", "y:625287", "r:220342", "y:220342"}, got)
	g := phot(ds[0])
	assert.Equal(t, 19.615999221801758, *g.Magnitude)
	assert.Equal(t, 0.007466999813914299, *g.Error)
	assert.InDelta(t, 51.711998821701854, *g.FluxUJy, 1e-9, "stack PSF flux in µJy")
	y := phot(ds[2])
	assert.Equal(t, 0.0084610003978014, *y.Error)
	assert.Nil(t, y.FluxUJy, "the trimmed sample has no yPSFFlux")
}

const detHeader = "objID,detectID,filterID,obsTime,psfFlux,psfFluxErr\n"

func TestDetectionEdgeCases(t *testing.T) {
	in := detHeader +
		"1,11,1,56000.5,1.0e-5,1.0e-6\n" + // S/N 10: magnitude
		"1,12,2,56000.6,2.0e-6,1.0e-6\n" + // S/N 2: 3-sigma limit
		"1,13,3,56000.7,-5.0e-7,1.0e-6\n" + // negative flux: limit
		"1,14,4,56000.8,0,1.0e-6\n" + // zero flux: limit
		"1,15,5,56000.9,-999.0,-999.0\n" + // missing: nothing
		"1,16,5,56001.0,1e-5,-999\n" + // missing error: nothing
		"1,17,5,56001.1,1e-5,0\n" + // zero error: nothing
		"1,18,5,56001.2,None,1e-6\n" + // "None": nothing
		"1,19,5,-999,1e-5,1e-6\n" + // no time: nothing
		"1,20,-999,56001.3,1e-5,1e-6\n" + // no filter: nothing
		"2,21,1,56001.4,0.75,0.25\n" // S/N exactly 3: magnitude
	ds := process(t, panstarrs.Processor{}, in)
	require.Len(t, ds, 5)
	assert.NotNil(t, phot(ds[0]).Magnitude)
	for _, d := range ds[1:4] {
		ph := phot(d)
		assert.Nil(t, ph.Magnitude, "no magnitude at S/N < 3")
		require.NotNil(t, ph.Limit)
		assert.InDelta(t, 8.9-2.5*math.Log10(3e-6), *ph.Limit, 1e-9, "3-sigma limit from the error")
		assert.Equal(t, 3.0, ph.LimitSigma)
		assert.NotNil(t, ph.FluxUJy, "the measured flux is kept")
	}
	assert.Equal(t, -0.5, *phot(ds[2]).FluxUJy)
	assert.NotNil(t, phot(ds[4]).Magnitude, "S/N 3 is a detection")
	assert.Equal(t, "2", phot(ds[4]).Extra["objID"])
	assert.Equal(t, "1", phot(ds[0]).Extra["objID"])

	// Each row without a datum is reported with its line and reason.
	var rep dataproduct.Report
	_, err := processor.Collect(processor.StreamReport(context.Background(), panstarrs.Processor{}, strings.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.Report{Rows: 11, Datums: 5, Skipped: []dataproduct.SkippedRows{
		{Reason: panstarrs.ReasonNoFlux, Count: 3, Lines: []int{6, 7, 9}},
		{Reason: panstarrs.ReasonNoFluxError, Count: 1, Lines: []int{8}},
		{Reason: panstarrs.ReasonNoTime, Count: 1, Lines: []int{10}},
		{Reason: panstarrs.ReasonNoFilter, Count: 1, Lines: []int{11}},
	}}, rep)
	// Strict refuses the file at the first of them.
	_, err = panstarrs.Processor{Strict: true}.Process(context.Background(), strings.NewReader(in))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 6, pe.Line)
	assert.Equal(t, "psfFlux", pe.Column)
	assert.ErrorIs(t, err, processor.ErrNoMeasurement)

	// A 5-sigma threshold turns the S/N-3 row into a 5-sigma limit.
	ds = process(t, panstarrs.Processor{LimitSigma: 5}, in)
	last := phot(ds[4])
	assert.Nil(t, last.Magnitude)
	assert.InDelta(t, 8.9-2.5*math.Log10(5*0.25), *last.Limit, 1e-9)
	assert.Equal(t, 5.0, last.LimitSigma)
}

func TestTAIMinusUTC(t *testing.T) {
	for _, c := range []struct {
		mjd  float64
		want time.Duration
	}{
		{40000, 10 * time.Second},
		{55000, 34 * time.Second},              // 2009
		{56109 + 34.5/86400, 34 * time.Second}, // 00:00:34.5 TAI on 2012-07-01 is the leap second 23:59:60.5 UTC
		{56109 + 35.0/86400, 35 * time.Second},
		{57000, 35 * time.Second},
		{57204.5, 36 * time.Second},
		{57754.5, 37 * time.Second},
		{61000, 37 * time.Second},
	} {
		assert.Equal(t, c.want, panstarrs.TAIMinusUTC(c.mjd), "MJD %v", c.mjd)
	}
	// Every step lands on a UTC midnight.
	in := detHeader + "1,1,1,56109.0004051,1e-5,1e-6\n" // 35 s after TAI midnight = 00:00:00.0 UTC
	ds := process(t, panstarrs.Processor{}, in)
	assert.Equal(t, time.Date(2012, 7, 1, 0, 0, 0, 0, time.UTC), ds[0].Timestamp.Round(time.Second))
}

func TestForcedMeanFluxOnly(t *testing.T) {
	in := "objID,epochMean,gFPSFFlux,gFPSFFluxErr,rFPSFFlux,rFPSFFluxErr,iFPSFFlux,iFPSFFluxErr\n" +
		"5,56000.25,1.0e-5,1.0e-7,-2.0e-7,1.0e-7,-999.0,-999.0\n"
	ds := process(t, panstarrs.Processor{}, in)
	require.Len(t, ds, 2)
	g, r := phot(ds[0]), phot(ds[1])
	assert.InDelta(t, 8.9-2.5*math.Log10(1e-5), *g.Magnitude, 1e-9)
	assert.Nil(t, r.Magnitude)
	assert.InDelta(t, 8.9-2.5*math.Log10(3e-7), *r.Limit, 1e-9)
	assert.Equal(t, processor.MJDToTime(56000.25), ds[0].Timestamp)
}

func TestTableRecognitionAndFormats(t *testing.T) {
	// Columns by name in any order, CRLF, a byte order mark, quoted
	// fields and blank lines (which still count).
	in := "\ufeff\r\npsfFluxErr,\"filterID\",obsTime,psfFlux,objName,objID\r\n\r\n1e-6,3,56000.5,1e-5,\"PSO J1,2\",99\r\n"
	ds := process(t, panstarrs.Processor{}, in)
	require.Len(t, ds, 1)
	assert.Equal(t, "i", phot(ds[0]).Filter)
	assert.Equal(t, "99", phot(ds[0]).Extra["objID"])

	// Empty answers mean no data.
	for _, empty := range []string{"", "\n\n", detHeader, `{"info": [], "data": []}`} {
		assert.Empty(t, process(t, panstarrs.Processor{}, empty), "%q", empty)
	}

	// JSON: rows as arrays (flatten_response) and as objects; info after
	// data; ids as numbers or strings; "None".
	arrays := `{"info": [{"name": "objID"}, {"name": "filterID"}, {"name": "obsTime"}, {"name": "psfFlux"}, {"name": "psfFluxErr"}],
"data": [[157262307155530976, 1, 56000.5, 1e-5, 1e-6], ["157262307155530977", "2", "56000.6", "None", 1e-6]]}`
	ds = process(t, panstarrs.Processor{}, arrays)
	require.Len(t, ds, 1)
	assert.Equal(t, "157262307155530976", phot(ds[0]).Extra["objID"], "an id given as a JSON number stays exact")
	objects := `{"data": [{"obsTime": 56000.5, "psfFlux": 1e-5, "psfFluxErr": 1e-6, "filterID": 5, "objID": "7"}], "info": [{"name": "x"}], "extra": {"a": [1]}}`
	ds = process(t, panstarrs.Processor{}, objects)
	require.Len(t, ds, 1)
	assert.Equal(t, "y", phot(ds[0]).Filter)
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, in string
		line     int
		column   string
		msg      string
	}{
		{"not a number", detHeader + "1,1,1,56000.5,1e-5,1e-6\n1,2,1,56000.6,lots,1e-6\n", 3, "psfFlux", `"lots" is not a number`},
		{"bad filter", detHeader + "\n1,1,7,56000.5,1e-5,1e-6\n", 3, "filterID", "not 1..5"},
		{"short row", detHeader + "1,1,1,56000.5,1e-5\n", 2, "", "5 fields, the header has 6"},
		{"long quoted row", detHeader + "1,1,1,56000.5,1e-5,1e-6,\"x\"\n", 2, "", "7 fields"},
		{"open quote", detHeader + "1,\"1,1,56000.5,1e-5,1e-6\n", 2, "", "quoted field"},
		{"unknown table", "a,b,c\n1,2,3\n", 1, "", "not a PanSTARRS table"},
		{"no epoch", "objID,gMeanPSFMag\n1,20\n", 1, "", "epochMean"},
		{"half a detection table", "objID,obsTime,psfFlux\n1,2,3\n", 1, "", "missing filterID, psfFluxErr"},
		{"duplicate column", "obsTime,obsTime,filterID,psfFlux,psfFluxErr\n", 1, "", "appears twice"},
		{"bad epoch", "objID,epochMean,gMeanPSFMag\n1,2,20\n2,x,20\n", 3, "epochMean", "not a number"},
		{"json row", "{\"data\": [\n{\"obsTime\": 1, \"filterID\": 1, \"psfFlux\": 1, \"psfFluxErr\": 1},\n{\"obsTime\": \"late\", \"filterID\": 1, \"psfFlux\": 1, \"psfFluxErr\": 1}\n]}", 3, "obsTime", "data row 2"},
		{"json arrays without info", `{"data": [[1, 2, 3]]}`, 1, "", "no \"info\""},
		{"json truncated", "{\"info\": [{\"name\": \"obsTime\"}, {\"name\": \"filterID\"}, {\"name\": \"psfFlux\"}, {\"name\": \"psfFluxErr\"}],\n\"data\": [[1, 1, 1e-5, 1e-6],\n[2, 1", 3, "", "ends early"},
		{"json syntax", "{\"data\": [\n{\"obsTime\": 1, \"filterID\": 1, \"psfFlux\": 1, \"psfFluxErr\": 1},\n{\"obsTime\": 1}}\n", 3, "", "invalid character"},
		{"json without data", `{"info": []}`, 1, "", "no \"data\""},
		{"json nested", `{"data": [{"obsTime": [1]}]}`, 1, "obsTime", "nested"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pe := parseErr(t, c.in)
			assert.Equal(t, c.line, pe.Line, "%v", pe)
			assert.Equal(t, c.column, pe.Column, "%v", pe)
			assert.Contains(t, pe.Error(), c.msg)
		})
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadErrorsAreNotParseErrors(t *testing.T) {
	for _, in := range []string{detHeader + "1,1,1,56000.5,1e-5,1e-6\n1,2,1,", `{"data": [{"obsTime": 1, "filterID": 1, "psfFlux": 1, "psfFluxErr": 1},`, ""} {
		_, err := panstarrs.Processor{}.Process(context.Background(), &failingReader{[]byte(in)})
		require.Error(t, err)
		var pe *dataproduct.ParseError
		assert.False(t, errors.As(err, &pe), "an I/O error is not bad input: %v", err)
		assert.ErrorContains(t, err, "connection reset")
	}
}

func TestStreamStopsAndCancels(t *testing.T) {
	data := detectionFile(10000)
	n := 0
	for _, err := range (panstarrs.Processor{}).Stream(context.Background(), bytes.NewReader(data)) {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n, "the consumer can stop early")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n = 0
	var last error
	for _, err := range (panstarrs.Processor{}).Stream(ctx, bytes.NewReader(data)) {
		if err != nil {
			last = err
			break
		}
		n++
		if n == 10 {
			cancel()
		}
	}
	assert.True(t, errors.Is(last, context.Canceled), "a cancelled context stops the stream: %v", last)
	assert.Less(t, n, 10000)

	// A line longer than the reader's buffer is read whole.
	long := detHeader + "1," + strings.Repeat("0", 300<<10) + "1,1,56000.5,1e-5,1e-6\n1,2,2,56000.6,1e-5,1e-6\n"
	ds := process(t, panstarrs.Processor{}, long)
	assert.Len(t, ds, 2)
}
