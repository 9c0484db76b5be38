package sqlstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
	"github.com/tomgo/targetdata/dataproduct/storetest"
)

// openStore opens a store and closes it when the test ends.
func openStore(tb testing.TB, dbURL string, opts *sqlstore.Options) *sqlstore.Store {
	tb.Helper()
	st, err := sqlstore.Open(context.Background(), dbURL, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, st.Close()) })
	return st
}

// sqliteFileURL is a database file in a fresh temporary folder.
func sqliteFileURL(tb testing.TB) string {
	return "sqlite://" + filepath.ToSlash(filepath.Join(tb.TempDir(), "targetdata.db"))
}

// backend is one database the shared tests run on.
type backend struct {
	name string
	// open returns a fresh, empty store; opts may be nil.
	open func(t *testing.T, opts *sqlstore.Options) *sqlstore.Store
}

func withBucket(opts *sqlstore.Options, bucketURL string) *sqlstore.Options {
	var o sqlstore.Options
	if opts != nil {
		o = *opts
	}
	if o.Bucket == nil && o.BlobURL == "" {
		o.BlobURL = bucketURL
	}
	return &o
}

var backends = []backend{
	{"SQLiteFile", func(t *testing.T, opts *sqlstore.Options) *sqlstore.Store {
		return openStore(t, sqliteFileURL(t), opts)
	}},
	{"SQLiteMemory", func(t *testing.T, opts *sqlstore.Options) *sqlstore.Store {
		return openStore(t, "sqlite::memory:", opts)
	}},
	{"PostgreSQL", func(t *testing.T, opts *sqlstore.Options) *sqlstore.Store {
		return openStore(t, sqlstore.PostgresURLForTest(t), withBucket(opts, "mem://"))
	}},
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.name == "PostgreSQL" {
				sqlstore.RequirePostgresForTest(t) // one skip, not one a case
			}
			storetest.Run(t, func(t *testing.T) dataproduct.Store { return b.open(t, nil) })
		})
	}
	t.Run("PostgreSQLFileBucket", func(t *testing.T) {
		t.Parallel()
		sqlstore.RequirePostgresForTest(t)
		storetest.Run(t, func(t *testing.T) dataproduct.Store {
			return openStore(t, sqlstore.PostgresURLForTest(t),
				&sqlstore.Options{BlobURL: "file://" + filepath.ToSlash(t.TempDir())})
		})
	})
	t.Run("SQLiteSmallBatches", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) dataproduct.Store {
			return openStore(t, sqliteFileURL(t), &sqlstore.Options{BatchSize: 7})
		})
	})
}

// chunkCounter is a slog handler that counts the store's "ingest chunk
// sent" records.
type chunkCounter struct{ n atomic.Int64 }

func (c *chunkCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *chunkCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "sqlstore: ingest chunk sent" {
		c.n.Add(1)
	}
	return nil
}
func (c *chunkCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *chunkCounter) WithGroup(string) slog.Handler      { return c }

// countRows counts the datums table directly, not through ListDatums.
func countRows(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	var n int
	require.NoError(t, st.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM targetdata_datums`).Scan(&n))
	return n
}

func TestIngestKilledHalfway(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			chunks := &chunkCounter{}
			st := b.open(t, &sqlstore.Options{BatchSize: 100, Logger: slog.New(chunks)})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			const total, killAt = 2000, 750
			sentBeforeKill := int64(-1)
			seq := func(yield func(dataproduct.Datum, error) bool) {
				for i := range total {
					if i == killAt {
						sentBeforeKill = chunks.n.Load()
						cancel()
					}
					if !yield(storetest.Phot(1, i, 17), nil) {
						return
					}
				}
			}
			res, err := st.AddDatums(ctx, seq)
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, dataproduct.IngestResult{}, res)
			assert.Equal(t, int64(killAt/100), sentBeforeKill, "whole chunks were already in the database when the ingest was killed")
			assert.Equal(t, 0, countRows(t, st), "a killed ingest stores nothing")

			// A sequence that fails after several chunks stores nothing either.
			boom := &dataproduct.ParseError{Line: 1234, Err: errors.New("bad number")}
			before := chunks.n.Load()
			_, err = st.AddDatums(context.Background(), func(yield func(dataproduct.Datum, error) bool) {
				for i := range total {
					if i == 1233 {
						yield(dataproduct.Datum{}, boom)
						return
					}
					if !yield(storetest.Phot(1, i, 17), nil) {
						return
					}
				}
			})
			require.ErrorIs(t, err, boom)
			assert.Equal(t, int64(12), chunks.n.Load()-before, "12 chunks were sent before the error")
			assert.Equal(t, 0, countRows(t, st))

			// The store is fine afterwards, and the whole ingest goes in.
			res, err = st.AddDatums(context.Background(), seqN(1, total))
			require.NoError(t, err)
			assert.Equal(t, dataproduct.IngestResult{Added: total}, res)
			res, err = st.AddDatums(context.Background(), seqN(1, total))
			require.NoError(t, err)
			assert.Equal(t, dataproduct.IngestResult{Skipped: total}, res)
			assert.Equal(t, total, countRows(t, st))
		})
	}
}

// seqN yields n photometry datums of target, one an hour from storetest.T0.
func seqN(target int64, n int) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		for i := range n {
			if !yield(storetest.Phot(target, i, 17+float64(i%100)/100), nil) {
				return
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const secret = "secretpw"
	notAFolder := filepath.Join(t.TempDir(), "plain-file")
	require.NoError(t, os.WriteFile(notAFolder, []byte("x"), 0o644))
	cases := []struct {
		name string
		url  string
		opts *sqlstore.Options
		want []string
	}{
		{"unknown scheme", "mysql://u:" + secret + "@db.example/tom", nil,
			[]string{`unsupported database URL scheme "mysql"`, "sqlite://", "postgres://", "postgresql://"}},
		{"no scheme", "targetdata.db", nil, []string{"has no scheme", "sqlite://"}},
		{"sqlite folder cannot be created", "sqlite://" + filepath.ToSlash(notAFolder) + "/sub/targetdata.db", nil,
			[]string{"create the database directory", "not a directory"}},
		{"sqlite path is a folder", "sqlite://" + filepath.ToSlash(t.TempDir()), nil, []string{"is a directory"}},
		{"sqlite no path", "sqlite://", nil, []string{"has no file path"}},
		{"sqlite query", "sqlite://x.db?_pragma=foo", nil, []string{"unknown parameter", "_pragma", "cache_size"}},
		{"sqlite cache size", "sqlite://x.db?cache_size=1.5GiB", nil, []string{"cache_size", "1.5GiB"}},
		{"sqlite batch size", "sqlite://x.db?batch_size=0", nil, []string{"batch_size"}},
		{"sqlite batch size too big", "sqlite://x.db?batch_size=4001", nil, []string{"batch_size", "4000"}},
		{"negative cache", "sqlite::memory:", &sqlstore.Options{CacheSize: -1}, []string{"Options.CacheSize"}},
		{"postgres unreachable", "postgres://u:" + secret + "@127.0.0.1:1/db?sslmode=disable", &sqlstore.Options{BlobURL: "mem://"},
			[]string{"cannot reach the database", "postgres://u:xxxxx@127.0.0.1:1/db", "127.0.0.1"}},
		{"postgres unreachable, password parameter", "postgresql://u@127.0.0.1:1/db?password=" + secret, &sqlstore.Options{BlobURL: "mem://"},
			[]string{"cannot reach the database", "password=xxxxx"}},
		{"postgres without bucket", "postgres://u:" + secret + "@127.0.0.1:1/db", nil, []string{"Options.BlobURL"}},
		{"both bucket options", "sqlite::memory:", &sqlstore.Options{BlobURL: "mem://", Bucket: memblob.OpenBucket(nil)},
			[]string{"Options.Bucket and Options.BlobURL"}},
		{"negative batch", "sqlite::memory:", &sqlstore.Options{BatchSize: -1}, []string{"Options.BatchSize"}},
		{"sqlite batch too big", "sqlite::memory:", &sqlstore.Options{BatchSize: 5000}, []string{"Options.BatchSize", "4000"}},
		{"file blob URL with a host", "sqlite::memory:", &sqlstore.Options{BlobURL: "file://data/files"},
			[]string{"file:///absolute/dir", `host "data"`}},
		{"blob URL without driver", "sqlite::memory:", &sqlstore.Options{BlobURL: "s3://bucket?region=x"},
			[]string{"gocloud.dev/blob/s3blob", "Options.Bucket"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			st, err := sqlstore.Open(ctx, c.url, c.opts)
			if err == nil {
				st.Close()
			}
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), secret, "the password never shows")
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestSQLiteURLForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	// Relative: sqlite://rel/path.db is relative to the working directory,
	// and the files folder goes next to it.
	st := openStore(t, "sqlite://data/td.db", nil)
	_, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "a.txt", DataProductType: "x"}, strings.NewReader("hello"))
	require.NoError(t, err)
	require.NoError(t, st.Close())
	assert.FileExists(t, filepath.Join(dir, "data", "td.db"))
	assert.DirExists(t, filepath.Join(dir, "data", "files", "1", "x"))

	// Absolute, with three slashes, and the same file again.
	st = openStore(t, "sqlite://"+filepath.ToSlash(filepath.Join(dir, "data", "td.db")), nil)
	ps, err := st.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	rc, err := st.OpenProduct(ctx, ps[0].ID)
	require.NoError(t, err)
	b, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, "hello", string(b))
	require.NoError(t, st.Close())

	// Both in-memory spellings.
	for _, u := range []string{"sqlite::memory:", "sqlite://:memory:"} {
		st := openStore(t, u, nil)
		_, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "a.txt", DataProductType: "x"}, strings.NewReader("hello"))
		require.NoError(t, err)
	}
	// A relative file:// bucket URL.
	st = openStore(t, "sqlite::memory:", &sqlstore.Options{BlobURL: "file://./blobs"})
	_, err = st.PutProduct(ctx, dataproduct.Product{TargetID: 2, Name: "b.txt", DataProductType: "x"}, strings.NewReader("hi"))
	require.NoError(t, err)
	assert.DirExists(t, filepath.Join(dir, "blobs", "2", "x"))
}

func TestMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := sqliteFileURL(t)
	st, err := sqlstore.Open(ctx, dbURL, nil)
	require.NoError(t, err)
	p, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "a.txt", DataProductType: "x"}, strings.NewReader("data"))
	require.NoError(t, err)
	res, err := st.AddDatums(ctx, seqN(1, 10))
	require.NoError(t, err)
	require.Equal(t, 10, res.Added)
	require.NoError(t, st.Close())

	for range 2 {
		st, err = sqlstore.Open(ctx, dbURL, nil)
		require.NoError(t, err)
		var version, rows int
		require.NoError(t, st.DB().QueryRow(`SELECT MAX(version), count(*) FROM targetdata_schema`).Scan(&version, &rows))
		assert.Equal(t, sqlstore.SchemaVersion, version)
		assert.Equal(t, sqlstore.SchemaVersion, rows, "each version is applied once")
		got, err := st.Product(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p.SHA256, got.SHA256)
		ds, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
		require.NoError(t, err)
		assert.Len(t, ds, 10)
		require.NoError(t, st.Close())
	}

	// A database from a newer program.
	st, err = sqlstore.Open(ctx, dbURL, nil)
	require.NoError(t, err)
	_, err = st.DB().Exec(`INSERT INTO targetdata_schema (version, applied_us) VALUES (99, 0)`)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	_, err = sqlstore.Open(ctx, dbURL, nil)
	require.ErrorIs(t, err, sqlstore.ErrSchemaTooNew)
	assert.Contains(t, err.Error(), "schema version 99")
	assert.Contains(t, err.Error(), fmt.Sprintf("up to %d", sqlstore.SchemaVersion))
}

func TestPostgresConcurrentOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := sqlstore.PostgresURLForTest(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := sqlstore.Open(ctx, dbURL, &sqlstore.Options{BlobURL: "mem://"})
			if err == nil {
				err = st.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "concurrent Opens of a new schema all succeed")
	}
	st := openStore(t, dbURL, &sqlstore.Options{BlobURL: "mem://"})
	var rows int
	require.NoError(t, st.DB().QueryRow(`SELECT count(*) FROM targetdata_schema`).Scan(&rows))
	assert.Equal(t, sqlstore.SchemaVersion, rows)

	_, err := st.DB().Exec(`INSERT INTO targetdata_schema (version, applied_us) VALUES (42, 0)`)
	require.NoError(t, err)
	_, err = sqlstore.Open(ctx, dbURL, &sqlstore.Options{BlobURL: "mem://"})
	require.ErrorIs(t, err, sqlstore.ErrSchemaTooNew)
}

// listKeys lists every key in the bucket.
func listKeys(t *testing.T, b *blob.Bucket) []string {
	t.Helper()
	var keys []string
	it := b.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			return keys
		}
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
}

// walkFiles lists every file under dir, temporary and sidecar files
// included.
func walkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	return files
}

type failingReader struct {
	data []byte
	err  error
	hook func() // called on the first read, if set
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.hook != nil {
		r.hook()
		r.hook = nil
	}
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestBlobAtomicity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, sqliteFileURL(t), &sqlstore.Options{BlobURL: "file://" + filepath.ToSlash(dir)})
	boom := errors.New("connection reset")

	// A reader that fails half-way: no record, no blob, no temporary file.
	_, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "half.txt", DataProductType: "x"},
		&failingReader{data: bytes.Repeat([]byte("x"), 300_000), err: boom})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, listKeys(t, st.Bucket()))
	assert.Empty(t, walkFiles(t, dir), "nothing on disk, not even a temporary file")

	// A context cancelled while the file streams in.
	cctx, cancel := context.WithCancel(ctx)
	_, err = st.PutProduct(cctx, dataproduct.Product{TargetID: 1, Name: "cancelled.txt", DataProductType: "x"},
		&failingReader{data: bytes.Repeat([]byte("y"), 300_000), err: io.EOF, hook: cancel})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, listKeys(t, st.Bucket()))
	assert.Empty(t, walkFiles(t, dir))

	// A good put, then a failed replacement: the old file stays, alone.
	p, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "keep.txt", DataProductType: "x"}, strings.NewReader("original\n"))
	require.NoError(t, err)
	_, err = st.ReplaceProduct(ctx, dataproduct.Product{TargetID: 1, Name: "keep.txt", DataProductType: "x"},
		&failingReader{data: bytes.Repeat([]byte("z"), 300_000), err: boom})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []string{p.StorageKey}, listKeys(t, st.Bucket()))

	// A refused put (other bytes, no replace) leaves the old file alone.
	_, err = st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "keep.txt", DataProductType: "x"}, strings.NewReader("other\n"))
	require.ErrorIs(t, err, dataproduct.ErrConflict)
	assert.Equal(t, []string{p.StorageKey}, listKeys(t, st.Bucket()))

	// A replacement moves the record to a new key and deletes the old file.
	p2, err := st.ReplaceProduct(ctx, dataproduct.Product{TargetID: 1, Name: "keep.txt", DataProductType: "x"}, strings.NewReader("second\n"))
	require.NoError(t, err)
	assert.Equal(t, p.ID, p2.ID)
	assert.NotEqual(t, p.StorageKey, p2.StorageKey)
	assert.Equal(t, []string{p2.StorageKey}, listKeys(t, st.Bucket()))
	assert.Equal(t, "second\n", readProduct(t, st, p.ID))

	// The same bytes again: the record and its key are unchanged, and the
	// copy written meanwhile is gone.
	p3, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "keep.txt", DataProductType: "x"}, strings.NewReader("second\n"))
	require.NoError(t, err)
	assert.Equal(t, p2.StorageKey, p3.StorageKey)
	assert.Equal(t, []string{p2.StorageKey}, listKeys(t, st.Bucket()))

	// Deleting the product deletes its file.
	require.NoError(t, st.DeleteProduct(ctx, p.ID))
	assert.Empty(t, listKeys(t, st.Bucket()))
	for _, f := range walkFiles(t, dir) {
		t.Errorf("left on disk: %s", f)
	}
}

func readProduct(t *testing.T, st dataproduct.Store, id int64) string {
	t.Helper()
	rc, err := st.OpenProduct(context.Background(), id)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

func TestProductDetails(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 7200))
			st := b.open(t, &sqlstore.Options{Now: func() time.Time { return now }})
			big := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB, streamed
			p, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 4, Name: "big.bin", DataProductType: "x"}, bytes.NewReader(big))
			require.NoError(t, err)
			assert.Equal(t, int64(len(big)), p.Size)
			assert.Equal(t, now.UTC().Round(time.Microsecond), p.Created, "Created comes from Options.Now, in UTC, to the microsecond")
			assert.Equal(t, "text/plain; charset=utf-8", p.ContentType, "sniffed when not given")
			assert.Nil(t, p.Extra)
			got, err := st.Product(ctx, p.ID)
			require.NoError(t, err)
			assert.Equal(t, p, got, "PutProduct returns what Product reads back")
			assert.Equal(t, string(big), readProduct(t, st, p.ID))

			// A replacement without a content type keeps the old one.
			csv, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 4, Name: "t.csv", DataProductType: "x", ContentType: "text/csv"}, strings.NewReader("a,b\n"))
			require.NoError(t, err)
			csv2, err := st.ReplaceProduct(ctx, dataproduct.Product{TargetID: 4, Name: "t.csv", DataProductType: "x"}, strings.NewReader("a,b\n1,2\n"))
			require.NoError(t, err)
			assert.Equal(t, "text/csv", csv2.ContentType)
			assert.Equal(t, csv.ID, csv2.ID)

			// Empty files are files too.
			e, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 4, Name: "empty", DataProductType: "x"}, strings.NewReader(""))
			require.NoError(t, err)
			assert.Equal(t, int64(0), e.Size)
			assert.Equal(t, "", readProduct(t, st, e.ID))

			byType, err := st.ListProducts(ctx, dataproduct.ProductFilter{DataProductType: "x", TargetID: 4})
			require.NoError(t, err)
			assert.Len(t, byType, 3)
		})
	}
}

func TestConcurrentPutsOfOneProduct(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := b.open(t, nil)
			const n = 8
			var wg sync.WaitGroup
			ps := make([]dataproduct.Product, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprintf("version %d\n", i%2) // two different contents, raced
					ps[i], errs[i] = st.ReplaceProduct(ctx, dataproduct.Product{TargetID: 9, Name: "raced.txt", DataProductType: "x"}, strings.NewReader(body))
				}()
			}
			wg.Wait()
			for i := range n {
				require.NoError(t, errs[i])
				assert.Equal(t, ps[0].ID, ps[i].ID, "one product, whatever the race")
			}
			final, err := st.Product(ctx, ps[0].ID)
			require.NoError(t, err)
			body := readProduct(t, st, final.ID)
			assert.Contains(t, []string{"version 0\n", "version 1\n"}, body)
			assert.Equal(t, []string{final.StorageKey}, listKeys(t, st.Bucket()), "exactly the record's file is left")

			// Raced puts without replace: the first content stored wins,
			// the puts of the other content are refused.
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprintf("version %d\n", i%2)
					ps[i], errs[i] = st.PutProduct(ctx, dataproduct.Product{TargetID: 9, Name: "put.txt", DataProductType: "x"}, strings.NewReader(body))
				}()
			}
			wg.Wait()
			var won dataproduct.Product
			for i := range n {
				if errs[i] == nil {
					won = ps[i]
				}
			}
			require.NotZero(t, won.ID, "one put succeeds")
			for i := range n {
				if errs[i] != nil {
					assert.ErrorIs(t, errs[i], dataproduct.ErrConflict)
					continue
				}
				assert.Equal(t, won.ID, ps[i].ID)
				assert.Equal(t, won.SHA256, ps[i].SHA256, "every put that succeeds stored the same bytes")
			}
			assert.Len(t, listKeys(t, st.Bucket()), 2, "exactly the records' files are left")
		})
	}
}

func TestTwoStoresOneSQLiteFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.ToSlash(filepath.Join(dir, "shared.db"))
	a := openStore(t, dbURL, &sqlstore.Options{BatchSize: 50})
	b := openStore(t, dbURL, &sqlstore.Options{BatchSize: 50})
	var wg sync.WaitGroup
	results := make([]dataproduct.IngestResult, 4)
	errs := make([]error, 4)
	for i, st := range []*sqlstore.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = st.AddDatums(ctx, seqN(1, 1000))
		}()
	}
	wg.Wait()
	added := 0
	for i := range results {
		require.NoError(t, errs[i], "a second store on the same file waits instead of failing with SQLITE_BUSY")
		added += results[i].Added
		assert.Equal(t, 1000, results[i].Added+results[i].Skipped)
	}
	assert.Equal(t, 1000, added)
	assert.Equal(t, 1000, countRows(t, a))
}

func TestDatumValues(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := b.open(t, nil)
			n := 10_000
			spec := dataproduct.Spectrum{FluxUnits: "erg / (Angstrom s cm2)", WavelengthUnits: "Angstrom"}
			for i := range n {
				spec.Wavelength = append(spec.Wavelength, 3500+float64(i)*0.123456789)
				spec.Flux = append(spec.Flux, 1e-17*float64(i%37)-2e-16)
				spec.Error = append(spec.Error, 5e-324*float64(i%3))
			}
			spec.Flux[0] = negZero()
			spec.Flux[1] = 1.7976931348623157e308
			noErr := dataproduct.Spectrum{Wavelength: []float64{1, 2}, Flux: []float64{3, 4}, Error: []float64{}, FluxUnits: "u", WavelengthUnits: "nm"}
			in := []dataproduct.Datum{
				{TargetID: 3, DataType: dataproduct.TypeSpectroscopy, Timestamp: storetest.T0, Source: "S", Value: spec},
				{TargetID: 3, DataType: dataproduct.TypeSpectroscopy, Timestamp: storetest.T0.Add(time.Second), Source: "S", Value: &noErr},
				// Not the shape of a Spectrum: kept as JSON, listed as raw JSON.
				{TargetID: 3, DataType: dataproduct.TypeSpectroscopy, Timestamp: storetest.T0.Add(2 * time.Second), Source: "S",
					Value: json.RawMessage(`{"flux":[1],"wavelength":[2],"flux_units":"u","wavelength_units":"A","airmass":1.2}`)},
				// A photometry value with an explicit null.
				{TargetID: 3, DataType: dataproduct.TypePhotometry, Timestamp: storetest.T0.Add(3 * time.Second), Source: "S",
					Value: json.RawMessage(`{"magnitude":null,"limit":19.5,"filter":"o"}`)},
				// A Spectrum under another data type is stored as JSON.
				{TargetID: 3, DataType: "custom", Timestamp: storetest.T0.Add(4 * time.Second), Source: "S", Value: noErr},
			}
			res, err := st.AddDatums(ctx, dataproduct.Datums(in))
			require.NoError(t, err)
			require.Equal(t, len(in), res.Added)

			var bin, js int
			require.NoError(t, st.DB().QueryRow(`SELECT count(value_bin), count(value_json) FROM targetdata_datums`).Scan(&bin, &js))
			assert.Equal(t, 2, bin, "the two Spectrum values are stored as binary arrays")
			assert.Equal(t, 3, js)

			out, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 3})
			require.NoError(t, err)
			require.Len(t, out, len(in))
			for i := range in {
				want, err := dataproduct.CanonicalValue(in[i].Value)
				require.NoError(t, err)
				got, err := dataproduct.CanonicalValue(out[i].Value)
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), "datum %d: canonical bytes survive", i)
			}
			assert.IsType(t, dataproduct.Spectrum{}, out[0].Value)
			assert.Equal(t, spec, out[0].Value)
			assert.IsType(t, json.RawMessage{}, out[2].Value)
			assert.IsType(t, json.RawMessage{}, out[3].Value)
			assert.IsType(t, json.RawMessage{}, out[4].Value)

			// What comes out goes back in as duplicates.
			res, err = st.AddDatums(ctx, dataproduct.Datums(out))
			require.NoError(t, err)
			assert.Equal(t, dataproduct.IngestResult{Skipped: len(in)}, res)
		})
	}
}

func negZero() float64 {
	var z float64
	return -z
}

func TestAddDatumsEmptyAndClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite::memory:", nil)
	require.NoError(t, err)
	res, err := st.AddDatums(ctx, dataproduct.Datums(nil))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{}, res)
	require.NoError(t, st.Close())
	require.NoError(t, st.Close(), "Close twice is fine")
	_, err = st.AddDatums(ctx, seqN(1, 3))
	assert.Error(t, err, "a closed store fails")
	_, err = st.ListDatums(ctx, dataproduct.DatumFilter{})
	assert.Error(t, err)
}

func TestCallerBucketNotClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	st, err := sqlstore.Open(ctx, "sqlite::memory:", &sqlstore.Options{Bucket: bucket})
	require.NoError(t, err)
	p, err := st.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "a.txt", DataProductType: "x"}, strings.NewReader("abc"))
	require.NoError(t, err)
	require.NoError(t, st.Close())
	b, err := bucket.ReadAll(ctx, p.StorageKey)
	require.NoError(t, err, "the caller's bucket stays open")
	assert.Equal(t, "abc", string(b))
}

func TestListDatumsTimeBounds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := b.open(t, nil)
			base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			var ds []dataproduct.Datum
			for i := range 5 {
				d := storetest.Phot(1, 0, 17)
				d.Timestamp = base.Add(time.Duration(i) * time.Microsecond)
				ds = append(ds, d)
			}
			// Before the epoch too: ordering of negative microseconds.
			old := storetest.Phot(1, 0, 18)
			old.Timestamp = time.Date(1969, 7, 20, 20, 17, 40, 500, time.UTC)
			ds = append(ds, old)
			_, err := st.AddDatums(ctx, dataproduct.Datums(ds))
			require.NoError(t, err)
			all, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
			require.NoError(t, err)
			require.Len(t, all, 6)
			assert.True(t, all[0].Timestamp.Equal(dataproduct.NormalizeTime(old.Timestamp)))
			// Sub-microsecond bounds behave as DatumFilter.Match says.
			for _, f := range []dataproduct.DatumFilter{
				{TargetID: 1, From: base.Add(1500 * time.Nanosecond)},
				{TargetID: 1, To: base.Add(1500 * time.Nanosecond)},
				{TargetID: 1, From: base.Add(time.Microsecond), To: base.Add(3 * time.Microsecond)},
				{TargetID: 1, From: base.Add(-1 * time.Nanosecond), To: base.Add(3*time.Microsecond + time.Nanosecond)},
				{TargetID: 1, To: time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
				{TargetID: 1, To: time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)},
			} {
				got, err := st.ListDatums(ctx, f)
				require.NoError(t, err)
				want := 0
				for _, d := range all {
					if f.Match(d) {
						want++
					}
				}
				assert.Len(t, got, want, "filter %+v", f)
			}
		})
	}
}

// The writer's page cache is Options.CacheSize, else the URL's cache_size,
// else DefaultCacheSize; the batch size likewise.
func TestCacheAndBatchSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cacheKiB := func(st *sqlstore.Store) int64 {
		var n int64
		require.NoError(t, st.DB().QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&n))
		return n
	}
	dir := t.TempDir()
	url := func(name, query string) string {
		return "sqlite://" + filepath.ToSlash(filepath.Join(dir, name)) + query
	}
	assert.Equal(t, int64(-sqlstore.DefaultCacheSize>>10), cacheKiB(openStore(t, url("a.db", ""), nil)))
	assert.Equal(t, int64(-3072), cacheKiB(openStore(t, url("b.db", "?cache_size=3MiB"), nil)))
	assert.Equal(t, int64(-5120), cacheKiB(openStore(t, url("c.db", "?cache_size=3MiB"), &sqlstore.Options{CacheSize: 5 << 20})),
		"Options win over the URL")

	chunks := &chunkCounter{}
	st := openStore(t, url("d.db", "?batch_size=10"), &sqlstore.Options{Logger: slog.New(chunks)})
	_, err := st.AddDatums(ctx, seqN(1, 95))
	require.NoError(t, err)
	assert.Equal(t, int64(10), chunks.n.Load(), "95 datums in batches of 10")
}

// On PostgreSQL every ingest creates its staging table and drops it at
// its end, commit or rollback: one connection serves many ingests in a
// row, failed ones included, and caches no statement that outlives its
// table.
func TestPostgresIngestsShareAConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, sqlstore.PostgresURLForTest(t), &sqlstore.Options{BlobURL: "mem://", BatchSize: 30})
	st.DB().SetMaxOpenConns(1)
	boom := errors.New("sequence failed")
	for round := range 4 {
		res, err := st.AddDatums(ctx, seqN(1, 100*(round+1)))
		require.NoError(t, err, "round %d", round)
		assert.Equal(t, 100, res.Added, "round %d", round)
		_, err = st.AddDatums(ctx, func(yield func(dataproduct.Datum, error) bool) {
			for i := range 95 {
				if !yield(storetest.Phot(2, i, 17), nil) {
					return
				}
			}
			yield(dataproduct.Datum{}, boom)
		})
		require.ErrorIs(t, err, boom)
	}
	assert.Equal(t, 400, countRows(t, st), "the failed ingests left nothing")
	var stages int
	require.NoError(t, st.DB().QueryRowContext(ctx,
		`SELECT count(*) FROM pg_class WHERE relname = 'targetdata_stage' AND relpersistence = 't'`).Scan(&stages))
	assert.Zero(t, stages, "no staging table outlives its ingest")
}
