package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
)

// Benchmark sizes. The defaults are the figures the package is judged
// by: 1,000,000 datums already stored, a 20,000-datum product.
// -short (what CI runs: go test -run '^$' -bench . -benchtime 1x -short)
// or TARGETDATA_BENCH_SMALL=1 shrinks them to 10,000 and 2,000;
// TARGETDATA_BENCH_EXISTING
// and TARGETDATA_BENCH_PRODUCT set them exactly.
func benchSizes(b *testing.B) (existing, product int) {
	existing, product = 1_000_000, 20_000
	if testing.Short() || os.Getenv("TARGETDATA_BENCH_SMALL") != "" {
		existing, product = 10_000, 2_000
	}
	for env, dst := range map[string]*int{"TARGETDATA_BENCH_EXISTING": &existing, "TARGETDATA_BENCH_PRODUCT": &product} {
		if v := os.Getenv(env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				b.Fatalf("%s=%q is not a positive integer", env, v)
			}
			*dst = n
		}
	}
	if product > existing {
		b.Fatalf("the product (%d datums) must not be larger than what is stored (%d)", product, existing)
	}
	return existing, product
}

// benchDBs are the databases the benchmarks run on: a SQLite file, and
// PostgreSQL when TARGETDATA_POSTGRES_URL is set (a fresh schema).
var benchDBs = []struct {
	name string
	open func(b *testing.B) *sqlstore.Store
}{
	{"SQLite", func(b *testing.B) *sqlstore.Store {
		return openStore(b, "sqlite://"+filepath.ToSlash(filepath.Join(b.TempDir(), "bench.db")), nil)
	}},
	{"PostgreSQL", func(b *testing.B) *sqlstore.Store {
		return openStore(b, sqlstore.PostgresURLForTest(b), &sqlstore.Options{BlobURL: "mem://"})
	}},
}

var benchT0 = time.Date(2017, 9, 1, 0, 0, 0, 0, time.UTC)

// cpuTime is the CPU time (user + system) this process has used so far.
// Benchmarks report it beside wall time as client-cpu-s: on a shared
// machine it varies less, and for SQLite it is the whole cost (the
// database runs in the process); PostgreSQL's server time is not in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDatums builds n ATLAS-like photometry datums for a target, epochs
// i = start .. start+n-1, 864 s apart.
func benchDatums(target, product int64, start, n int) []dataproduct.Datum {
	ds := make([]dataproduct.Datum, n)
	for k := range ds {
		i := start + k
		ts := benchT0.Add(time.Duration(i) * 864 * time.Second)
		mjd := 40587 + float64(ts.UnixMicro())/86400e6
		mag := 17 + float64(i%1000)/1000
		filter := "o"
		if i%3 == 0 {
			filter = "c"
		}
		ds[k] = dataproduct.Datum{
			TargetID: target, ProductID: product, DataType: dataproduct.TypePhotometry,
			Timestamp: ts, Source: "ATLAS",
			Value: dataproduct.Photometry{
				Magnitude: dataproduct.Float(mag), Error: dataproduct.Float(0.05 + float64(i%7)/100),
				Filter: filter, Telescope: "ATLAS",
				FluxUJy: dataproduct.Float(478 - float64(i%100)), FluxErrUJy: dataproduct.Float(13),
				MJD: dataproduct.Float(mjd),
			},
		}
	}
	return ds
}

func putBenchProduct(b *testing.B, st *sqlstore.Store, name string) int64 {
	b.Helper()
	p, err := st.PutProduct(context.Background(), dataproduct.Product{TargetID: 1, Name: name, DataProductType: "atlas_photometry"},
		strings.NewReader("###MJD m dm\n"+name+"\n"))
	if err != nil {
		b.Fatal(err)
	}
	return p.ID
}

// BenchmarkIngest1M ingests 1,000,000 photometry datums (by default) into
// one target of an empty store, in one AddDatums call. Building the
// datums is set-up, reported apart as build-s; ns/op is the ingest alone.
func BenchmarkIngest1M(b *testing.B) {
	existing, _ := benchSizes(b)
	for _, db := range benchDBs {
		b.Run(fmt.Sprintf("%s/n=%d", db.name, existing), func(b *testing.B) {
			ctx := context.Background()
			t0 := time.Now()
			ds := benchDatums(1, 0, 0, existing)
			build := time.Since(t0)
			var cpu time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				st := db.open(b)
				c0 := cpuTime()
				b.StartTimer()
				res, err := st.AddDatums(ctx, dataproduct.Datums(ds))
				b.StopTimer()
				cpu += cpuTime() - c0
				if err != nil {
					b.Fatal(err)
				}
				if res.Added != existing {
					b.Fatalf("added %d, want %d", res.Added, existing)
				}
				st.Close()
			}
			b.ReportMetric(float64(existing)*float64(b.N)/b.Elapsed().Seconds(), "datums/s")
			b.ReportMetric(build.Seconds(), "build-s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "client-cpu-s/op")
		})
	}
}

// BenchmarkReingest20kAt1M stores 1,000,000 datums of one target (by
// default; set-up, reported as setup-s), the last 20,000 of them from one
// product, then measures:
//
//   - same: re-ingesting that product's 20,000 datums, which must add 0;
//   - new: ingesting a new 20,000-datum product, which must add all.
func BenchmarkReingest20kAt1M(b *testing.B) {
	existing, product := benchSizes(b)
	for _, db := range benchDBs {
		b.Run(fmt.Sprintf("%s/existing=%d/product=%d", db.name, existing, product), func(b *testing.B) {
			ctx := context.Background()
			t0 := time.Now()
			st := db.open(b)
			bulk := putBenchProduct(b, st, "bulk.txt")
			prod := putBenchProduct(b, st, "product.txt")
			ds := benchDatums(1, bulk, 0, existing-product)
			if _, err := st.AddDatums(ctx, dataproduct.Datums(ds)); err != nil {
				b.Fatal(err)
			}
			again := benchDatums(1, prod, existing-product, product)
			res, err := st.AddDatums(ctx, dataproduct.Datums(again))
			if err != nil || res.Added != product {
				b.Fatalf("set-up: %+v, %v", res, err)
			}
			setup := time.Since(t0)

			b.Run("same", func(b *testing.B) {
				c0 := cpuTime()
				for b.Loop() {
					res, err := st.AddDatums(ctx, dataproduct.Datums(again))
					if err != nil {
						b.Fatal(err)
					}
					if res.Added != 0 || res.Skipped != product {
						b.Fatalf("re-ingest gave %+v, want 0 added", res)
					}
				}
				b.ReportMetric(float64(product)*float64(b.N)/b.Elapsed().Seconds(), "datums/s")
				b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "client-cpu-s/op")
				b.ReportMetric(setup.Seconds(), "setup-s")
			})
			next := existing
			b.Run("new", func(b *testing.B) {
				var cpu time.Duration
				for i := range b.N {
					b.StopTimer()
					id := putBenchProduct(b, st, fmt.Sprintf("new-%d.txt", next))
					fresh := benchDatums(1, id, next, product)
					next += product
					c0 := cpuTime()
					b.StartTimer()
					res, err := st.AddDatums(ctx, dataproduct.Datums(fresh))
					b.StopTimer()
					cpu += cpuTime() - c0
					if err != nil {
						b.Fatal(err)
					}
					if res.Added != product {
						b.Fatalf("iteration %d: new product gave %+v, want %d added", i, res, product)
					}
				}
				b.ReportMetric(float64(product)*float64(b.N)/b.Elapsed().Seconds(), "datums/s")
				b.ReportMetric(cpu.Seconds()/float64(b.N), "client-cpu-s/op")
			})
		})
	}
}

// BenchmarkListDatums reads back a whole 20,000-datum product through
// ListDatums (by default; TARGETDATA_BENCH_PRODUCT sets the size).
func BenchmarkListDatums(b *testing.B) {
	_, product := benchSizes(b)
	for _, db := range benchDBs {
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			st := db.open(b)
			id := putBenchProduct(b, st, "p.txt")
			if _, err := st.AddDatums(ctx, dataproduct.Datums(benchDatums(1, id, 0, product))); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				ds, err := st.ListDatums(ctx, dataproduct.DatumFilter{ProductID: id})
				if err != nil || len(ds) != product {
					b.Fatalf("listed %d, %v", len(ds), err)
				}
			}
			b.ReportMetric(float64(product)*float64(b.N)/b.Elapsed().Seconds(), "datums/s")
		})
	}
}
