package sqlstore_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
)

// The benchmarks here measure the store against a floor, in the same
// run, on the same schema and the same rows: for SQLite a plain prepared
// single-row INSERT, for PostgreSQL a raw COPY. Sizes: 200,000 and
// 2,000,000 datums for SQLite and 1,000,000 for PostgreSQL; with -short
// 10,000 and 40,000, and 20,000. TARGETDATA_BENCH_SIZES sets them
// ("200000,2000000").

func floorSizes(b *testing.B, full, short []int) []int {
	sizes := full
	if testing.Short() || os.Getenv("TARGETDATA_BENCH_SMALL") != "" {
		sizes = short
	}
	if v := os.Getenv("TARGETDATA_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range splitComma(v) {
			n, err := strconv.Atoi(f)
			if err != nil || n <= 0 {
				b.Fatalf("TARGETDATA_BENCH_SIZES=%q: %q is not a positive integer", v, f)
			}
			sizes = append(sizes, n)
		}
	}
	return sizes
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// benchDatum is datum i of benchDatums, built on the fly so that millions
// of them never sit in memory.
func benchDatum(target, product int64, i int) dataproduct.Datum {
	ts := benchT0.Add(time.Duration(i) * 864 * time.Second)
	mjd := 40587 + float64(ts.UnixMicro())/86400e6
	filter := "o"
	if i%3 == 0 {
		filter = "c"
	}
	return dataproduct.Datum{
		TargetID: target, ProductID: product, DataType: dataproduct.TypePhotometry, Timestamp: ts, Source: "ATLAS",
		Value: dataproduct.Photometry{
			Magnitude: dataproduct.Float(17 + float64(i%1000)/1000), Error: dataproduct.Float(0.05 + float64(i%7)/100),
			Filter: filter, Telescope: "ATLAS",
			FluxUJy: dataproduct.Float(478 - float64(i%100)), FluxErrUJy: dataproduct.Float(13), MJD: dataproduct.Float(mjd),
		},
	}
}

func benchSeq(target, product int64, n int) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		for i := range n {
			if !yield(benchDatum(target, product, i), nil) {
				return
			}
		}
	}
}

// floorRow is datum i as the floors write it: the store's columns, with
// the canonical value and key computed as the store computes them, so
// that the floor does the same work outside the database.
type floorRow struct {
	key      dataproduct.Key
	target   int64
	product  int64
	dataType string
	ts       int64
	source   string
	json     string
}

func makeFloorRow(b *testing.B, target, product int64, i int) floorRow {
	d := benchDatum(target, product, i)
	canon, err := dataproduct.CanonicalValue(d.Value)
	if err != nil {
		b.Fatal(err)
	}
	ts := dataproduct.NormalizeTime(d.Timestamp)
	return floorRow{key: dataproduct.KeyOf(d.TargetID, d.DataType, ts, canon), target: d.TargetID, product: d.ProductID,
		dataType: d.DataType, ts: ts.UnixMicro(), source: d.Source, json: string(canon)}
}

// floorSQLiteCache is the floor's page cache: 512 MiB, more than the
// indexes of 2,000,000 datums take.
const floorSQLiteCache = 512 << 20

// sqliteFloor inserts n rows into the store's own database file (schema
// and pragmas as the store set them, page cache floorSQLiteCache) with one
// prepared single-row INSERT in one transaction, and returns how long it
// took.
func sqliteFloor(b *testing.B, st *sqlstore.Store, product int64, n int) time.Duration {
	ctx := context.Background()
	db := st.DB() // the store's one writer connection
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", floorSQLiteCache>>10)); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO targetdata_datums
		(datum_key, target_id, product_id, data_type, ts_us, source, value_json, value_bin) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		r := makeFloorRow(b, 1, product, i)
		if _, err := stmt.ExecContext(ctx, r.key[:], r.target, r.product, r.dataType, r.ts, r.source, r.json); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// BenchmarkSQLiteIngestVsInsert ingests one product of n datums (200,000
// and 2,000,000) into a fresh SQLite store with its default settings, and
// inserts the same rows into another fresh store's database with a plain
// prepared INSERT (sqliteFloor). Per size it reports both rates and their
// ratio (ratio-N, store/floor: the goal is ≥ 0.9); across sizes, the
// store's rate at the largest size over its rate at the smallest (flat;
// the goal is ≥ 0.9). The cpu- figures are the same ratios of CPU time
// (the database runs in the process, so that is nearly all of its cost),
// steadier than wall time on a shared machine.
func BenchmarkSQLiteIngestVsInsert(b *testing.B) {
	sizes := floorSizes(b, []int{200_000, 2_000_000}, []int{10_000, 40_000})
	ctx := context.Background()
	open := func(b *testing.B) (*sqlstore.Store, int64) {
		st := openStore(b, "sqlite://"+filepath.ToSlash(filepath.Join(b.TempDir(), "bench.db")), nil)
		return st, putBenchProduct(b, st, "product.txt")
	}
	for b.Loop() {
		rates, cpuRates := map[int]float64{}, map[int]float64{}
		for _, n := range sizes {
			fst, fprod := open(b)
			c0 := cpuTime()
			floor := sqliteFloor(b, fst, fprod, n)
			floorCPU := cpuTime() - c0
			fst.Close()

			st, prod := open(b)
			t0, c0 := time.Now(), cpuTime()
			res, err := st.AddDatums(ctx, benchSeq(1, prod, n))
			took, cpu := time.Since(t0), cpuTime()-c0
			if err != nil || res.Added != n {
				b.Fatalf("added %+v, %v", res, err)
			}
			st.Close()
			rates[n] = float64(n) / took.Seconds()
			cpuRates[n] = float64(n) / cpu.Seconds()
			b.ReportMetric(rates[n], fmt.Sprintf("store-datums/s-%d", n))
			b.ReportMetric(float64(n)/floor.Seconds(), fmt.Sprintf("floor-rows/s-%d", n))
			b.ReportMetric(floor.Seconds()/took.Seconds(), fmt.Sprintf("ratio-%d", n))
			b.ReportMetric(floorCPU.Seconds()/cpu.Seconds(), fmt.Sprintf("cpu-ratio-%d", n))
		}
		large, small := sizes[len(sizes)-1], sizes[0]
		b.ReportMetric(rates[large]/rates[small], "flat")
		b.ReportMetric(cpuRates[large]/cpuRates[small], "cpu-flat")
	}
}

// postgresFloor copies n rows into the datum table of the store's schema
// with one raw COPY (pgx's CopyFrom, binary format) in one transaction,
// and returns how long it took.
func postgresFloor(b *testing.B, st *sqlstore.Store, product int64, n int) time.Duration {
	ctx := context.Background()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	t0 := time.Now()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			r := makeFloorRow(b, 1, product, i)
			i++
			return []any{r.key[:], r.target, r.product, r.dataType, r.ts, r.source, r.json}, nil
		})
		copied, err := tx.CopyFrom(ctx, pgx.Identifier{"targetdata_datums"},
			[]string{"datum_key", "target_id", "product_id", "data_type", "ts_us", "source", "value_json"}, src)
		if err != nil {
			return err
		}
		if copied != int64(n) {
			return fmt.Errorf("copied %d rows, want %d", copied, n)
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// BenchmarkPostgresIngestVsCopy ingests one product of 1,000,000 datums
// into a fresh PostgreSQL store (a schema of its own) and copies the same
// rows into another fresh store's datum table with a raw COPY
// (postgresFloor), and reports both rates and their ratio (ratio,
// store/COPY: the goal is ≥ 0.5). It needs TARGETDATA_POSTGRES_URL.
func BenchmarkPostgresIngestVsCopy(b *testing.B) {
	sizes := floorSizes(b, []int{1_000_000}, []int{20_000})
	ctx := context.Background()
	open := func(b *testing.B) (*sqlstore.Store, int64) {
		st := openStore(b, sqlstore.PostgresURLForTest(b), &sqlstore.Options{BlobURL: "mem://"})
		return st, putBenchProduct(b, st, "product.txt")
	}
	for b.Loop() {
		for _, n := range sizes {
			fst, fprod := open(b)
			floor := postgresFloor(b, fst, fprod, n)
			fst.Close()

			st, prod := open(b)
			t0 := time.Now()
			res, err := st.AddDatums(ctx, benchSeq(1, prod, n))
			took := time.Since(t0)
			if err != nil || res.Added != n {
				b.Fatalf("added %+v, %v", res, err)
			}
			st.Close()
			b.ReportMetric(float64(n)/took.Seconds(), fmt.Sprintf("store-datums/s-%d", n))
			b.ReportMetric(float64(n)/floor.Seconds(), fmt.Sprintf("copy-rows/s-%d", n))
			b.ReportMetric(floor.Seconds()/took.Seconds(), fmt.Sprintf("ratio-%d", n))
		}
	}
}
