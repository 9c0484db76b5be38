package fits_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/tomgo/targetdata/internal/fits"
)

// spectrumFile builds in memory a primary HDU holding an n-point BITPIX -32
// spectrum.
func spectrumFile(n int) []byte {
	data := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint32(data[4*i:], math.Float32bits(1e-16*float32(1+i%1000)))
	}
	return hdu(data, kv("SIMPLE", true), kv("BITPIX", -32), kv("NAXIS", 1), kv("NAXIS1", n),
		kv("CRVAL1", 3600.0), kv("CDELT1", 0.005), kv("CRPIX1", 1.0), kv("CTYPE1", "WAVE"),
		kv("CUNIT1", "Angstrom"), kv("BUNIT", "erg/cm2/s/Angstrom"), kv("DATE-OBS", "2024-01-26T03:14:15"))
}

func benchmarkSpectrum(b *testing.B, float32s bool) {
	const n = 1_000_000
	file := spectrumFile(n)
	b.SetBytes(int64(4 * n)) // the array's bytes in the file
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h, err := fits.NewReader(bytes.NewReader(file), nil).Next()
		if err != nil {
			b.Fatal(err)
		}
		var got int
		if float32s {
			d, err := h.ReadFloat32()
			if err != nil {
				b.Fatal(err)
			}
			got = len(d)
		} else {
			d, err := h.ReadFloat64()
			if err != nil {
				b.Fatal(err)
			}
			got = len(d)
		}
		if got != n {
			b.Fatalf("%d values", got)
		}
	}
}

// BenchmarkReadFloat32Spectrum reads a 1,000,000-point BITPIX -32 primary
// array (4 MB of data) with ReadFloat32.
func BenchmarkReadFloat32Spectrum(b *testing.B) { benchmarkSpectrum(b, true) }

// BenchmarkReadFloat64Spectrum is the same with ReadFloat64 (8 MB of results).
func BenchmarkReadFloat64Spectrum(b *testing.B) { benchmarkSpectrum(b, false) }
