package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tomgo/targetdata/dataproduct"
)

// datumRow is one datum ready for INSERT.
type datumRow struct {
	key      dataproduct.Key
	target   int64
	product  int64 // 0: none
	dataType string
	ts       int64 // microseconds since the Unix epoch, UTC
	source   string
	json     []byte // value_json, or nil
	bin      []byte // value_bin, or nil
}

// appendArgs appends the row's values in the order of the datum columns
// (datum_key, target_id, product_id, data_type, ts_us, source, value_json,
// value_bin), a missing product or value as NULL.
func (r *datumRow) appendArgs(args []any) []any {
	var product, js, bin any
	if r.product != 0 {
		product = r.product
	}
	if r.json != nil {
		js = string(r.json)
	}
	if r.bin != nil {
		bin = r.bin
	}
	return append(args, r.key[:], r.target, product, r.dataType, r.ts, r.source, js, bin)
}

// makeRow checks d and turns it into a row. i is its 0-based position in
// the ingest, for the error message.
func makeRow(i int, d dataproduct.Datum) (datumRow, error) {
	if err := d.Check(); err != nil {
		return datumRow{}, fmt.Errorf("datum %d: %w", i, err)
	}
	v, err := encodeValue(d)
	if err != nil {
		return datumRow{}, fmt.Errorf("datum %d: %w", i, err)
	}
	ts := dataproduct.NormalizeTime(d.Timestamp)
	return datumRow{
		key:      dataproduct.KeyOf(d.TargetID, d.DataType, ts, v.canonical),
		target:   d.TargetID,
		product:  d.ProductID,
		dataType: d.DataType,
		ts:       ts.UnixMicro(),
		source:   d.Source,
		json:     v.json,
		bin:      v.bin,
	}, nil
}

// readRows consumes ds for an ingest on either database: it checks and
// encodes each datum into a row of *rows, calls send whenever
// Options.BatchSize rows are pending and once at the end (send empties
// *rows), and checks ctx every 256 datums and at the end.
func (s *Store) readRows(ctx context.Context, ds iter.Seq2[dataproduct.Datum, error], rows *[]datumRow, send func() error) error {
	i := 0
	for d, err := range ds {
		if err != nil {
			return err
		}
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := makeRow(i, d)
		if err != nil {
			return err
		}
		*rows = append(*rows, row)
		i++
		if len(*rows) >= s.batch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := send(); err != nil {
		return err
	}
	return ctx.Err()
}

// ingest is the state of one AddDatums call.
type ingest struct {
	s    *Store
	ctx  context.Context
	tx   *sql.Tx // begun at the first chunk
	done bool    // committed or rolled back
	rows []datumRow
	res  dataproduct.IngestResult
	// products known to exist
	products map[int64]bool
	chunks   int
	// full is the prepared INSERT for a full chunk on SQLite, made at the
	// first full chunk and closed with the transaction.
	full *sql.Stmt
}

// AddDatums implements dataproduct.Store. It checks and encodes the
// datums as the sequence yields them and sends them to the database in
// chunks of Options.BatchSize, all in one transaction that commits only
// after the sequence has ended without error. A sequence error, an invalid
// datum, an unknown product or a cancelled ctx rolls the transaction
// back: nothing of the call is stored. ctx is checked every 256 datums and
// before each chunk.
//
// On SQLite each chunk is one multi-row INSERT ... ON CONFLICT DO
// NOTHING; the transaction takes the write lock at its first chunk and
// holds it until commit, so a slow sequence delays other writers (readers
// are not blocked). On PostgreSQL each chunk is COPYed into a temporary
// staging table, and one INSERT ... SELECT ... ON CONFLICT DO NOTHING
// moves them all into the datum table at the end; ingests into the
// same target take turns for that insert (a transaction-scoped advisory
// lock), which keeps two overlapping ingests from deadlocking on each
// other's keys.
func (s *Store) AddDatums(ctx context.Context, ds iter.Seq2[dataproduct.Datum, error]) (dataproduct.IngestResult, error) {
	if s.d.kind == kindPostgres {
		return s.addPostgres(ctx, ds)
	}
	g := &ingest{
		s: s, ctx: ctx,
		rows:     make([]datumRow, 0, s.batch),
		products: make(map[int64]bool),
	}
	defer g.rollback()
	fail := func(err error) (dataproduct.IngestResult, error) {
		g.rollback()
		return dataproduct.IngestResult{}, fmt.Errorf("sqlstore: add datums: %w", s.mapIngestErr(ctx, err))
	}
	if err := s.readRows(ctx, ds, &g.rows, g.flush); err != nil {
		return fail(err)
	}
	if g.tx == nil {
		return g.res, nil // nothing to store
	}
	g.done = true
	if err := g.tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return g.res, nil
}

// rollback ends the transaction unless it was committed; it is safe to
// call more than once.
func (g *ingest) rollback() {
	if g.tx != nil && !g.done {
		g.done = true
		_ = g.tx.Rollback() // also closes g.full
	}
}

// flush sends the pending rows.
func (g *ingest) flush() error {
	if len(g.rows) == 0 {
		return nil
	}
	if err := g.ctx.Err(); err != nil {
		return err
	}
	if g.tx == nil {
		tx, err := g.s.db.BeginTx(g.ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		g.tx = tx
	}
	if err := g.checkProducts(); err != nil {
		return err
	}
	added, err := g.insertSQLite()
	if err != nil {
		return err
	}
	g.chunks++
	g.res.Added += added
	g.res.Skipped += len(g.rows) - added
	g.s.log.Debug("sqlstore: ingest chunk sent", "chunk", g.chunks, "rows", len(g.rows), "added", added)
	clear(g.rows) // drop references to the encoded values
	g.rows = g.rows[:0]
	return nil
}

// checkProducts makes sure every product the pending rows name exists.
// (The foreign key would catch it too, but not say which product.)
func (g *ingest) checkProducts() error {
	var ids []int64
	for i := range g.rows {
		if id := g.rows[i].product; id != 0 && !g.products[id] && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	q := `SELECT id FROM targetdata_products WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := g.tx.QueryContext(g.ctx, g.s.d.rebind(q), args...)
	if err != nil {
		return fmt.Errorf("look up products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		g.products[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if !g.products[id] {
			return fmt.Errorf("datum of product %d: %w", id, dataproduct.ErrNotFound)
		}
	}
	return nil
}

// foldID folds a 64-bit ID into the int4 key of an advisory lock. Two
// targets that fold alike merely share a lock.
func foldID(id int64) int32 {
	return int32(uint32(id) ^ uint32(uint64(id)>>32))
}

// sqliteInsertPrefix starts the multi-row INSERT on SQLite.
const sqliteInsertPrefix = `INSERT INTO targetdata_datums
	(datum_key, target_id, product_id, data_type, ts_us, source, value_json, value_bin) VALUES `

// sqliteInsert is the multi-row INSERT of n rows on SQLite.
func sqliteInsert(n int) string {
	var b strings.Builder
	b.Grow(len(sqliteInsertPrefix) + n*18 + 40)
	b.WriteString(sqliteInsertPrefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" " + datumConflict)
	return b.String()
}

// insertSQLite sends the pending rows as one multi-row INSERT and returns
// how many were new. Full chunks reuse one prepared statement: parsing a
// statement of thousands of placeholders is a tenth of the work otherwise.
func (g *ingest) insertSQLite() (int, error) {
	args := make([]any, 0, 8*len(g.rows))
	for i := range g.rows {
		args = g.rows[i].appendArgs(args)
	}
	var (
		res sql.Result
		err error
	)
	if len(g.rows) == g.s.batch {
		if g.full == nil {
			if g.full, err = g.tx.PrepareContext(g.ctx, sqliteInsert(g.s.batch)); err != nil {
				return 0, fmt.Errorf("prepare insert: %w", err)
			}
		}
		res, err = g.full.ExecContext(g.ctx, args...)
	} else {
		res, err = g.tx.ExecContext(g.ctx, sqliteInsert(len(g.rows)), args...)
	}
	if err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	return int(n), nil
}

// mapIngestErr prefers ctx's error when ctx is done and turns a
// PostgreSQL foreign-key violation (a product deleted while datums of it
// were being added) into dataproduct.ErrNotFound.
func (s *Store) mapIngestErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctxErr(ctx, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return fmt.Errorf("%w: %w", dataproduct.ErrNotFound, err)
	}
	return err
}

// datumColumns are the columns ListDatums reads, in scan order.
const datumColumns = `id, target_id, product_id, data_type, ts_us, source, value_json, value_bin`

// datumWhere builds the WHERE clause (with its leading space, or "") and
// arguments of a filter.
func datumWhere(f dataproduct.DatumFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, arg any) {
		conds, args = append(conds, cond), append(args, arg)
	}
	if f.TargetID != 0 {
		add("target_id = ?", f.TargetID)
	}
	if f.ProductID != 0 {
		add("product_id = ?", f.ProductID)
	}
	if f.DataType != "" {
		add("data_type = ?", f.DataType)
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if !f.From.IsZero() {
		add("ts_us >= ?", ceilMicro(f.From))
	}
	if !f.To.IsZero() {
		add("ts_us < ?", ceilMicro(f.To))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// datumQuery builds the SELECT for a filter. Every filter that names a
// target is served by one of the (target_id, ..., ts_us) indexes, a
// product filter by (product_id, ts_us), both in the ORDER BY order (or
// its reverse, for Newest).
func (s *Store) datumQuery(f dataproduct.DatumFilter) (string, []any) {
	where, args := datumWhere(f)
	q := `SELECT ` + datumColumns + ` FROM targetdata_datums` + where
	paged := f.Limit > 0 || f.Offset > 0
	if f.Newest && paged {
		q += " ORDER BY ts_us DESC, id DESC"
	} else {
		q += " ORDER BY ts_us, id"
	}
	switch {
	case f.Limit > 0:
		q += " LIMIT ?"
		args = append(args, f.Limit)
	case f.Offset > 0 && s.d.kind == kindSQLite:
		q += " LIMIT -1" // SQLite has no OFFSET without LIMIT
	}
	if f.Offset > 0 {
		q += " OFFSET ?"
		args = append(args, f.Offset)
	}
	if f.Newest && paged {
		// The newest page, still returned oldest first.
		q = `SELECT * FROM (` + q + `) newest ORDER BY ts_us, id`
	}
	return s.d.rebind(q), args
}

// CountDatums implements dataproduct.Store with one SELECT COUNT(*),
// answered from the same indexes as ListDatums (for a target: without
// reading the datums themselves).
func (s *Store) CountDatums(ctx context.Context, f dataproduct.DatumFilter) (int, error) {
	where, args := datumWhere(f)
	var n int
	if err := s.rdb.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM targetdata_datums`+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count datums: %w", ctxErr(ctx, err))
	}
	return n, nil
}

// ceilMicro is the first whole microsecond at or after t: a stored
// timestamp ts (whole microseconds) is >= t exactly when ts >= ceilMicro(t),
// and < t exactly when ts < ceilMicro(t).
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// ListDatums implements dataproduct.Store. Values come back as
// dataproduct.Photometry for photometry, dataproduct.Spectrum for
// spectroscopy and json.RawMessage otherwise; in every case
// dataproduct.CanonicalValue gives the bytes the datum was keyed with.
func (s *Store) ListDatums(ctx context.Context, f dataproduct.DatumFilter) ([]dataproduct.Datum, error) {
	q, args := s.datumQuery(f)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list datums: %w", ctxErr(ctx, err))
	}
	defer rows.Close()
	var out []dataproduct.Datum
	for rows.Next() {
		var (
			d       dataproduct.Datum
			product sql.NullInt64
			ts      int64
			js, bin []byte
		)
		if err := rows.Scan(&d.ID, &d.TargetID, &product, &d.DataType, &ts, &d.Source, &js, &bin); err != nil {
			return nil, fmt.Errorf("sqlstore: list datums: %w", err)
		}
		d.ProductID = product.Int64
		d.Timestamp = time.UnixMicro(ts).UTC()
		if d.Value, err = decodeStored(d.DataType, js, bin); err != nil {
			return nil, fmt.Errorf("sqlstore: list datums: datum %d: %w", d.ID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list datums: %w", ctxErr(ctx, err))
	}
	return out, nil
}
