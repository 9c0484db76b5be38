package ztf_test

import (
	"bufio"
	"context"
	"io"
	"testing"

	"github.com/tomgo/targetdata/internal/memtest"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/ztf"
)

func count(ctx context.Context, p processor.Processor, r io.Reader) (int, error) {
	n := 0
	for _, err := range processor.Stream(ctx, p, r) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// BenchmarkStreamMemory streams light-curve answers (CSV and IPAC) and
// forced-photometry files of 200,000 and 2,000,000 rows (20,000 and
// 200,000 with -short), written row by row to a temporary file, through
// their processors into a counter, and reports the peak heap: the goal is
// the same figure at both sizes.
func BenchmarkStreamMemory(b *testing.B) {
	b.Run("lightcurve-csv", func(b *testing.B) {
		memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeLightCurve(b, w, rows, false); return nil },
			func(ctx context.Context, r io.Reader) (int, error) {
				return count(ctx, ztf.Processor{BadCatflagsMask: -1}, r)
			})
	})
	b.Run("lightcurve-ipac", func(b *testing.B) {
		memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeLightCurve(b, w, rows, true); return nil },
			func(ctx context.Context, r io.Reader) (int, error) {
				return count(ctx, ztf.Processor{BadCatflagsMask: -1}, r)
			})
	})
	b.Run("forced-photometry", func(b *testing.B) {
		memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeForcedPhotometry(b, w, rows); return nil },
			func(ctx context.Context, r io.Reader) (int, error) {
				return count(ctx, ztf.ForcedPhotometryProcessor{}, r)
			})
	})
}
