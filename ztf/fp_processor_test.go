package ztf_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
	"github.com/tomgo/targetdata/ztf"
)

// fpRow is a row of a ZFPS file, read independently of the processor.
type fpRow struct {
	jd, zp, flux, unc float64
	null              bool
	band, procstatus  string
	infobits          int64
}

func fpRows(t *testing.T, data []byte) []fpRow {
	t.Helper()
	var names []string
	var out []fpRow
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if names == nil {
			names = strings.Fields(strings.ReplaceAll(line, ",", " "))
			continue
		}
		v := map[string]string{}
		for i, f := range strings.Fields(line) {
			v[names[i]] = f
		}
		r := fpRow{band: strings.TrimPrefix(v["filter"], "ZTF_"), procstatus: v["procstatus"]}
		r.infobits, _ = strconv.ParseInt(v["infobitssci"], 10, 64)
		if v["forcediffimflux"] == "null" || v["forcediffimfluxunc"] == "null" {
			r.null = true
		} else {
			for k, p := range map[string]*float64{"jd": &r.jd, "zpdiff": &r.zp, "forcediffimflux": &r.flux, "forcediffimfluxunc": &r.unc} {
				x, err := strconv.ParseFloat(v[k], 64)
				require.NoError(t, err)
				*p = x
			}
		}
		out = append(out, r)
	}
	return out
}

// checkFP checks datums against the rows by the recipe of spec B.7.
func checkFP(t *testing.T, rows []fpRow, ds []dataproduct.Datum, snt, snu float64, keep func(fpRow) bool) (det, lim int) {
	t.Helper()
	i := 0
	for _, r := range rows {
		if r.null || !keep(r) {
			continue
		}
		require.Less(t, i, len(ds), "a datum for every usable row")
		d := ds[i]
		i++
		ph := photometry(t, d)
		mjd := r.jd - 2400000.5
		assert.Equal(t, processor.MJDToTime(mjd), d.Timestamp)
		assert.Equal(t, "ZTF_FP", d.Source)
		assert.Equal(t, r.band, ph.Filter)
		assert.Equal(t, "ZTF", ph.Telescope)
		assert.InDelta(t, mjd, *ph.MJD, 1e-9)
		toUJy := math.Pow(10, 0.4*(23.9-r.zp))
		assert.InDelta(t, r.flux*toUJy, *ph.FluxUJy, 1e-9*math.Abs(r.flux*toUJy)+1e-12)
		assert.InDelta(t, r.unc*toUJy, *ph.FluxErrUJy, 1e-9*r.unc*toUJy)
		if r.flux/r.unc > snt {
			det++
			require.NotNil(t, ph.Magnitude)
			assert.Nil(t, ph.Limit)
			assert.InDelta(t, r.zp-2.5*math.Log10(r.flux), *ph.Magnitude, 1e-9)
			assert.InDelta(t, 1.0857*r.unc/r.flux, *ph.Error, 1e-4)
			assert.Zero(t, ph.LimitSigma)
		} else {
			lim++
			require.NotNil(t, ph.Limit, "S/N %v is a limit", r.flux/r.unc)
			assert.Nil(t, ph.Magnitude, "never a limit stored as a magnitude")
			assert.Nil(t, ph.Error)
			assert.InDelta(t, r.zp-2.5*math.Log10(snu*r.unc), *ph.Limit, 1e-9)
			assert.Equal(t, snu, ph.LimitSigma)
		}
		if r.procstatus != "0" {
			assert.Equal(t, r.procstatus, ph.Extra["procstatus"])
		} else {
			assert.NotContains(t, ph.Extra, "procstatus")
		}
		if r.infobits != 0 {
			assert.Equal(t, r.infobits, ph.Extra["infobitssci"])
		}
	}
	assert.Len(t, ds, i, "no datum without a row")
	return det, lim
}

func clean(r fpRow) bool {
	return r.procstatus == "0" || r.procstatus == "57" || r.procstatus == "58" || r.procstatus == "62"
}

func TestForcedPhotometryProcessorSample(t *testing.T) {
	data := readFile(t, "ztf_fps_result.txt")
	rows := fpRows(t, data)
	require.Len(t, rows, 67)
	ds, err := ztf.ForcedPhotometryProcessor{}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	det, lim := checkFP(t, rows, ds, 3, 5, clean)
	assert.Equal(t, 28, det, "S/N > 3 detections (samples README)")
	assert.Equal(t, 39, lim, "5-sigma upper limits")
}

func TestForcedPhotometryProcessorEdgeCases(t *testing.T) {
	data := readFile(t, "ztf_fps_edgecases.txt")
	rows := fpRows(t, data)
	require.Len(t, rows, 12)
	ds, err := ztf.ForcedPhotometryProcessor{}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	det, lim := checkFP(t, rows, ds, 3, 5, clean)
	assert.Equal(t, 8, det, "8 clean detections: the procstatus-56 row is dropped, the 61 row has no flux")
	assert.Equal(t, 2, lim)

	all, err := ztf.ForcedPhotometryProcessor{KeepFlagged: true}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	det, lim = checkFP(t, rows, all, 3, 5, func(fpRow) bool { return true })
	assert.Equal(t, 9, det, "9 detections with every flux row kept")
	assert.Equal(t, 2, lim)
}

func TestForcedPhotometryProcessorThresholds(t *testing.T) {
	data := readFile(t, "ztf_fps_result.txt")
	rows := fpRows(t, data)
	p := ztf.ForcedPhotometryProcessor{SNT: 10, SNU: 3, Source: "ZFPS"}
	ds, err := p.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	for i := range ds {
		ds[i].Source = "ZTF_FP"
	}
	det, lim := checkFP(t, rows, ds, 10, 3, clean)
	assert.Less(t, det, 28)
	assert.Equal(t, 67, det+lim)

	_, err = ztf.ForcedPhotometryProcessor{SNU: -1}.Process(context.Background(), bytes.NewReader(data))
	assert.ErrorContains(t, err, "SNU")
}

const fpHeader = "# comment\n index, filter, jd, zpdiff, forcediffimflux, forcediffimfluxunc, procstatus\n#\n"

func TestForcedPhotometryProcessorRows(t *testing.T) {
	ctx := context.Background()
	in := fpHeader +
		" 0 ZTF_g 2459000.5 26.0 100 10 0\n" +
		" 1 ZTF_r 2459000.6 26.0 100 0 0\n" + // zero uncertainty: nothing
		" 2 ZTF_r 2459000.7 null 100 10 0\n" + // null zero point: nothing
		" 3 ZTF_i 2459000.8 26.0 -50 10 57,58\n" + // several clean codes: kept
		" 4 ZTF_i 2459000.9 26.0 50 10 56,57\n" + // one unclean code: dropped
		" 5 ZTF_g 2459001.0 26.0 30 10 null\n" + // S/N exactly 3: a limit
		"# ------------------------------END---------------------------------\n"
	ds, err := ztf.ForcedPhotometryProcessor{}.Process(ctx, strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, ds, 3)
	assert.InDelta(t, 21, *photometry(t, ds[0]).Magnitude, 1e-12)
	ph := photometry(t, ds[1])
	assert.Equal(t, "57,58", ph.Extra["procstatus"])
	assert.InDelta(t, 26-2.5*math.Log10(50), *ph.Limit, 1e-12)
	assert.Negative(t, *ph.FluxUJy)
	ph = photometry(t, ds[2])
	assert.NotNil(t, ph.Limit, "S/N = SNT is not a detection")
	assert.Nil(t, ph.Extra)
}

// TestForcedPhotometryProcessorReport: every epoch without a datum is
// reported with its line and reason, flagged epochs by procstatus; Strict
// refuses a file with an epoch without a measurement, not one with a
// flagged epoch.
func TestForcedPhotometryProcessorReport(t *testing.T) {
	ctx := context.Background()
	in := fpHeader +
		" 0 ZTF_g 2459000.5 26.0 100 10 0\n" +
		" 1 ZTF_r 2459000.6 26.0 100 0 0\n" +
		" 2 ZTF_r 2459000.7 null 100 10 0\n" +
		" 3 ZTF_i 2459000.8 26.0 -50 10 56,57\n" +
		" 4 ZTF_i 2459000.9 26.0 50 10 56\n" +
		" 5 ZTF_g 2459001.0 26.0 30 10 61\n"
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(ctx, ztf.ForcedPhotometryProcessor{}, strings.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Len(t, ds, 1)
	assert.Equal(t, dataproduct.Report{Rows: 6, Datums: 1, Skipped: []dataproduct.SkippedRows{
		{Reason: ztf.ReasonNoUncertainty, Count: 1, Lines: []int{5}},
		{Reason: ztf.ReasonNullMeasurement, Count: 1, Lines: []int{6}},
		{Reason: "flagged epoch (procstatus 56,57)", Count: 1, Lines: []int{7}},
		{Reason: "flagged epoch (procstatus 56)", Count: 1, Lines: []int{8}},
		{Reason: "flagged epoch (procstatus 61)", Count: 1, Lines: []int{9}},
	}}, rep)

	_, err = ztf.ForcedPhotometryProcessor{Strict: true}.Process(ctx, strings.NewReader(in))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 5, pe.Line)
	assert.ErrorIs(t, err, processor.ErrNoMeasurement)
	flaggedOnly := fpHeader + " 0 ZTF_g 2459000.5 26.0 100 10 0\n 4 ZTF_i 2459000.9 26.0 50 10 56\n"
	ds, err = ztf.ForcedPhotometryProcessor{Strict: true}.Process(ctx, strings.NewReader(flaggedOnly))
	require.NoError(t, err, "a flagged epoch never refuses a file")
	assert.Len(t, ds, 1)

	// The samples README's edge cases: 12 rows, 10 datums; the procstatus-56
	// row (line 64) is flagged, the procstatus-61 row (line 67) too.
	rep = dataproduct.Report{}
	ds, err = processor.Collect(processor.StreamReport(ctx, ztf.ForcedPhotometryProcessor{}, bytes.NewReader(readFile(t, "ztf_fps_edgecases.txt")), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Equal(t, 12, rep.Rows)
	assert.Equal(t, len(ds), rep.Datums)
	assert.Equal(t, rep.Rows-rep.Datums, rep.SkippedCount())
	assert.Equal(t, []dataproduct.SkippedRows{
		{Reason: "flagged epoch (procstatus 56)", Count: 1, Lines: []int{64}},
		{Reason: "flagged epoch (procstatus 61)", Count: 1, Lines: []int{67}},
	}, rep.Skipped)
}

func TestForcedPhotometryProcessorErrors(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		line int
		col  string
	}{
		"empty":           {"", 0, ""},
		"comments only":   {"# a\n# b\n", 2, ""},
		"missing column":  {"# x\n index, filter, jd, forcediffimflux\n", 2, "zpdiff"},
		"bad flux":        {fpHeader + " 0 ZTF_g 2459000.5 26.0 1e3x 10 0\n", 4, "forcediffimflux"},
		"bad jd":          {fpHeader + " 0 ZTF_g 2459000.5 26.0 100 10 0\n 1 ZTF_g two 26.0 100 10 0\n", 5, "jd"},
		"bad filter":      {fpHeader + " 0 ZTF_z 2459000.5 26.0 100 10 0\n", 4, "filter"},
		"bad procstatus":  {fpHeader + " 0 ZTF_g 2459000.5 26.0 100 10 ok\n", 4, "procstatus"},
		"short row":       {fpHeader + " 0 ZTF_g 2459000.5 26.0 100 10\n", 4, ""},
		"long row":        {fpHeader + " 0 ZTF_g 2459000.5 26.0 100 10 0 7\n", 4, ""},
		"bad infobitssci": {"# x\n filter, jd, zpdiff, forcediffimflux, forcediffimfluxunc, infobitssci\n ZTF_g 2459000.5 26 100 10 1.5\n", 3, "infobitssci"},
	} {
		t.Run(name, func(t *testing.T) {
			ds, err := ztf.ForcedPhotometryProcessor{}.Process(context.Background(), strings.NewReader(c.in))
			assert.Empty(t, ds)
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.line, pe.Line, "%v", err)
			assert.Equal(t, c.col, pe.Column, "%v", err)
		})
	}
}

// bigForcedPhotometry makes an n-row ZFPS file from the sample's rows.
func bigForcedPhotometry(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	writeForcedPhotometry(tb, &b, n)
	return b.Bytes()
}

// writeForcedPhotometry writes bigForcedPhotometry's file to w, row by row.
func writeForcedPhotometry(tb testing.TB, b io.StringWriter, n int) {
	tb.Helper()
	var head, rows []string
	var trailer string
	for _, line := range strings.Split(strings.TrimRight(string(readFile(tb, "ztf_fps_result.txt")), "\n"), "\n") {
		switch {
		case strings.Contains(line, "END"):
			trailer = line
		case len(rows) == 0 && (strings.HasPrefix(line, "#") || strings.HasPrefix(line, " index")):
			head = append(head, line)
		default:
			rows = append(rows, line)
		}
	}
	for _, h := range head {
		b.WriteString(h + "\n")
	}
	for i := range n {
		f := strings.Fields(rows[i%len(rows)])
		jd, _ := strconv.ParseFloat(f[22], 64)
		f[0] = strconv.Itoa(i)
		f[22] = strconv.FormatFloat(jd+float64(i/len(rows))*0.001, 'f', 7, 64)
		b.WriteString(" " + strings.Join(f, " ") + "\n")
	}
	b.WriteString(trailer + "\n")
}

func TestForcedPhotometryProcessorConformance(t *testing.T) {
	good := readFile(t, "ztf_fps_result.txt")
	lines := strings.SplitAfter(string(good), "\n")
	// Line 61 is the fourth data row; break its zpdiff.
	require.True(t, strings.HasPrefix(lines[60], " 3 663"), "line 61: %q", lines[60])
	lines[60] = strings.Replace(lines[60], " 26.2886 1 ", " 26.28x6 1 ", 1)
	processortest.Run(t, processortest.Harness{
		Processor: ztf.ForcedPhotometryProcessor{}, Input: good, WantDatums: 67,
		Bad: []byte(strings.Join(lines, "")), BadLine: 61, Large: bigForcedPhotometry(t, 20000),
	})
}

func BenchmarkForcedPhotometryProcessor(b *testing.B) {
	const rows = 200000
	data := bigForcedPhotometry(b, rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0, _ := cpuTime()
	for b.Loop() {
		n := 0
		for _, err := range (ztf.ForcedPhotometryProcessor{}).Stream(context.Background(), bytes.NewReader(data)) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d datums", n)
		}
	}
	reportRows(b, rows, cpu0)
}
