package atlas_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/fuzzcheck"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func process(t *testing.T, p atlas.Processor, in []byte) []dataproduct.Photometry {
	t.Helper()
	ds, err := p.Process(context.Background(), bytes.NewReader(in))
	require.NoError(t, err)
	out := make([]dataproduct.Photometry, len(ds))
	for i, d := range ds {
		assert.Equal(t, dataproduct.TypePhotometry, d.DataType)
		assert.Equal(t, "ATLAS", d.Source)
		ph, ok := d.Value.(dataproduct.Photometry)
		require.True(t, ok, "datum %d value is a Photometry", i)
		require.NotNil(t, ph.MJD)
		assert.Equal(t, processor.MJDToTime(*ph.MJD), d.Timestamp, "timestamp from MJD")
		assert.Equal(t, "UTC", d.Timestamp.Location().String())
		out[i] = ph
	}
	return out
}

// refRow is the independent reference computation (the rule of
// shared/tools/ref_atlas.py): rows with duJy ≤ 0, a non-finite uJy or duJy,
// or mag5sig < 10 give no datum (refRows leaves them out and returns their
// lines); S/N = uJy/duJy ≤ 3 → limit 23.9 − 2.5·log10(3·duJy), else
// magnitude m and error dm.
type refRow struct {
	mjd, m, dm, ujy, dujy float64
	filter                string
}

func refRows(t *testing.T, in []byte) []refRow {
	rows, _ := refRowsSkipped(t, in)
	return rows
}

func refRowsSkipped(t *testing.T, in []byte) (rows []refRow, skipped []int) {
	t.Helper()
	m5 := -1
	for n, line := range strings.Split(string(in), "\n") {
		if strings.HasPrefix(line, "###") {
			m5 = slices.Index(strings.Fields(line[3:]), "mag5sig")
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(f[i], 64)
			require.NoError(t, err)
			return v
		}
		r := refRow{mjd: num(0), m: num(1), dm: num(2), ujy: num(3), dujy: num(4), filter: f[5]}
		finite := !math.IsNaN(r.ujy) && !math.IsInf(r.ujy, 0) && !math.IsNaN(r.dujy) && !math.IsInf(r.dujy, 0)
		if !finite || r.dujy <= 0 || (m5 >= 0 && num(m5) < 10) {
			skipped = append(skipped, n+1)
			continue
		}
		rows = append(rows, r)
	}
	return rows, skipped
}

func TestProcessorMatchesTheReference(t *testing.T) {
	for _, name := range []string{"atlas_ngc1566.txt", "atlas_skyportal_excerpt.txt", "atlas_forced_edgecases.txt"} {
		t.Run(name, func(t *testing.T) {
			in := readSample(t, name)
			got := process(t, atlas.Processor{}, in)
			want := refRows(t, in)
			require.Len(t, got, len(want), "one datum per row that is a measurement")
			for i, w := range want {
				g := got[i]
				assert.Equal(t, w.filter, g.Filter, "row %d filter", i)
				assert.Equal(t, "ATLAS", g.Telescope)
				assert.Equal(t, w.mjd, *g.MJD)
				assert.Equal(t, w.ujy, *g.FluxUJy)
				assert.Equal(t, w.dujy, *g.FluxErrUJy)
				if w.ujy/w.dujy <= 3 {
					require.NotNil(t, g.Limit, "row %d (S/N %.2f) is a limit", i, w.ujy/w.dujy)
					assert.Nil(t, g.Magnitude, "a limit is never a magnitude")
					assert.Nil(t, g.Error)
					assert.InDelta(t, 23.9-2.5*math.Log10(3*w.dujy), *g.Limit, 1e-9)
					assert.Equal(t, 3.0, g.LimitSigma)
				} else {
					require.NotNil(t, g.Magnitude, "row %d (S/N %.2f) is a detection", i, w.ujy/w.dujy)
					assert.Nil(t, g.Limit)
					assert.Equal(t, w.m, *g.Magnitude)
					assert.Equal(t, w.dm, *g.Error)
					assert.Positive(t, *g.Magnitude, "negative m is never a magnitude")
				}
			}
		})
	}
}

// TestTOMCheckNGC1566 reproduces the TOM Toolkit's own check on its sample
// (tom_dataproducts/tests/test_atlas.py): 17 of the 32 rows have S/N ≤ 3
// and become limits.
func TestTOMCheckNGC1566(t *testing.T) {
	got := process(t, atlas.Processor{}, readSample(t, "atlas_ngc1566.txt"))
	require.Len(t, got, 32)
	limits, mags := 0, 0
	for _, ph := range got {
		if ph.Limit != nil {
			limits++
		}
		if ph.Magnitude != nil {
			mags++
		}
	}
	assert.Equal(t, 17, limits)
	assert.Equal(t, 15, mags)
	// The first row: 417 ± 37 µJy in o, a detection with the file's m and dm.
	assert.Equal(t, 17.349, *got[0].Magnitude)
	assert.Equal(t, 0.089, *got[0].Error)
	assert.Equal(t, "o", got[0].Filter)
	// The second: a negative flux (m = −17.672) is a 3-sigma limit from duJy = 24.
	assert.Nil(t, got[1].Magnitude)
	assert.InDelta(t, 23.9-2.5*math.Log10(72), *got[1].Limit, 1e-12)
}

func TestSkyPortalExcerpt(t *testing.T) {
	got := process(t, atlas.Processor{}, readSample(t, "atlas_skyportal_excerpt.txt"))
	require.Len(t, got, 5)
	for _, ph := range got {
		require.NotNil(t, ph.Magnitude, "every row is a detection (S/N ≥ 20)")
		assert.Equal(t, "c", ph.Filter)
		// The file's m is 23.9 − 2.5·log10(uJy) to the printed precision.
		assert.InDelta(t, 23.9-2.5*math.Log10(*ph.FluxUJy), *ph.Magnitude, 0.0015)
	}
}

// report streams in through p and returns the datums and the report.
func report(t *testing.T, p atlas.Processor, in []byte) ([]dataproduct.Datum, dataproduct.Report) {
	t.Helper()
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(context.Background(), p, bytes.NewReader(in), processor.Input{}, &rep))
	require.NoError(t, err)
	return ds, rep
}

func TestEdgeCases(t *testing.T) {
	in := readSample(t, "atlas_forced_edgecases.txt")
	got := process(t, atlas.Processor{}, in)
	require.Len(t, got, 21, "22 rows, one with mag5sig < 10 (samples README)")
	limits := 0
	filters := map[string]int{}
	for _, ph := range got {
		if ph.Limit != nil {
			limits++
		}
		filters[ph.Filter]++
	}
	assert.Equal(t, 7, limits, "7 limits at S/N ≤ 3")
	assert.Equal(t, 14, len(got)-limits, "14 detections")
	assert.Equal(t, 1, filters["H"], "the H-alpha row keeps its filter")
	// Row 3 (file line 4): a negative flux with negative m is a limit.
	assert.Nil(t, got[2].Magnitude)
	require.NotNil(t, got[2].Limit)
	for _, ph := range got {
		assert.NotEqual(t, 60409.9422, *ph.MJD, "the failed-solution row (mag5sig 8.05) gives no datum")
	}
	_, rep := report(t, atlas.Processor{}, in)
	assert.Equal(t, dataproduct.Report{Rows: 22, Datums: 21,
		Skipped: []dataproduct.SkippedRows{{Reason: atlas.ReasonFailedSolution, Count: 1, Lines: []int{19}}}}, rep)

	t.Run("QualityCuts", func(t *testing.T) {
		kept := process(t, atlas.Processor{QualityCuts: true}, in)
		assert.Len(t, kept, 18, "the FAQ cuts keep 18 of 22 rows")
		for _, ph := range kept {
			assert.NotEqual(t, 60407.3619, *ph.MJD, "the err=1 row is dropped")
			assert.NotEqual(t, 60407.374, *ph.MJD, "the Sky<17 row is dropped")
			assert.NotEqual(t, 60409.9422, *ph.MJD, "the failed-solution row is dropped")
			assert.NotEqual(t, 60409.9541, *ph.MJD, "the x<100 row is dropped")
		}
		_, rep := report(t, atlas.Processor{QualityCuts: true}, in)
		assert.Equal(t, dataproduct.Report{Rows: 22, Datums: 18, Skipped: []dataproduct.SkippedRows{
			{Reason: atlas.ReasonQualityCuts, Count: 3, Lines: []int{15, 16, 20}},
			{Reason: atlas.ReasonFailedSolution, Count: 1, Lines: []int{19}},
		}}, rep)
		_, err := atlas.Processor{QualityCuts: true, Strict: true}.Process(context.Background(), bytes.NewReader(in))
		var pe *dataproduct.ParseError
		require.ErrorAs(t, err, &pe, "the failed solution refuses a strict processor's file")
		assert.Equal(t, 19, pe.Line, "not the quality cuts of line 15: %v", err)
	})
}

// TestRowsThatAreNoMeasurement: rows the way the ATLAS server writes failed
// photometry (atlas.md §11; testdata/atlas_failed_rows.txt is made for
// this test, after the shapes of real server output) give no datum and are
// reported, and the rest of the file is kept; Strict refuses the file.
func TestRowsThatAreNoMeasurement(t *testing.T) {
	in := readSample(t, "atlas_failed_rows.txt")
	ds, rep := report(t, atlas.Processor{}, in)
	want, skippedLines := refRowsSkipped(t, in)
	require.Len(t, ds, len(want))
	assert.Equal(t, 8, rep.Rows)
	assert.Equal(t, 3, rep.Datums)
	assert.Equal(t, []dataproduct.SkippedRows{
		{Reason: atlas.ReasonNoFluxError, Count: 2, Lines: []int{4, 9}},
		{Reason: atlas.ReasonFailedSolution, Count: 2, Lines: []int{5, 6}},
		{Reason: atlas.ReasonFluxNotFinite, Count: 1, Lines: []int{8}},
	}, rep.Skipped)
	assert.Equal(t, []int{4, 5, 6, 8, 9}, skippedLines, "the reference skips the same rows")
	assert.Equal(t, 5, rep.SkippedCount())
	for _, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		if ph.Magnitude != nil {
			assert.Positive(t, *ph.Magnitude, "no magnitude of −5.4 from a failed solution")
		}
		if ph.Limit != nil {
			assert.Greater(t, *ph.Limit, 10.0, "no limit of −3.5 from a failed solution")
		}
	}
	assert.Contains(t, rep.String(), "2 no flux error (duJy ≤ 0) (lines 4, 9)")

	t.Run("Strict", func(t *testing.T) {
		ds, err := atlas.Processor{Strict: true}.Process(context.Background(), bytes.NewReader(in))
		assert.Empty(t, ds)
		var pe *dataproduct.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 4, pe.Line)
		assert.ErrorIs(t, err, processor.ErrNoMeasurement)
		assert.Contains(t, err.Error(), atlas.ReasonNoFluxError)
	})

	t.Run("Ingest", func(t *testing.T) {
		ctx := context.Background()
		store := dataproduct.NewMemoryStore(nil)
		prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "job.txt", DataProductType: "atlas_photometry"}, bytes.NewReader(in))
		require.NoError(t, err)
		res, err := processor.Ingest(ctx, store, prod, atlas.Processor{})
		require.NoError(t, err)
		assert.Equal(t, 3, res.Added)
		require.Len(t, res.Reports, 1)
		rep.Product = "job.txt"
		assert.Equal(t, rep, res.Reports[0])

		_, err = processor.Ingest(ctx, store, prod, atlas.Processor{Strict: true})
		require.Error(t, err)
		again, err := processor.Ingest(ctx, store, prod, atlas.Processor{})
		require.NoError(t, err)
		assert.Equal(t, dataproduct.IngestResult{Added: 0, Skipped: 3, Reports: []dataproduct.Report{rep}}, again)
	})
}

func TestSNThreshold(t *testing.T) {
	in := readSample(t, "atlas_ngc1566.txt")
	rows := refRows(t, in)
	got := process(t, atlas.Processor{SNThreshold: 5}, in)
	want := 0
	for _, r := range rows {
		if r.ujy/r.dujy <= 5 {
			want++
		}
	}
	limits := 0
	for i, ph := range got {
		if ph.Limit != nil {
			limits++
			assert.Equal(t, 5.0, ph.LimitSigma)
			assert.InDelta(t, 23.9-2.5*math.Log10(5*rows[i].dujy), *ph.Limit, 1e-9, "a 5-sigma limit")
		}
	}
	assert.Equal(t, want, limits)
	assert.Greater(t, limits, 17)

	_, err := atlas.Processor{SNThreshold: -1}.Process(context.Background(), bytes.NewReader(in))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SNThreshold")
}

func TestKeepExtra(t *testing.T) {
	got := process(t, atlas.Processor{KeepExtra: true}, readSample(t, "atlas_ngc1566.txt"))
	assert.Equal(t, map[string]any{"obs": "04a60316o0180o", "err": 0.0, "chi_n": 28.03, "mag5sig": 19.34, "sky": 20.82}, got[0].Extra)
	_, err := dataproduct.CanonicalValue(got[0])
	assert.NoError(t, err, "the extra keys do not collide with photometry keys")
}

func TestProcessorFormatVariants(t *testing.T) {
	sample := string(readSample(t, "atlas_ngc1566.txt"))
	lines := strings.Split(strings.TrimRight(sample, "\n"), "\n")
	base := process(t, atlas.Processor{}, []byte(sample))

	t.Run("CRLF, blank lines, comments, no final newline", func(t *testing.T) {
		in := "# fetched by hand\r\n" + lines[0] + "\r\n\r\n" + strings.Join(lines[1:], "\r\n# comment\r\n")
		assert.Equal(t, base, process(t, atlas.Processor{}, []byte(in)))
	})
	t.Run("extra and reordered columns", func(t *testing.T) {
		// PA_DEG (documented, never seen) between mag5sig and Sky, and m/dm swapped.
		var b strings.Builder
		for i, line := range lines {
			f := strings.Fields(line)
			if i == 0 {
				f[0] = strings.TrimPrefix(f[0], "###")
			}
			f[1], f[2] = f[2], f[1]
			pa := "0.0"
			if i == 0 {
				pa = "PA_DEG"
			}
			f = append(f[:17], append([]string{pa}, f[17:]...)...)
			if i == 0 {
				b.WriteString("###")
			}
			b.WriteString(strings.Join(f, "\t"))
			b.WriteString("\n")
		}
		assert.Equal(t, base, process(t, atlas.Processor{}, []byte(b.String())))
	})
	t.Run("a file with no rows gives no datums", func(t *testing.T) {
		assert.Empty(t, process(t, atlas.Processor{}, []byte(lines[0]+"\n")))
	})
}

func TestProcessorParseErrors(t *testing.T) {
	sample := string(readSample(t, "atlas_ngc1566.txt"))
	lines := strings.Split(strings.TrimRight(sample, "\n"), "\n")
	with := func(lineNo int, repl string) string {
		cp := append([]string(nil), lines...)
		cp[lineNo-1] = repl
		return strings.Join(cp, "\n") + "\n"
	}
	row7 := strings.Fields(lines[6])
	for _, tc := range []struct {
		name   string
		in     string
		line   int
		column string
		msg    string
	}{
		{"bad number", with(7, strings.Replace(lines[6], row7[3], "4x5", 1)), 7, "uJy", "not a number"},
		{"NaN time", with(7, strings.Replace(lines[6], row7[0], "nan", 1)), 7, "MJD", "not a finite number"},
		{"text for mag5sig", with(7, setField(lines[6], 16, "n/a")), 7, "mag5sig", "not a number"},
		{"short row", with(9, strings.Join(strings.Fields(lines[8])[:10], " ")), 9, "", "10 fields, the header has 19"},
		{"long row", with(9, lines[8]+" extra"), 9, "", "20 fields, the header has 19"},
		{"no header", strings.Join(lines[1:], "\n"), 1, "", "no header line"},
		{"missing column", strings.Replace(sample, " duJy ", " dUJ ", 1), 1, "duJy", "no \"duJy\" column"},
		{"duplicate column", strings.Replace(sample, " x ", " y ", 1), 1, "y", "twice"},
		{"empty", "", 1, "", "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := atlas.Processor{}.Process(context.Background(), strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Empty(t, ds)
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.line, pe.Line, "%v", err)
			assert.Equal(t, tc.column, pe.Column, "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	t.Run("quality cuts need their columns", func(t *testing.T) {
		in := strings.Replace(sample, " apfit ", " apfix ", 1)
		_, err := atlas.Processor{}.Process(context.Background(), strings.NewReader(in))
		require.NoError(t, err, "without cuts apfit is not needed")
		_, err = atlas.Processor{QualityCuts: true}.Process(context.Background(), strings.NewReader(in))
		var pe *dataproduct.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "apfit", pe.Column)
	})
	t.Run("a line too long", func(t *testing.T) {
		in := lines[0] + "\n" + strings.Repeat("1", 70000) + "\n"
		_, err := atlas.Processor{}.Process(context.Background(), strings.NewReader(in))
		var pe *dataproduct.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 2, pe.Line)
	})
	t.Run("read errors", func(t *testing.T) {
		boom := errors.New("disk on fire")
		_, err := atlas.Processor{}.Process(context.Background(), io.MultiReader(strings.NewReader(sample[:300]), errReader{boom}))
		assert.ErrorIs(t, err, boom)
	})
}

// setField replaces field i of a row.
func setField(line string, i int, v string) string {
	f := strings.Fields(line)
	f[i] = v
	return strings.Join(f, " ")
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestProcessorConformance(t *testing.T) {
	sample := readSample(t, "atlas_ngc1566.txt")
	bad := strings.Replace(string(sample), "60324.125384  17.363", "60324.125384  17.3z3", 1)
	large := generated(t, 20000)
	for _, p := range []atlas.Processor{{}, {QualityCuts: true}, {KeepExtra: true, SNThreshold: 5}} {
		processortest.Run(t, processortest.Harness{
			Processor:  p,
			Input:      sample,
			WantDatums: 32,
			Bad:        []byte(bad),
			BadLine:    20,
			Large:      large,
		})
	}
	processortest.Run(t, processortest.Harness{Processor: atlas.Processor{QualityCuts: true}, Input: readSample(t, "atlas_forced_edgecases.txt"), WantDatums: 18})
}

func TestProcessorOnSimulatorFiles(t *testing.T) {
	in := atlastest.GenerateResult(65.00165, -54.93795, 60316, 60336)
	got := process(t, atlas.Processor{}, in)
	rows := refRows(t, in)
	require.Len(t, got, len(rows))
	var limits, negatives int
	for i, r := range rows {
		if r.ujy < 0 {
			negatives++
			assert.Negative(t, r.m, "negative flux has negative m")
			assert.Nil(t, got[i].Magnitude)
		}
		if got[i].Limit != nil {
			limits++
		}
	}
	assert.Positive(t, limits, "the simulator's files have S/N ≤ 3 rows")
	assert.Positive(t, negatives, "and negative fluxes")
	assert.Less(t, limits, len(rows), "and detections")
}

// generated returns n rows of simulator files (many targets, ten years).
func generated(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := writeGenerated(&b, n); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// writeGenerated writes the header and n rows of simulator files, one
// target's file at a time.
func writeGenerated(w io.Writer, n int) error {
	if _, err := io.WriteString(w, atlastest.Header+"\n"); err != nil {
		return err
	}
	rows := 0
	for i := 0; rows < n; i++ {
		body := atlastest.GenerateResult(10+float64(i)*0.37, -20+float64(i%40), 57200, 61000)
		for _, line := range bytes.SplitAfter(body, []byte("\n"))[1:] {
			if len(line) == 0 || rows == n {
				continue
			}
			if _, err := w.Write(line); err != nil {
				return err
			}
			rows++
		}
	}
	return nil
}

// BenchmarkProcessor streams a generated 200,000-row file (the ingest
// path) and reports rows/s and allocations per row.
func BenchmarkProcessor(b *testing.B) {
	const rows = 200000
	in := generated(b, rows)
	for _, bc := range []struct {
		name string
		p    atlas.Processor
	}{{"default", atlas.Processor{}}, {"quality-cuts", atlas.Processor{QualityCuts: true}}, {"keep-extra", atlas.Processor{KeepExtra: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				for _, err := range bc.p.Stream(ctx, bytes.NewReader(in)) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n == 0 {
					b.Fatal("no datums")
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			if cpu > 0 {
				// Rows per second of CPU time: the figure that does not depend
				// on what else the machine runs.
				b.ReportMetric(float64(rows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
			}
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(rows*b.N), "allocs/row")
		})
	}
}

// FuzzProcessor: any input gives well-formed datums (fuzzcheck.Processor:
// a timestamp, a magnitude or a limit, canonical values, Stream agreeing
// with Process, deterministic) or a *ParseError, never a panic or a hang;
// a positive magnitude; and the quality cuts only ever remove datums.
func FuzzProcessor(f *testing.F) {
	for _, name := range []string{"atlas_ngc1566.txt", "atlas_skyportal_excerpt.txt", "atlas_forced_edgecases.txt"} {
		f.Add(readSample(f, name))
	}
	f.Add([]byte("###MJD m dm uJy duJy F\n60000 -1 1 0 0 o\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzcheck.MaxInput {
			return
		}
		want := fuzzcheck.Photometry{Source: atlas.Telescope, Exclusive: true}
		all := fuzzcheck.Processor(t, atlas.Processor{}, in, want)
		for _, p := range []atlas.Processor{{QualityCuts: true, KeepExtra: true, SNThreshold: 5}, {QualityCuts: true}} {
			ds := fuzzcheck.Processor(t, p, in, want)
			for _, d := range ds {
				ph := d.Value.(dataproduct.Photometry)
				if ph.Magnitude != nil && *ph.Magnitude <= 0 {
					t.Fatalf("a non-positive magnitude: %v", *ph.Magnitude)
				}
			}
			if all != nil && len(ds) > len(all) {
				t.Fatalf("%+v kept %d datums of %d", p, len(ds), len(all))
			}
		}
	})
}
