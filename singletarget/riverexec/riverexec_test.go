package riverexec_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

var target = singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}

func window() url.Values { return url.Values{"min_date_mjd": {"60080"}, "max_date_mjd": {"60100"}} }

// newManager builds what a worker process builds from its settings: a
// Manager over a store, with the demo service talking to archive.
func newManager(t *testing.T, archive *demo.Archive, store dataproduct.Store) *singletarget.Manager {
	t.Helper()
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(demo.NewService(archive, "key-12345", 10*time.Millisecond)))
	return m
}

func testOptions() *riverexec.Options {
	return &riverexec.Options{FetchPollInterval: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond, Workers: 3, JobTimeout: time.Minute}
}

type opener func(t *testing.T, m *singletarget.Manager, opts *riverexec.Options) *riverexec.Executor

func sqliteOpener(t *testing.T) opener {
	path := filepath.Join(t.TempDir(), "jobs", "jobs.db")
	return func(t *testing.T, m *singletarget.Manager, opts *riverexec.Options) *riverexec.Executor {
		t.Helper()
		x, err := riverexec.Open(context.Background(), "sqlite://"+path, m, opts)
		require.NoError(t, err)
		t.Cleanup(func() { x.Close() })
		require.NoError(t, x.Migrate(context.Background()))
		return x
	}
}

// postgresOpener gives each test its own schema in TARGETDATA_POSTGRES_URL.
func postgresOpener(t *testing.T) opener {
	dbURL := os.Getenv("TARGETDATA_POSTGRES_URL")
	if dbURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TARGETDATA_POSTGRES_URL is not set in CI: .ci/run must start PostgreSQL")
		}
		t.Skip("TARGETDATA_POSTGRES_URL not set: PostgreSQL tests need a server (source .ci/postgres.sh)")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("riverexec_test_%d", rand.Int64N(1<<40))
	admin, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	return func(t *testing.T, m *singletarget.Manager, opts *riverexec.Options) *riverexec.Executor {
		t.Helper()
		pool, err := pgxpool.New(ctx, dbURL)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		opts.Schema = schema
		x, err := riverexec.NewPostgres(pool, m, opts)
		require.NoError(t, err)
		require.NoError(t, x.Migrate(ctx))
		return x
	}
}

func backends(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, sqliteOpener(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { fn(t, postgresOpener(t)) })
}

func wait(t *testing.T, x *riverexec.Executor, id singletarget.JobID) singletarget.JobStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := x.Wait(ctx, id)
	require.NoError(t, err, "job %s: %+v", id, st)
	return st
}

func start(t *testing.T, x *riverexec.Executor) {
	t.Helper()
	require.NoError(t, x.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = x.Stop(ctx)
	})
}

func TestRunsJobs(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		archive := demo.NewArchive("key-12345", 3)
		store := dataproduct.NewMemoryStore(nil)
		x := open(t, newManager(t, archive, store), testOptions())
		start(t, x)
		ctx := context.Background()
		var ids []singletarget.JobID
		for i := range 3 {
			tg := target
			tg.ID = int64(i + 1)
			id, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg, Params: window()})
			require.NoError(t, err)
			ids = append(ids, id)
		}
		for _, id := range ids {
			st := wait(t, x, id)
			require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
			assert.Equal(t, 40, st.Added)
			require.Len(t, st.Products, 1)
			require.NotNil(t, st.Remote)
			assert.Equal(t, "DEMO", st.Request.Service)
			assert.Equal(t, 1, st.Attempts, "snoozes use no attempt")
		}
		assert.Equal(t, 3, archive.Submitted)

		_, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: target, Params: url.Values{"max_date_mjd": {"1"}}})
		assert.ErrorIs(t, err, singletarget.ErrInvalidForm)
		_, err = x.Status(ctx, "999999")
		assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
		assert.NotErrorIs(t, err, singletarget.ErrNotFound)
		_, err = x.Status(ctx, "not-a-number")
		assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
		assert.ErrorIs(t, x.Cancel(ctx, "999999"), singletarget.ErrUnknownJob)
	})
}

// A worker stopped while its job waits on the remote task, and a new
// worker started on the same database: one remote task, one product, no
// duplicate datums.
func TestRestartResumesSameRemoteTask(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		archive := demo.NewArchive("key-12345", 8)
		store := dataproduct.NewMemoryStore(nil)
		ctx := context.Background()
		x1 := open(t, newManager(t, archive, store), testOptions())
		require.NoError(t, x1.Start(ctx))
		id, err := x1.Submit(ctx, singletarget.Request{Service: "DEMO", Target: target, Params: window()})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			st, err := x1.Status(ctx, id)
			return err == nil && st.Remote != nil && st.State == singletarget.JobRunning
		}, 30*time.Second, 10*time.Millisecond, "the remote task is recorded")
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t0 := time.Now()
		require.NoError(t, x1.Stop(sctx))
		t.Logf("stop took %s", time.Since(t0))
		cancel()
		mid, err := x1.Status(ctx, id)
		require.NoError(t, err)
		assert.False(t, mid.State.Done(), "stopped mid-task: %+v", mid)

		// A new worker process: its own Manager over the same store and archive.
		x2 := open(t, newManager(t, archive, store), testOptions())
		start(t, x2)
		t0 = time.Now()
		st := wait(t, x2, id)
		t.Logf("second worker took %s", time.Since(t0))
		require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
		assert.Equal(t, 1, archive.Submitted, "the remote task was queued exactly once")
		ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: target.ID})
		require.NoError(t, err)
		assert.Len(t, ps, 1)
		ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID})
		require.NoError(t, err)
		assert.Len(t, ds, 40, "no duplicate datums")
	})
}

func TestCancelAndFailure(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		archive := demo.NewArchive("key-12345", 1_000_000)
		store := dataproduct.NewMemoryStore(nil)
		m := newManager(t, archive, store)
		x := open(t, m, testOptions())
		start(t, x)
		ctx := context.Background()
		id, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: target, Params: window()})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			st, err := x.Status(ctx, id)
			return err == nil && st.Remote != nil && st.Remote.Polls >= 2
		}, 30*time.Second, 10*time.Millisecond)
		require.NoError(t, x.Cancel(ctx, id))
		st := wait(t, x, id)
		assert.Equal(t, singletarget.JobCancelled, st.State)

		// A job whose service refuses the key fails at once, not retried.
		bad := singletarget.NewManager(store, nil)
		require.NoError(t, bad.AddProcessor(demo.DataProductType, demo.Processor()))
		require.NoError(t, bad.AddService(demo.NewService(archive, "wrong-key", time.Millisecond)))
		xb := open(t, bad, testOptions())
		start(t, xb)
		id, err = xb.Submit(ctx, singletarget.Request{Service: "DEMO", Target: target, Params: window()})
		require.NoError(t, err)
		st = wait(t, xb, id)
		assert.Equal(t, singletarget.JobFailed, st.State)
		assert.Contains(t, st.Error, "unauthorized")
		assert.Equal(t, 1, st.Attempts)
	})
}

func TestInsertOnly(t *testing.T) {
	archive := demo.NewArchive("key-12345", 1)
	store := dataproduct.NewMemoryStore(nil)
	open := sqliteOpener(t)
	opts := testOptions()
	opts.InsertOnly = true
	web := open(t, newManager(t, archive, store), opts)
	assert.Error(t, web.Start(context.Background()), "a web process runs no jobs")
	ctx := context.Background()
	id, err := web.Submit(ctx, singletarget.Request{Service: "DEMO", Target: target, Params: window()})
	require.NoError(t, err)
	st, err := web.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobQueued, st.State)
	// The worker process picks it up.
	w := open(t, newManager(t, archive, store), testOptions())
	start(t, w)
	st = wait(t, web, id)
	assert.Equal(t, singletarget.JobSucceeded, st.State)
}

// Two workers on PostgreSQL share a batch: no job runs twice to completion.
func TestTwoWorkersShareABatch(t *testing.T) {
	open := postgresOpener(t)
	archive := demo.NewArchive("key-12345", 2)
	store := dataproduct.NewMemoryStore(nil)
	ctx := context.Background()
	counting := &countingStore{Store: store, puts: map[string]int{}}
	web := open(t, newManager(t, archive, counting), &riverexec.Options{InsertOnly: true})
	w1 := open(t, newManager(t, archive, counting), testOptions())
	w2 := open(t, newManager(t, archive, counting), testOptions())
	start(t, w1)
	start(t, w2)
	var ids []singletarget.JobID
	for i := range 20 {
		tg := target
		tg.ID = int64(100 + i)
		tg.Name = fmt.Sprintf("T%d", i)
		id, err := web.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg, Params: window()})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	for _, id := range ids {
		st := wait(t, web, id)
		require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
	}
	assert.Equal(t, 20, archive.Submitted, "one remote task per job")
	counting.mu.Lock()
	defer counting.mu.Unlock()
	assert.Len(t, counting.puts, 20)
	for name, n := range counting.puts {
		assert.Equal(t, 1, n, "product %s stored once", name)
	}
}

type countingStore struct {
	dataproduct.Store
	mu   sync.Mutex
	puts map[string]int
}

// ReplaceProduct counts the puts of services' results (the Manager's sink
// replaces).
func (c *countingStore) ReplaceProduct(ctx context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	c.mu.Lock()
	c.puts[fmt.Sprintf("%d/%s", p.TargetID, p.Name)]++
	c.mu.Unlock()
	return c.Store.ReplaceProduct(ctx, p, r)
}

func TestOpenErrors(t *testing.T) {
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	ctx := context.Background()
	_, err := riverexec.Open(ctx, "mysql://x", m, nil)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	assert.ErrorContains(t, err, "unknown scheme")
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = riverexec.Open(cctx, "postgres://u:hunter2-secret@127.0.0.1:1/db?connect_timeout=2", m, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2-secret")
	assert.True(t, strings.Contains(err.Error(), "cannot reach") || strings.Contains(err.Error(), "riverexec"), err.Error())
}
