package processor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// card formats one 80-character FITS header card.
func card(key string, v any) string {
	var val string
	switch v := v.(type) {
	case string:
		val = fmt.Sprintf("%-20s", "'"+strings.ReplaceAll(v, "'", "''")+"'")
	case bool:
		val = fmt.Sprintf("%20s", map[bool]string{true: "T", false: "F"}[v])
	case int:
		val = fmt.Sprintf("%20d", v)
	case float64:
		val = fmt.Sprintf("%20s", strings.ToUpper(fmt.Sprintf("%.15G", v)))
		if !strings.ContainsAny(val, ".E") {
			val = fmt.Sprintf("%20s", strings.TrimSpace(val)+".0")
		}
	}
	return fmt.Sprintf("%-80s", fmt.Sprintf("%-8s= %s", key, val))
}

// fitsSpectrum builds a primary HDU holding an n-point BITPIX -32 spectrum
// on a linear wavelength axis; with nan, every 1000th pixel is NaN.
func fitsSpectrum(n int, nan bool) []byte {
	var h strings.Builder
	for _, c := range []struct {
		k string
		v any
	}{
		{"SIMPLE", true}, {"BITPIX", -32}, {"NAXIS", 1}, {"NAXIS1", n},
		{"CRVAL1", 3600.0}, {"CDELT1", 0.005}, {"CRPIX1", 1.0}, {"CTYPE1", "WAVE"}, {"CUNIT1", "Angstrom"},
		{"BUNIT", "erg/cm2/s/Angstrom"}, {"DATE-OBS", "2024-01-26T03:14:15"}, {"TELESCOP", "BENCH"},
	} {
		h.WriteString(card(c.k, c.v))
	}
	h.WriteString(fmt.Sprintf("%-80s", "END"))
	for h.Len()%2880 != 0 {
		h.WriteByte(' ')
	}
	data := make([]byte, (4*n+2879)/2880*2880)
	for i := 0; i < n; i++ {
		v := float32(1e-16 * (1 + 0.5*math.Sin(float64(i)/100)))
		if nan && i%1000 == 999 {
			v = float32(math.NaN())
		}
		binary.BigEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return append([]byte(h.String()), data...)
}

func TestFitsSpectrumHelper(t *testing.T) {
	d, s := processSpectrum(t, processor.Spectroscopy{}, fitsSpectrum(2500, true))
	if len(s.Flux) != 2498 || s.Wavelength[0] != 3600 || d.Source != "BENCH" {
		t.Fatalf("got %d points from %v, source %q", len(s.Flux), s.Wavelength[0], d.Source)
	}
}

// BenchmarkSpectroscopyFITS reads a 1,000,000-point float32 FITS spectrum
// (4 MB of data) through the processor: bytes/s is over the file, and
// points/s is reported.
func BenchmarkSpectroscopyFITS(b *testing.B) {
	const n = 1_000_000
	file := fitsSpectrum(n, false)
	benchmarkSpectrum(b, file, n)
}

// BenchmarkSpectroscopyText reads a 200,000-row text spectrum.
func BenchmarkSpectroscopyText(b *testing.B) {
	const n = 200_000
	benchmarkSpectrum(b, largeText(n), n)
}

func benchmarkSpectrum(b *testing.B, file []byte, n int) {
	ctx := context.Background()
	p := processor.Spectroscopy{}
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ds, err := p.Process(ctx, bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		if got := len(ds[0].Value.(dataproduct.Spectrum).Flux); got != n {
			b.Fatalf("%d points", got)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}
