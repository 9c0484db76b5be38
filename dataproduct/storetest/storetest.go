// Package storetest is a conformance suite for dataproduct.Store
// implementations, in the manner of Go CDK's drivertest: every store in this
// module runs it, and so should a TOM developer's own store.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) dataproduct.Store { return newStore(t) })
//	}
//
// The suite checks product round-trips and idempotent puts, puts that would
// replace a file or change a type refused (ErrConflict), ReplaceProduct
// (same ID, new file, the old file's datums removed), all-or-nothing
// ingest (a failing sequence, an invalid datum, an unknown product or a
// cancelled context store nothing), de-duplication on target + data type +
// timestamp + canonical value, listing filters, pages (Limit, Offset,
// Newest), counts and concurrent writers.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

// NewStore returns a fresh, empty store for one subtest. It should register
// its own clean-up with t.Cleanup.
type NewStore func(t *testing.T) dataproduct.Store

// Run runs the whole suite, each case on a fresh store from newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(*testing.T, dataproduct.Store)
	}{
		{"ProductRoundTrip", testProductRoundTrip},
		{"ProductIdempotentPut", testProductIdempotentPut},
		{"ProductConflict", testProductConflict},
		{"ProductReplace", testProductReplace},
		{"ProductInvalid", testProductInvalid},
		{"ProductFailedReaderStoresNothing", testProductFailedReader},
		{"ProductNotFound", testProductNotFound},
		{"ProductDelete", testProductDelete},
		{"DatumRoundTrip", testDatumRoundTrip},
		{"DatumDuplicatesIgnored", testDatumDuplicates},
		{"DatumKeyIncludesTime", testDatumKeyIncludesTime},
		{"IngestAllOrNothing", testIngestAllOrNothing},
		{"IngestCancelled", testIngestCancelled},
		{"ListDatumsFilters", testListDatumsFilters},
		{"ListDatumsPages", testListDatumsPages},
		{"CountDatums", testCountDatums},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newStore(t))
		})
	}
}

// Sample helpers.

// T0 is the reference time used by the suite's datums.
var T0 = time.Date(2024, 1, 26, 3, 14, 15, 0, time.UTC)

// Phot returns a photometry datum for target at T0 plus i hours.
func Phot(target int64, i int, mag float64) dataproduct.Datum {
	return dataproduct.Datum{
		TargetID:  target,
		DataType:  dataproduct.TypePhotometry,
		Timestamp: T0.Add(time.Duration(i) * time.Hour),
		Source:    "TEST",
		Value: dataproduct.Photometry{
			Magnitude: dataproduct.Float(mag),
			Error:     dataproduct.Float(0.05),
			Filter:    "o",
			Telescope: "TEST",
		},
	}
}

func put(t *testing.T, s dataproduct.Store, target int64, name, body string) dataproduct.Product {
	t.Helper()
	p, err := s.PutProduct(context.Background(), dataproduct.Product{
		TargetID: target, Name: name, DataProductType: "test_photometry", ContentType: "text/plain",
		Extra: map[string]string{"k": "v"},
	}, strings.NewReader(body))
	require.NoError(t, err)
	return p
}

func read(t *testing.T, s dataproduct.Store, id int64) string {
	t.Helper()
	rc, err := s.OpenProduct(context.Background(), id)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

func countDatums(t *testing.T, s dataproduct.Store, target int64) int {
	t.Helper()
	ds, err := s.ListDatums(context.Background(), dataproduct.DatumFilter{TargetID: target})
	require.NoError(t, err)
	return len(ds)
}

func testProductRoundTrip(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	body := "###MJD m dm\n60316.1 17.0 0.1\n"
	p := put(t, s, 7, "atlas_2024_01_01-2024_02_01_1.txt", body)
	sum := sha256.Sum256([]byte(body))
	assert.Positive(t, p.ID)
	assert.Equal(t, int64(7), p.TargetID)
	assert.Equal(t, "atlas_2024_01_01-2024_02_01_1.txt", p.Name)
	assert.Equal(t, "test_photometry", p.DataProductType)
	assert.Equal(t, int64(len(body)), p.Size)
	assert.Equal(t, hex.EncodeToString(sum[:]), p.SHA256)
	assert.False(t, p.Created.IsZero(), "Created is set")
	assert.NotEmpty(t, p.StorageKey)
	assert.Equal(t, map[string]string{"k": "v"}, p.Extra)
	assert.Equal(t, body, read(t, s, p.ID))

	got, err := s.Product(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID)
	assert.Equal(t, p.SHA256, got.SHA256)
	assert.Equal(t, p.Name, got.Name)
	assert.Equal(t, "text/plain", got.ContentType)
	assert.WithinDuration(t, p.Created, got.Created, time.Millisecond)

	p2 := put(t, s, 8, "other.csv", "a,b\n1,2\n")
	all, err := s.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Less(t, all[0].ID, all[1].ID, "ordered by ID")
	only, err := s.ListProducts(ctx, dataproduct.ProductFilter{TargetID: 8})
	require.NoError(t, err)
	require.Len(t, only, 1)
	assert.Equal(t, p2.ID, only[0].ID)
	byName, err := s.ListProducts(ctx, dataproduct.ProductFilter{Name: p.Name})
	require.NoError(t, err)
	require.Len(t, byName, 1)
	assert.Equal(t, p.ID, byName[0].ID)
}

func testProductIdempotentPut(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	p1 := put(t, s, 1, "same.txt", "one\n")
	p2 := put(t, s, 1, "same.txt", "one\n")
	assert.Equal(t, p1.ID, p2.ID, "same name and bytes gives the same product")
	assert.Equal(t, p1.SHA256, p2.SHA256)
	// The same name on another target is another product.
	p3 := put(t, s, 2, "same.txt", "one\n")
	assert.NotEqual(t, p1.ID, p3.ID)
	// New bytes replace the file only through ReplaceProduct, which keeps
	// the ID (ProductConflict and ProductReplace test the rest).
	p4 := replace(t, s, 1, "same.txt", "two\n")
	assert.Equal(t, p1.ID, p4.ID)
	assert.NotEqual(t, p1.SHA256, p4.SHA256)
	assert.Equal(t, "two\n", read(t, s, p1.ID))
	all, err := s.ListProducts(ctx, dataproduct.ProductFilter{TargetID: 1})
	require.NoError(t, err)
	assert.Len(t, all, 1)
}

// replace is put through ReplaceProduct.
func replace(t *testing.T, s dataproduct.Store, target int64, name, body string) dataproduct.Product {
	t.Helper()
	p, err := s.ReplaceProduct(context.Background(), dataproduct.Product{
		TargetID: target, Name: name, DataProductType: "test_photometry", ContentType: "text/plain",
		Extra: map[string]string{"k": "replaced"},
	}, strings.NewReader(body))
	require.NoError(t, err)
	return p
}

// addProductDatums stores n photometry datums of product p (timestamps
// from hour first), returning them.
func addProductDatums(t *testing.T, s dataproduct.Store, p dataproduct.Product, first, n int) []dataproduct.Datum {
	t.Helper()
	var ds []dataproduct.Datum
	for i := first; i < first+n; i++ {
		d := Phot(p.TargetID, i, 17+float64(i)/100)
		d.ProductID = p.ID
		ds = append(ds, d)
	}
	res, err := s.AddDatums(context.Background(), dataproduct.Datums(ds))
	require.NoError(t, err)
	require.Equal(t, n, res.Added)
	return ds
}

// testProductConflict: PutProduct never replaces a file nor changes a
// type (issue 20, finding 1: an upload named like an archive product
// replaced it); ReplaceProduct never changes a type either.
func testProductConflict(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	p := put(t, s, 4, "atlas_2024_01_01-2024_02_01.txt", "###MJD m\n60316.1 17.0\n")
	addProductDatums(t, s, p, 0, 3)
	for _, c := range []struct {
		name string
		typ  string
		body string
		fn   func(context.Context, dataproduct.Product, io.Reader) (dataproduct.Product, error)
	}{
		{"other bytes", "test_photometry", "time,filter,magnitude\n60000,g,17\n", s.PutProduct},
		{"other type", "photometry", "time,filter,magnitude\n60000,g,17\n", s.PutProduct},
		{"other type, same bytes", "photometry", "###MJD m\n60316.1 17.0\n", s.PutProduct},
		{"replace with another type", "photometry", "time,filter,magnitude\n60000,g,17\n", s.ReplaceProduct},
		{"replace with another type, same bytes", "photometry", "###MJD m\n60316.1 17.0\n", s.ReplaceProduct},
	} {
		_, err := c.fn(ctx, dataproduct.Product{TargetID: 4, Name: p.Name, DataProductType: c.typ, ContentType: "text/csv",
			Extra: map[string]string{"k": "other"}}, strings.NewReader(c.body))
		require.Error(t, err, c.name)
		assert.ErrorIs(t, err, dataproduct.ErrConflict, c.name)
		got, err := s.Product(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p.DataProductType, got.DataProductType, "%s: the type stays", c.name)
		assert.Equal(t, p.SHA256, got.SHA256, "%s: the file stays", c.name)
		assert.Equal(t, p.Extra, got.Extra, "%s: the record stays", c.name)
		assert.Equal(t, "###MJD m\n60316.1 17.0\n", read(t, s, p.ID), c.name)
		assert.Equal(t, 3, countDatums(t, s, 4), "%s: the datums stay", c.name)
	}
	all, err := s.ListProducts(ctx, dataproduct.ProductFilter{TargetID: 4})
	require.NoError(t, err)
	assert.Len(t, all, 1, "a refused put stores nothing")
}

// testProductReplace: ReplaceProduct keeps the ID, replaces the file and
// record and removes the product's datums (no datum of the old file
// outlives it), touching no other product; the same bytes change nothing.
func testProductReplace(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	p := put(t, s, 6, "refresh.txt", "old\n")
	other := put(t, s, 6, "other.txt", "other\n")
	addProductDatums(t, s, p, 0, 4)
	otherDs := addProductDatums(t, s, other, 100, 2)

	// The same bytes: nothing changes, the datums stay.
	same, err := s.ReplaceProduct(ctx, dataproduct.Product{TargetID: 6, Name: "refresh.txt", DataProductType: "test_photometry",
		Extra: map[string]string{"k": "ignored"}}, strings.NewReader("old\n"))
	require.NoError(t, err)
	assert.Equal(t, p.ID, same.ID)
	assert.Equal(t, p.SHA256, same.SHA256)
	assert.Equal(t, p.Extra, same.Extra, "the same bytes keep the record as it was")
	assert.Equal(t, 6, countDatums(t, s, 6))

	// New bytes: the file and record change, the product's datums go.
	q := replace(t, s, 6, "refresh.txt", "new\nfile\n")
	assert.Equal(t, p.ID, q.ID, "the ID stays")
	assert.WithinDuration(t, p.Created, q.Created, time.Millisecond, "Created stays")
	assert.Equal(t, int64(len("new\nfile\n")), q.Size)
	assert.NotEqual(t, p.SHA256, q.SHA256)
	assert.Equal(t, map[string]string{"k": "replaced"}, q.Extra)
	got, err := s.Product(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, q.SHA256, got.SHA256)
	assert.Equal(t, q.Extra, got.Extra)
	assert.Equal(t, "test_photometry", got.DataProductType)
	assert.Equal(t, "new\nfile\n", read(t, s, p.ID))
	left, err := s.ListDatums(ctx, dataproduct.DatumFilter{ProductID: p.ID})
	require.NoError(t, err)
	assert.Empty(t, left, "the replaced file's datums are removed")
	kept, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 6})
	require.NoError(t, err)
	require.Len(t, kept, len(otherDs), "another product's datums stay")
	for _, d := range kept {
		assert.Equal(t, other.ID, d.ProductID)
	}
	// The new file's datums can be ingested, the old ones again too.
	addProductDatums(t, s, q, 0, 5)

	// A failed replacement changes nothing: file, record and datums stay.
	_, err = s.ReplaceProduct(ctx, dataproduct.Product{TargetID: 6, Name: "refresh.txt", DataProductType: "test_photometry"},
		&failingReader{data: []byte("newer"), err: errors.New("connection reset")})
	require.Error(t, err)
	assert.Equal(t, "new\nfile\n", read(t, s, p.ID))
	left, err = s.ListDatums(ctx, dataproduct.DatumFilter{ProductID: p.ID})
	require.NoError(t, err)
	assert.Len(t, left, 5)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.ReplaceProduct(cctx, dataproduct.Product{TargetID: 6, Name: "refresh.txt", DataProductType: "test_photometry"},
		strings.NewReader("cancelled"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "new\nfile\n", read(t, s, p.ID))

	// A new name is stored as PutProduct stores it.
	n := replace(t, s, 6, "fresh.txt", "fresh\n")
	assert.NotEqual(t, p.ID, n.ID)
	assert.Equal(t, "fresh\n", read(t, s, n.ID))
}

func testProductInvalid(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	for _, p := range []dataproduct.Product{
		{TargetID: 1, Name: "../escape.txt", DataProductType: "x"},
		{TargetID: 1, Name: "a/b.txt", DataProductType: "x"},
		{TargetID: 1, Name: "nul\x00.txt", DataProductType: "x"},
		{TargetID: 1, Name: "", DataProductType: "x"},
		{TargetID: 1, Name: strings.Repeat("n", dataproduct.MaxNameLength+1), DataProductType: "x"},
		{TargetID: 0, Name: "ok.txt", DataProductType: "x"},
		{TargetID: 1, Name: "ok.txt", DataProductType: ""},
	} {
		_, err := s.PutProduct(ctx, p, strings.NewReader("data"))
		assert.Error(t, err, "product %+v must be refused", p)
	}
	all, err := s.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, all, "nothing stored")
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func testProductFailedReader(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	boom := errors.New("connection reset")
	_, err := s.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "half.txt", DataProductType: "x"},
		&failingReader{data: bytes.Repeat([]byte("x"), 100_000), err: boom})
	require.Error(t, err)
	assert.ErrorIs(t, err, boom)
	all, err := s.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, all, "a failed put stores nothing")

	// A failed replacement keeps the old file.
	p := put(t, s, 1, "keep.txt", "original\n")
	_, err = s.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "keep.txt", DataProductType: "test_photometry"},
		&failingReader{data: []byte("new"), err: boom})
	require.Error(t, err)
	assert.Equal(t, "original\n", read(t, s, p.ID))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.PutProduct(cctx, dataproduct.Product{TargetID: 1, Name: "cancelled.txt", DataProductType: "x"}, strings.NewReader("x"))
	assert.ErrorIs(t, err, context.Canceled)
	byName, err := s.ListProducts(ctx, dataproduct.ProductFilter{Name: "cancelled.txt"})
	require.NoError(t, err)
	assert.Empty(t, byName)
}

func testProductNotFound(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	_, err := s.Product(ctx, 424242)
	assert.ErrorIs(t, err, dataproduct.ErrNotFound)
	_, err = s.OpenProduct(ctx, 424242)
	assert.ErrorIs(t, err, dataproduct.ErrNotFound)
	assert.ErrorIs(t, s.DeleteProduct(ctx, 424242), dataproduct.ErrNotFound)
}

func testProductDelete(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	p := put(t, s, 3, "del.txt", "x\n")
	keep := put(t, s, 3, "keep.txt", "y\n")
	var ds []dataproduct.Datum
	for i := range 5 {
		d := Phot(3, i, 17+float64(i)/10)
		d.ProductID = p.ID
		ds = append(ds, d)
	}
	d := Phot(3, 10, 15)
	d.ProductID = keep.ID
	ds = append(ds, d)
	res, err := s.AddDatums(ctx, dataproduct.Datums(ds))
	require.NoError(t, err)
	assert.Equal(t, 6, res.Added)
	require.NoError(t, s.DeleteProduct(ctx, p.ID))
	_, err = s.Product(ctx, p.ID)
	assert.ErrorIs(t, err, dataproduct.ErrNotFound)
	left, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 3})
	require.NoError(t, err)
	require.Len(t, left, 1, "the deleted product's datums are gone, the other's stay")
	assert.Equal(t, keep.ID, left[0].ProductID)
	// The same name can be stored again, and its datums re-added.
	p2 := put(t, s, 3, "del.txt", "x\n")
	for i := range ds[:5] {
		ds[i].ProductID = p2.ID
	}
	res, err = s.AddDatums(ctx, dataproduct.Datums(ds[:5]))
	require.NoError(t, err)
	assert.Equal(t, 5, res.Added)
}

func testDatumRoundTrip(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	p := put(t, s, 5, "rt.txt", "x\n")
	ts := time.Date(2024, 1, 26, 3, 14, 15, 123456789, time.FixedZone("X", 3600))
	phot := dataproduct.Photometry{
		Magnitude: dataproduct.Float(17.25), Error: dataproduct.Float(0.031), Filter: "c", Telescope: "ATLAS",
		FluxUJy: dataproduct.Float(478), FluxErrUJy: dataproduct.Float(13), MJD: dataproduct.Float(60335.09323),
		Extra: map[string]any{"obs": "04a60316o0180o", "chi_n": 1.25},
	}
	limit := dataproduct.Photometry{Limit: dataproduct.Float(19.5), LimitSigma: 3, Filter: "o", Telescope: "ATLAS"}
	spec := dataproduct.Spectrum{
		Wavelength: []float64{3600, 3609.0123456789, 3618}, Flux: []float64{2.1e-16, -1e-17, 0},
		Error: []float64{1e-17, 1e-17, 2e-17}, FluxUnits: "erg / (Angstrom s cm2)", WavelengthUnits: "Angstrom",
	}
	raw := json.RawMessage(`{"z": 1, "a": [1, 2.5], "s": "x"}`)
	in := []dataproduct.Datum{
		{TargetID: 5, ProductID: p.ID, DataType: dataproduct.TypePhotometry, Timestamp: ts, Source: "ATLAS", Value: phot},
		{TargetID: 5, ProductID: p.ID, DataType: dataproduct.TypePhotometry, Timestamp: ts.Add(time.Hour), Source: "ATLAS", Value: limit},
		{TargetID: 5, DataType: dataproduct.TypeSpectroscopy, Timestamp: ts.Add(2 * time.Hour), Source: "NOT", Value: spec},
		{TargetID: 5, DataType: "custom", Timestamp: ts.Add(3 * time.Hour), Source: "ME", Value: raw},
	}
	res, err := s.AddDatums(ctx, dataproduct.Datums(in))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: 4}, res)
	out, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 5})
	require.NoError(t, err)
	require.Len(t, out, 4)
	for i, d := range out {
		want := in[i]
		assert.Positive(t, d.ID)
		assert.Equal(t, want.TargetID, d.TargetID)
		assert.Equal(t, want.ProductID, d.ProductID)
		assert.Equal(t, want.DataType, d.DataType)
		assert.Equal(t, want.Source, d.Source)
		assert.True(t, d.Timestamp.Equal(dataproduct.NormalizeTime(want.Timestamp)),
			"timestamp %v, want %v", d.Timestamp, dataproduct.NormalizeTime(want.Timestamp))
		assert.Equal(t, time.UTC, d.Timestamp.Location(), "timestamps come back in UTC")
		gotC, err := dataproduct.CanonicalValue(d.Value)
		require.NoError(t, err)
		wantC, err := dataproduct.CanonicalValue(want.Value)
		require.NoError(t, err)
		assert.JSONEq(t, string(wantC), string(gotC))
		assert.Equal(t, string(wantC), string(gotC), "canonical bytes survive the round trip")
	}
	_, isPhot := out[0].Value.(dataproduct.Photometry)
	assert.True(t, isPhot, "photometry comes back as dataproduct.Photometry, got %T", out[0].Value)
	_, isSpec := out[2].Value.(dataproduct.Spectrum)
	assert.True(t, isSpec, "a spectrum comes back as dataproduct.Spectrum, got %T", out[2].Value)
}

func testDatumDuplicates(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	var ds []dataproduct.Datum
	for i := range 50 {
		ds = append(ds, Phot(1, i, 17+float64(i%7)/10))
	}
	res, err := s.AddDatums(ctx, dataproduct.Datums(ds))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: 50}, res)
	res, err = s.AddDatums(ctx, dataproduct.Datums(ds))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: 0, Skipped: 50}, res, "a retry adds nothing")

	// Duplicates within one call, and a value that equals a stored one but
	// arrives as raw JSON with other key order and number spelling.
	raw, err := json.Marshal(ds[0].Value)
	require.NoError(t, err)
	var generic map[string]any
	require.NoError(t, json.Unmarshal(raw, &generic))
	rawDup := ds[0]
	rawDup.Value = json.RawMessage(fmt.Sprintf(`{"telescope":%q,"filter":"o","error":5e-2,"magnitude":%v}`,
		generic["telescope"], generic["magnitude"]))
	newOne := Phot(1, 100, 12)
	res, err = s.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{newOne, newOne, rawDup}))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: 1, Skipped: 2}, res)
	// A different product does not make a datum new (the key is target,
	// type, time and value).
	other := put(t, s, 1, "other.txt", "x")
	moved := ds[3]
	moved.ProductID = other.ID
	res, err = s.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{moved}))
	require.NoError(t, err)
	assert.Equal(t, 0, res.Added)
	// The same value for another target is not a duplicate.
	res, err = s.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{Phot(2, 0, 17)}))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	assert.Equal(t, 51, countDatums(t, s, 1))
}

func testDatumKeyIncludesTime(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	// Equal values at different times are different epochs (the TOM
	// Toolkit drops them); equal times with different values are kept too.
	a, b, c := Phot(1, 0, 17), Phot(1, 1, 17), Phot(1, 0, 17.01)
	sameNano := a
	sameNano.Timestamp = a.Timestamp.Add(200 * time.Nanosecond) // rounds to the same microsecond
	res, err := s.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{a, b, c, sameNano}))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: 3, Skipped: 1}, res)
}

func seqWithError(ds []dataproduct.Datum, at int, err error) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		for i, d := range ds {
			if i == at {
				yield(dataproduct.Datum{}, err)
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

func testIngestAllOrNothing(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	var ds []dataproduct.Datum
	for i := range 100 {
		ds = append(ds, Phot(1, i, 17))
	}
	parseErr := &dataproduct.ParseError{Line: 51, Err: errors.New("bad number")}
	_, err := s.AddDatums(ctx, seqWithError(ds, 50, parseErr))
	require.Error(t, err)
	var pe *dataproduct.ParseError
	assert.ErrorAs(t, err, &pe, "the sequence's error comes back")
	assert.Equal(t, 0, countDatums(t, s, 1), "nothing stored after a failing sequence")

	bad := append([]dataproduct.Datum(nil), ds...)
	bad[70].Timestamp = time.Time{}
	_, err = s.AddDatums(ctx, dataproduct.Datums(bad))
	assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum)
	assert.Equal(t, 0, countDatums(t, s, 1), "nothing stored after an invalid datum")

	bad = append([]dataproduct.Datum(nil), ds...)
	bad[99].Value = dataproduct.Photometry{Magnitude: dataproduct.Float(nan())}
	_, err = s.AddDatums(ctx, dataproduct.Datums(bad))
	assert.Error(t, err, "a NaN magnitude cannot be stored")
	assert.Equal(t, 0, countDatums(t, s, 1))

	for _, v := range []dataproduct.Photometry{
		{Magnitude: dataproduct.Float(17), Filter: "g\x00r"},
		{Magnitude: dataproduct.Float(17), Filter: "g", Telescope: "ATLAS\x1b[31m"},
		{Magnitude: dataproduct.Float(17), Filter: "g", Extra: map[string]any{"note": "a\x00b"}},
	} {
		bad = append([]dataproduct.Datum(nil), ds...)
		bad[42].Value = v
		_, err = s.AddDatums(ctx, dataproduct.Datums(bad))
		assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum, "a control character (NUL) in %#v", v)
		assert.Equal(t, 0, countDatums(t, s, 1))
	}

	bad = append([]dataproduct.Datum(nil), ds...)
	bad[10].ProductID = 987654
	_, err = s.AddDatums(ctx, dataproduct.Datums(bad))
	assert.ErrorIs(t, err, dataproduct.ErrNotFound, "a datum of an unknown product")
	assert.Equal(t, 0, countDatums(t, s, 1))

	res, err := s.AddDatums(ctx, dataproduct.Datums(ds))
	require.NoError(t, err)
	assert.Equal(t, 100, res.Added, "the good batch goes in whole afterwards")
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func testIngestCancelled(t *testing.T, s dataproduct.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 5000
	seq := func(yield func(dataproduct.Datum, error) bool) {
		for i := range n {
			if i == n/2 {
				cancel() // half-way through the ingest
			}
			if !yield(Phot(1, i, 17), nil) {
				return
			}
		}
	}
	_, err := s.AddDatums(ctx, seq)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, countDatums(t, s, 1), "a cancelled ingest stores nothing")
}

func testListDatumsFilters(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	p := put(t, s, 1, "f.txt", "x")
	var ds []dataproduct.Datum
	for i := range 10 {
		d := Phot(1, 9-i, 17) // inserted in reverse time order
		d.Value = dataproduct.Photometry{Magnitude: dataproduct.Float(float64(i)), Filter: "g"}
		if i%2 == 0 {
			d.Source = "EVEN"
			d.ProductID = p.ID
		}
		ds = append(ds, d)
	}
	spec := dataproduct.Datum{TargetID: 1, DataType: dataproduct.TypeSpectroscopy, Timestamp: T0, Source: "EVEN",
		Value: dataproduct.Spectrum{Wavelength: []float64{1, 2}, Flux: []float64{3, 4}, FluxUnits: "u", WavelengthUnits: "Angstrom"}}
	ds = append(ds, spec, Phot(2, 0, 1))
	_, err := s.AddDatums(ctx, dataproduct.Datums(ds))
	require.NoError(t, err)

	list := func(f dataproduct.DatumFilter) []dataproduct.Datum {
		out, err := s.ListDatums(ctx, f)
		require.NoError(t, err)
		return out
	}
	all := list(dataproduct.DatumFilter{TargetID: 1})
	require.Len(t, all, 11)
	for i := 1; i < len(all); i++ {
		assert.False(t, all[i].Timestamp.Before(all[i-1].Timestamp), "ordered by time")
	}
	assert.Len(t, list(dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypePhotometry}), 10)
	assert.Len(t, list(dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypeSpectroscopy}), 1)
	assert.Len(t, list(dataproduct.DatumFilter{TargetID: 1, Source: "EVEN"}), 6)
	assert.Len(t, list(dataproduct.DatumFilter{ProductID: p.ID}), 5)
	win := list(dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypePhotometry,
		From: T0.Add(2 * time.Hour), To: T0.Add(5 * time.Hour)})
	require.Len(t, win, 3, "From inclusive, To exclusive")
	assert.True(t, win[0].Timestamp.Equal(T0.Add(2*time.Hour)))
	first := list(dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypePhotometry, Limit: 4})
	require.Len(t, first, 4)
	assert.True(t, first[0].Timestamp.Equal(T0), "Limit keeps the oldest")
	newest := list(dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypePhotometry, Limit: 4, Newest: true})
	require.Len(t, newest, 4)
	assert.True(t, newest[0].Timestamp.Equal(T0.Add(6*time.Hour)), "Newest keeps the newest: %v", newest[0].Timestamp)
	assert.True(t, newest[3].Timestamp.Equal(T0.Add(9*time.Hour)), "still oldest first")
	assert.Len(t, list(dataproduct.DatumFilter{TargetID: 2}), 1)
	assert.Len(t, list(dataproduct.DatumFilter{}), 12)
}

// pageSample stores 25 photometry datums of target 1 at hours 0..24,
// inserted out of time order, three of them sharing hour 10 (told apart
// by their magnitudes, ordered by ID), and one datum of target 2.
func pageSample(t *testing.T, s dataproduct.Store) {
	t.Helper()
	var ds []dataproduct.Datum
	for i := range 23 {
		ds = append(ds, Phot(1, (i*7)%23, 17))
	}
	ds = append(ds, Phot(1, 10, 18), Phot(1, 10, 19), Phot(2, 0, 17))
	_, err := s.AddDatums(context.Background(), dataproduct.Datums(ds))
	require.NoError(t, err)
}

func testListDatumsPages(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	pageSample(t, s)
	all, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	require.NoError(t, err)
	require.Len(t, all, 25)
	ids := func(ds []dataproduct.Datum) []int64 {
		out := []int64{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	for _, c := range []struct {
		limit, offset int
		newest        bool
		want          []dataproduct.Datum
	}{
		{5, 0, false, all[:5]},
		{5, 5, false, all[5:10]},
		{5, 10, false, all[10:15]}, // the three hour-10 datums straddle no page: ID order is total
		{5, 23, false, all[23:]},
		{5, 25, false, nil},
		{5, 99, false, nil},
		{0, 20, false, all[20:]},
		{5, 0, true, all[20:]},
		{5, 5, true, all[15:20]},
		{5, 12, true, all[8:13]},
		{5, 22, true, all[:3]},
		{5, 25, true, nil},
		{0, 20, true, all[:5]},
		{0, 0, true, all},
	} {
		got, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1, Limit: c.limit, Offset: c.offset, Newest: c.newest})
		require.NoError(t, err)
		assert.Equal(t, ids(c.want), ids(got), "Limit %d, Offset %d, Newest %v: oldest first", c.limit, c.offset, c.newest)
	}
	// Pages of a newest-first table cover every datum once.
	seen := map[int64]int{}
	for page := 0; ; page++ {
		got, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1, Limit: 4, Offset: 4 * page, Newest: true})
		require.NoError(t, err)
		if len(got) == 0 {
			break
		}
		for _, d := range got {
			seen[d.ID]++
		}
	}
	assert.Len(t, seen, 25)
	for id, n := range seen {
		assert.Equal(t, 1, n, "datum %d listed once", id)
	}
}

func testCountDatums(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	count := func(f dataproduct.DatumFilter) int {
		n, err := s.CountDatums(ctx, f)
		require.NoError(t, err)
		return n
	}
	assert.Equal(t, 0, count(dataproduct.DatumFilter{}), "an empty store")
	assert.Equal(t, 0, count(dataproduct.DatumFilter{TargetID: 1}))
	pageSample(t, s)
	spec := dataproduct.Datum{TargetID: 1, DataType: dataproduct.TypeSpectroscopy, Timestamp: T0, Source: "OTHER",
		Value: dataproduct.Spectrum{Wavelength: []float64{1, 2}, Flux: []float64{3, 4}, FluxUnits: "u", WavelengthUnits: "Angstrom"}}
	_, err := s.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{spec}))
	require.NoError(t, err)
	for _, f := range []dataproduct.DatumFilter{
		{},
		{TargetID: 1},
		{TargetID: 2},
		{TargetID: 3},
		{TargetID: 1, DataType: dataproduct.TypePhotometry},
		{TargetID: 1, DataType: dataproduct.TypeSpectroscopy},
		{TargetID: 1, Source: "OTHER"},
		{TargetID: 1, From: T0.Add(10 * time.Hour), To: T0.Add(12 * time.Hour)},
		{DataType: dataproduct.TypePhotometry, From: T0.Add(20 * time.Hour)},
	} {
		list, err := s.ListDatums(ctx, f)
		require.NoError(t, err)
		assert.Equal(t, len(list), count(f), "%+v counts what it lists", f)
		f.Limit, f.Offset, f.Newest = 3, 2, true
		assert.Equal(t, len(list), count(f), "Limit, Offset and Newest do not change a count")
	}
	assert.Equal(t, 26, count(dataproduct.DatumFilter{TargetID: 1}))
	assert.Equal(t, 4, count(dataproduct.DatumFilter{TargetID: 1, From: T0.Add(10 * time.Hour), To: T0.Add(12 * time.Hour)}))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.CountDatums(cctx, dataproduct.DatumFilter{TargetID: 1})
	assert.ErrorIs(t, err, context.Canceled)
}

func testConcurrentWriters(t *testing.T, s dataproduct.Store) {
	ctx := context.Background()
	const writers, per = 8, 200
	// Every writer adds an overlapping window of the same 600 epochs.
	var wg sync.WaitGroup
	added := make([]int, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ds []dataproduct.Datum
			for i := range per {
				ds = append(ds, Phot(1, (w*50+i)%600, 17))
			}
			res, err := s.AddDatums(ctx, dataproduct.Datums(ds))
			added[w], errs[w] = res.Added, err
		}()
	}
	wg.Wait()
	unique := map[int]bool{}
	for w := range writers {
		for i := range per {
			unique[(w*50+i)%600] = true
		}
	}
	total := 0
	for w := range writers {
		require.NoError(t, errs[w])
		total += added[w]
	}
	assert.Equal(t, len(unique), total, "every epoch added exactly once across writers")
	assert.Equal(t, len(unique), countDatums(t, s, 1))
}
