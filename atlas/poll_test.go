package atlas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

// manyTargets returns n distinct targets.
func manyTargets(n int) []singletarget.Target {
	out := make([]singletarget.Target, n)
	for i := range out {
		out[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("T%03d", i), RA: float64(i) * 1.7, Dec: -30 + float64(i)*0.25}
	}
	return out
}

// readsSince is the simulator's reads since base, by kind.
type reads struct{ total, list, detail, positions, notModified int }

func readsSince(sim *atlastest.Server, base atlastest.Stats) reads {
	st := sim.Stats()
	return reads{total: st.Reads - base.Reads, list: st.ByEndpoint[atlastest.EndpointList] - base.ByEndpoint[atlastest.EndpointList],
		detail:      st.ByEndpoint[atlastest.EndpointTask] - base.ByEndpoint[atlastest.EndpointTask],
		positions:   st.ByEndpoint[atlastest.EndpointQueuePositions] - base.ByEndpoint[atlastest.EndpointQueuePositions],
		notModified: st.NotModified - base.NotModified}
}

// TestPolling200PendingTasks polls 200 pending tasks of one account, round
// after round, as 200 jobs would: each round costs the task list's two
// pages (and the queue positions every 30 s), not 200 reads, and rounds
// where nothing changed are answered 304.
func TestPolling200PendingTasks(t *testing.T) {
	clock := newFakeClock()
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 10 * time.Minute, WriteRate: -1, ReadRate: 600, Now: clock.Now})
	svc := newService(t, sim, func(o *atlas.Options) {
		o.Now, o.WriteRate = clock.Now, -1
		o.PollQueued, o.PollRunning, o.PollMax, o.PollGrowth = 4*time.Second, 2*time.Second, time.Minute, 1.25
	})
	ts := manyTargets(200)
	tasks := make([]singletarget.RemoteTask, len(ts))
	for i, tg := range ts {
		out, err := svc.Query(ctx, tg, form(t, svc, window), nil)
		require.NoError(t, err)
		tasks[i] = *out.Pending
	}
	var mu sync.Mutex
	var messages []string
	pctx := singletarget.WithProgress(ctx, func(p singletarget.Progress) {
		mu.Lock()
		messages = append(messages, p.Message)
		mu.Unlock()
	})
	// round looks at every task once, when all are due, concurrently or
	// one after the other.
	round := func(concurrent bool) reads {
		t.Helper()
		var due time.Time
		for _, tk := range tasks {
			if tk.NotBefore.After(due) {
				due = tk.NotBefore
			}
		}
		clock.Add(due.Sub(clock.Now()))
		base := sim.Stats()
		var wg sync.WaitGroup
		for i := range tasks {
			look := func() {
				out, err := svc.Resume(pctx, ts[i], tasks[i], nil)
				require.NoError(t, err)
				require.NotNil(t, out.Pending)
				tasks[i] = *out.Pending
			}
			if concurrent {
				wg.Go(look)
			} else {
				look()
			}
		}
		wg.Wait()
		return readsSince(sim, base)
	}

	r1 := round(false)
	assert.Equal(t, reads{total: 3, list: 2, positions: 1}, r1, "two list pages and the queue positions, no task read alone")
	r2 := round(true)
	assert.Equal(t, reads{total: 2, list: 2, notModified: 2}, r2, "nothing changed: two 304s; positions are not read again within 30 s")
	var r3 reads
	for range 8 { // the waits grow to a minute: past 30 s the positions are read again
		r3 = round(true)
		assert.LessOrEqual(t, r3.total, 3)
		assert.Zero(t, r3.detail)
	}
	assert.Equal(t, reads{total: 3, list: 2, positions: 1, notModified: 2}, r3)
	for _, tk := range tasks {
		assert.Equal(t, 10, tk.Polls)
		assert.Equal(t, atlas.StateQueued, tk.State)
	}
	// The queue position is shown as progress and kept with the task.
	assert.Equal(t, "199", tasks[199].Data["queue_position"])
	assert.Contains(t, messages, fmt.Sprintf("ATLAS task %s queued (position 199)", tasks[199].ID))
	t.Logf("200 pending tasks, reads per poll round: first %+v, unchanged %+v, with positions %+v (a read per task would be 200)", r1, r2, r3)

	// Round after round until the tasks have run (they start ten minutes
	// after they were queued): every finished task is seen from the list
	// too, and its result downloaded; no task is read alone.
	base := sim.Stats()
	rounds, looks := 0, 0
	store := dataproduct.NewMemoryStore(nil)
	for len(tasks) > 0 {
		rounds++
		require.Less(t, rounds, 100)
		var due time.Time
		for _, tk := range tasks {
			if tk.NotBefore.After(due) {
				due = tk.NotBefore
			}
		}
		clock.Add(due.Sub(clock.Now()))
		var left []singletarget.RemoteTask
		var tgs []singletarget.Target
		for i := range tasks {
			looks++
			out, err := svc.Resume(ctx, ts[i], tasks[i], store)
			require.NoError(t, err)
			if out.Pending != nil {
				left, tgs = append(left, *out.Pending), append(tgs, ts[i])
				continue
			}
			require.Len(t, out.Products, 1)
		}
		tasks, ts = left, tgs
	}
	all := readsSince(sim, base)
	assert.Zero(t, all.detail)
	assert.LessOrEqual(t, all.total, 3*rounds)
	assert.Equal(t, 200, sim.Stats().Downloads)
	t.Logf("then %d rounds until all 200 finished: %d looks, %+v", rounds, looks, all)
}

// TestPollingOneTaskReadsIt reads a lone task by itself, conditionally.
func TestPollingOneTaskReadsIt(t *testing.T) {
	clock := newFakeClock()
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: time.Hour, Now: clock.Now})
	svc := newService(t, sim, func(o *atlas.Options) { o.Now = clock.Now; o.PollQueued, o.PollMax = time.Second, time.Second })
	out, err := svc.Query(ctx, ngc1566, form(t, svc, window), nil)
	require.NoError(t, err)
	task := *out.Pending
	base := sim.Stats()
	for range 3 {
		clock.Add(task.NotBefore.Sub(clock.Now()))
		o, err := svc.Resume(ctx, ngc1566, task, nil)
		require.NoError(t, err)
		task = *o.Pending
	}
	assert.Equal(t, reads{total: 3, detail: 3, notModified: 2}, readsSince(sim, base), "a detail read each, 304 when unchanged")
}

// callbackRig is a Pool whose ATLAS tasks are submitted with a callback
// URL served by an httptest server (the simulator may call loopback http).
type callbackRig struct {
	sim   *atlastest.Server
	svc   *atlas.Service
	pool  *singletarget.Pool
	store *dataproduct.MemoryStore
	cb    *httptest.Server
	url   string
}

func newCallbackRig(t *testing.T, so *atlastest.Options, mutate func(*atlas.Options)) *callbackRig {
	t.Helper()
	so.AllowHTTPCallbacks = true
	sim := atlastest.NewServer(t, so)
	mux := http.NewServeMux()
	cb := httptest.NewServer(mux)
	t.Cleanup(cb.Close)
	r := &callbackRig{sim: sim, cb: cb, url: cb.URL + "/targetdata/atlas/callback"}
	r.svc = newService(t, sim, func(o *atlas.Options) {
		o.CallbackURL = r.url
		// Polls so rare that only a callback finishes a job in time.
		o.PollQueued, o.PollRunning, o.PollMax = time.Hour, time.Hour, time.Hour
		if mutate != nil {
			mutate(o)
		}
	})
	r.store = dataproduct.NewMemoryStore(nil)
	m := manager(t, r.svc, r.store)
	r.pool = singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 4})
	require.NoError(t, r.pool.Start(ctx))
	t.Cleanup(func() { r.pool.StopAndCancel(ctx) })
	mux.Handle("/targetdata/atlas/callback", r.svc.CallbackHandler(r.pool))
	return r
}

// TestCallbackWakesTheJob: with a callback URL, jobs whose next poll is an
// hour away finish as soon as their tasks do.
func TestCallbackWakesTheJob(t *testing.T) {
	r := newCallbackRig(t, &atlastest.Options{QueueDelay: 300 * time.Millisecond, RunTime: 100 * time.Millisecond}, nil)
	assert.Equal(t, r.url, r.svc.CallbackURL())
	ids := make([]singletarget.JobID, 3)
	for i, tg := range manyTargets(3) {
		id, err := r.pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: tg, Params: window})
		require.NoError(t, err)
		ids[i] = id
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, id := range ids {
		st, err := r.pool.Wait(wctx, id)
		require.NoError(t, err, "the job was not woken: %+v", st)
		require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	}
	for _, tk := range r.sim.Tasks() {
		assert.Equal(t, "deleted", tk.State)
	}
	st := r.sim.Stats()
	assert.Equal(t, 3, st.CallbacksSent)
	assert.LessOrEqual(t, st.Reads, 6, "a look per wake at most: %s", st.Summary())
	t.Logf("3 jobs finished by callbacks: %s", st.Summary())
}

// TestCallbackLostFallsBackOnPolling: the server sends a callback once;
// one that is lost leaves the job to its polls.
func TestCallbackLostFallsBackOnPolling(t *testing.T) {
	r := newCallbackRig(t, &atlastest.Options{QueueDelay: 100 * time.Millisecond, RunTime: 100 * time.Millisecond}, func(o *atlas.Options) {
		o.PollQueued, o.PollRunning, o.PollMax = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	})
	r.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointCallback, Reset: true})
	id, err := r.pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st, err := r.pool.Wait(wctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	assert.Equal(t, 1, r.sim.Stats().CallbacksDropped)
	assert.Zero(t, r.sim.Stats().CallbacksSent)
}

// TestForgedCallbacks: the endpoint trusts nothing but the task id, and
// only to wake the job of ours waiting on it; a flood of forged callbacks
// stores nothing and costs at most one read per ListMaxAge.
func TestForgedCallbacks(t *testing.T) {
	r := newCallbackRig(t, &atlastest.Options{QueueDelay: time.Hour}, func(o *atlas.Options) { o.ListMaxAge = 200 * time.Millisecond })
	id, err := r.pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	var task string
	require.Eventually(t, func() bool {
		st, _ := r.pool.Status(ctx, id)
		if st.Remote != nil {
			task = st.Remote.ID
		}
		return task != "" && st.Progress.Stage == singletarget.StageQueued
	}, 10*time.Second, 5*time.Millisecond)
	post := func(body string) int {
		resp, err := http.Post(r.url, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	forged := func(id string) string {
		b, _ := json.Marshal(map[string]any{"task_id": json.Number(id), "success": true, "error_msg": nil,
			"task_url": "https://evil.example/queue/1/", "result_url": "https://evil.example/forged.txt"})
		return string(b)
	}
	assert.Equal(t, http.StatusNotFound, post(forged("424242")), "no job of ours waits on that task")
	assert.Equal(t, http.StatusBadRequest, post(`{"task_id": "x"}`))
	assert.Equal(t, http.StatusBadRequest, post(`not json`))
	resp, err := http.Get(r.url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	base := r.sim.Stats()
	start := time.Now()
	codes := map[int]int{}
	for time.Since(start) < time.Second {
		codes[post(forged(task))]++
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	st, err := r.pool.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobRunning, st.State, "a callback never finishes a job")
	assert.Equal(t, atlas.StateQueued, st.Remote.State, "the job believes the server, not the body")
	ps, err := r.store.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, ps, "nothing stored")
	rd := readsSince(r.sim, base)
	limit := int(elapsed/(200*time.Millisecond)) + 2
	assert.LessOrEqual(t, rd.total, limit, "at most a read per ListMaxAge: %+v after %d callbacks (%v)", rd, codes[202]+codes[404], codes)
	assert.Positive(t, codes[http.StatusAccepted], "our task's callbacks wake the job")
	t.Logf("%v forged callbacks in %s: answers %v, reads %+v", codes[202]+codes[404]+codes[429], elapsed.Round(time.Millisecond), codes, rd)
}

// TestCallbackURLRefused: a server that refuses the callback URL gets
// tasks without it from then on, and they are polled.
func TestCallbackURLRefused(t *testing.T) {
	sim := atlastest.NewServer(t, nil) // https and a public address only
	logs := &syncWriter{w: &bytes.Buffer{}}
	svc := newService(t, sim, func(o *atlas.Options) {
		o.CallbackURL = "http://127.0.0.1:9/cb"
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	res, err := m.Run(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	assert.Len(t, res.Products, 1)
	assert.Equal(t, "", svc.CallbackURL())
	st := sim.Stats()
	assert.Equal(t, 2, st.ByEndpoint[atlastest.EndpointQueue], "refused once, then sent without the URL")
	assert.Equal(t, 1, st.TasksCreated)
	assert.Contains(t, logs.String(), "ATLAS refused the callback URL")
}

func TestCallbackURLChecked(t *testing.T) {
	for _, bad := range []string{"http://tom.example.org/cb", "https://u:p@tom.example.org/cb", "ftp://x/cb", "/cb",
		"https://tom.example.org/" + strings.Repeat("x", 500)} {
		_, err := atlas.NewService("https://fallingstar-data.com/forcedphot", "tok", &atlas.Options{CallbackURL: bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "Options.CallbackURL", bad)
	}
	for _, good := range []string{"https://tom.example.org/targetdata/atlas/callback", "http://127.0.0.1:8080/cb", "http://localhost/cb"} {
		_, err := atlas.NewService("https://fallingstar-data.com/forcedphot", "tok", &atlas.Options{CallbackURL: good})
		require.NoError(t, err, good)
	}
}

// TestPool200Jobs runs 200 ATLAS jobs at once on a Pool: their polls share
// the account's list reads, so the reads are a small fraction of the
// looks, and the read throttle (600 a minute) is never hit.
func TestPool200Jobs(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 500 * time.Millisecond, RunTime: 30 * time.Millisecond, Slots: 16,
		WriteRate: -1, ReadRate: 600})
	svc := newService(t, sim, func(o *atlas.Options) {
		o.WriteRate = -1
		o.PollQueued, o.PollRunning, o.PollMax = 100*time.Millisecond, 100*time.Millisecond, 200*time.Millisecond
	})
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 8})
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(ctx)
	ids := make([]singletarget.JobID, 200)
	for i, tg := range manyTargets(200) {
		id, err := pool.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: tg, Params: window})
		require.NoError(t, err)
		ids[i] = id
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := time.Now()
	looks := 0
	for _, id := range ids {
		st, err := pool.Wait(wctx, id)
		require.NoError(t, err)
		require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
		looks += st.Remote.Polls + 1 // the polls while pending, and the look that found it finished
	}
	elapsed := time.Since(start)
	stats := sim.Stats()
	assert.Zero(t, stats.Throttled)
	// A list read (two pages at most) per ListMaxAge (100 ms) at most,
	// whatever the number of looks.
	assert.LessOrEqual(t, stats.ByEndpoint[atlastest.EndpointList], 2*int(elapsed/(100*time.Millisecond)+1))
	assert.Less(t, stats.Reads, looks, "fewer reads than looks")
	t.Logf("200 jobs on a Pool in %s: %d looks at tasks cost %s", elapsed.Round(time.Millisecond), looks, stats.Summary())
}
