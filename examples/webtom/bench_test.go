package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// BenchmarkTargetPage1M serves the page of a target with 1,000,000
// photometry datums (by default; -short: 10,000; TARGETDATA_BENCH_EXISTING
// sets it) in a SQLite store, and reports per view:
//
//   - page-ms, page-MB: the target page's time and the bytes it allocates;
//   - floor-ms: the floor, the same two queries bare (SELECT COUNT(*) of
//     the target; its newest 20 rows, scanned), on the same database in
//     the same run, and ratio = page-ms / floor-ms;
//   - plot-ms, plot-MB: drawing the light curve (the newest 5,000
//     points), not from the cache.
//
// ns/op is page + floor + plot. Storing the datums is set-up (setup-s).
func BenchmarkTargetPage1M(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 10_000
	}
	if v := os.Getenv("TARGETDATA_BENCH_EXISTING"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("TARGETDATA_BENCH_EXISTING=%q is not a positive integer", v)
		}
	}
	t0 := time.Now()
	ctx := context.Background()
	cfg, err := singletarget.ParseConfig([]byte(defaultSettings), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	if err := builtintest.Simulate(cfg, func(f func()) { b.Cleanup(f) }); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	dbFile := filepath.Join(dir, "targetdata.db")
	cfg.Database, cfg.Storage = "sqlite://"+dbFile, "file://"+filepath.Join(dir, "files")
	cfg.Tasks = singletarget.TasksConfig{Backend: "immediate"}
	app, err := builtin.Open(ctx, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := app.Close(); err != nil {
			b.Error(err)
		}
	})
	const chunk = 50_000
	for i := 0; i < n; i += chunk {
		if _, err := app.Store.AddDatums(ctx, dataproduct.Datums(manyDatums(i, min(chunk, n-i)))); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := newServer(app, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := srv.targets.add(targetInput{Name: "SN 2023ixf", RA: "210.910674", Dec: "54.311686"}); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbFile)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	setup := time.Since(t0)

	floor := func() {
		var count int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM targetdata_datums WHERE target_id = 1`).Scan(&count); err != nil || count != n {
			b.Fatalf("floor: count %d, %v", count, err)
		}
		rows, err := db.QueryContext(ctx, `SELECT id, ts_us, source, data_type, value_json FROM targetdata_datums
			WHERE target_id = 1 ORDER BY ts_us DESC, id DESC LIMIT 20`)
		if err != nil {
			b.Fatal(err)
		}
		k := 0
		for rows.Next() {
			var (
				id, ts      int64
				src, dt, js string
			)
			if err := rows.Scan(&id, &ts, &src, &dt, &js); err != nil {
				b.Fatal(err)
			}
			k++
		}
		if err := rows.Close(); err != nil || k != 20 {
			b.Fatalf("floor: %d rows, %v", k, err)
		}
	}
	get := func(path string) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, rec.Code)
		}
	}
	allocated := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.TotalAlloc
	}
	get("/targets/1") // warm the caches, as a served page would be
	floor()
	var pageT, floorT, plotT time.Duration
	var pageB, plotB uint64
	for b.Loop() {
		t := time.Now()
		floor()
		floorT += time.Since(t)

		a := allocated()
		t = time.Now()
		get("/targets/1")
		pageT += time.Since(t)
		pageB += allocated() - a

		srv.mu.Lock()
		clear(srv.plots)
		srv.mu.Unlock()
		a = allocated()
		t = time.Now()
		get("/targets/1/lightcurve.png")
		plotT += time.Since(t)
		plotB += allocated() - a
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	mb := func(x uint64) float64 { return float64(x) / (1 << 20) / float64(b.N) }
	b.ReportMetric(per(pageT), "page-ms")
	b.ReportMetric(mb(pageB), "page-MB")
	b.ReportMetric(per(floorT), "floor-ms")
	b.ReportMetric(float64(pageT)/float64(floorT), "ratio")
	b.ReportMetric(per(plotT), "plot-ms")
	b.ReportMetric(mb(plotB), "plot-MB")
	b.ReportMetric(setup.Seconds(), "setup-s")
	b.ReportMetric(float64(n), "datums")
}
