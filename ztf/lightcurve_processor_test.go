package ztf_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
	"github.com/tomgo/targetdata/ztf"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// irsaRow is one row of the CSV sample, read independently of the
// processor.
type irsaRow struct {
	mjd, mag, magerr float64
	catflags         int
	band             string
}

func irsaRows(t *testing.T, data []byte) []irsaRow {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, n := range recs[0] {
		col[n] = i
	}
	var out []irsaRow
	for _, r := range recs[1:] {
		f := func(n string) float64 {
			v, err := strconv.ParseFloat(r[col[n]], 64)
			require.NoError(t, err)
			return v
		}
		out = append(out, irsaRow{mjd: f("mjd"), mag: f("mag"), magerr: f("magerr"), catflags: int(f("catflags")), band: r[col["filtercode"]][1:]})
	}
	return out
}

func photometry(t *testing.T, d dataproduct.Datum) dataproduct.Photometry {
	t.Helper()
	ph, ok := d.Value.(dataproduct.Photometry)
	require.True(t, ok, "value is a Photometry, not %T", d.Value)
	return ph
}

func TestProcessorCSVSample(t *testing.T) {
	data := readFile(t, "ztf_irsa_lightcurve.csv")
	rows := irsaRows(t, data)
	require.Len(t, rows, 88)
	ds, err := ztf.Processor{}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	// 4 rows with catflags 32768 are dropped by the default mask; the 5
	// rows with catflags 4 are kept and flagged.
	require.Len(t, ds, 84)
	i, flagged := 0, 0
	for _, r := range rows {
		if r.catflags&32768 != 0 {
			continue
		}
		d := ds[i]
		i++
		ph := photometry(t, d)
		assert.Equal(t, dataproduct.TypePhotometry, d.DataType)
		assert.Equal(t, "ZTF", d.Source)
		assert.Equal(t, processor.MJDToTime(r.mjd), d.Timestamp)
		assert.Equal(t, r.mag, *ph.Magnitude)
		assert.Equal(t, r.magerr, *ph.Error)
		assert.Nil(t, ph.Limit, "IRSA rows are detections")
		assert.Equal(t, r.band, ph.Filter)
		assert.Equal(t, "ZTF", ph.Telescope)
		assert.Equal(t, r.mjd, *ph.MJD)
		assert.InDelta(t, processor.FluxUJy(r.mag), *ph.FluxUJy, 1e-9)
		assert.InDelta(t, *ph.FluxUJy*r.magerr/1.0857362047581294, *ph.FluxErrUJy, 1e-9)
		if r.catflags != 0 {
			flagged++
			assert.Equal(t, map[string]any{"catflags": int64(r.catflags)}, ph.Extra)
		} else {
			assert.Nil(t, ph.Extra)
		}
	}
	assert.Equal(t, 5, flagged)
}

func TestProcessorIPACSampleMatchesCSV(t *testing.T) {
	csvDs, err := ztf.Processor{}.Process(context.Background(), bytes.NewReader(readFile(t, "ztf_irsa_lightcurve.csv")))
	require.NoError(t, err)
	tbl, err := ztf.Processor{}.Process(context.Background(), bytes.NewReader(readFile(t, "ztf_irsa_lightcurve.tbl")))
	require.NoError(t, err)
	// The IPAC table is the first 16 rows of the CSV (none with catflags 32768).
	require.Len(t, tbl, 16)
	byKey := map[string]dataproduct.Datum{}
	for _, d := range csvDs {
		byKey[d.Timestamp.String()+photometry(t, d).Filter] = d
	}
	for _, d := range tbl {
		c, ok := byKey[d.Timestamp.String()+photometry(t, d).Filter]
		require.True(t, ok, "IPAC row %v is in the CSV", d.Timestamp)
		assert.Equal(t, c, d)
	}
}

func TestProcessorCatflagsMask(t *testing.T) {
	data := readFile(t, "ztf_irsa_lightcurve.csv")
	all, err := ztf.Processor{BadCatflagsMask: -1}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	assert.Len(t, all, 88, "a negative mask keeps every row")
	four, err := ztf.Processor{BadCatflagsMask: 4}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	assert.Len(t, four, 83, "mask 4 drops the catflags-4 rows and keeps (flags) the 32768 ones")
	n := 0
	for _, d := range four {
		if photometry(t, d).Extra["catflags"] == int64(32768) {
			n++
		}
	}
	assert.Equal(t, 4, n)
	src, err := ztf.Processor{Source: "IRSA"}.Process(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, "IRSA", src[0].Source)
}

const csvHeader = "oid,expid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec\n"

// TestProcessorReport: rows dropped by the catflags mask and rows without a
// magnitude are reported with their lines; Strict refuses only the latter.
func TestProcessorReport(t *testing.T) {
	ctx := context.Background()
	in := csvHeader +
		"1,1,0,58000.1,18.5,0.05,0,zg,1,1\n" +
		"1,2,0,58000.2,18.6,0.05,32768,zg,1,1\n" +
		"1,3,0,58000.3,,0.05,0,zr,1,1\n" +
		"1,4,0,58000.4,null,0.05,0,zr,1,1\n" +
		"1,5,0,58000.5,18.7,0.05,4,zi,1,1\n"
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(ctx, ztf.Processor{}, strings.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	assert.Equal(t, dataproduct.Report{Rows: 5, Datums: 2, Skipped: []dataproduct.SkippedRows{
		{Reason: ztf.ReasonBadCatflags, Count: 1, Lines: []int{3}},
		{Reason: ztf.ReasonNoMagnitude, Count: 2, Lines: []int{4, 5}},
	}}, rep)
	_, err = ztf.Processor{Strict: true}.Process(ctx, strings.NewReader(in))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, pe.Line, "the catflags row is a filter, the empty mag refuses: %v", err)
	assert.ErrorIs(t, err, processor.ErrNoMeasurement)

	// The samples: every row is a datum or a reported skip.
	for file, rows := range map[string]int{"ztf_irsa_lightcurve.csv": 88, "ztf_irsa_lightcurve.tbl": 16} {
		var rep dataproduct.Report
		ds, err := processor.Collect(processor.StreamReport(ctx, ztf.Processor{}, bytes.NewReader(readFile(t, file)), processor.Input{}, &rep))
		require.NoError(t, err)
		assert.Equal(t, rows, rep.Rows, file)
		assert.Equal(t, len(ds), rep.Datums, file)
		assert.Equal(t, rep.Rows-rep.Datums, rep.SkippedCount(), file)
	}
}

func TestProcessorFormats(t *testing.T) {
	ctx := context.Background()
	t.Run("header only", func(t *testing.T) {
		ds, err := ztf.Processor{}.Process(ctx, strings.NewReader(csvHeader))
		require.NoError(t, err)
		assert.Empty(t, ds)
	})
	t.Run("columns in any order, CRLF, blank lines, null mag", func(t *testing.T) {
		in := "filtercode,mag,mjd,magerr\r\nzr,18.5,60000.25,0.05\r\n\r\nzi,,60001.5,\r\nzi,null,60001.5,null\r\nzi,NaN,60001.5,NaN\r\nzi,19,60002.5,\r\n"
		ds, err := ztf.Processor{}.Process(ctx, strings.NewReader(in))
		require.NoError(t, err)
		require.Len(t, ds, 2, "rows without a magnitude give nothing")
		ph := photometry(t, ds[0])
		assert.Equal(t, "r", ph.Filter)
		assert.Equal(t, 18.5, *ph.Magnitude)
		ph = photometry(t, ds[1])
		assert.Equal(t, "i", ph.Filter)
		assert.Nil(t, ph.Error, "a missing magerr leaves the error out")
		assert.Nil(t, ph.FluxErrUJy)
	})
	t.Run("quoted csv", func(t *testing.T) {
		in := csvHeader + `1,2,3,60000.5,"17.5",0.1,0,"zg",1,2` + "\n"
		ds, err := ztf.Processor{}.Process(ctx, strings.NewReader(in))
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Equal(t, 17.5, *photometry(t, ds[0]).Magnitude)
	})
	t.Run("ipac blank cells", func(t *testing.T) {
		in := "|      mjd|    mag| magerr|filtercode|catflags|\n" +
			"|   double| double| double|      char|     int|\n" +
			"|      day|    mag|    mag|          |        |\n" +
			"|     null|   null|   null|      null|    null|\n" +
			"   60000.5   17.25                 zg        0 \n" +
			"   60001.5    null    null         zr        4 \n"
		ds, err := ztf.Processor{}.Process(ctx, strings.NewReader(in))
		require.NoError(t, err)
		require.Len(t, ds, 1)
		ph := photometry(t, ds[0])
		assert.Equal(t, 17.25, *ph.Magnitude)
		assert.Nil(t, ph.Error)
		assert.Equal(t, "g", ph.Filter)
	})
	t.Run("ipac header only", func(t *testing.T) {
		in := "\\fixlen = T\n|oid|mjd|mag|magerr|filtercode|\n|long|double|double|double|char|\n"
		ds, err := ztf.Processor{}.Process(ctx, strings.NewReader(in))
		require.NoError(t, err)
		assert.Empty(t, ds)
	})
}

func TestProcessorErrors(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		line int
		col  string
	}{
		"empty":               {"", 0, ""},
		"only comments":       {"\n\n", 2, ""},
		"missing column":      {"oid,mjd,mag,filtercode\n", 1, "magerr"},
		"bad mag":             {csvHeader + "1,2,3,60000.5,17.5,0.1,0,zg,1,2\n1,2,3,60000.6,bright,0.1,0,zg,1,2\n", 3, "mag"},
		"bad mjd":             {csvHeader + "1,2,3,later,17.5,0.1,0,zg,1,2\n", 2, "mjd"},
		"empty mjd":           {csvHeader + "1,2,3,,17.5,0.1,0,zg,1,2\n", 2, "mjd"},
		"inf mag":             {csvHeader + "1,2,3,60000.5,Inf,0.1,0,zg,1,2\n", 2, "mag"},
		"bad catflags":        {csvHeader + "1,2,3,60000.5,17.5,0.1,x,zg,1,2\n", 2, "catflags"},
		"unknown filter":      {csvHeader + "1,2,3,60000.5,17.5,0.1,0,zu,1,2\n", 2, "filtercode"},
		"short row":           {csvHeader + "1,2,3,60000.5,17.5\n", 2, ""},
		"bad quote":           {csvHeader + "1,2,3,60000.5,\"17.5,0.1,0,zg,1,2\n", 2, ""},
		"ipac missing column": {"\\x = 1\n|oid|mjd|mag|\n|long|double|double|\n 1 2 3\n", 2, "magerr"},
		"ipac bad number":     {"|mjd|mag|magerr|filtercode|\n 60000.5 17 0.1 zg\n 60000.6 x 0.1 zg\n", 3, "mag"},
		"ipac header late":    {"|mjd|mag|magerr|filtercode|\n 60000.5 17 0.1 zg\n|mjd|\n", 3, ""},
		"ipac keyword late":   {"|mjd|mag|magerr|filtercode|\n\\x = 1\n", 2, ""},
	} {
		t.Run(name, func(t *testing.T) {
			ds, err := ztf.Processor{}.Process(context.Background(), strings.NewReader(c.in))
			assert.Empty(t, ds)
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.line, pe.Line, "%v", err)
			assert.Equal(t, c.col, pe.Column, "%v", err)
		})
	}
}

func TestProcessorLineTooLong(t *testing.T) {
	in := csvHeader + strings.Repeat("x", 2<<20) + "\n"
	_, err := ztf.Processor{}.Process(context.Background(), strings.NewReader(in))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Line)
	assert.Contains(t, err.Error(), "longer than")
}

// bigLightCurve makes an n-row IRSA CSV answer from the sample's rows.
func bigLightCurve(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	writeLightCurve(tb, &b, n, false)
	return b.Bytes()
}

// writeLightCurve writes bigLightCurve's answer to w row by row, as CSV
// or, with ipac, as an IPAC table (fixed columns wide enough for every
// value).
func writeLightCurve(tb testing.TB, b io.StringWriter, n int, ipac bool) {
	tb.Helper()
	lines := strings.Split(strings.TrimSpace(string(readFile(tb, "ztf_irsa_lightcurve.csv"))), "\n")
	header := strings.Split(lines[0], ",")
	rows := lines[1:]
	width := make([]int, len(header))
	for _, r := range append([]string{lines[0]}, rows...) {
		for i, v := range strings.Split(r, ",") {
			width[i] = max(width[i], len(v)+4, 8)
		}
	}
	pad := func(v string, w int) string { return strings.Repeat(" ", w-len(v)) + v }
	if ipac {
		b.WriteString("\\fixlen = T\n")
		for _, cells := range [][]string{header, slices.Repeat([]string{"double"}, len(header))} {
			for i, v := range cells {
				b.WriteString("|" + pad(v, width[i]))
			}
			b.WriteString("|\n")
		}
	} else {
		b.WriteString(lines[0] + "\n")
	}
	for i := range n {
		r := strings.Split(rows[i%len(rows)], ",")
		mjd, _ := strconv.ParseFloat(r[3], 64)
		r[3] = strconv.FormatFloat(mjd+float64(i/len(rows))*0.001, 'f', 9, 64)
		if !ipac {
			b.WriteString(strings.Join(r, ",") + "\n")
			continue
		}
		for k, v := range r {
			b.WriteString(" " + pad(v, width[k]))
		}
		b.WriteString(" \n")
	}
}

func TestProcessorConformance(t *testing.T) {
	bad := []byte(csvHeader + "1,2,3,60000.5,17.5,0.1,0,zg,1,2\n1,2,3,60000.6,17.5,0.1,0,zg,1,2\n1,2,3,60000.7,17.5,zero,0,zg,1,2\n")
	t.Run("CSV", func(t *testing.T) {
		processortest.Run(t, processortest.Harness{
			Processor: ztf.Processor{}, Input: readFile(t, "ztf_irsa_lightcurve.csv"), WantDatums: 84,
			Bad: bad, BadLine: 4, Large: bigLightCurve(t, 20000),
		})
	})
	t.Run("IPAC", func(t *testing.T) {
		tbl := readFile(t, "ztf_irsa_lightcurve.tbl")
		lines := strings.SplitAfter(string(tbl), "\n")
		lines[8] = strings.Replace(lines[8], "19.7323181", "19.73x3181", 1)
		processortest.Run(t, processortest.Harness{
			Processor: ztf.Processor{}, Input: tbl, WantDatums: 16,
			Bad: []byte(strings.Join(lines, "")), BadLine: 9,
		})
	})
}

func TestProcessorStreamStops(t *testing.T) {
	data := bigLightCurve(t, 1000)
	n := 0
	for _, err := range (ztf.Processor{}).Stream(context.Background(), bytes.NewReader(data)) {
		require.NoError(t, err)
		n++
		if n == 10 {
			break
		}
	}
	assert.Equal(t, 10, n, "the consumer can stop the stream")
}

func BenchmarkProcessor(b *testing.B) {
	for _, format := range []string{"csv", "ipac"} {
		b.Run(format, func(b *testing.B) {
			const rows = 200000
			data := bigLightCurve(b, rows)
			if format == "ipac" {
				data = csvToIPAC(b, data)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0, _ := cpuTime()
			for b.Loop() {
				n := 0
				for _, err := range (ztf.Processor{BadCatflagsMask: -1}).Stream(context.Background(), bytes.NewReader(data)) {
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
		})
	}
}

// csvToIPAC renders a CSV answer as an IPAC table.
func csvToIPAC(tb testing.TB, data []byte) []byte {
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(tb, err)
	width := make([]int, len(recs[0]))
	for _, r := range recs {
		for i, v := range r {
			width[i] = max(width[i], len(v), 6)
		}
	}
	var b bytes.Buffer
	b.WriteString("\\fixlen = T\n")
	for _, r := range recs[:1] {
		for i, v := range r {
			fmt.Fprintf(&b, "|%*s", width[i], v)
		}
		b.WriteString("|\n")
		for i := range r {
			fmt.Fprintf(&b, "|%*s", width[i], "double")
		}
		b.WriteString("|\n")
	}
	for _, r := range recs[1:] {
		for i, v := range r {
			fmt.Fprintf(&b, " %*s", width[i], v)
		}
		b.WriteString(" \n")
	}
	return b.Bytes()
}

// reportRows reports rows per wall-clock second and, where the platform
// tells, rows per CPU second (the figure that holds on a busy machine).
func reportRows(b *testing.B, rows int, cpu0 time.Duration) {
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	if cpu1, ok := cpuTime(); ok && cpu1 > cpu0 {
		b.ReportMetric(total/(cpu1-cpu0).Seconds(), "rows/cpu-s")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
}
