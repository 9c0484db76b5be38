// Package sqlstore is a dataproduct.Store on database/sql: product records
// and datums in SQLite (the default, through the pure-Go modernc.org/sqlite,
// no cgo) or PostgreSQL (through github.com/jackc/pgx/v5/stdlib), product
// files in a gocloud.dev/blob bucket (a local folder by default).
//
//	st, err := sqlstore.Open(ctx, "sqlite://data/targetdata.db", nil)
//	...
//	defer st.Close()
//
// A *Store is safe for concurrent use by multiple goroutines, and several
// processes may share one database (see # Concurrency). It passes the
// dataproduct/storetest conformance suite on both databases.
//
// # URLs
//
// Open chooses the database by the URL scheme:
//
//   - sqlite://data/targetdata.db: a file relative to the working
//     directory; its folder is created if missing.
//   - sqlite:///var/lib/tom/targetdata.db: an absolute path (three slashes).
//   - sqlite::memory: or sqlite://:memory:: a private in-memory database,
//     gone at Close (for tests).
//   - postgres://user:password@host:5432/dbname?sslmode=disable, or
//     postgresql://...: any URL pgx accepts. Its query parameters go to
//     pgx; search_path=myschema keeps the store's tables in a schema of
//     their own.
//
// Paths in sqlite URLs may be percent-escaped. A sqlite URL takes two
// parameters, which settings files can set through the database key:
//
//   - cache_size: the page cache of the connection that writes, in bytes
//     or with KiB, MiB or GiB (sqlite://tom.db?cache_size=512MiB); see
//     Options.CacheSize. Default DefaultCacheSize (256 MiB).
//   - batch_size: the datums one INSERT carries (Options.BatchSize).
//     Default 500.
//
// Options.CacheSize and Options.BatchSize, when set, win over them. Any
// other parameter is refused: the store sets its own connection options
// (WAL, foreign keys, busy timeout). Any other scheme
// is an error that names it and lists these. Open pings the database, so
// an unreachable server fails at Open, not at the first query; errors and
// logs never show a password (the URL's user info is redacted).
//
// Product files go to Options.Bucket or the bucket Options.BlobURL names:
//
//   - file:///absolute/dir, or file://./relative/dir (the host "." marks a
//     relative path; file://dir, with a host, is refused rather than
//     silently taken as /dir). The folder is created if missing.
//   - mem://: in memory, for tests.
//   - s3://bucket?region=..., gs://bucket, azblob://container: the store
//     does not import these drivers (they would add the cloud SDKs to every
//     build). Blank-import gocloud.dev/blob/s3blob, gcsblob or azureblob in
//     your program and the URL works, or open the bucket yourself and pass
//     it as Options.Bucket.
//
// Without either, a SQLite file database keeps its files in a "files"
// folder next to the database file, and an in-memory one in mem://.
// PostgreSQL needs one of them: files must be where every process that
// reaches the database can read them.
//
// # Schema
//
// Open creates the tables and migrates them to SchemaVersion, in one
// transaction, recording each applied version in the table
// targetdata_schema (version, applied_us). Opening again is a no-op; a
// database at a newer version than this code knows fails with
// ErrSchemaTooNew. Concurrent Opens of one PostgreSQL schema wait for each
// other on a transaction-scoped advisory lock; on SQLite the migration
// transaction starts with BEGIN IMMEDIATE, which does the same.
//
// The tables (version 2):
//
//   - targetdata_products: id, target_id, name, data_product_type,
//     storage_key (the blob key), content_type, size, sha256, extra (JSON
//     text), created_us, updated_us; UNIQUE (target_id, name).
//   - targetdata_datums: id, datum_key (the 32-byte dataproduct.Key),
//     target_id, product_id (NULL for none; a foreign key to the products,
//     ON DELETE CASCADE), data_type, ts_us, source, value_json, value_bin;
//     UNIQUE (target_id, ts_us, datum_key).
//
// Version 1 had datum_key UNIQUE on its own. Since the key covers the
// target and the timestamp, version 2's unique index is the same rule, but
// an ingest inserts into it in time order, next to the target's previous
// datums, instead of at random places, so its rate no longer falls once
// the index outgrows the page cache. (On SQLite, inserting 2,000,000
// datums with a 256 MiB cache, the last 400,000 took 1.2 times the CPU
// time of the first 400,000 with version 1, and no more with version 2;
// with version 1 and 64 MiB the 2,000,000 rate was 0.4 of the 200,000
// one.) Migrating rebuilds the SQLite table (ids and the id counter kept)
// and swaps the index on PostgreSQL, in the transaction of Open.
//
// Timestamps are integer microseconds since the Unix epoch, UTC, on both
// databases: the precision dataproduct.NormalizeTime keeps, ordered
// correctly, and free of time-zone conversions. Datums are indexed on
// (target_id, ts_us), (target_id, data_type, ts_us), (target_id, source,
// ts_us) and (product_id, ts_us), so listing by target, type, source,
// product and time range is an index range scan already in the
// (timestamp, ID) order ListDatums returns (walked backwards for Newest;
// Offset skips index entries), and CountDatums of a target (alone, or
// with a data type or a source, and a time range) counts index entries
// without reading a datum: about 0.1–0.2 s for a million on SQLite. A
// filter that names neither a target nor a product scans the table.
//
// A datum's value is stored as its canonical JSON (value_json), except a
// dataproduct.Spectrum of a spectroscopy datum, which is stored as binary
// float64 arrays (value_bin): about half the size, and decoded without
// parsing numbers. Either way, CanonicalValue of a listed datum's value
// gives the bytes its key was computed from.
//
// # De-duplication
//
// The datum key (target, data type, timestamp to the microsecond,
// canonical value; see dataproduct.KeyOf) is unique, through the unique
// index (target_id, ts_us, datum_key). AddDatums inserts with ON CONFLICT
// DO NOTHING on that index and counts the rows the
// database reports as inserted: what was not inserted was a duplicate,
// whether of a stored datum, of one earlier in the same call, or of one a
// concurrent writer added first. The database, not the process, decides,
// so retries and concurrent or multi-process writers never store a datum
// twice.
//
// An AddDatums call is one transaction. The datums are consumed from the
// sequence and sent in chunks of Options.BatchSize, so a huge ingest never
// sits whole in memory: on SQLite each chunk is a multi-row INSERT; on
// PostgreSQL each chunk is COPYed into a temporary staging table (ON
// COMMIT DROP) and one INSERT ... SELECT ... ON CONFLICT DO NOTHING moves
// them all at the end, which is several times faster than inserting them
// row by row and still leaves the decision to the unique key. Nothing is
// visible to others until the commit, and any error, including a
// cancelled context half-way, rolls all of it back.
//
// # Files
//
// PutProduct streams the file into the bucket first, computing its SHA-256
// and size, then writes the record in a transaction:
//
//   - Every write goes to a fresh key, "<target>/<type>/<16 random
//     hex>-<name>". A gocloud.dev/blob writer commits only on Close (the
//     local-folder driver writes a temporary file next to the final one and
//     renames it); on any error, from the reader, the context or the
//     bucket, the store cancels the writer's context, so no file, whole or
//     partial, appears.
//   - Only then is the record inserted or updated, so it never points to a
//     missing or half-written file. If the record already has the same
//     type and bytes, it is returned unchanged and the new copy deleted.
//     Other bytes or another type: PutProduct refuses
//     (dataproduct.ErrConflict) and deletes the new copy. ReplaceProduct
//     (other bytes, same type) points the record at the new key and
//     deletes the product's datums in the same transaction, then deletes
//     the old file after the commit; a failed replacement leaves the old
//     record, file and datums as they were.
//   - A process that dies between writing a file and committing its record
//     leaves an unreferenced file: garbage, never a broken product.
//     Failures to delete obsolete files are logged, not returned.
//   - A process killed while writing a file to a local folder (kill -9, a
//     power cut) leaves the driver's temporary "<key>.<hex>.tmp". Open
//     removes such files once nothing has written to them for an hour (a
//     younger one may be another process's write in progress), in the
//     folders it opens itself (file:// and the default folder; not a
//     bucket passed in Options.Bucket, nor a file:// URL with a metadata
//     parameter).
//
// OpenProduct streams the file from the bucket.
//
// # Concurrency
//
// A Store is safe for concurrent use. On PostgreSQL every method uses the
// connection pool. On SQLite all writes of one Store go through a single
// connection whose transactions begin with BEGIN IMMEDIATE, so writers
// queue in database/sql rather than failing with SQLITE_BUSY; reads use a
// separate pool of read-only connections, and WAL mode lets them run
// beside the writer. Other processes writing the same SQLite file are
// waited for (busy_timeout, 10 s). The in-memory database has one
// connection for everything. SQLite runs in WAL mode with
// synchronous=NORMAL: a committed transaction survives a crash of the
// process; a power loss may lose the last few commits but never corrupts
// the database.
//
// Do not call the store from inside the sequence given to AddDatums on
// SQLite: the ingest holds the one writer connection (on an in-memory
// database, the only connection), so such a call waits for the ingest,
// which waits for the sequence. Collect what the sequence needs first.
//
// An ingest holds its transaction from its first chunk to its commit: on
// SQLite that is the database's write lock, so keep sequences fast (parse
// first, or accept that other writers wait). On PostgreSQL, ingests
// stage their datums in parallel; for the final insert, ingests into the
// same target take turns (a transaction-scoped advisory lock per target),
// which rules out deadlocks between overlapping ingests; ingests into
// different targets run in parallel throughout.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package sqlstore
