package atlas_test

import (
	"bufio"
	"context"
	"io"
	"testing"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/internal/memtest"
)

// BenchmarkStreamMemory streams generated ATLAS files of 200,000 and
// 2,000,000 rows (20,000 and 200,000 with -short), written row by row to a
// temporary file, through the Processor into a counter, and reports the
// heap it keeps (retained-MB): the goal is the same figure at both sizes.
func BenchmarkStreamMemory(b *testing.B) {
	memtest.Bench(b, func(w *bufio.Writer, rows int) error { return writeGenerated(w, rows) },
		func(ctx context.Context, r io.Reader, watch memtest.Watch) (int, error) {
			return memtest.Count(watch(atlas.Processor{}.Stream(ctx, r)))
		})
}
