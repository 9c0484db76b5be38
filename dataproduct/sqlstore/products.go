package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/tomgo/targetdata/dataproduct"
)

const productColumns = `id, target_id, name, data_product_type, storage_key, content_type, size, sha256, extra, created_us`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanProduct(sc scanner) (dataproduct.Product, error) {
	var (
		p       dataproduct.Product
		extra   sql.NullString
		created int64
	)
	if err := sc.Scan(&p.ID, &p.TargetID, &p.Name, &p.DataProductType, &p.StorageKey, &p.ContentType,
		&p.Size, &p.SHA256, &extra, &created); err != nil {
		return dataproduct.Product{}, err
	}
	p.Created = time.UnixMicro(created).UTC()
	if extra.Valid && extra.String != "" {
		if err := json.Unmarshal([]byte(extra.String), &p.Extra); err != nil {
			return dataproduct.Product{}, fmt.Errorf("product %d: bad extra column: %w", p.ID, err)
		}
	}
	return p, nil
}

// encodeExtra stores an empty map as NULL.
func encodeExtra(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// newBlobKey returns a fresh key for one write of p's file:
// "<target>/<type>/<16 random hex>-<name>". Every write gets its own key, so
// a replaced file is never overwritten in place and clean-up of an old key
// can never hit a file a later put still needs.
func newBlobKey(p dataproduct.Product) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%d/%s/%s-%s", p.TargetID, dataproduct.SafeName(p.DataProductType), hex.EncodeToString(r[:]), p.Name)
}

// PutProduct implements dataproduct.ProductSink. It streams r into a new
// blob (committed only when r ends without error), then records the
// product in one transaction; see the package documentation, # Files.
// When ContentType is empty, a new product gets one sniffed from the
// first bytes (net/http.DetectContentType). A product of that name with
// other bytes or another type is left as it is, and the error wraps
// dataproduct.ErrConflict (the new blob is removed).
func (s *Store) PutProduct(ctx context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	return s.put(ctx, p, r, false)
}

// ReplaceProduct implements dataproduct.Store: PutProduct, except that
// other bytes replace the product's file. The record update and the
// removal of the product's datums are one transaction, after the new blob
// is written and before the old one is deleted; an empty ContentType
// keeps the replaced product's.
func (s *Store) ReplaceProduct(ctx context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	return s.put(ctx, p, r, true)
}

func (s *Store) put(ctx context.Context, p dataproduct.Product, r io.Reader, replace bool) (dataproduct.Product, error) {
	if err := dataproduct.CheckProduct(p); err != nil {
		return dataproduct.Product{}, fmt.Errorf("sqlstore: put %w", err)
	}
	if err := ctx.Err(); err != nil {
		return dataproduct.Product{}, fmt.Errorf("sqlstore: put product %q: %w", p.Name, err)
	}
	extra, err := encodeExtra(p.Extra)
	if err != nil {
		return dataproduct.Product{}, fmt.Errorf("sqlstore: put product %q: extra: %w", p.Name, err)
	}
	key := newBlobKey(p)
	written, err := s.writeBlob(ctx, key, p.ContentType, r)
	if err != nil {
		return dataproduct.Product{}, fmt.Errorf("sqlstore: put product %q: %w", p.Name, err)
	}
	out, oldKey, committed, err := s.putRecord(ctx, p, key, extra, written, replace)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		if !committed {
			// The record never pointed at the new file.
			s.deleteBlob(ctx, key, "unused file of a failed put")
		}
		return dataproduct.Product{}, fmt.Errorf("sqlstore: put product %q: %w", p.Name, err)
	}
	if out.StorageKey != key {
		// The same bytes were already stored under another key.
		s.deleteBlob(ctx, key, "duplicate file of an unchanged product")
	}
	if oldKey != "" {
		s.deleteBlob(ctx, oldKey, "replaced file")
	}
	return out, nil
}

// blobWrite describes a file written by writeBlob.
type blobWrite struct {
	sha256      string
	size        int64
	contentType string // as given, else sniffed
	sniffed     bool
}

// writeBlob copies r into a new blob at key, hashing it on the way. Any
// error (from r, from ctx or from the bucket) aborts the writer, which
// then commits nothing: no blob appears under key.
func (s *Store) writeBlob(ctx context.Context, key, contentType string, r io.Reader) (blobWrite, error) {
	// Read the first bytes before opening the writer, to sniff the content
	// type when none is given.
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		r = nil // all of it is in head
	case err != nil:
		return blobWrite{}, fmt.Errorf("read: %w", err)
	}
	head = head[:n]
	out := blobWrite{contentType: contentType}
	if out.contentType == "" {
		out.contentType = http.DetectContentType(head)
		out.sniffed = true
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: out.contentType})
	if err != nil {
		return blobWrite{}, fmt.Errorf("create file %q: %w", key, err)
	}
	abort := func(err error) (blobWrite, error) {
		cancel() // a writer whose context is done discards what it has
		_ = w.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return blobWrite{}, err
	}
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	if _, err := mw.Write(head); err != nil {
		return abort(fmt.Errorf("write file %q: %w", key, err))
	}
	size := int64(len(head))
	if r != nil {
		m, err := io.Copy(mw, &ctxReader{ctx: ctx, r: r})
		size += m
		if err != nil {
			return abort(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return abort(err)
	}
	if err := w.Close(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return blobWrite{}, fmt.Errorf("commit file %q: %w", key, err)
	}
	out.sha256 = hex.EncodeToString(h.Sum(nil))
	out.size = size
	return out, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// putRecord inserts or updates the record of p, whose bytes were just
// written to key, in one transaction; an update (replace only) removes the
// product's datums in the same transaction. It returns the stored record,
// the key of a file the record no longer points to ("" if none), and
// whether the commit was attempted (after which the new blob must be kept
// even on error, since the outcome of a failed commit is unknown).
func (s *Store) putRecord(ctx context.Context, p dataproduct.Product, key string, extra any, w blobWrite, replace bool) (out dataproduct.Product, oldKey string, committed bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return out, "", false, err
	}
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	now := dataproduct.NormalizeTime(s.now())
	selectQ := s.d.rebind(`SELECT ` + productColumns + ` FROM targetdata_products WHERE target_id = ? AND name = ?` + s.d.forUpdate)
	for attempt := 0; ; attempt++ {
		old, err := scanProduct(tx.QueryRowContext(ctx, selectQ, p.TargetID, p.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A new product. ON CONFLICT covers a concurrent put of the same
			// name on PostgreSQL: then read the winner's row and go on.
			var id int64
			err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO targetdata_products
				(target_id, name, data_product_type, storage_key, content_type, size, sha256, extra, created_us, updated_us)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (target_id, name) DO NOTHING
				RETURNING id`),
				p.TargetID, p.Name, p.DataProductType, key, w.contentType, w.size, w.sha256, extra,
				now.UnixMicro(), now.UnixMicro()).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) && attempt < 3 {
				continue
			}
			if err != nil {
				return out, "", false, err
			}
			out = p
			out.ID, out.StorageKey, out.ContentType, out.Size, out.SHA256, out.Created = id, key, w.contentType, w.size, w.sha256, now
		case err != nil:
			return out, "", false, err
		default:
			next := p
			next.SHA256, next.Size = w.sha256, w.size
			if err := dataproduct.CheckReplace(old, next, replace); err != nil {
				return out, "", false, err
			}
			if old.SHA256 == w.sha256 {
				// Same name, type and bytes: nothing changes (the
				// deferred Rollback ends the transaction).
				return old, "", false, nil
			}
			// Replace: point the record at the new file and remove the
			// datums read from the old one.
			ct := w.contentType
			if w.sniffed && old.ContentType != "" {
				ct = old.ContentType
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE targetdata_products SET
				storage_key = ?, content_type = ?, size = ?, sha256 = ?, extra = ?, updated_us = ?
				WHERE id = ?`),
				key, ct, w.size, w.sha256, extra, now.UnixMicro(), old.ID); err != nil {
				return out, "", false, err
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM targetdata_datums WHERE product_id = ?`), old.ID); err != nil {
				return out, "", false, fmt.Errorf("remove the datums of the replaced file: %w", err)
			}
			out = p
			out.ID, out.StorageKey, out.ContentType, out.Size, out.SHA256, out.Created = old.ID, key, ct, w.size, w.sha256, old.Created
			oldKey = old.StorageKey
		}
		break
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return dataproduct.Product{}, "", true, fmt.Errorf("commit: %w", err)
	}
	out.Extra = nil
	if len(p.Extra) > 0 {
		out.Extra = maps.Clone(p.Extra)
	}
	return out, oldKey, true, nil
}

// deleteBlob removes a file the store no longer needs. Failing to is not
// an error of the operation that made the file obsolete: the record is
// already consistent, and the file is only garbage, so it is logged.
func (s *Store) deleteBlob(ctx context.Context, key, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		s.log.Warn("sqlstore: could not delete "+why, "key", key, "err", err)
	}
}

// Product implements dataproduct.Store.
func (s *Store) Product(ctx context.Context, id int64) (dataproduct.Product, error) {
	p, err := scanProduct(s.rdb.QueryRowContext(ctx, s.d.rebind(`SELECT `+productColumns+` FROM targetdata_products WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return dataproduct.Product{}, fmt.Errorf("sqlstore: product %d: %w", id, dataproduct.ErrNotFound)
	}
	if err != nil {
		return dataproduct.Product{}, fmt.Errorf("sqlstore: product %d: %w", id, ctxErr(ctx, err))
	}
	return p, nil
}

// OpenProduct implements dataproduct.Store. The reader streams from the
// bucket; the caller must close it.
func (s *Store) OpenProduct(ctx context.Context, id int64) (io.ReadCloser, error) {
	var lastKey string
	for attempt := 0; attempt < 3; attempt++ {
		p, err := s.Product(ctx, id)
		if err != nil {
			return nil, err
		}
		if p.StorageKey == lastKey {
			break // the record still names the missing file
		}
		lastKey = p.StorageKey
		r, err := s.bucket.NewReader(ctx, p.StorageKey, nil)
		if err == nil {
			return r, nil
		}
		if gcerrors.Code(err) != gcerrors.NotFound {
			return nil, fmt.Errorf("sqlstore: open product %d: %w", id, ctxErr(ctx, err))
		}
		// A concurrent put may have replaced the file between the two
		// reads: look at the record again.
	}
	return nil, fmt.Errorf("sqlstore: open product %d: its file %q is missing from the bucket", id, lastKey)
}

// ListProducts implements dataproduct.Store.
func (s *Store) ListProducts(ctx context.Context, f dataproduct.ProductFilter) ([]dataproduct.Product, error) {
	var (
		conds []string
		args  []any
	)
	if f.TargetID != 0 {
		conds, args = append(conds, "target_id = ?"), append(args, f.TargetID)
	}
	if f.DataProductType != "" {
		conds, args = append(conds, "data_product_type = ?"), append(args, f.DataProductType)
	}
	if f.Name != "" {
		conds, args = append(conds, "name = ?"), append(args, f.Name)
	}
	q := `SELECT ` + productColumns + ` FROM targetdata_products`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY id"
	rows, err := s.rdb.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list products: %w", ctxErr(ctx, err))
	}
	defer rows.Close()
	var out []dataproduct.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list products: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list products: %w", ctxErr(ctx, err))
	}
	return out, nil
}

// DeleteProduct implements dataproduct.Store: the record and its datums
// go in one transaction, then the file.
func (s *Store) DeleteProduct(ctx context.Context, id int64) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: delete product %d: %w", id, ctxErr(ctx, err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var key string
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT storage_key FROM targetdata_products WHERE id = ?`+s.d.forUpdate), id).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: delete product %d: %w", id, dataproduct.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete product %d: %w", id, ctxErr(ctx, err))
	}
	if _, err = tx.ExecContext(ctx, s.d.rebind(`DELETE FROM targetdata_datums WHERE product_id = ?`), id); err != nil {
		return fmt.Errorf("sqlstore: delete product %d: datums: %w", id, ctxErr(ctx, err))
	}
	if _, err = tx.ExecContext(ctx, s.d.rebind(`DELETE FROM targetdata_products WHERE id = ?`), id); err != nil {
		return fmt.Errorf("sqlstore: delete product %d: %w", id, ctxErr(ctx, err))
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: delete product %d: commit: %w", id, ctxErr(ctx, err))
	}
	s.deleteBlob(ctx, key, "file of a deleted product")
	return nil
}

// ctxErr prefers ctx's error to the driver's when ctx is done, so callers
// can test for context.Canceled and context.DeadlineExceeded.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}
