package panstarrs_test

import (
	"bufio"
	"context"
	"io"
	"testing"

	"github.com/tomgo/targetdata/internal/memtest"
	"github.com/tomgo/targetdata/panstarrs"
)

// BenchmarkStreamMemory streams detection files of 200,000 and 2,000,000
// rows (20,000 and 200,000 with -short), written row by row to a
// temporary file, through the Processor into a counter, and reports the
// peak heap: the goal is the same figure at both sizes.
func BenchmarkStreamMemory(b *testing.B) {
	memtest.Bench(b, func(w *bufio.Writer, rows int) error { writeDetections(w, rows); return nil },
		func(ctx context.Context, r io.Reader) (int, error) {
			n := 0
			for _, err := range (panstarrs.Processor{}).Stream(ctx, r) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		})
}
