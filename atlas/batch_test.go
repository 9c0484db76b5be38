package atlas_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

func TestClientPacesWrites(t *testing.T) {
	clock := newFakeClock()
	sim := atlastest.NewServer(t, &atlastest.Options{Now: clock.Now, QueueDelay: time.Hour})
	c, err := atlas.New(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(), Now: clock.Now})
	require.NoError(t, err)
	lo := 60316.0
	var first *atlas.Task
	for i := range 60 {
		task, err := c.Queue(ctx, atlas.QueueRequest{RA: float64(i), Dec: 10, MJDMin: &lo})
		require.NoError(t, err, "write %d", i+1)
		if first == nil {
			first = task
		}
	}
	requests := sim.Stats().Requests
	_, err = c.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 1, MJDMin: &lo})
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te, "the 61st write in a minute is held back")
	assert.Equal(t, time.Minute, te.RetryAfter, "until the first answer leaves the window")
	assert.Contains(t, te.Detail, "60 writes per 1m0s")
	assert.False(t, errors.Is(err, singletarget.ErrConcurrencyLimit))
	assert.ErrorIs(t, c.Delete(ctx, first.ID), singletarget.ErrThrottled, "deletes are writes too")
	assert.Equal(t, requests, sim.Stats().Requests, "nothing held back reached the server")
	assert.Zero(t, sim.Stats().Throttled)
	assert.Equal(t, time.Minute, c.WriteBlockedFor())

	clock.Add(time.Minute)
	assert.Zero(t, c.WriteBlockedFor())
	require.NoError(t, c.Delete(ctx, first.ID))
	_, err = c.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 1, MJDMin: &lo})
	require.NoError(t, err)
	assert.Zero(t, sim.Stats().Throttled, "the server never had to refuse")

	// Without pacing, the server's 429 is what stops the client.
	c2, err := atlas.New(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(), Now: clock.Now, WriteRate: -1})
	require.NoError(t, err)
	for range 58 {
		_, err := c2.Queue(ctx, atlas.QueueRequest{RA: 2, Dec: 2, MJDMin: &lo})
		require.NoError(t, err)
	}
	_, err = c2.Queue(ctx, atlas.QueueRequest{RA: 2, Dec: 2, MJDMin: &lo})
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, sim.Stats().Throttled)
}

func TestQueueRefusalTeachesTheActiveLimit(t *testing.T) {
	for _, learn := range []bool{false, true} {
		sim := atlastest.NewServer(t, &atlastest.Options{MaxActivePerToken: 2, QueueDelay: time.Hour})
		c, err := atlas.New(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(), LearnActiveLimit: learn})
		require.NoError(t, err)
		lo := 60316.0
		for range 2 {
			_, err := c.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 1, MJDMin: &lo})
			require.NoError(t, err)
		}
		_, err = c.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 1, MJDMin: &lo})
		assert.ErrorIs(t, err, singletarget.ErrThrottled)
		assert.Equal(t, learn, errors.Is(err, singletarget.ErrConcurrencyLimit), "learn=%v: %v", learn, err)
		// A write failing fast on the remembered wait is not the server's answer.
		_, err = c.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 1, MJDMin: &lo})
		assert.ErrorIs(t, err, singletarget.ErrThrottled)
		assert.False(t, errors.Is(err, singletarget.ErrConcurrencyLimit))
		assert.Equal(t, 1, sim.Stats().Throttled)
	}
}

func TestServiceReportsItsLimits(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	assert.Equal(t, singletarget.ConcurrencyLimit{MaxNotStarted: 500}, svc.ConcurrencyLimit(), "the real server's cap, no active limit")
	assert.Zero(t, svc.ReserveQuery())
	svc = newService(t, sim, func(o *atlas.Options) { o.MaxActiveTasks, o.LearnActiveLimit, o.MaxQueuedTasks = 8, true, -1 })
	assert.Equal(t, singletarget.ConcurrencyLimit{Max: 8, Learn: true}, svc.ConcurrencyLimit())
	var _ singletarget.Pacer = svc
	var _ singletarget.ConcurrencyLimiter = svc

	for _, bad := range []atlas.Options{{WriteRate: -2}, {MaxQueuedTasks: -5}, {MaxActiveTasks: -1}, {WriteWindow: -time.Second}} {
		_, err := atlas.NewService(sim.URL, sim.Token, &bad)
		assert.Error(t, err, "%+v", bad)
	}

	s, err := atlas.Factory(singletarget.Settings{Name: "ATLAS", URL: sim.URL, APIKey: sim.Token, Extra: map[string]string{
		"write_rate": "30", "write_window": "30s", "max_active_tasks": "4", "learn_active_limit": "true", "max_queued_tasks": "100"}})
	require.NoError(t, err)
	assert.Equal(t, singletarget.ConcurrencyLimit{Max: 4, MaxNotStarted: 100, Learn: true}, s.(*atlas.Service).ConcurrencyLimit())
	_, err = atlas.Factory(singletarget.Settings{Name: "ATLAS", URL: sim.URL, APIKey: sim.Token, Extra: map[string]string{"max_active_tasks": "-3"}})
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	_, err = atlas.Factory(singletarget.Settings{Name: "ATLAS", URL: sim.URL, APIKey: sim.Token, Extra: map[string]string{"write_window": "soon"}})
	assert.ErrorIs(t, err, singletarget.ErrConfig)
}

// batchRun runs a batch of n targets and returns its progress.
func batchRun(t *testing.T, svc *atlas.Service, n int) (*singletarget.Manager, singletarget.BatchProgress) {
	t.Helper()
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	b, err := m.Batch(ctx, atlas.ServiceName, targets(n), window, &singletarget.BatchOptions{Workers: 4})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	p, err := b.Wait(wctx)
	require.NoError(t, err, "%s", p)
	for _, st := range b.Results() {
		require.Equal(t, singletarget.JobSucceeded, st.State, "%s: %s", st.Request.Target.Name, st.Error)
	}
	return m, p
}

func TestBatchKeepsToTheActiveTaskLimit(t *testing.T) {
	t.Parallel()
	sim := atlastest.NewServer(t, &atlastest.Options{MaxActivePerToken: 3, Slots: 4, QueueDelay: 5 * time.Millisecond,
		RunTime: 100 * time.Millisecond, WriteRate: -1})
	svc := newService(t, sim, func(o *atlas.Options) { o.MaxActiveTasks, o.WriteRate = 3, -1 })
	_, p := batchRun(t, svc, 15)
	assert.Equal(t, 15, p.Done)
	st := sim.Stats()
	assert.Equal(t, 15, st.TasksCreated, "one remote task per target")
	assert.Equal(t, 3, st.MaxActive, "the limit was used")
	assert.Zero(t, st.Throttled, "and never exceeded")
	assert.Equal(t, 15, st.Deletes)
}

func TestBatchLearnsTheActiveTaskLimit(t *testing.T) {
	t.Parallel()
	// Tasks last long enough for the limit to be reached however slowly
	// the queries go out (one at a time while the limit is unknown).
	sim := atlastest.NewServer(t, &atlastest.Options{MaxActivePerToken: 3, Slots: 4, QueueDelay: 5 * time.Millisecond,
		RunTime: 300 * time.Millisecond, WriteRate: -1})
	svc := newService(t, sim, func(o *atlas.Options) { o.LearnActiveLimit, o.WriteRate = true, -1 })
	m, p := batchRun(t, svc, 9)
	assert.Equal(t, 9, p.Done)
	sl, err := m.Slots(atlas.ServiceName)
	require.NoError(t, err)
	assert.Equal(t, 3, sl.Status().Learned)
	st := sim.Stats()
	assert.Equal(t, 9, st.TasksCreated)
	assert.Equal(t, 3, st.MaxActive)
	assert.Positive(t, st.Throttled, "learning takes a refusal")
	assert.LessOrEqual(t, st.Throttled, 3, "then the limit holds")
}

func TestBatchKeepsToTheWriteRate(t *testing.T) {
	t.Parallel()
	sim := atlastest.NewServer(t, &atlastest.Options{WriteRate: 8, WriteWindow: 300 * time.Millisecond, Slots: 8,
		QueueDelay: 5 * time.Millisecond, RunTime: 20 * time.Millisecond})
	svc := newService(t, sim, func(o *atlas.Options) { o.WriteRate, o.WriteWindow = 8, 300*time.Millisecond })
	_, p := batchRun(t, svc, 10)
	assert.Equal(t, 10, p.Done)
	st := sim.Stats()
	assert.Equal(t, 10, st.TasksCreated)
	assert.Zero(t, st.Throttled, "the server never had to refuse a write")
	assert.Equal(t, 10, st.Deletes+len(svc.PendingCleanup()), "every finished task deleted, or remembered for later")
}
