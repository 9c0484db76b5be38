package dataproduct_test

import (
	"context"
	"runtime"
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

// atlasLike makes n photometry datums as the ATLAS processor gives them
// (magnitude or limit, error, flux, flux error, MJD, filter, telescope),
// epochs start .. start+n-1.
func atlasLike(start, n int) []dataproduct.Datum {
	ds := make([]dataproduct.Datum, n)
	t0 := time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC)
	for k := range ds {
		i := start + k
		ts := t0.Add(time.Duration(i) * 864 * time.Second)
		p := dataproduct.Photometry{Filter: "o", Telescope: "ATLAS", FluxUJy: dataproduct.Float(float64(300 + i%200)),
			FluxErrUJy: dataproduct.Float(float64(20 + i%30)), MJD: dataproduct.Float(57174 + float64(i)*0.01)}
		if i%4 == 0 {
			p.Limit, p.LimitSigma = dataproduct.Float(19.4+float64(i%50)/100), 3
		} else {
			p.Magnitude, p.Error = dataproduct.Float(17+float64(i%1000)/1000), dataproduct.Float(0.05+float64(i%7)/100)
		}
		if i%3 == 0 {
			p.Filter = "c"
		}
		ds[k] = dataproduct.Datum{TargetID: 1 + int64(i%10), ProductID: 0, DataType: dataproduct.TypePhotometry,
			Timestamp: ts, Source: "ATLAS", Value: p}
	}
	return ds
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemoryStoreFootprint stores 1,000,000 ATLAS-like photometry
// datums (20,000 with -short) in a MemoryStore, in 10,000-datum ingests,
// and reports the live heap the store holds per datum after a full
// collection (heap-B/datum; the goal is at most 200) and its ratio to that
// goal (of-goal, ≤ 1 meets it).
func BenchmarkMemoryStoreFootprint(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 20_000
	}
	const goal = 200
	ctx := context.Background()
	for b.Loop() {
		before := liveHeap()
		store := dataproduct.NewMemoryStore(nil)
		for start := 0; start < n; start += 10_000 {
			res, err := store.AddDatums(ctx, dataproduct.Datums(atlasLike(start, min(10_000, n-start))))
			if err != nil || res.Added != min(10_000, n-start) {
				b.Fatalf("added %+v, %v", res, err)
			}
		}
		per := float64(liveHeap()-before) / float64(n)
		runtime.KeepAlive(store)
		b.ReportMetric(per, "heap-B/datum")
		b.ReportMetric(per/goal, "of-goal")
	}
}
