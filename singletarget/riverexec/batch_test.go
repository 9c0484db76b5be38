package riverexec_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

func batchTargets(n int) []singletarget.Target {
	out := make([]singletarget.Target, n)
	for i := range out {
		out[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("AT 2025b%02d", i), RA: 20 + 11*float64(i), Dec: 10 - 3*float64(i)}
	}
	return out
}

func waitBatch(t *testing.T, x *riverexec.Executor, id riverexec.BatchID) singletarget.BatchProgress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := x.WaitBatch(ctx, id, 20*time.Millisecond)
	require.NoError(t, err, "batch %s: %s", id, p)
	return p
}

func TestBatch(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		archive := demo.NewArchive("key-12345", 2)
		store := dataproduct.NewMemoryStore(nil)
		m := newManager(t, archive, store)
		// The web process inserts; the worker process runs.
		web := open(t, m, &riverexec.Options{InsertOnly: true})
		worker := open(t, newManager(t, archive, store), testOptions())
		ctx := context.Background()

		_, err := web.SubmitBatch(ctx, "DEMO", batchTargets(3), vals(map[string]string{"min_date_mjd": "soon"}))
		var fe *singletarget.FormErrors
		require.ErrorAs(t, err, &fe)
		bad := batchTargets(2)
		bad[1].Dec = 100
		_, err = web.SubmitBatch(ctx, "DEMO", bad, window())
		assert.ErrorContains(t, err, "targets[1]")

		id, err := web.SubmitBatch(ctx, "DEMO", batchTargets(6), window())
		require.NoError(t, err)
		p, err := web.BatchProgress(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 6, p.Total)
		assert.Equal(t, 6, p.Waiting, "nothing runs before a worker starts: %s", p)
		start(t, worker)
		p = waitBatch(t, web, id)
		assert.Equal(t, 6, p.Done, "%s", p)
		assert.Equal(t, 6*40, p.Added)
		sts, err := web.BatchStatuses(ctx, id)
		require.NoError(t, err)
		require.Len(t, sts, 6)
		for i, st := range sts {
			assert.Equal(t, singletarget.JobSucceeded, st.State)
			assert.Equal(t, int64(i+1), st.Request.Target.ID, "in target order")
		}
		assert.Equal(t, 6, archive.Submitted)

		_, err = web.BatchProgress(ctx, "0123456789abcdef0123")
		assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
		_, err = web.BatchProgress(ctx, "../x")
		assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
	})
}

func vals(kv map[string]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range kv {
		out[k] = []string{v}
	}
	return out
}

func TestBatchCancel(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		archive := demo.NewArchive("key-12345", 1_000_000) // never finishes
		m := newManager(t, archive, dataproduct.NewMemoryStore(nil))
		x := open(t, m, testOptions())
		start(t, x)
		ctx := context.Background()
		id, err := x.SubmitBatch(ctx, "DEMO", batchTargets(5), window())
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			p, err := x.BatchProgress(ctx, id)
			sts, err2 := x.BatchStatuses(ctx, id)
			remote := 0
			for _, st := range sts {
				if st.Remote != nil {
					remote++
				}
			}
			return err == nil && err2 == nil && p.InFlight == 5 && remote == 5
		}, 30*time.Second, 10*time.Millisecond, "every target has its remote task")
		require.NoError(t, x.CancelBatch(ctx, id))
		p := waitBatch(t, x, id)
		assert.Equal(t, 5, p.Cancelled, "%s", p)
		assert.Equal(t, 5, archive.Submitted)
	})
}

// TestBatchKeepsToTheAccountLimit runs an ATLAS batch on River workers
// against a simulator that allows two tasks in flight: the workers keep to
// it (jobs wait for a slot, snoozing), and the server never refuses.
func TestBatchKeepsToTheAccountLimit(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		sim := atlastest.NewServer(t, &atlastest.Options{MaxActivePerToken: 2, RunTime: 400 * time.Millisecond, WriteRate: -1})
		svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(), MaxActiveTasks: 2, WriteRate: -1,
			PollQueued: 50 * time.Millisecond, PollRunning: 50 * time.Millisecond, PollMax: 100 * time.Millisecond})
		require.NoError(t, err)
		m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
		require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
		require.NoError(t, m.AddService(svc))
		opts := testOptions()
		opts.Workers, opts.SlotWait = 4, 10*time.Millisecond
		x := open(t, m, opts)
		ctx := context.Background()
		id, err := x.SubmitBatch(ctx, atlas.ServiceName, batchTargets(6), vals(map[string]string{"min_date_mjd": "60316", "max_date_mjd": "60336"}))
		require.NoError(t, err)
		start(t, x)
		p := waitBatch(t, x, id)
		assert.Equal(t, 6, p.Done, "%s", p)
		st := sim.Stats()
		assert.Equal(t, 6, st.TasksCreated)
		assert.Equal(t, 2, st.MaxActive)
		assert.Zero(t, st.Throttled)
		sl, err := m.Slots(atlas.ServiceName)
		require.NoError(t, err)
		assert.Zero(t, sl.Status().InFlight, "every slot given back")
	})
}

// TestBatchSurvivesARestart stops the worker while every target's remote
// task is pending and starts a new worker process over the same database:
// the batch finishes with each remote task queued exactly once.
func TestBatchSurvivesARestart(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		archive := demo.NewArchive("key-12345", 6)
		store := dataproduct.NewMemoryStore(nil)
		ctx := context.Background()
		x1 := open(t, newManager(t, archive, store), testOptions())
		require.NoError(t, x1.Start(ctx))
		id, err := x1.SubmitBatch(ctx, "DEMO", batchTargets(4), window())
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			sts, err := x1.BatchStatuses(ctx, id)
			n := 0
			for _, st := range sts {
				if st.Remote != nil && !st.State.Done() {
					n++
				}
			}
			return err == nil && n == 4
		}, 30*time.Second, 10*time.Millisecond, "every remote task is recorded")
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		require.NoError(t, x1.Stop(sctx))
		cancel()
		p, err := x1.BatchProgress(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 4, p.InFlight, "stopped mid-batch: %s", p)

		x2 := open(t, newManager(t, archive, store), testOptions())
		start(t, x2)
		p = waitBatch(t, x2, id)
		assert.Equal(t, 4, p.Done, "%s", p)
		assert.Equal(t, 4, archive.Submitted, "each remote task queued once")
		assert.Equal(t, 4*40, p.Added)
	})
}
