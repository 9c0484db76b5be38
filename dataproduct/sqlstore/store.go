package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/redact"
)

// Options configures Open. A nil *Options means all defaults.
type Options struct {
	// Bucket is where product files go. The caller keeps ownership: Close
	// does not close it. Set Bucket or BlobURL, not both.
	//
	// Default: the bucket BlobURL names.
	Bucket *blob.Bucket

	// BlobURL names the bucket to open for product files (see the package
	// documentation, # Files): "file:///absolute/dir", "file://./relative/dir",
	// "mem://", or any URL scheme whose gocloud.dev driver the program
	// imports (s3://, gs://, azblob://). Close closes a bucket opened from
	// BlobURL.
	//
	// Default: for a SQLite file, a "files" folder next to the database
	// file (created if missing); for an in-memory SQLite database, "mem://".
	// Required for PostgreSQL (or Bucket).
	BlobURL string

	// Logger receives the store's log records: schema migrations (Info),
	// failed clean-ups of obsolete files (Warn) and each ingest chunk
	// sent to the database (Debug).
	//
	// Default: nothing is logged.
	Logger *slog.Logger

	// Now returns the current time, for Product.Created and the schema
	// table.
	//
	// Default: time.Now.
	Now func() time.Time

	// BatchSize is the number of datums AddDatums sends to the database
	// at a time: on SQLite the rows of one multi-row INSERT, on PostgreSQL
	// the rows of one COPY into the staging table. An ingest holds at most
	// one batch in memory.
	//
	// Default: the sqlite URL's batch_size parameter, else 500 on SQLite
	// (at most 4000, SQLite's bound-variable limit) and 5000 on PostgreSQL.
	BatchSize int

	// CacheSize is the page cache, in bytes, of the SQLite connection that
	// writes. An ingest inserts into the unique datum-key index at random
	// places, so its rate holds up only while that index fits in the cache:
	// about 64 bytes a datum, so 64 MiB for 1,000,000 datums, and the
	// default for about 4,000,000. SQLite takes the memory as pages are
	// read, not up front, and keeps it for the store's life. Readers have
	// 16 MiB each. Ignored on PostgreSQL, whose server caches
	// (shared_buffers).
	//
	// Default: the sqlite URL's cache_size parameter, else DefaultCacheSize.
	CacheSize int64
}

// Store is a dataproduct.Store on database/sql, with product files in a
// gocloud.dev/blob bucket. It is safe for concurrent use by multiple
// goroutines. Create one with Open and release it with Close; the zero
// value is not usable.
type Store struct {
	d     *dialect
	db    *sql.DB // writes; also reads except on SQLite files
	rdb   *sql.DB // reads; == db except on SQLite files
	log   *slog.Logger
	now   func() time.Time
	batch int
	cache int64 // SQLite writer's page cache, bytes

	bucket    *blob.Bucket
	ownBucket bool
	fileDir   string // the folder of a file bucket the store opened, for removeStaleTempFiles

	closeOnce sync.Once
	closeErr  error
}

var _ dataproduct.Store = (*Store)(nil)

// DefaultCacheSize is the default Options.CacheSize: 256 MiB.
const DefaultCacheSize = 256 << 20

// pingTimeout bounds Open's first contact with the database when ctx has
// no deadline of its own.
const pingTimeout = 30 * time.Second

// sqliteBusyTimeout is how long a SQLite connection waits for another
// process's write lock before failing with SQLITE_BUSY, in milliseconds.
const sqliteBusyTimeout = 10000

// Open connects to the database dbURL names, creates or migrates its
// schema, and opens the bucket for product files. See the package
// documentation for the URL forms. Errors never show a password.
func Open(ctx context.Context, dbURL string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cfg, err := parseDBURL(dbURL)
	if err != nil {
		return nil, err
	}
	s := &Store{log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch cfg.kind {
	case kindSQLite:
		s.d = sqliteDialect
	default:
		s.d = postgresDialect
	}
	if err := s.validate(&o, cfg); err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		s.closeDBs()
		return nil, fmt.Errorf("sqlstore: open %s: %w", cfg.redacted, redact.Error(err, cfg.secrets))
	}
	switch cfg.kind {
	case kindSQLite:
		err = s.openSQLite(cfg)
	default:
		err = s.openPostgres(cfg)
	}
	if err != nil {
		return fail(err)
	}
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		pctx, cancel = context.WithTimeout(ctx, pingTimeout)
	}
	err = s.db.PingContext(pctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fail(fmt.Errorf("cannot reach the database: %w", err))
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	if err := s.openBucket(ctx, &o, cfg); err != nil {
		return fail(err)
	}
	s.removeStaleTempFiles(ctx)
	return s, nil
}

// staleTempAge is how long a temporary file of a file bucket may go
// unwritten before Open takes it for the remains of a killed write.
const staleTempAge = time.Hour

// tempFileKey matches the temporary files gocloud.dev's fileblob writes
// next to the final file: "<key>.<creation time in hex nanoseconds>.tmp".
var tempFileKey = regexp.MustCompile(`\.[0-9a-f]{8,16}\.tmp$`)

// removeStaleTempFiles deletes, in a files folder the store opened itself
// (file:// or the default next to a SQLite file), the temporary files that
// a process killed during PutProduct (kill -9, a power cut) left behind:
// fileblob commits a file by renaming its temporary file
// "<key>.<hex>.tmp" and then writing its "<key>.attrs" sidecar, so a
// write that never finished leaves a *.tmp without a sidecar. Only files
// nothing has written to for staleTempAge are removed (another process may
// be writing one now). Other buckets (S3, GCS, Azure, memory) commit
// atomically and leave nothing; a bucket passed in Options.Bucket is the
// caller's. Failures are logged, never fatal.
func (s *Store) removeStaleTempFiles(ctx context.Context) {
	if s.fileDir == "" {
		return
	}
	cutoff := s.now().Add(-staleTempAge)
	removed := 0
	err := filepath.WalkDir(s.fileDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip it
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || !tempFileKey.MatchString(d.Name()) {
			return nil
		}
		if _, err := os.Lstat(path + ".attrs"); err == nil {
			return nil // a committed file (a product may be called "x.0123abcd.tmp")
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil {
			s.log.WarnContext(ctx, "sqlstore: removing a stale temporary file failed", "file", path, "error", err)
			return nil
		}
		removed++
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "sqlstore: looking for stale temporary files failed", "error", err)
	}
	if removed > 0 {
		s.log.InfoContext(ctx, "sqlstore: removed the temporary files of writes that never finished", "files", removed)
	}
}

// validate checks the options against the database kind and fills in
// defaults; errors name the field.
func (s *Store) validate(o *Options, cfg dbConfig) error {
	switch {
	case o.Bucket != nil && o.BlobURL != "":
		return errors.New("sqlstore: Options.Bucket and Options.BlobURL are both set; set one")
	case cfg.kind == kindPostgres && o.Bucket == nil && o.BlobURL == "":
		return errors.New("sqlstore: Options.BlobURL (or Options.Bucket) is required with PostgreSQL: product files need a bucket every process can reach")
	case o.BatchSize < 0:
		return fmt.Errorf("sqlstore: Options.BatchSize %d is negative", o.BatchSize)
	case o.CacheSize < 0:
		return fmt.Errorf("sqlstore: Options.CacheSize %d is negative", o.CacheSize)
	}
	s.batch = cmp.Or(o.BatchSize, cfg.batchSize, s.d.defaultBatch)
	if s.batch > s.d.maxBatch {
		return fmt.Errorf("sqlstore: batch size %d (Options.BatchSize or the URL's batch_size) is over %d, the most %s allows",
			s.batch, s.d.maxBatch, s.d.kind)
	}
	s.cache = cmp.Or(o.CacheSize, cfg.cacheSize, DefaultCacheSize)
	return nil
}

// openSQLite opens the database file (or memory) with WAL, a busy
// timeout and foreign keys. Writes go through one connection, opened with
// BEGIN IMMEDIATE transactions, so writers of this process queue in
// database/sql instead of failing with SQLITE_BUSY; reads of a file
// database use a separate pool of read-only connections, which WAL lets
// run beside a writer.
func (s *Store) openSQLite(cfg dbConfig) error {
	if cfg.memory {
		db, err := sql.Open("sqlite", ":memory:?_foreign_keys=1&_txlock=immediate")
		if err != nil {
			return err
		}
		// The database lives as long as its one connection: never close it.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.db, s.rdb = db, db
		return nil
	}
	if dir := filepath.Dir(cfg.path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create the database directory: %w", err)
		}
	}
	if st, err := os.Stat(cfg.path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory, not a database file", cfg.path)
	}
	// The writer gets the page cache Options.CacheSize sets (see there)
	// and truncates the WAL file back to 64 MiB after checkpoints, so one
	// huge ingest does not leave a huge WAL file behind.
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_pragma=temp_store(MEMORY)", sqliteBusyTimeout)
	w, err := sql.Open("sqlite", cfg.path+"?"+common+
		"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"+
		fmt.Sprintf("&_pragma=cache_size(-%d)", max(s.cache>>10, 1))+
		"&_pragma=journal_size_limit(67108864)")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", cfg.path+"?"+common+"&_query_only=1&_pragma=cache_size(-16384)")
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.db, s.rdb = w, r
	return nil
}

// openPostgres opens a pool through pgx's database/sql driver.
func (s *Store) openPostgres(cfg dbConfig) error {
	db, err := sql.Open("pgx", cfg.dsn)
	if err != nil {
		return err
	}
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.db, s.rdb = db, db
	return nil
}

// openBucket sets s.bucket from the options.
func (s *Store) openBucket(ctx context.Context, o *Options, cfg dbConfig) error {
	if o.Bucket != nil {
		s.bucket = o.Bucket
		return nil
	}
	s.ownBucket = true
	if o.BlobURL == "" {
		if cfg.memory {
			s.bucket = memblob.OpenBucket(nil)
			return nil
		}
		dir := filepath.Join(filepath.Dir(cfg.path), "files")
		b, err := fileblob.OpenBucket(dir, fileblobOptions())
		if err != nil {
			return fmt.Errorf("open the files folder %s: %w", dir, err)
		}
		s.bucket, s.fileDir = b, dir
		return nil
	}
	b, dir, err := openBlobURL(ctx, o.BlobURL)
	if err != nil {
		return err
	}
	s.bucket, s.fileDir = b, dir
	return nil
}

// fileblobOptions creates the folder if needed and writes each file's
// temporary copy next to it, so that the final rename never crosses file
// systems (os.TempDir is often another mount).
func fileblobOptions() *fileblob.Options {
	return &fileblob.Options{CreateDir: true, NoTempDir: true}
}

// openBlobURL opens a bucket by URL. file:// and mem:// are handled here;
// other schemes go to gocloud.dev's default URL mux, which knows the
// drivers the program imports. dir is the folder of a file:// bucket that
// keeps fileblob's sidecar files (the default), else "".
func openBlobURL(ctx context.Context, raw string) (b *blob.Bucket, dir string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("Options.BlobURL %s is not a valid URL", redact.URL(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "." && u.Host != "localhost" {
			return nil, "", fmt.Errorf("Options.BlobURL %q: a file URL is file:///absolute/dir or file://./relative/dir, not a host %q", raw, u.Host)
		}
		if u.Path == "" || u.Path == "/" && u.Host == "." {
			return nil, "", fmt.Errorf("Options.BlobURL %q names no folder", raw)
		}
		opener := &fileblob.URLOpener{Options: *fileblobOptions()}
		b, err := opener.OpenBucketURL(ctx, u)
		if err != nil {
			return nil, "", fmt.Errorf("open the files folder of %q: %w", raw, err)
		}
		if !u.Query().Has("metadata") {
			// The folder fileblob's URL opener uses.
			path := u.Path
			if u.Host == "." || os.PathSeparator != '/' {
				path = strings.TrimPrefix(path, "/")
			}
			dir = filepath.FromSlash(path)
		}
		return b, dir, nil
	case "mem":
		return memblob.OpenBucket(nil), "", nil
	case "":
		return nil, "", fmt.Errorf("Options.BlobURL %q has no scheme (want file:///abs/dir, file://./rel/dir, mem://, s3://..., gs://...)", redact.URL(raw))
	}
	b, err = blob.OpenBucket(ctx, raw)
	if err != nil {
		return nil, "", fmt.Errorf("open bucket %s (for s3://, gs:// or azblob://, blank-import gocloud.dev/blob/s3blob, gcsblob or azureblob in your program, or pass Options.Bucket): %w",
			redact.URL(raw), redact.Error(err, redact.Passwords(raw)))
	}
	return b, "", nil
}

// DB returns the database handle the store writes through, for
// inspection, backups and the caller's own tables. On SQLite it is
// limited to one connection: holding a *sql.Conn or *sql.Tx from it
// blocks the store's writes until it is released.
func (s *Store) DB() *sql.DB { return s.db }

// Bucket returns the bucket that holds the product files.
func (s *Store) Bucket() *blob.Bucket { return s.bucket }

// Close closes the database handles and, if the store opened it, the
// bucket. It is safe to call more than once; methods called after Close
// fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		err := s.closeDBs()
		if s.ownBucket && s.bucket != nil {
			err = errors.Join(err, s.bucket.Close())
		}
		s.closeErr = err
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var err error
	if s.rdb != nil && s.rdb != s.db {
		err = s.rdb.Close()
	}
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}
