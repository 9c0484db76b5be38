package riverexec_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

// atlasManager builds what an ATLAS worker process builds.
func atlasManager(t *testing.T, sim *atlastest.Server, store dataproduct.Store) *singletarget.Manager {
	t.Helper()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: 30 * time.Millisecond,
		PollRunning: 30 * time.Millisecond, PollMax: 60 * time.Millisecond})
	require.NoError(t, err)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddService(svc))
	return m
}

// End to end against the ATLAS simulator: a worker stopped while its ATLAS
// task is pending, a new worker started on the same job database: one
// remote task, one product, no duplicate datums, the task deleted.
func TestATLASRestart(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 300 * time.Millisecond, RunTime: 1500 * time.Millisecond})
		store := dataproduct.NewMemoryStore(nil)
		ctx := context.Background()
		x1 := open(t, atlasManager(t, sim, store), testOptions())
		require.NoError(t, x1.Start(ctx))
		id, err := x1.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: target,
			Params: map[string][]string{"min_date_mjd": {"60080"}, "max_date_mjd": {"60110"}}})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			st, err := x1.Status(ctx, id)
			return err == nil && st.Remote != nil
		}, 30*time.Second, 10*time.Millisecond, "the remote task is recorded")
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		require.NoError(t, x1.Stop(sctx))
		cancel()
		assert.Equal(t, 1, sim.Stats().TasksCreated)

		x2 := open(t, atlasManager(t, sim, store), testOptions())
		start(t, x2)
		st := wait(t, x2, id)
		require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
		stats := sim.Stats()
		assert.Equal(t, 1, stats.TasksCreated, "the remote task was queued exactly once")
		assert.Equal(t, 1, stats.Deletes, "and deleted after download")
		ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: target.ID})
		require.NoError(t, err)
		require.Len(t, ps, 1)
		ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID})
		require.NoError(t, err)
		assert.Equal(t, st.Added, len(ds), "no duplicate datums")
		assert.Positive(t, len(ds))
	})
}

// A DELETE throttled past MaxFinishWait becomes a clean-up job in the job
// database: the query job succeeds, and the task is deleted later by
// another worker process even though the first one stopped.
func TestATLASCleanupOutlivesTheWorker(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 50 * time.Millisecond, RunTime: 100 * time.Millisecond})
		store := dataproduct.NewMemoryStore(nil)
		ctx := context.Background()
		manager := func() *singletarget.Manager {
			svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: 30 * time.Millisecond,
				PollRunning: 30 * time.Millisecond, PollMax: 60 * time.Millisecond})
			require.NoError(t, err)
			m := singletarget.NewManager(store, &singletarget.ManagerOptions{MaxFinishWait: time.Millisecond})
			require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
			require.NoError(t, m.AddService(svc))
			return m
		}
		// Every DELETE for the next few seconds is throttled.
		sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointDelete, Status: 429, RetryAfter: 2 * time.Second, Times: 2})
		x1 := open(t, manager(), testOptions())
		require.NoError(t, x1.Start(ctx))
		id, err := x1.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: target,
			Params: map[string][]string{"min_date_mjd": {"60080"}, "max_date_mjd": {"60110"}}})
		require.NoError(t, err)
		st := wait(t, x1, id)
		require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		require.NoError(t, x1.Stop(sctx))
		cancel()
		require.Len(t, sim.Tasks(), 1)
		assert.Equal(t, "finished", sim.Tasks()[0].State, "the DELETE was throttled: the task is still there")
		assert.Equal(t, 0, sim.Stats().Deletes)

		x2 := open(t, manager(), testOptions())
		start(t, x2)
		require.Eventually(t, func() bool { return sim.Stats().Deletes == 1 }, 30*time.Second, 20*time.Millisecond,
			"the clean-up job deletes the task: %s", sim.Stats().Summary())
		assert.Equal(t, "deleted", sim.Tasks()[0].State)
		// Queueing the same clean-up again while one waits adds nothing
		// (unique by service, task and kind) and does no harm once done.
		require.NoError(t, x2.QueueCleanup(ctx, *st.Remote, false))
		time.Sleep(200 * time.Millisecond)
		assert.Equal(t, 1, sim.Stats().Deletes, "a task already gone is done")
		page, err := x2.List(ctx, singletarget.JobFilter{})
		require.NoError(t, err)
		assert.Len(t, page.Jobs, 1, "clean-up jobs are not query jobs")
	})
}

// A job snoozed until its next poll is woken at once (a completion
// callback), from a web (insert-only) executor too; a task no waiting job
// follows is not found.
func TestATLASWakeRemote(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 50 * time.Millisecond, RunTime: 100 * time.Millisecond})
		store := dataproduct.NewMemoryStore(nil)
		ctx := context.Background()
		svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: time.Hour, PollRunning: time.Hour, PollMax: time.Hour})
		require.NoError(t, err)
		m := singletarget.NewManager(store, nil)
		require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
		require.NoError(t, m.AddService(svc))
		x := open(t, m, testOptions())
		start(t, x)
		web := open(t, m, &riverexec.Options{InsertOnly: true})
		id, err := web.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: target,
			Params: map[string][]string{"min_date_mjd": {"60080"}, "max_date_mjd": {"60110"}}})
		require.NoError(t, err)
		var task string
		require.Eventually(t, func() bool {
			st, err := web.Status(ctx, id)
			if err == nil && st.Remote != nil {
				task = st.Remote.ID
			}
			return task != ""
		}, 30*time.Second, 10*time.Millisecond)
		time.Sleep(300 * time.Millisecond) // the task finishes; the job sleeps for an hour

		_, err = web.WakeRemote(ctx, "ATLAS", "999999")
		require.ErrorIs(t, err, singletarget.ErrUnknownJob)
		_, err = web.WakeRemote(ctx, "OTHER", task)
		require.ErrorIs(t, err, singletarget.ErrUnknownJob)
		var woken singletarget.JobID
		require.Eventually(t, func() bool { // until the job has snoozed
			woken, err = web.WakeRemote(ctx, "ATLAS", task)
			return err == nil
		}, 10*time.Second, 20*time.Millisecond)
		assert.Equal(t, id, woken)
		st := wait(t, web, id)
		require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
		_, err = web.WakeRemote(ctx, "ATLAS", task)
		require.ErrorIs(t, err, singletarget.ErrUnknownJob, "a finished job is not woken")
	})
}
