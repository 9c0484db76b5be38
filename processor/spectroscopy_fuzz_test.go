package processor_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// FuzzSpectroscopy feeds the spectrum processor text and FITS inputs,
// seeded from the samples: it must never panic, and must return either one
// well-formed spectrum or a *dataproduct.ParseError.
//
//	go test ./processor -run '^$' -fuzz FuzzSpectroscopy -fuzztime 30s -fuzzminimizetime 10x
//
// (Bound -fuzzminimizetime: minimizing a new input of several FITS blocks
// byte by byte otherwise holds a worker for up to a minute.)
func FuzzSpectroscopy(f *testing.F) {
	entries, err := os.ReadDir(spectraDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".py") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(spectraDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(smallSeed(b))
	}
	f.Add(text("# DATE-OBS: 2024-01-27", "# wavelength,flux,err", "4000,1,0.1", "4001,nan,"))
	f.Add(text("# MJD-OBS: 60000.5", "# FLUX_UNITS: 10**(-16) erg", "| wave | flux |", "| 1 | 2 |"))
	f.Add(fitsSpectrum(10, true))
	f.Fuzz(func(t *testing.T, in []byte) {
		ds, err := processor.Spectroscopy{}.Process(context.Background(), bytes.NewReader(in))
		if err != nil {
			var pe *dataproduct.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *dataproduct.ParseError: %T %v", err, err)
			}
			if len(ds) != 0 {
				t.Fatal("datums with an error")
			}
			return
		}
		if len(ds) != 1 {
			t.Fatalf("%d datums", len(ds))
		}
		s, ok := ds[0].Value.(dataproduct.Spectrum)
		if !ok {
			t.Fatalf("value %T", ds[0].Value)
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if ds[0].Timestamp.IsZero() || ds[0].Source == "" || s.FluxUnits == "" {
			t.Fatalf("incomplete datum %+v", ds[0])
		}
		if _, err := dataproduct.CanonicalValue(s); err != nil {
			t.Fatal(err)
		}
	})
}

// smallSeed keeps a seed small, because the fuzzer minimizes each new
// input byte by byte, which takes very long on inputs of tens of
// kilobytes: a FITS file is cut after its first three 2880-byte blocks
// (for the samples, a whole spectrum or the primary header and the first
// table), a text file after 30 lines.
func smallSeed(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("SIMPLE")) {
		return b[:min(len(b), 3*2880)]
	}
	lines := bytes.SplitAfterN(b, []byte("\n"), 31)
	if len(lines) == 31 {
		return b[:len(b)-len(lines[30])]
	}
	return b
}
