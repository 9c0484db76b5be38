package sqlstore

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tomgo/targetdata/dataproduct"
)

// On PostgreSQL an ingest copies its datums into a temporary staging
// table, chunk by chunk with COPY (the fastest way into PostgreSQL), and
// then moves them into the datum table with one INSERT ... SELECT ... ON
// CONFLICT DO NOTHING: the unique key, not the process, still
// decides what is a duplicate, so retries and concurrent writers never
// store a datum twice. All of it is one transaction; the staging table is
// dropped at its end (ON COMMIT DROP, and a rollback undoes its creation).

// stageTable is the staging table's name; temporary tables live in the
// session's own schema, which comes first in name lookup.
const stageTable = "targetdata_stage"

const createStage = `CREATE TEMPORARY TABLE ` + stageTable + ` (
	datum_key  BYTEA,
	target_id  BIGINT,
	product_id BIGINT,
	data_type  TEXT,
	ts_us      BIGINT,
	source     TEXT,
	value_json TEXT,
	value_bin  BYTEA
) ON COMMIT DROP`

var stageColumns = []string{"datum_key", "target_id", "product_id", "data_type", "ts_us", "source", "value_json", "value_bin"}

// moveStage moves the staged rows into the datum table. The staging table
// is a fresh, append-only, session-private heap that PostgreSQL never
// scans in parallel, so it is read in the order it was written, and the
// new datums get their IDs in the order the sequence yielded them.
const moveStage = `INSERT INTO targetdata_datums
	(datum_key, target_id, product_id, data_type, ts_us, source, value_json, value_bin)
SELECT datum_key, target_id, product_id, data_type, ts_us, source, value_json, value_bin FROM ` + stageTable + `
` + datumConflict

// pgIngest is the state of one AddDatums call on PostgreSQL.
type pgIngest struct {
	s        *Store
	ctx      context.Context
	conn     *pgx.Conn
	tx       pgx.Tx // begun at the first chunk
	rows     []datumRow
	staged   int
	chunks   int
	products map[int64]bool // products of the staged rows
	targets  map[int64]bool // targets of the staged rows
}

// addPostgres is AddDatums on PostgreSQL. It runs on one connection of
// the pool, through pgx's own interface (database/sql has no COPY).
func (s *Store) addPostgres(ctx context.Context, ds iter.Seq2[dataproduct.Datum, error]) (dataproduct.IngestResult, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("sqlstore: add datums: %w", ctxErr(ctx, err))
	}
	defer conn.Close()
	var res dataproduct.IngestResult
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the connection is a %T, not pgx's", dc)
		}
		g := &pgIngest{s: s, ctx: ctx, conn: sc.Conn(), rows: make([]datumRow, 0, s.batch),
			products: make(map[int64]bool), targets: make(map[int64]bool)}
		defer g.rollback()
		var err error
		res, err = g.run(ds)
		return err
	})
	if err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("sqlstore: add datums: %w", s.mapIngestErr(ctx, err))
	}
	return res, nil
}

// run consumes the sequence, stages it and moves it into the datum table.
func (g *pgIngest) run(ds iter.Seq2[dataproduct.Datum, error]) (dataproduct.IngestResult, error) {
	if err := g.s.readRows(g.ctx, ds, &g.rows, g.stage); err != nil {
		return dataproduct.IngestResult{}, err
	}
	if g.tx == nil {
		return dataproduct.IngestResult{}, nil // nothing to store
	}
	if err := g.checkProducts(); err != nil {
		return dataproduct.IngestResult{}, err
	}
	if err := g.lockTargets(); err != nil {
		return dataproduct.IngestResult{}, err
	}
	tag, err := g.tx.Exec(g.ctx, moveStage)
	if err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("insert: %w", err)
	}
	added := int(tag.RowsAffected())
	if err := g.tx.Commit(g.ctx); err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("commit: %w", err)
	}
	g.tx = nil
	return dataproduct.IngestResult{Added: added, Skipped: g.staged - added}, nil
}

// rollback ends the transaction unless it was committed. A cancelled ctx
// has made pgx close the connection already (database/sql then drops it).
func (g *pgIngest) rollback() {
	if g.tx != nil {
		_ = g.tx.Rollback(context.WithoutCancel(g.ctx))
		g.tx = nil
	}
}

// stage copies the pending rows into the staging table.
func (g *pgIngest) stage() error {
	if len(g.rows) == 0 {
		return nil
	}
	if err := g.ctx.Err(); err != nil {
		return err
	}
	if g.tx == nil {
		tx, err := g.conn.Begin(g.ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		g.tx = tx
		if _, err := tx.Exec(g.ctx, createStage); err != nil {
			return fmt.Errorf("create the staging table: %w", err)
		}
	}
	rows := g.rows
	n, err := g.tx.CopyFrom(g.ctx, pgx.Identifier{stageTable}, stageColumns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return rows[i].appendArgs(make([]any, 0, 8)), nil
	}))
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if int(n) != len(rows) {
		return fmt.Errorf("copy: %d rows copied of %d", n, len(rows))
	}
	for i := range rows {
		if p := rows[i].product; p != 0 {
			g.products[p] = true
		}
		g.targets[rows[i].target] = true
	}
	g.staged += len(rows)
	g.chunks++
	g.s.log.Debug("sqlstore: ingest chunk sent", "chunk", g.chunks, "rows", len(rows))
	clear(g.rows) // drop references to the encoded values
	g.rows = g.rows[:0]
	return nil
}

// checkProducts makes sure every product the staged rows name exists.
// (The foreign key would catch it too, but not say which product.) A
// product deleted after this check fails the insert on the foreign key,
// which mapIngestErr also reports as dataproduct.ErrNotFound.
func (g *pgIngest) checkProducts() error {
	if len(g.products) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(g.products))
	for id := range g.products {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rows, err := g.tx.Query(g.ctx, `SELECT id FROM targetdata_products WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("look up products: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("look up products: %w", err)
	}
	for _, id := range ids {
		if !slices.Contains(found, id) {
			return fmt.Errorf("datum of product %d: %w", id, dataproduct.ErrNotFound)
		}
	}
	return nil
}

// lockTargets takes the advisory lock of every target of the staged rows,
// in ascending order of the lock keys: ingests into the same target take
// turns for the insert, and two of them never wait on each other's locks
// in opposite orders (a deadlock). The copying before it runs in parallel.
func (g *pgIngest) lockTargets() error {
	for _, k := range targetLockKeys(g.targets) {
		if _, err := g.tx.Exec(g.ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockClassTarget), k); err != nil {
			return fmt.Errorf("lock the targets: %w", err)
		}
	}
	return nil
}

// targetLockKeys returns the advisory lock keys of targets, ascending and
// each once. The keys, not the target ids, must be in order: targets
// whose ids differ above 32 bits fold to keys in another order, or share
// one.
func targetLockKeys(targets map[int64]bool) []int32 {
	keys := make([]int32, 0, len(targets))
	for t := range targets {
		keys = append(keys, foldID(t))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
