package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SchemaVersion is the schema version this code creates and understands.
// Open migrates an older database up to it and refuses a newer one with
// ErrSchemaTooNew.
const SchemaVersion = 2

// ErrSchemaTooNew is returned (wrapped) by Open when the database was
// migrated by a newer version of this package than the running one.
var ErrSchemaTooNew = errors.New("sqlstore: database schema is newer than this program knows")

// Advisory lock class IDs (the first key of PostgreSQL's two-key advisory
// locks); the second key is a schema hash or a target ID.
const (
	lockClassMigrate = 0x74640001 // "td" 1: schema migration
	lockClassTarget  = 0x74640002 // "td" 2: ingest into one target
)

// dialect holds what differs between the two databases.
type dialect struct {
	kind string
	// migrations[i] brings the schema from version i to i+1, one statement
	// per string.
	migrations [][]string
	// forUpdate is appended to a SELECT that reads a row the transaction
	// is about to change ("" on SQLite, whose writers are serialized).
	forUpdate string
	// defaultBatch is the default Options.BatchSize.
	defaultBatch int
	// maxBatch caps Options.BatchSize (SQLite's bound-variable limit).
	maxBatch int
}

var sqliteDialect = &dialect{
	kind:         kindSQLite,
	migrations:   sqliteMigrations,
	defaultBatch: 500,
	// 8 variables a row under SQLite's default limit of 32766.
	maxBatch: 4000,
}

var postgresDialect = &dialect{
	kind:         kindPostgres,
	migrations:   postgresMigrations,
	forUpdate:    " FOR UPDATE",
	defaultBatch: 5000,
	maxBatch:     1 << 20,
}

// sqliteMigrations: version 1 is the first schema, version 2 moves the
// datum key's uniqueness (sqliteV2). Timestamps are integer microseconds
// since the Unix epoch (UTC) on both databases.
var sqliteMigrations = [][]string{{
	`CREATE TABLE targetdata_products (
			id                INTEGER PRIMARY KEY AUTOINCREMENT,
			target_id         INTEGER NOT NULL CHECK (target_id > 0),
			name              TEXT    NOT NULL,
			data_product_type TEXT    NOT NULL,
			storage_key       TEXT    NOT NULL,
			content_type      TEXT    NOT NULL DEFAULT '',
			size              INTEGER NOT NULL,
			sha256            TEXT    NOT NULL,
			extra             TEXT,
			created_us        INTEGER NOT NULL,
			updated_us        INTEGER NOT NULL,
			UNIQUE (target_id, name)
		)`,
	`CREATE INDEX targetdata_products_name ON targetdata_products (name)`,
	`CREATE INDEX targetdata_products_type ON targetdata_products (data_product_type)`,
	`CREATE TABLE targetdata_datums (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			datum_key  BLOB    NOT NULL UNIQUE CHECK (length(datum_key) = 32),
			target_id  INTEGER NOT NULL,
			product_id INTEGER REFERENCES targetdata_products (id) ON DELETE CASCADE,
			data_type  TEXT    NOT NULL,
			ts_us      INTEGER NOT NULL,
			source     TEXT    NOT NULL,
			value_json TEXT,
			value_bin  BLOB,
			CHECK ((value_json IS NULL) <> (value_bin IS NULL))
		)`,
	// SQLite indexes end with the rowid (id) implicitly, so each one
	// also yields the ORDER BY ts_us, id order.
	`CREATE INDEX targetdata_datums_target_ts ON targetdata_datums (target_id, ts_us)`,
	`CREATE INDEX targetdata_datums_target_type_ts ON targetdata_datums (target_id, data_type, ts_us)`,
	`CREATE INDEX targetdata_datums_target_source_ts ON targetdata_datums (target_id, source, ts_us)`,
	`CREATE INDEX targetdata_datums_product_ts ON targetdata_datums (product_id, ts_us)`,
}, sqliteV2}

// sqliteV2 moves the uniqueness of the datum key from datum_key alone to
// (target_id, ts_us, datum_key), the same rule (the key covers the target
// and the time), but an index into which an ingest inserts where the
// target's time is, nearly in order, instead of at random places: it stays
// fast as it grows beyond the page cache. SQLite cannot drop a column's
// UNIQUE, so the table is rebuilt (ids kept, and the AUTOINCREMENT counter
// with them).
var sqliteV2 = []string{
	`CREATE TABLE targetdata_datums_v2 (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			datum_key  BLOB    NOT NULL CHECK (length(datum_key) = 32),
			target_id  INTEGER NOT NULL,
			product_id INTEGER REFERENCES targetdata_products (id) ON DELETE CASCADE,
			data_type  TEXT    NOT NULL,
			ts_us      INTEGER NOT NULL,
			source     TEXT    NOT NULL,
			value_json TEXT,
			value_bin  BLOB,
			CHECK ((value_json IS NULL) <> (value_bin IS NULL))
		)`,
	`INSERT INTO targetdata_datums_v2 (id, datum_key, target_id, product_id, data_type, ts_us, source, value_json, value_bin)
		SELECT id, datum_key, target_id, product_id, data_type, ts_us, source, value_json, value_bin FROM targetdata_datums ORDER BY id`,
	`DELETE FROM sqlite_sequence WHERE name = 'targetdata_datums_v2'`,
	`UPDATE sqlite_sequence SET name = 'targetdata_datums_v2' WHERE name = 'targetdata_datums'`,
	`DROP TABLE targetdata_datums`,
	`ALTER TABLE targetdata_datums_v2 RENAME TO targetdata_datums`,
	`CREATE UNIQUE INDEX targetdata_datums_target_ts_key ON targetdata_datums (target_id, ts_us, datum_key)`,
	`CREATE INDEX targetdata_datums_target_ts ON targetdata_datums (target_id, ts_us)`,
	`CREATE INDEX targetdata_datums_target_type_ts ON targetdata_datums (target_id, data_type, ts_us)`,
	`CREATE INDEX targetdata_datums_target_source_ts ON targetdata_datums (target_id, source, ts_us)`,
	`CREATE INDEX targetdata_datums_product_ts ON targetdata_datums (product_id, ts_us)`,
}

// datumConflict is the conflict target of every datum INSERT: the unique
// index of schema version 2.
const datumConflict = `ON CONFLICT (target_id, ts_us, datum_key) DO NOTHING`

var postgresMigrations = [][]string{{
	`CREATE TABLE targetdata_products (
			id                BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
			target_id         BIGINT NOT NULL CHECK (target_id > 0),
			name              TEXT   NOT NULL,
			data_product_type TEXT   NOT NULL,
			storage_key       TEXT   NOT NULL,
			content_type      TEXT   NOT NULL DEFAULT '',
			size              BIGINT NOT NULL,
			sha256            TEXT   NOT NULL,
			extra             TEXT,
			created_us        BIGINT NOT NULL,
			updated_us        BIGINT NOT NULL,
			UNIQUE (target_id, name)
		)`,
	`CREATE INDEX targetdata_products_name ON targetdata_products (name)`,
	`CREATE INDEX targetdata_products_type ON targetdata_products (data_product_type)`,
	`CREATE TABLE targetdata_datums (
			id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
			datum_key  BYTEA  NOT NULL UNIQUE CHECK (octet_length(datum_key) = 32),
			target_id  BIGINT NOT NULL,
			product_id BIGINT REFERENCES targetdata_products (id) ON DELETE CASCADE,
			data_type  TEXT   NOT NULL,
			ts_us      BIGINT NOT NULL,
			source     TEXT   NOT NULL,
			value_json TEXT,
			value_bin  BYTEA,
			CHECK ((value_json IS NULL) <> (value_bin IS NULL))
		)`,
	`CREATE INDEX targetdata_datums_target_ts ON targetdata_datums (target_id, ts_us, id)`,
	`CREATE INDEX targetdata_datums_target_type_ts ON targetdata_datums (target_id, data_type, ts_us, id)`,
	`CREATE INDEX targetdata_datums_target_source_ts ON targetdata_datums (target_id, source, ts_us, id)`,
	`CREATE INDEX targetdata_datums_product_ts ON targetdata_datums (product_id, ts_us, id)`,
}, {
	// Version 2: as sqliteV2, in place.
	`CREATE UNIQUE INDEX targetdata_datums_target_ts_key ON targetdata_datums (target_id, ts_us, datum_key)`,
	`ALTER TABLE targetdata_datums DROP CONSTRAINT targetdata_datums_datum_key_key`,
}}

// rebind turns the "?" placeholders of q into PostgreSQL's "$1", "$2", ...
// The store's queries hold no "?" inside string literals.
func (d *dialect) rebind(q string) string {
	if d.kind != kindPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// migrate brings the schema to SchemaVersion in one transaction. On
// PostgreSQL a transaction-scoped advisory lock (keyed by the current
// schema) makes concurrent Opens wait for each other; on SQLite the
// transaction starts with BEGIN IMMEDIATE, which does the same.
func (s *Store) migrate(ctx context.Context) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.d.kind == kindPostgres {
		if _, err := tx.ExecContext(ctx,
			`SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`, lockClassMigrate); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS targetdata_schema (
		version    INTEGER PRIMARY KEY,
		applied_us BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("create targetdata_schema: %w", err)
	}
	var have sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM targetdata_schema`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	known := len(s.d.migrations)
	if int(have.Int64) > known {
		return fmt.Errorf("%w: the database is at schema version %d, this program knows versions up to %d; upgrade github.com/tomgo/targetdata",
			ErrSchemaTooNew, have.Int64, known)
	}
	for v := int(have.Int64) + 1; v <= known; v++ {
		for i, stmt := range s.d.migrations[v-1] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate to schema version %d, statement %d: %w", v, i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO targetdata_schema (version, applied_us) VALUES (?, ?)`),
			v, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, err)
		}
		s.log.Info("sqlstore: migrated schema", "version", v, "db", s.d.kind)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}
