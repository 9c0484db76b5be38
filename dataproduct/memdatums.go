package dataproduct

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"time"
)

// A MemoryStore keeps a photometry datum in one fixed-size record
// (memDatum, 128 bytes: the numbers, interned strings and the 32-byte
// de-duplication key) in its target's slice, found by key through an
// open-addressing table of 4-byte positions (memTarget): no map entry,
// pointer or JSON of its own per datum. Go's map would cost 38 to 84
// bytes per key depending on where it stands in its growth cycle; the
// table costs 5 to 11. Any other value (a spectrum, a raw JSON value, a
// Photometry with Extra keys) is kept as given, beside its record.

// The numbers of a photometry record, in memDatum.num; bit i of
// memDatum.has is set when num[i] is (LimitSigma: when it is not zero).
const (
	numMagnitude = iota
	numError
	numLimit
	numLimitSigma
	numFlux
	numFluxErr
	numMJD
	numCount
)

// isOther in memDatum.has marks a datum whose data type, source and value
// are in memDatums.others.
const isOther = 1 << 7

// memDatum is one stored datum. The strings are indexes into the store's
// string table.
type memDatum struct {
	key     Key
	id      int64
	product int64 // 0: none
	ts      int64 // microseconds since the Unix epoch, UTC
	num     [numCount]float64
	has     uint8
	// Indexes into the string table; unused for an isOther datum, whose
	// strings are in its memOther.
	dataType, source, filter, telescope uint16
}

// memOther is what an isOther datum keeps beside its record.
type memOther struct {
	dataType, source string
	value            any
}

// maxStrings is the size of a string table: indexes are uint16. A datum
// whose strings no longer fit is kept as an isOther datum.
const maxStrings = 1 << 16

// strTable interns the strings of the records.
type strTable struct {
	strs []string
	idx  map[string]uint16
}

// id returns s's index, adding s to the table; ok is false when the table
// is full.
func (t *strTable) id(s string) (uint16, bool) {
	if i, ok := t.idx[s]; ok {
		return i, true
	}
	if len(t.strs) == maxStrings {
		return 0, false
	}
	if t.idx == nil {
		t.idx = make(map[string]uint16)
	}
	i := uint16(len(t.strs))
	t.strs = append(t.strs, s)
	t.idx[s] = i
	return i, true
}

// memDatums holds the datums of a MemoryStore.
type memDatums struct {
	targets map[int64]*memTarget
	others  map[int64]*memOther // by datum ID
	strs    strTable
}

func newMemDatums() memDatums {
	return memDatums{targets: make(map[int64]*memTarget), others: make(map[int64]*memOther)}
}

// memTarget holds the datums of one target (a key covers the target, so
// duplicates are always of the same target) and finds them by key: index
// is an open-addressing table with linear probing, of length a power of
// two at most three quarters full, whose entries are positions in recs
// plus one (0: empty). Keys are SHA-256 sums, so their first 8 bytes are
// a uniform hash.
type memTarget struct {
	recs  []memDatum // in ID order
	index []uint32
}

func slot(k *Key, mask int) int { return int(binary.LittleEndian.Uint64(k[:8])) & mask }

// has reports whether a datum with key k is stored.
func (t *memTarget) has(k *Key) bool {
	if len(t.index) == 0 {
		return false
	}
	mask := len(t.index) - 1
	for i := slot(k, mask); t.index[i] != 0; i = (i + 1) & mask {
		if t.recs[t.index[i]-1].key == *k {
			return true
		}
	}
	return false
}

// add appends r, whose key is not stored.
func (t *memTarget) add(r *memDatum) {
	t.recs = append(t.recs, *r)
	if 4*len(t.recs) > 3*len(t.index) {
		t.reindex()
		return
	}
	t.place(len(t.recs) - 1)
}

// place enters recs[pos] in the index.
func (t *memTarget) place(pos int) {
	mask := len(t.index) - 1
	i := slot(&t.recs[pos].key, mask)
	for t.index[i] != 0 {
		i = (i + 1) & mask
	}
	t.index[i] = uint32(pos) + 1
}

// reindex rebuilds the index for the records, at most half full.
func (t *memTarget) reindex() {
	size := 8
	for size < 2*len(t.recs) {
		size *= 2
	}
	t.index = make([]uint32, size)
	for pos := range t.recs {
		t.place(pos)
	}
}

// photometryValue returns v as a Photometry that fits a record.
func photometryValue(v any) (Photometry, bool) {
	var p Photometry
	switch v := v.(type) {
	case Photometry:
		p = v
	case *Photometry:
		if v == nil {
			return p, false
		}
		p = *v
	default:
		return p, false
	}
	return p, len(p.Extra) == 0
}

// pendingDatum is a datum of an AddDatums call, checked and keyed but not
// stored yet. The strings of rec index the call's own string table.
type pendingDatum struct {
	rec    memDatum
	target int64
	other  *memOther // set for an isOther datum
}

// pend checks and keys d (its timestamp already normalized) and turns it
// into a pending record whose strings index t.
func pend(d Datum, t *strTable) (pendingDatum, error) {
	k, err := d.Key()
	if err != nil {
		return pendingDatum{}, err
	}
	pd := pendingDatum{rec: memDatum{key: k, product: d.ProductID, ts: d.Timestamp.UnixMicro()}, target: d.TargetID}
	p, ok := photometryValue(d.Value)
	if ok {
		var ids [4]uint16
		for i, s := range [...]string{d.DataType, d.Source, p.Filter, p.Telescope} {
			if ids[i], ok = t.id(s); !ok {
				break
			}
		}
		if ok {
			pd.rec.dataType, pd.rec.source, pd.rec.filter, pd.rec.telescope = ids[0], ids[1], ids[2], ids[3]
			for i, f := range [numCount]*float64{p.Magnitude, p.Error, p.Limit, &p.LimitSigma, p.FluxUJy, p.FluxErrUJy, p.MJD} {
				if f != nil && (i != numLimitSigma || *f != 0) {
					pd.rec.num[i] = *f
					pd.rec.has |= 1 << i
				}
			}
			return pd, nil
		}
	}
	pd.rec.has = isOther
	pd.other = &memOther{dataType: d.DataType, source: d.Source, value: d.Value}
	return pd, nil
}

// photometry rebuilds the value of a photometry record (one allocation
// for its numbers).
func (m *memDatums) photometry(r *memDatum) Photometry {
	p := Photometry{Filter: m.strs.strs[r.filter], Telescope: m.strs.strs[r.telescope], LimitSigma: r.num[numLimitSigma]}
	nums := new([numCount]float64)
	*nums = r.num
	for i, dst := range [numCount]**float64{&p.Magnitude, &p.Error, &p.Limit, nil, &p.FluxUJy, &p.FluxErrUJy, &p.MJD} {
		if dst != nil && r.has&(1<<i) != 0 {
			*dst = &nums[i]
		}
	}
	return p
}

// datum rebuilds the datum of target's record r.
func (m *memDatums) datum(target int64, r *memDatum) Datum {
	d := Datum{ID: r.id, TargetID: target, ProductID: r.product, Timestamp: time.UnixMicro(r.ts).UTC()}
	if r.has&isOther != 0 {
		o := m.others[r.id]
		d.DataType, d.Source, d.Value = o.dataType, o.source, o.value
		return d
	}
	d.DataType, d.Source = m.strs.strs[r.dataType], m.strs.strs[r.source]
	d.Value = m.photometry(r)
	return d
}

// add stores the pending datums that are not duplicates, giving them IDs
// from *next, and reports what it did. local is the string table the
// pending records index.
func (m *memDatums) add(batch []pendingDatum, local *strTable, next *int64) IngestResult {
	var res IngestResult
	// local index -> global index + 1 (0: not translated yet)
	trans := make([]uint32, len(local.strs))
	global := func(i uint16) (uint16, bool) {
		if g := trans[i]; g != 0 {
			return uint16(g - 1), true
		}
		g, ok := m.strs.id(local.strs[i])
		if ok {
			trans[i] = uint32(g) + 1
		}
		return g, ok
	}
	var t *memTarget
	for i := range batch {
		pd := &batch[i]
		if t == nil || i > 0 && pd.target != batch[i-1].target {
			if t = m.targets[pd.target]; t == nil {
				t = &memTarget{}
				m.targets[pd.target] = t
			}
		}
		if t.has(&pd.rec.key) {
			res.Skipped++
			continue
		}
		*next++
		rec := pd.rec
		rec.id = *next
		if rec.has&isOther == 0 {
			var ids [4]uint16
			ok := true
			for j, li := range [...]uint16{rec.dataType, rec.source, rec.filter, rec.telescope} {
				if ids[j], ok = global(li); !ok {
					break
				}
			}
			if ok {
				rec.dataType, rec.source, rec.filter, rec.telescope = ids[0], ids[1], ids[2], ids[3]
			} else {
				// The store's string table is full: keep it as given.
				d := pendingView(local, pd)
				rec = memDatum{key: rec.key, id: rec.id, product: rec.product, ts: rec.ts, has: isOther}
				pd.other = &memOther{dataType: d.DataType, source: d.Source, value: d.Value}
			}
		}
		if pd.other != nil {
			m.others[rec.id] = pd.other
		}
		t.add(&rec)
		res.Added++
	}
	return res
}

// pendingView rebuilds the datum of a pending photometry record.
func pendingView(local *strTable, pd *pendingDatum) Datum {
	m := memDatums{strs: *local}
	return m.datum(pd.target, &pd.rec)
}

// deleteProduct removes the datums of product id (of any target).
func (m *memDatums) deleteProduct(id int64) {
	for target, t := range m.targets {
		kept := t.recs[:0]
		for i := range t.recs {
			if r := &t.recs[i]; r.product == id {
				delete(m.others, r.id)
				continue
			}
			kept = append(kept, t.recs[i])
		}
		if len(kept) == len(t.recs) {
			continue
		}
		if len(kept) == 0 {
			delete(m.targets, target)
			continue
		}
		clear(t.recs[len(kept):])
		t.recs = slices.Clip(kept)
		t.reindex()
	}
}

// matcher is a DatumFilter prepared for records.
type matcher struct {
	f                  DatumFilter
	fromUS, toUS       int64 // bounds in microseconds; valid when hasFrom, hasTo
	hasFrom, hasTo     bool
	dataType, source   uint16
	anyType, anySource bool // no filter on it
	typeOK, sourceOK   bool // the filter's string is in the table
}

func (m *memDatums) matcher(f DatumFilter) matcher {
	mt := matcher{f: f, anyType: f.DataType == "", anySource: f.Source == ""}
	if !f.From.IsZero() {
		mt.hasFrom, mt.fromUS = true, ceilMicro(f.From)
	}
	if !f.To.IsZero() {
		mt.hasTo, mt.toUS = true, ceilMicro(f.To)
	}
	if !mt.anyType {
		var i uint16
		i, mt.typeOK = m.strs.idx[f.DataType]
		mt.dataType = i
	}
	if !mt.anySource {
		var i uint16
		i, mt.sourceOK = m.strs.idx[f.Source]
		mt.source = i
	}
	return mt
}

// ceilMicro is the first whole microsecond at or after t: a stored
// timestamp ts (whole microseconds) is at or after t exactly when ts ≥
// ceilMicro(t), and before t exactly when ts < ceilMicro(t).
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// each calls fn for every record that passes f: of f's target only when
// it names one.
func (m *memDatums) each(f DatumFilter, fn func(target int64, r *memDatum)) {
	mt := m.matcher(f)
	scan := func(target int64, t *memTarget) {
		for i := range t.recs {
			if m.match(&mt, &t.recs[i]) {
				fn(target, &t.recs[i])
			}
		}
	}
	if f.TargetID != 0 {
		if t := m.targets[f.TargetID]; t != nil {
			scan(f.TargetID, t)
		}
		return
	}
	for target, t := range m.targets {
		scan(target, t)
	}
}

// match reports whether record r passes the filter.
func (m *memDatums) match(mt *matcher, r *memDatum) bool {
	if mt.f.ProductID != 0 && r.product != mt.f.ProductID ||
		mt.hasFrom && r.ts < mt.fromUS || mt.hasTo && r.ts >= mt.toUS {
		return false
	}
	if r.has&isOther != 0 {
		o := m.others[r.id]
		return (mt.anyType || o.dataType == mt.f.DataType) && (mt.anySource || o.source == mt.f.Source)
	}
	return (mt.anyType || mt.typeOK && r.dataType == mt.dataType) &&
		(mt.anySource || mt.sourceOK && r.source == mt.source)
}

// AddDatums implements Store. The sequence is consumed, and every datum
// checked and keyed, before the store is locked, so a slow processor never
// blocks readers.
func (s *MemoryStore) AddDatums(ctx context.Context, ds iter.Seq2[Datum, error]) (IngestResult, error) {
	var (
		batch []pendingDatum
		local strTable
	)
	i := 0
	for d, err := range ds {
		if err != nil {
			return IngestResult{}, err
		}
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return IngestResult{}, err
			}
		}
		if err := d.Check(); err != nil {
			return IngestResult{}, fmt.Errorf("datum %d: %w", i, err)
		}
		d.Timestamp = NormalizeTime(d.Timestamp)
		pd, err := pend(d, &local)
		if err != nil {
			return IngestResult{}, fmt.Errorf("datum %d: %w", i, err)
		}
		batch = append(batch, pd)
		i++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return IngestResult{}, err
	}
	for i := range batch {
		if id := batch[i].rec.product; id != 0 {
			if _, ok := s.products[id]; !ok {
				return IngestResult{}, fmt.Errorf("datum for product %d: %w", id, ErrNotFound)
			}
		}
	}
	return s.datums.add(batch, &local, &s.nextDatum), nil
}

// ListDatums implements Store.
func (s *MemoryStore) ListDatums(ctx context.Context, f DatumFilter) ([]Datum, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type hit struct {
		target int64
		rec    *memDatum
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := &s.datums
	var hits []hit
	m.each(f, func(target int64, r *memDatum) { hits = append(hits, hit{target, r}) })
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.rec.ts, b.rec.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.rec.id, b.rec.id)
	})
	hits = page(hits, f)
	out := make([]Datum, len(hits))
	for i, h := range hits {
		out[i] = m.datum(h.target, h.rec)
	}
	return out, nil
}

// page applies f's Offset, Limit and Newest to sorted datums (or hits).
func page[T any](ds []T, f DatumFilter) []T {
	if f.Newest {
		ds = ds[:len(ds)-min(max(f.Offset, 0), len(ds))]
		if f.Limit > 0 && len(ds) > f.Limit {
			ds = ds[len(ds)-f.Limit:]
		}
		return ds
	}
	ds = ds[min(max(f.Offset, 0), len(ds)):]
	if f.Limit > 0 && len(ds) > f.Limit {
		ds = ds[:f.Limit]
	}
	return ds
}

// CountDatums implements Store. It scans what ListDatums scans, without
// rebuilding the datums.
func (s *MemoryStore) CountDatums(ctx context.Context, f DatumFilter) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	s.datums.each(f, func(int64, *memDatum) { n++ })
	return n, nil
}
