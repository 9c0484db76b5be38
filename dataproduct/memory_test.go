package dataproduct_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dataproduct.Store { return dataproduct.NewMemoryStore(nil) })
}

// The store keeps photometry in fixed fields: every combination of
// present and absent numbers comes back as it went in, as a Photometry
// value of its own (not the caller's pointers).
func TestMemoryStorePhotometryFields(t *testing.T) {
	ctx := context.Background()
	s := dataproduct.NewMemoryStore(nil)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var in []dataproduct.Datum
	for mask := range 1 << 7 {
		f := func(bit int, v float64) *float64 {
			if mask&(1<<bit) == 0 {
				return nil
			}
			return dataproduct.Float(v)
		}
		p := dataproduct.Photometry{Magnitude: f(0, 17.25), Error: f(1, 0.031), Limit: f(2, 19.5), FluxUJy: f(3, -12),
			FluxErrUJy: f(4, 0), MJD: f(5, 60370.000011574), Filter: []string{"", "o", "c"}[mask%3], Telescope: "ATLAS"}
		if mask&(1<<6) != 0 {
			p.LimitSigma = 3
		}
		var v any = p
		if mask%5 == 0 {
			v = &p // a pointer comes back as a value
		}
		in = append(in, dataproduct.Datum{TargetID: 1, DataType: dataproduct.TypePhotometry, Source: "ATLAS",
			Timestamp: t0.Add(time.Duration(mask) * time.Hour), Value: v})
	}
	res, err := s.AddDatums(ctx, dataproduct.Datums(in))
	require.NoError(t, err)
	require.Equal(t, len(in), res.Added)
	out, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	require.NoError(t, err)
	require.Len(t, out, len(in))
	for i, d := range out {
		want := in[i].Value
		if p, ok := want.(*dataproduct.Photometry); ok {
			want = *p
		}
		require.IsType(t, dataproduct.Photometry{}, d.Value)
		assert.Equal(t, want, d.Value, "datum %d", i)
	}
	// Changing what came back changes nothing stored.
	p := out[1].Value.(dataproduct.Photometry)
	*p.Magnitude = 1
	again, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	require.NoError(t, err)
	assert.Equal(t, 17.25, *again[1].Value.(dataproduct.Photometry).Magnitude)
	res, err = s.AddDatums(ctx, dataproduct.Datums(in))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Skipped: len(in)}, res)
}

// Values that are not plain photometry are kept as given, de-duplicated by
// their canonical value like the rest.
func TestMemoryStoreOtherValues(t *testing.T) {
	ctx := context.Background()
	s := dataproduct.NewMemoryStore(nil)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	extra := dataproduct.Photometry{Magnitude: dataproduct.Float(17), Extra: map[string]any{"obs": "02a60000o0001c"}}
	raw := json.RawMessage(`{"magnitude": 17, "filter": "g"}`)
	spec := dataproduct.Spectrum{Wavelength: []float64{1, 2}, Flux: []float64{3, 4}, FluxUnits: "u", WavelengthUnits: "Angstrom"}
	in := []dataproduct.Datum{
		{TargetID: 2, DataType: dataproduct.TypePhotometry, Source: "A", Timestamp: t0, Value: extra},
		{TargetID: 2, DataType: dataproduct.TypePhotometry, Source: "B", Timestamp: t0.Add(time.Hour), Value: raw},
		{TargetID: 2, DataType: dataproduct.TypeSpectroscopy, Source: "C", Timestamp: t0.Add(2 * time.Hour), Value: spec},
		{TargetID: 2, DataType: "custom", Source: "D", Timestamp: t0.Add(3 * time.Hour), Value: map[string]int{"n": 1}},
	}
	res, err := s.AddDatums(ctx, dataproduct.Datums(in))
	require.NoError(t, err)
	assert.Equal(t, 4, res.Added)
	out, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 2})
	require.NoError(t, err)
	require.Len(t, out, 4)
	for i := range in {
		assert.Equal(t, in[i].Value, out[i].Value)
		assert.Equal(t, in[i].Source, out[i].Source)
	}
	only, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 2, DataType: dataproduct.TypePhotometry, Source: "B"})
	require.NoError(t, err)
	require.Len(t, only, 1)
	assert.Equal(t, raw, only[0].Value)
	// The same photometry as a plain value is a duplicate of the raw one.
	dup := in[1]
	dup.Value = dataproduct.Photometry{Magnitude: dataproduct.Float(17), Filter: "g"}
	res, err = s.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{dup}))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Skipped: 1}, res)
}

// Strings are interned in a table of 65,536; beyond it datums are kept as
// given, and nothing is lost or duplicated.
func TestMemoryStoreStringTableFull(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 70,000 datums; skipped with -short")
	}
	ctx := context.Background()
	s := dataproduct.NewMemoryStore(nil)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 70_000
	ds := make([]dataproduct.Datum, n)
	for i := range ds {
		ds[i] = dataproduct.Datum{TargetID: 3, DataType: dataproduct.TypePhotometry, Source: "S",
			Timestamp: t0.Add(time.Duration(i) * time.Second),
			Value:     dataproduct.Photometry{Magnitude: dataproduct.Float(17), Filter: fmt.Sprintf("f%d", i)}}
	}
	// In two calls, so that the table fills up in the middle of the second.
	for _, part := range [][]dataproduct.Datum{ds[:40_000], ds[40_000:]} {
		res, err := s.AddDatums(ctx, dataproduct.Datums(part))
		require.NoError(t, err)
		require.Equal(t, len(part), res.Added)
	}
	out, err := s.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 3, DataType: dataproduct.TypePhotometry, Source: "S"})
	require.NoError(t, err)
	require.Len(t, out, n)
	for i, d := range out {
		require.Equal(t, fmt.Sprintf("f%d", i), d.Value.(dataproduct.Photometry).Filter)
	}
	res, err := s.AddDatums(ctx, dataproduct.Datums(ds))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Skipped: n}, res)
}

// Deleting a product removes its datums from the key index of every
// target, so they can be added again, and leaves the others found.
func TestMemoryStoreDeleteReindexes(t *testing.T) {
	ctx := context.Background()
	s := dataproduct.NewMemoryStore(nil)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	put := func(name string) int64 {
		p, err := s.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: name, DataProductType: "x"}, strings.NewReader(name))
		require.NoError(t, err)
		return p.ID
	}
	a, b := put("a.txt"), put("b.txt")
	var ofA, ofB []dataproduct.Datum
	for i := range 3000 {
		d := dataproduct.Datum{TargetID: int64(1 + i%3), DataType: dataproduct.TypePhotometry, Source: "S",
			Timestamp: t0.Add(time.Duration(i) * time.Minute), Value: dataproduct.Photometry{Magnitude: dataproduct.Float(float64(i))}}
		if i%2 == 0 {
			d.ProductID = a
			ofA = append(ofA, d)
		} else {
			d.ProductID = b
			ofB = append(ofB, d)
		}
	}
	res, err := s.AddDatums(ctx, dataproduct.Datums(append(append([]dataproduct.Datum(nil), ofA...), ofB...)))
	require.NoError(t, err)
	require.Equal(t, 3000, res.Added)
	require.NoError(t, s.DeleteProduct(ctx, a))
	all, err := s.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	assert.Len(t, all, len(ofB))
	res, err = s.AddDatums(ctx, dataproduct.Datums(ofB))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Skipped: len(ofB)}, res, "the kept datums are still found")
	a2 := put("a.txt")
	for i := range ofA {
		ofA[i].ProductID = a2
	}
	res, err = s.AddDatums(ctx, dataproduct.Datums(ofA))
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: len(ofA)}, res, "the deleted datums can be added again")
}

// Time bounds between two microseconds, and before 1970, select as
// DatumFilter.Match does on the stored (microsecond) timestamps.
func TestMemoryStoreTimeBounds(t *testing.T) {
	ctx := context.Background()
	s := dataproduct.NewMemoryStore(nil)
	var in []dataproduct.Datum
	for _, t0 := range []time.Time{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} {
		for i := range 5 {
			in = append(in, dataproduct.Datum{TargetID: 1, DataType: "photometry", Source: "S",
				Timestamp: t0.Add(time.Duration(i) * time.Microsecond), Value: dataproduct.Photometry{Magnitude: dataproduct.Float(float64(i))}})
		}
	}
	_, err := s.AddDatums(ctx, dataproduct.Datums(in))
	require.NoError(t, err)
	stored, err := s.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	for _, base := range []int{0, 5} {
		t0 := in[base].Timestamp
		for _, f := range []dataproduct.DatumFilter{
			{From: t0.Add(1500 * time.Nanosecond)},
			{To: t0.Add(2500 * time.Nanosecond)},
			{From: t0.Add(time.Microsecond), To: t0.Add(3 * time.Microsecond)},
			{From: t0.Add(-time.Nanosecond), To: t0.Add(time.Nanosecond)},
		} {
			got, err := s.ListDatums(ctx, f)
			require.NoError(t, err)
			var want []dataproduct.Datum
			for _, d := range stored {
				if f.Match(d) {
					want = append(want, d)
				}
			}
			assert.Equal(t, want, got, "filter %+v", f)
		}
	}
}
