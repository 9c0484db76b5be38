package atlas_test

import (
	"bufio"
	"context"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
	"github.com/tomgo/targetdata/internal/memtest"
	"github.com/tomgo/targetdata/processor"
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

// watched is a processor whose datums flow through a memtest.Watch.
type watched struct {
	atlas.Processor
	watch memtest.Watch
}

func (w watched) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return w.watch(w.Processor.Stream(ctx, r))
}

// BenchmarkIngestMemory is BenchmarkStreamMemory through the whole ingest:
// processor.IngestReader into a SQLite sqlstore, chunked inside one
// transaction.
func BenchmarkIngestMemory(b *testing.B) {
	memtest.Bench(b, func(w *bufio.Writer, rows int) error { return writeGenerated(w, rows) },
		func(ctx context.Context, r io.Reader, watch memtest.Watch) (int, error) {
			st, err := sqlstore.Open(ctx, "sqlite://"+filepath.ToSlash(filepath.Join(b.TempDir(), "bench.db")), nil)
			if err != nil {
				return 0, err
			}
			defer st.Close()
			p, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "atlas.txt", DataProductType: atlas.DataProductType},
				strings.NewReader("###MJD\n"))
			if err != nil {
				return 0, err
			}
			res, err := processor.IngestReader(ctx, st, p, watched{watch: watch}, r)
			return res.Added, err
		})
}
