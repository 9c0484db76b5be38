package atlas_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

func targets(n int) []singletarget.Target {
	out := make([]singletarget.Target, n)
	for i := range out {
		out[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("AT 2024x%c", 'a'+i), RA: 30 + 17*float64(i), Dec: 20 - 7*float64(i)}
	}
	return out
}

// TestPoolEndToEnd runs five queries on the Pool executor against a
// simulator that allows three writes a second: queueing is throttled
// (waited out by the pool and visible in its logs), tasks are polled,
// downloaded, deleted, processed and ingested, and every query makes
// exactly one remote task.
func TestPoolEndToEnd(t *testing.T) {
	t.Parallel()
	sim := atlastest.NewServer(t, &atlastest.Options{WriteRate: 3, WriteWindow: time.Second, Slots: 2})
	logs := &syncWriter{w: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := newService(t, sim, func(o *atlas.Options) { o.Logger = logger })
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{Logger: logger})
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddService(svc))
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 3, Logger: logger})
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(ctx)

	ts := targets(5)
	ids := make([]singletarget.JobID, len(ts))
	for i, tg := range ts {
		id, err := pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: tg, Params: window})
		require.NoError(t, err)
		ids[i] = id
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	products := map[int64]bool{}
	hi := 60336.0
	name := atlas.ProductName(60316, &hi, false)
	for i, id := range ids {
		st, err := pool.Wait(wctx, id)
		require.NoError(t, err)
		require.Equal(t, singletarget.JobSucceeded, st.State, "job %d: %s", i, st.Error)
		require.Len(t, st.Products, 1)
		require.NotNil(t, st.Remote)
		assert.Equal(t, name, st.Products[0].Name, "the query names the product")
		assert.Equal(t, ts[i].ID, st.Products[0].TargetID)
		products[st.Products[0].ID] = true
		assert.Positive(t, st.Added)
		ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: ts[i].ID})
		require.NoError(t, err)
		assert.Len(t, ds, st.Added, "every datum ingested once")
		for _, d := range ds {
			assert.Equal(t, "ATLAS", d.Source)
			assert.Equal(t, st.Products[0].ID, d.ProductID)
		}
	}
	assert.Len(t, products, 5)

	st := sim.Stats()
	assert.Equal(t, 5, st.TasksCreated, "exactly one remote task per query")
	assert.Equal(t, 5, st.TasksByUser["tester"])
	assert.Equal(t, 5, st.Downloads)
	assert.Positive(t, st.Throttled, "the write throttle was hit")
	assert.LessOrEqual(t, st.MaxRunning, 2, "two run slots")
	assert.Contains(t, logs.String(), "job throttled")
	assert.NotContains(t, logs.String(), sim.Token.Reveal())

	assert.Empty(t, svc.PendingCleanup(), "throttled deletes were waited out by the jobs")
	for _, task := range sim.Tasks() {
		assert.Equal(t, "deleted", task.State, "task %d cleaned up", task.ID)
	}
}

func TestPoolWithActiveTaskLimit(t *testing.T) {
	t.Parallel()
	sim := atlastest.NewServer(t, &atlastest.Options{MaxActivePerToken: 2, RunTime: 300 * time.Millisecond})
	svc := newService(t, sim, nil)
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 4})
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(ctx)
	var ids []singletarget.JobID
	for _, tg := range targets(4) {
		id, err := pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: tg, Params: window})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, id := range ids {
		st, err := pool.Wait(wctx, id)
		require.NoError(t, err)
		assert.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	}
	stats := sim.Stats()
	assert.Equal(t, 2, stats.MaxActive, "never more than two tasks active")
	assert.Positive(t, stats.Throttled)
	assert.Equal(t, 4, stats.TasksCreated)
}

func TestImmediateEndToEnd(t *testing.T) {
	t.Parallel()
	sim := atlastest.NewServer(t, nil)
	sim.ThrottleNext(time.Second)
	svc := newService(t, sim, nil)
	store := dataproduct.NewMemoryStore(nil)
	m := manager(t, svc, store)
	exec := singletarget.NewImmediate(m)
	var mu sync.Mutex
	var stages []string
	pctx := singletarget.WithProgress(ctx, func(p singletarget.Progress) {
		mu.Lock()
		defer mu.Unlock()
		stages = append(stages, p.Stage)
	})
	id, err := exec.Submit(pctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	st, err := exec.Status(ctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	assert.Len(t, st.Products, 1)
	assert.Positive(t, st.Added)
	mu.Lock()
	assert.Contains(t, stages, singletarget.StageThrottled, "the 429 wait is visible as progress")
	assert.Contains(t, stages, singletarget.StageProcessing)
	mu.Unlock()
	assert.Equal(t, 1, sim.Stats().TasksCreated)
	assert.Equal(t, 1, sim.Stats().Deletes)

	_, err = exec.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: map[string][]string{"min_date_mjd": {"x"}}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe, "bad params come back from Submit")
	assert.NotEmpty(t, fe.Fields["min_date_mjd"])
}

func TestPoolCancelWithdrawsTheRemoteTask(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	sim.StickNextTask(1)
	svc := newService(t, sim, func(o *atlas.Options) {
		o.PollQueued, o.PollRunning, o.PollMax = 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond
	})
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	pool := singletarget.NewPool(m, nil)
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(ctx)
	id, err := pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := pool.Status(ctx, id)
		require.NoError(t, err)
		if st.Remote != nil && st.Remote.State == atlas.StateRunning {
			break
		}
		require.True(t, time.Now().Before(deadline), "the remote task never ran")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, pool.Cancel(ctx, id))
	st, err := pool.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobCancelled, st.State)
	assert.Eventually(t, func() bool { return len(sim.Tasks()) == 0 }, 5*time.Second, 5*time.Millisecond,
		"the running remote task is deleted")
	assert.Equal(t, 1, sim.Stats().Deletes)
}

func TestClientFetch(t *testing.T) {
	t.Parallel()
	sim := atlastest.NewServer(t, nil)
	c, err := atlas.New(sim.URL, sim.Token, fastOptions(sim, nil))
	require.NoError(t, err)
	sim.ThrottleNext(time.Second)
	var mu sync.Mutex
	var msgs []string
	pctx := singletarget.WithProgress(ctx, func(p singletarget.Progress) {
		mu.Lock()
		defer mu.Unlock()
		msgs = append(msgs, p.Stage+": "+p.Message)
	})
	task, body, err := c.Fetch(pctx, atlas.QueueRequest{RA: ngc1566.RA, Dec: ngc1566.Dec, MJDMin: f64(60316), MJDMax: f64(60336)})
	require.NoError(t, err)
	assert.Equal(t, atlastest.GenerateResult(ngc1566.RA, ngc1566.Dec, 60316, 60336), body)
	assert.Equal(t, atlas.StateFinished, task.State())
	mu.Lock()
	assert.Contains(t, msgs, "throttled: throttled for 1 s")
	mu.Unlock()
	assert.Equal(t, "deleted", sim.Tasks()[0].State)
	assert.Equal(t, 1, sim.Stats().TasksCreated)

	// A task that finishes with an error is terminal, never a loop.
	_, _, err = c.Fetch(ctx, atlas.QueueRequest{RA: 1, Dec: -89.9, MJDMin: f64(60316)})
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.Equal(t, "deleted", sim.Tasks()[1].State)

	// A task that never finishes ends at the deadline, or with ctx.
	sim.StickNextTask(2)
	slow, err := atlas.New(sim.URL, sim.Token, fastOptions(sim, func(o *atlas.Options) { o.Deadline = 50 * time.Millisecond }))
	require.NoError(t, err)
	_, err = slow.QueueAndWait(ctx, atlas.QueueRequest{RA: 1, Dec: 2, MJDMin: f64(60316)})
	assert.ErrorIs(t, err, singletarget.ErrDeadline)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = c.QueueAndWait(cctx, atlas.QueueRequest{RA: 1, Dec: 2, MJDMin: f64(60316)})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
