package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// referenceWrite is the straightforward writer the fast one replaced:
// encoding/json for JSON lines, encoding/csv for CSV.
func referenceWrite(t *testing.T, format string, ds []dataproduct.Datum) string {
	t.Helper()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if format == "csv" {
		require.NoError(t, cw.Write(csvHeader))
	}
	for _, d := range ds {
		ts := d.Timestamp.UTC().Format(time.RFC3339Nano)
		mjd := processor.TimeToMJD(d.Timestamp)
		if format == "json" {
			b, err := json.Marshal(jsonDatum{Timestamp: ts, MJD: mjd, Source: d.Source, DataType: d.DataType, Value: d.Value})
			require.NoError(t, err)
			buf.Write(b)
			buf.WriteByte('\n')
			continue
		}
		f := func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'f', -1, 64)
		}
		row := []string{ts, strconv.FormatFloat(mjd, 'f', 6, 64), d.Source, d.DataType}
		if p, ok := photometryOf(d); ok {
			sigma := ""
			if p.LimitSigma != 0 {
				sigma = strconv.FormatFloat(p.LimitSigma, 'f', -1, 64)
			}
			row = append(row, p.Filter, f(p.Magnitude), f(p.Error), f(p.Limit), sigma, p.Telescope, f(p.FluxUJy), f(p.FluxErrUJy), "")
		} else {
			b, err := dataproduct.CanonicalValue(d.Value)
			require.NoError(t, err)
			row = append(row, "", "", "", "", "", "", "", "", string(b))
		}
		require.NoError(t, cw.Write(row))
		cw.Flush()
	}
	cw.Flush()
	return buf.String()
}

func TestWriterMatchesEncodingPackages(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	odd := []string{"", "o", "c", " lead", "a,b", `q"uote`, "line\nbreak", "cr\rx", "crlf\r\n", `\.`, "\u00a0nbsp", "é",
		"<&>", "tab\t", "\x01ctl", "bad\xffutf8", "\u2028"}
	pick := func() string { return odd[r.IntN(len(odd))] }
	num := func() *float64 {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return dataproduct.Float(float64(r.Int64N(2e6)-1e6) / 1000)
		case 2:
			return dataproduct.Float(math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(0x7fe)+1)<<52))
		}
		return dataproduct.Float(23.9 - 2.5*math.Log10(r.Float64()*100))
	}
	var ds []dataproduct.Datum
	for i := range 3000 {
		ts := time.Date(1990+r.IntN(50), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60),
			[]int{0, 500_000_000, r.IntN(1e9), 123_000, 1000 * r.IntN(1e6)}[r.IntN(5)], time.UTC)
		if i%7 == 0 {
			ts = ts.In(time.FixedZone("X", 3600*(r.IntN(25)-12)))
		}
		p := dataproduct.Photometry{Magnitude: num(), Error: num(), Limit: num(), FluxUJy: num(), FluxErrUJy: num(), MJD: num(),
			Filter: pick(), Telescope: pick()}
		if r.IntN(3) == 0 {
			p.LimitSigma = float64(r.IntN(6))
		}
		var v any = p
		switch i % 11 {
		case 3:
			v = &p
		case 5:
			v = dataproduct.Spectrum{Wavelength: []float64{4000, 4001.5}, Flux: []float64{1e-16, 2.5e-17}, FluxUnits: pick(), WavelengthUnits: "Angstrom"}
		case 7:
			v = json.RawMessage(`{"b": 2, "a": "<x>"}`)
		}
		ds = append(ds, dataproduct.Datum{TargetID: 1, DataType: []string{"photometry", "spectroscopy", pick()}[r.IntN(3)],
			Timestamp: ts, Source: pick(), Value: v})
	}
	// The far past and future take time.Format's own path.
	ds = append(ds, dataproduct.Datum{TargetID: 1, DataType: "photometry", Timestamp: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		Source: "S", Value: dataproduct.Photometry{Magnitude: dataproduct.Float(1)}})
	ds = append(ds, dataproduct.Datum{TargetID: 1, DataType: "photometry", Timestamp: time.Date(12000, 1, 1, 0, 0, 0, 7, time.UTC),
		Source: "S", Value: dataproduct.Photometry{Magnitude: dataproduct.Float(1)}})
	for _, format := range []string{"json", "csv"} {
		var got bytes.Buffer
		w := newWriter(format, &got)
		for _, d := range ds {
			require.NoError(t, w.write(d))
		}
		require.NoError(t, w.flush())
		want := referenceWrite(t, format, ds)
		if got.String() != want {
			gl, wl := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split([]byte(want), []byte("\n"))
			for i := range min(len(gl), len(wl)) {
				require.Equal(t, string(wl[i]), string(gl[i]), "%s line %d", format, i+1)
			}
			require.Equal(t, len(wl), len(gl), "%s: line count", format)
		}
	}
}

func TestWriterRefusesNonFiniteNumbers(t *testing.T) {
	for _, format := range []string{"json", "csv"} {
		w := newWriter(format, &bytes.Buffer{})
		err := w.write(dataproduct.Datum{TargetID: 1, DataType: "photometry", Timestamp: time.Now(), Source: "S",
			Value: dataproduct.Photometry{Magnitude: dataproduct.Float(math.NaN())}})
		assert.Error(t, err, format)
	}
}

func TestTimeToMJDMatchesProcessor(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	times := []time.Time{mjdEpoch, mjdEpoch.Add(-time.Nanosecond), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2150, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("X", -5*3600))}
	for range 200_000 {
		times = append(times, time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)))
	}
	for _, ts := range times {
		require.Equal(t, processor.TimeToMJD(ts), timeToMJD(ts), "%v", ts)
	}
}
