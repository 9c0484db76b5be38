package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
	"github.com/tomgo/targetdata/internal/memtest"
	"github.com/tomgo/targetdata/processor"
)

// watched is a processor whose datums flow through a memtest.Watch.
type watched struct {
	atlas.Processor
	watch memtest.Watch
}

func (w watched) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return w.watch(w.Processor.Stream(ctx, r))
}

// BenchmarkIngestMemory is atlas's BenchmarkStreamMemory through the whole
// ingest: generated ATLAS files of 200,000 and 2,000,000 rows (20,000 and
// 200,000 with -short) through processor.IngestReader into a SQLite
// sqlstore, chunked inside one transaction; it reports the heap kept
// (retained-MB), the same figure at both sizes. (It lives here, not in
// package atlas_test, because sqlstore is a module of its own.)
func BenchmarkIngestMemory(b *testing.B) {
	memtest.Bench(b, func(w *bufio.Writer, rows int) error { return writeATLAS(w, rows) },
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

// writeATLAS writes the ATLAS header and n rows of simulator files, one
// target's file at a time (many targets, ten years).
func writeATLAS(w io.Writer, n int) error {
	if _, err := io.WriteString(w, atlastest.Header+"\n"); err != nil {
		return err
	}
	rows := 0
	for i := 0; rows < n; i++ {
		body := atlastest.GenerateResult(10+float64(i)*0.37, -20+float64(i%40), 57200, 61000)
		for _, line := range bytes.SplitAfter(body, []byte("\n"))[1:] {
			if len(line) == 0 || rows == n {
				continue
			}
			if _, err := w.Write(line); err != nil {
				return err
			}
			rows++
		}
	}
	return nil
}
