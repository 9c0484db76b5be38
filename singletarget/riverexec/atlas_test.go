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
