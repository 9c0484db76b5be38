package dataproduct_test

import (
	"context"
	"testing"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
)

// photometrySet makes n photometry datums for one target, one per minute.
func photometrySet(n, offset int) []dataproduct.Datum {
	ds := make([]dataproduct.Datum, n)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ds {
		k := i + offset
		ds[i] = dataproduct.Datum{
			TargetID: 1, DataType: dataproduct.TypePhotometry, Source: "BENCH",
			Timestamp: t0.Add(time.Duration(k) * time.Minute),
			Value: dataproduct.Photometry{Magnitude: dataproduct.Float(15 + float64(k%500)/100), Error: dataproduct.Float(0.05),
				Filter: "o", Telescope: "ATLAS"},
		}
	}
	return ds
}

// BenchmarkIngestAt1M adds a new 20,000-datum product to a target that
// already holds 1,000,000 datums, and re-adds the same product (which must
// add 0), in the in-memory store.
func BenchmarkIngestAt1M(b *testing.B) {
	existing := 1_000_000
	if testing.Short() {
		existing = 20_000
	}
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	base := photometrySet(existing, 0)
	if _, err := store.AddDatums(ctx, dataproduct.Datums(base)); err != nil {
		b.Fatal(err)
	}
	base = nil
	next := existing
	b.Run("add20k", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			b.StopTimer()
			batch := photometrySet(20_000, next)
			next += 20_000
			b.StartTimer()
			res, err := store.AddDatums(ctx, dataproduct.Datums(batch))
			b.StopTimer()
			if err != nil || res.Added != 20_000 {
				b.Fatalf("added %d, err %v", res.Added, err)
			}
		}
	})
	batch := photometrySet(20_000, existing-20_000) // the last 20,000 stored
	b.Run("readd20k", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			res, err := store.AddDatums(ctx, dataproduct.Datums(batch))
			if err != nil || res.Added != 0 || res.Skipped != 20_000 {
				b.Fatalf("re-adding: %+v, err %v", res, err)
			}
		}
	})
}
