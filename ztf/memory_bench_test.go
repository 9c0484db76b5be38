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

func count(p processor.Processor) func(ctx context.Context, r io.Reader, watch memtest.Watch) (int, error) {
	return func(ctx context.Context, r io.Reader, watch memtest.Watch) (int, error) {
		return memtest.Count(watch(processor.Stream(ctx, p, r)))
	}
}

// BenchmarkStreamMemory streams light-curve answers (CSV and IPAC) and
// forced-photometry files of 200,000 and 2,000,000 rows (20,000 and
// 200,000 with -short), written row by row to a temporary file, through
// their processors into a counter, and reports the heap they keep
// (retained-MB): the goal is the same figure at both sizes.
func BenchmarkStreamMemory(b *testing.B) {
	b.Run("lightcurve-csv", func(b *testing.B) {
		memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeLightCurve(b, w, rows, false); return nil },
			count(ztf.Processor{BadCatflagsMask: -1}))
	})
	b.Run("lightcurve-ipac", func(b *testing.B) {
		memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeLightCurve(b, w, rows, true); return nil },
			count(ztf.Processor{BadCatflagsMask: -1}))
	})
	b.Run("forced-photometry", func(b *testing.B) {
		memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeForcedPhotometry(b, w, rows); return nil },
			count(ztf.ForcedPhotometryProcessor{}))
	})
}
