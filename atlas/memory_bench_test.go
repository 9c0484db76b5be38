package atlas_test

import (
	"bufio"
	"context"
	"io"
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
// peak heap: the goal is the same figure at both sizes.
func BenchmarkStreamMemory(b *testing.B) {
	memtest.Bench(b, func(w *bufio.Writer, rows int) error { return writeGenerated(w, rows) },
		func(ctx context.Context, r io.Reader) (int, error) {
			n := 0
			for _, err := range processor.Stream(ctx, atlas.Processor{}, r) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		})
}

// BenchmarkIngestMemory is BenchmarkStreamMemory through the whole ingest:
// processor.IngestReader into a SQLite sqlstore, chunked inside one
// transaction.
func BenchmarkIngestMemory(b *testing.B) {
	i := 0
	memtest.Bench(b, func(w *bufio.Writer, rows int) error { return writeGenerated(w, rows) },
		func(ctx context.Context, r io.Reader) (int, error) {
			i++
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
			res, err := processor.IngestReader(ctx, st, p, atlas.Processor{}, r)
			return res.Added, err
		})
}
