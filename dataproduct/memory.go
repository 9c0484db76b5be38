package dataproduct

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps everything in memory. It is meant for
// tests, examples and short-lived tools. It is safe for concurrent use; its
// zero value is not usable: call NewMemoryStore.
type MemoryStore struct {
	now func() time.Time

	mu        sync.RWMutex
	nextProd  int64
	nextDatum int64
	products  map[int64]*memProduct
	byName    map[targetName]int64
	datums    memDatums
}

type memProduct struct {
	p    Product
	data []byte
}

type targetName struct {
	target int64
	name   string
}

// MemoryOptions configures a MemoryStore; nil means defaults.
type MemoryOptions struct {
	// Now returns the current time, for Product.Created. Default time.Now.
	Now func() time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts *MemoryOptions) *MemoryStore {
	s := &MemoryStore{
		now:      time.Now,
		products: make(map[int64]*memProduct),
		byName:   make(map[targetName]int64),
		datums:   newMemDatums(),
	}
	if opts != nil && opts.Now != nil {
		s.now = opts.Now
	}
	return s
}

// CheckProduct reports what a caller of PutProduct must set: a positive
// target, a safe name and a data product type.
func CheckProduct(p Product) error {
	switch {
	case p.TargetID <= 0:
		return fmt.Errorf("product %q: target_id %d is not positive", p.Name, p.TargetID)
	case p.DataProductType == "":
		return fmt.Errorf("product %q: data_product_type is empty", p.Name)
	}
	if err := CheckName(p.Name); err != nil {
		return fmt.Errorf("product: %w", err)
	}
	return nil
}

// PutProduct implements ProductSink.
func (s *MemoryStore) PutProduct(ctx context.Context, p Product, r io.Reader) (Product, error) {
	return s.put(ctx, p, r, false)
}

// ReplaceProduct implements Store.
func (s *MemoryStore) ReplaceProduct(ctx context.Context, p Product, r io.Reader) (Product, error) {
	return s.put(ctx, p, r, true)
}

func (s *MemoryStore) put(ctx context.Context, p Product, r io.Reader, replace bool) (Product, error) {
	if err := CheckProduct(p); err != nil {
		return Product{}, err
	}
	data, err := readAllContext(ctx, r)
	if err != nil {
		return Product{}, fmt.Errorf("put product %q: %w", p.Name, err)
	}
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	p.Size = int64(len(data))
	p.Extra = maps.Clone(p.Extra)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Product{}, fmt.Errorf("put product %q: %w", p.Name, err)
	}
	tn := targetName{p.TargetID, p.Name}
	if id, ok := s.byName[tn]; ok {
		old := s.products[id]
		if err := CheckReplace(old.p, p, replace); err != nil {
			return Product{}, err
		}
		if old.p.SHA256 == p.SHA256 {
			return cloneProduct(old.p), nil
		}
		p.ID, p.Created, p.StorageKey = id, old.p.Created, old.p.StorageKey
		if p.ContentType == "" {
			p.ContentType = old.p.ContentType
		}
		s.products[id] = &memProduct{p: p, data: data}
		s.datums.deleteProduct(id)
		return cloneProduct(p), nil
	}
	s.nextProd++
	p.ID = s.nextProd
	p.Created = s.now().UTC()
	p.StorageKey = StorageKey(p)
	s.products[p.ID] = &memProduct{p: p, data: data}
	s.byName[tn] = p.ID
	return cloneProduct(p), nil
}

// CheckReplace is the rule every Store applies when a put of p meets the
// stored product old of the same target and name (p's SHA256 and Size
// being those of its new bytes): the same type and bytes may go on
// (nothing changes), other bytes only when replace is set
// (ReplaceProduct), another type never. Otherwise the error wraps
// ErrConflict and says why. It is exported for stores outside this
// package, so that every store refuses alike.
func CheckReplace(old, p Product, replace bool) error {
	switch {
	case old.DataProductType != p.DataProductType:
		return fmt.Errorf("%w: target %d already has a product %q of type %q, not %q (a product's type never changes: delete it first)",
			ErrConflict, p.TargetID, p.Name, old.DataProductType, p.DataProductType)
	case old.SHA256 != p.SHA256 && !replace:
		return fmt.Errorf("%w: target %d already has a product %q with other content (%d bytes, sha256 %.12s…; ReplaceProduct replaces it)",
			ErrConflict, p.TargetID, p.Name, old.Size, old.SHA256)
	}
	return nil
}

// readAllContext reads r to the end, giving up when ctx is done.
func readAllContext(ctx context.Context, r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	chunk := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func cloneProduct(p Product) Product {
	p.Extra = maps.Clone(p.Extra)
	return p
}

// Product implements Store.
func (s *MemoryStore) Product(ctx context.Context, id int64) (Product, error) {
	if err := ctx.Err(); err != nil {
		return Product{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	mp, ok := s.products[id]
	if !ok {
		return Product{}, fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	return cloneProduct(mp.p), nil
}

// OpenProduct implements Store.
func (s *MemoryStore) OpenProduct(ctx context.Context, id int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	mp, ok := s.products[id]
	if !ok {
		return nil, fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(mp.data)), nil
}

// ListProducts implements Store.
func (s *MemoryStore) ListProducts(ctx context.Context, f ProductFilter) ([]Product, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Product
	for _, mp := range s.products {
		p := mp.p
		if (f.TargetID == 0 || p.TargetID == f.TargetID) &&
			(f.DataProductType == "" || p.DataProductType == f.DataProductType) &&
			(f.Name == "" || p.Name == f.Name) {
			out = append(out, cloneProduct(p))
		}
	}
	slices.SortFunc(out, func(a, b Product) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteProduct implements Store.
func (s *MemoryStore) DeleteProduct(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mp, ok := s.products[id]
	if !ok {
		return fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	delete(s.products, id)
	delete(s.byName, targetName{mp.p.TargetID, mp.p.Name})
	s.datums.deleteProduct(id)
	return nil
}
