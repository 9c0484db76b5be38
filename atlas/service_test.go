package atlas_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
)

var (
	ngc1566 = singletarget.Target{ID: 1, Name: "NGC 1566", RA: 65.00165, Dec: -54.93795}
	window  = url.Values{"min_date_mjd": {"60316"}, "max_date_mjd": {"60336"}}
)

// fastOptions are service options with millisecond polls, for the simulator.
func fastOptions(sim *atlastest.Server, mutate func(*atlas.Options)) *atlas.Options {
	o := &atlas.Options{
		HTTPClient:   sim.Client(),
		PollQueued:   2 * time.Millisecond,
		PollRunning:  2 * time.Millisecond,
		PollMax:      10 * time.Millisecond,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
	}
	if mutate != nil {
		mutate(o)
	}
	return o
}

func newService(t *testing.T, sim *atlastest.Server, mutate func(*atlas.Options)) *atlas.Service {
	t.Helper()
	svc, err := atlas.NewService(sim.URL, sim.Token, fastOptions(sim, mutate))
	require.NoError(t, err)
	return svc
}

func TestServiceConformance(t *testing.T) {
	servicetest.Run(t, servicetest.Harness{
		New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
			sim := atlastest.NewServer(t, nil)
			svc := newService(t, sim, func(o *atlas.Options) { o.Logger = log })
			return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext, Secrets: []singletarget.Secret{sim.Token, sim.Password}}
		},
		Target:       ngc1566,
		Valid:        window,
		Invalid:      url.Values{"min_date_mjd": {"abc"}},
		InvalidField: "min_date_mjd",
		Processor:    atlas.Processor{},
		Timeout:      20 * time.Second,
	})
}

func form(t *testing.T, svc *atlas.Service, params url.Values) singletarget.QueryForm {
	t.Helper()
	f := svc.NewForm()
	require.NoError(t, f.Decode(params))
	require.NoError(t, f.Validate())
	return f
}

// resumeUntilDone calls Resume until the task is no longer pending.
func resumeUntilDone(t *testing.T, ctx context.Context, svc *atlas.Service, target singletarget.Target, task singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, singletarget.RemoteTask, error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := svc.Resume(ctx, target, task, out)
		if err != nil || out.Pending == nil {
			return out, task, err
		}
		assert.Equal(t, task.Polls+1, out.Pending.Polls, "each look is counted")
		assert.Equal(t, task.ID, out.Pending.ID)
		task = *out.Pending
		time.Sleep(task.Wait(time.Now()))
	}
	t.Fatal("the task never finished")
	return nil, task, nil
}

func TestServiceQueueAndResume(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	store := dataproduct.NewMemoryStore(nil)
	var mu sync.Mutex
	var stages []string
	pctx := singletarget.WithProgress(ctx, func(p singletarget.Progress) {
		mu.Lock()
		defer mu.Unlock()
		stages = append(stages, p.Stage)
	})

	before := time.Now()
	out, err := svc.Query(pctx, ngc1566, form(t, svc, window), store)
	require.NoError(t, err)
	require.NotNil(t, out.Pending)
	assert.Empty(t, out.Products)
	task := *out.Pending
	assert.Equal(t, "ATLAS", task.Service)
	assert.Equal(t, "1", task.ID)
	assert.Equal(t, sim.URL+"/queue/1/", task.URL)
	assert.Equal(t, atlas.StateQueued, task.State)
	assert.False(t, task.Submitted.Before(before))
	assert.Equal(t, task.Submitted.Add(2*time.Millisecond), task.NotBefore, "the first look after PollQueued")
	assert.Equal(t, "60316", task.Data["mjd_min"])
	assert.Equal(t, "60336", task.Data["mjd_max"])

	infos := sim.Tasks()
	require.Len(t, infos, 1)
	assert.False(t, infos[0].SendEmail, "send_email=false")
	assert.False(t, infos[0].UseReduced)
	assert.Equal(t, 65.00165, *infos[0].RA)
	assert.Equal(t, 60316.0, *infos[0].MJDMin)

	done, last, err := resumeUntilDone(t, pctx, svc, ngc1566, task, store)
	require.NoError(t, err)
	require.Len(t, done.Products, 1)
	p := done.Products[0]
	assert.Equal(t, "atlas_2024_01_07-2024_01_27.txt", p.Name, "atlas_<min>-<max>.txt: the query, not the task, names it")
	assert.Equal(t, atlas.DataProductType, p.DataProductType)
	assert.Equal(t, "text/plain", p.ContentType)
	assert.Equal(t, ngc1566.ID, p.TargetID)
	assert.Equal(t, "1", p.Extra["task_id"])
	assert.Equal(t, sim.URL+"/queue/1/", p.Extra["task_url"])
	assert.Equal(t, "60336", p.Extra["mjd_max"])
	assert.Positive(t, last.Polls)

	rc, err := store.OpenProduct(ctx, p.ID)
	require.NoError(t, err)
	stored, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, atlastest.GenerateResult(ngc1566.RA, ngc1566.Dec, 60316, 60336), stored, "the file is stored as served")

	st := sim.Stats()
	assert.Equal(t, 1, st.TasksCreated)
	assert.Equal(t, 1, st.Downloads)
	assert.Equal(t, 0, st.Deletes, "Resume leaves the task for FinishRemote")
	assert.Equal(t, "finished", sim.Tasks()[0].State)
	mu.Lock()
	assert.Contains(t, stages, singletarget.StageFetching)
	assert.Subset(t, []string{singletarget.StageQueued, singletarget.StageRunning, singletarget.StageFetching}, stages)
	mu.Unlock()

	// Until FinishRemote, Resume gives the same product again (a worker
	// that died before the datums were committed loses nothing).
	again, err := svc.Resume(ctx, ngc1566, last, store)
	require.NoError(t, err)
	require.Len(t, again.Products, 1)
	assert.Equal(t, p.ID, again.Products[0].ID)
	assert.Equal(t, p.SHA256, again.Products[0].SHA256)
	require.NoError(t, svc.FinishRemote(ctx, last))
	assert.Equal(t, 1, sim.Stats().Deletes, "FinishRemote deletes the finished task")
	assert.Equal(t, "deleted", sim.Tasks()[0].State)
	require.NoError(t, svc.FinishRemote(ctx, last), "a task already gone is finished")

	// Resuming a task that was deleted is a terminal error, not a crash.
	_, err = svc.Resume(ctx, ngc1566, last, store)
	assert.ErrorIs(t, err, singletarget.ErrTaskFailed)
	assert.Equal(t, singletarget.ErrRemote, singletarget.Category(err), "a failed task, in one category: %v", err)
	assert.False(t, singletarget.Retryable(err))
}

func TestServiceOpenWindowAndReducedData(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	store := dataproduct.NewMemoryStore(nil)
	today := time.Now().UTC()
	params := url.Values{"min_date": {today.AddDate(0, 0, -10).Format("2006-01-02")}, "use_reduced_data": {"true"}}
	out, err := svc.Query(ctx, ngc1566, form(t, svc, params), store)
	require.NoError(t, err)
	_, hasMax := out.Pending.Data["mjd_max"]
	assert.False(t, hasMax, "an open window sends no mjd_max")
	assert.True(t, sim.Tasks()[0].UseReduced)
	done, _, err := resumeUntilDone(t, ctx, svc, ngc1566, *out.Pending, store)
	require.NoError(t, err)
	want := "atlas_" + today.AddDate(0, 0, -10).Format("2006_01_02") + "-now_reduced.txt"
	assert.Equal(t, want, done.Products[0].Name, "an open window ends \"now\"; reduced data are another query")
}

func TestServiceNoData(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	store := dataproduct.NewMemoryStore(nil)
	south := singletarget.Target{ID: 2, Name: "south pole", RA: 10, Dec: -89.5}
	out, err := svc.Query(ctx, south, form(t, svc, window), store)
	require.NoError(t, err)
	_, _, err = resumeUntilDone(t, ctx, svc, south, *out.Pending, store)
	require.Error(t, err)
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "No data returned is ErrNotFound")
	assert.NotErrorIs(t, err, singletarget.ErrTaskFailed)
	var te *atlas.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, atlas.NoDataMessage, te.Message)
	assert.False(t, singletarget.Retryable(err))
	assert.Equal(t, "deleted", sim.Tasks()[0].State, "the empty task is cleaned up too")
	ps, _ := store.ListProducts(ctx, dataproduct.ProductFilter{})
	assert.Empty(t, ps)

	// A window with no exposures is "No data returned" as well.
	m := manager(t, svc, store)
	_, err = m.Run(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: url.Values{"min_date_mjd": {"50000"}, "max_date_mjd": {"50010"}}})
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
}

func TestServiceTaskFailed(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	sim.FailNextTask("Could not parse the result file")
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	_, err := m.Run(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.ErrorIs(t, err, singletarget.ErrTaskFailed)
	assert.Contains(t, err.Error(), "Could not parse the result file")
	assert.Equal(t, 1, sim.Stats().TasksCreated)
}

func TestServiceDeadlineAndCancel(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	clock := &fakeClock{t: time.Now()}
	svc := newService(t, sim, func(o *atlas.Options) { o.Deadline = time.Hour; o.Now = clock.Now })
	sim.StickNextTask(1)
	store := dataproduct.NewMemoryStore(nil)
	out, err := svc.Query(ctx, ngc1566, form(t, svc, window), store)
	require.NoError(t, err)
	task := *out.Pending
	for range 3 {
		o, err := svc.Resume(ctx, ngc1566, task, store)
		require.NoError(t, err)
		task = *o.Pending
		time.Sleep(30 * time.Millisecond)
	}
	clock.Add(61 * time.Minute)
	_, err = svc.Resume(ctx, ngc1566, task, store)
	require.ErrorIs(t, err, singletarget.ErrDeadline)
	assert.Contains(t, err.Error(), "left on the server")
	assert.Equal(t, "running", sim.Tasks()[0].State, "the task keeps running remotely (it restarts forever)")
	assert.Greater(t, sim.Tasks()[0].Attempts, 1)

	require.NoError(t, svc.CancelRemote(ctx, task))
	assert.Empty(t, sim.Tasks(), "cancelling deletes the unfinished task")
	assert.NoError(t, svc.CancelRemote(ctx, task), "cancelling twice is fine")
	assert.Error(t, svc.CancelRemote(ctx, singletarget.RemoteTask{ID: "x"}))
}

func TestServicePollBackoff(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: time.Hour})
	clock := &fakeClock{t: time.Now()}
	svc := newService(t, sim, func(o *atlas.Options) {
		o.Now = clock.Now
		o.PollQueued, o.PollRunning, o.PollMax, o.PollGrowth = 4*time.Second, 2*time.Second, time.Minute, 2
	})
	out, err := svc.Query(ctx, ngc1566, form(t, svc, window), nil)
	require.NoError(t, err)
	task := *out.Pending
	var waits []time.Duration
	for range 7 {
		clock.Add(task.NotBefore.Sub(clock.Now())) // a look at its time (an early one is a wake-up)
		o, err := svc.Resume(ctx, ngc1566, task, nil)
		require.NoError(t, err)
		task = *o.Pending
		waits = append(waits, task.NotBefore.Sub(clock.Now()))
	}
	assert.Equal(t, []time.Duration{8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute, time.Minute, time.Minute}, waits)
	assert.Equal(t, 7, task.Polls)
	assert.Equal(t, 7, sim.Tasks()[0].Polls)
}

func TestServiceRemoteFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault atlastest.Fault
		is    error
	}{
		{"truncated result", atlastest.Fault{Endpoint: atlastest.EndpointResult, Truncate: true}, singletarget.ErrRemote},
		{"connection dropped mid-file, beyond the retries", atlastest.Fault{Endpoint: atlastest.EndpointResult, Times: 5, Truncate: true, Reset: true}, singletarget.ErrRemote},
		{"HTML result", atlastest.Fault{Endpoint: atlastest.EndpointResult, Status: 200}, singletarget.ErrRemote},
		{"HTML task", atlastest.Fault{Endpoint: atlastest.EndpointTask, Status: 200}, singletarget.ErrRemote},
		{"malformed task JSON", atlastest.Fault{Endpoint: atlastest.EndpointTask, Truncate: true}, singletarget.ErrRemote},
		{"5xx polls beyond the retries", atlastest.Fault{Endpoint: atlastest.EndpointTask, Times: 5, Status: 502}, singletarget.ErrRemote},
		{"purged result", atlastest.Fault{Endpoint: atlastest.EndpointResult, Status: 404}, singletarget.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := atlastest.NewServer(t, nil)
			svc := newService(t, sim, func(o *atlas.Options) { o.RetryMax = 2 })
			store := dataproduct.NewMemoryStore(nil)
			out, err := svc.Query(ctx, ngc1566, form(t, svc, window), store)
			require.NoError(t, err)
			waitFinished(t, sim) // before scripting the fault
			sim.Inject(tc.fault)
			_, err = svc.Resume(ctx, ngc1566, *out.Pending, store)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is, "%v", err)
			ps, _ := store.ListProducts(ctx, dataproduct.ProductFilter{})
			assert.Empty(t, ps, "nothing that is not data is stored")
			if errors.Is(err, singletarget.ErrRemote) {
				assert.True(t, singletarget.Retryable(err))
				// The next look succeeds: the remote task is still there.
				o, err := svc.Resume(ctx, ngc1566, *out.Pending, store)
				require.NoError(t, err)
				require.Len(t, o.Products, 1)
			}
			assert.Equal(t, 1, sim.Stats().TasksCreated, "never a second remote task")
		})
	}
}

func TestServiceLegacyServer(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{Legacy: true})
	t.Run("a good token works (Accept: application/json)", func(t *testing.T) {
		svc := newService(t, sim, nil)
		m := manager(t, svc, dataproduct.NewMemoryStore(nil))
		res, err := m.Run(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
		require.NoError(t, err)
		assert.Len(t, res.Products, 1)
	})
	t.Run("a refused token is a redirect to the login page", func(t *testing.T) {
		bad := singletarget.Secret(strings.Repeat("0", 40))
		svc, err := atlas.NewService(sim.URL, bad, fastOptions(sim, nil))
		require.NoError(t, err)
		_, err = svc.Query(ctx, ngc1566, form(t, svc, window), nil)
		require.ErrorIs(t, err, singletarget.ErrUnauthorized)
		assert.Contains(t, err.Error(), "login page")
		assert.NotContains(t, err.Error(), bad.Reveal())
		assert.False(t, singletarget.Retryable(err))
	})
}

func TestServiceThrottledQueue(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	sim.ThrottleNext(3 * time.Second)
	_, err := svc.Query(ctx, ngc1566, form(t, svc, window), nil)
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 3*time.Second, te.RetryAfter)
	assert.Equal(t, "Request was throttled. Expected available in 3 seconds.", te.Detail)
	assert.Zero(t, sim.Stats().TasksCreated)
}

func TestServiceQueueFull(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{MaxQueued: 2, QueueDelay: time.Hour})
	svc := newService(t, sim, func(o *atlas.Options) { o.QueueFullWait = 45 * time.Second })
	for range 2 {
		_, err := svc.Query(ctx, ngc1566, form(t, svc, window), nil)
		require.NoError(t, err)
	}
	_, err := svc.Query(ctx, ngc1566, form(t, svc, window), nil)
	require.ErrorIs(t, err, atlas.ErrQueueFull)
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 45*time.Second, te.RetryAfter)
	assert.Equal(t, "ERROR: You have too many queued tasks (2 queued + 1 requested > 2).", te.Detail)
	assert.Equal(t, 2, sim.Stats().TasksCreated)
}

// TestServiceDeleteThrottled: the delete of a finished task comes after
// the ingest (Manager.Step drives FinishRemote); a throttled one neither
// fails the query nor holds a worker: the step comes back pending
// ("finishing") with the data already stored, and the next step deletes.
func TestServiceDeleteThrottled(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	clock := &fakeClock{t: time.Now()}
	svc := newService(t, sim, func(o *atlas.Options) { o.Now = clock.Now })
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{Now: clock.Now})
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddService(svc))
	req := singletarget.Request{Service: atlas.ServiceName, Target: ngc1566, Params: window}
	var saved []singletarget.Checkpoint
	save := func(_ context.Context, cp singletarget.Checkpoint) error { saved = append(saved, cp); return nil }

	res, err := m.Step(ctx, req, singletarget.Checkpoint{}, save)
	require.NoError(t, err)
	require.NotNil(t, res.Pending)
	cp := res.Checkpoint
	waitFinished(t, sim)
	sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointDelete, Status: 429, RetryAfter: 20 * time.Second})
	res, err = m.Step(ctx, req, cp, save)
	require.NoError(t, err, "a throttled delete does not fail the query")
	require.NotNil(t, res.Pending, "the clean-up waits")
	assert.Equal(t, singletarget.RemoteFinishing, res.Pending.State)
	assert.Equal(t, clock.Now().Add(20*time.Second), res.Pending.NotBefore)
	require.NotNil(t, res.Checkpoint.Ingested, "the datums were committed first")
	added := res.Checkpoint.Ingested.Added
	assert.Positive(t, added)
	assert.Equal(t, added, countDatums(t, store))
	assert.Equal(t, "finished", sim.Tasks()[0].State, "the task is still there")
	last := saved[len(saved)-1]
	assert.Equal(t, singletarget.RemoteFinishing, last.Remote.State, "the wait is recorded")
	assert.Equal(t, 20*time.Second, last.FinishWaited)
	cp = res.Checkpoint

	// Writes are refused fast (client side) until the wait is over.
	res, err = m.Step(ctx, req, cp, save)
	require.NoError(t, err)
	require.NotNil(t, res.Pending)
	cp = res.Checkpoint
	clock.Add(20 * time.Second)
	res, err = m.Step(ctx, req, cp, save)
	require.NoError(t, err)
	assert.Nil(t, res.Pending)
	assert.Equal(t, added, res.Added, "the result reports the ingest")
	assert.Equal(t, "finished", res.Remote.State)
	require.Len(t, res.Products, 1)
	assert.Equal(t, "deleted", sim.Tasks()[0].State)
	assert.Equal(t, added, countDatums(t, store), "nothing ingested twice")
	assert.Equal(t, 1, sim.Stats().Downloads)
}

// TestServiceNoDataDeleteThrottled: a task without data is deleted by
// Resume; a throttled delete is remembered and retried on a later call.
func TestServiceNoDataDeleteThrottled(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	clock := &fakeClock{t: time.Now()}
	logs := &syncWriter{w: &bytes.Buffer{}}
	svc := newService(t, sim, func(o *atlas.Options) {
		o.Now = clock.Now
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	south := singletarget.Target{ID: 2, Name: "south pole", RA: 10, Dec: -89.5}
	out, err := svc.Query(ctx, south, form(t, svc, window), nil)
	require.NoError(t, err)
	waitFinished(t, sim)
	sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointDelete, Status: 429, RetryAfter: 20 * time.Second})
	_, err = svc.Resume(ctx, south, *out.Pending, nil)
	require.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.Equal(t, []int64{1}, svc.PendingCleanup())
	assert.Equal(t, "failed", sim.Tasks()[0].State)
	assert.Contains(t, logs.String(), "delete throttled")

	// Writes are refused fast until the wait is over; then the next call
	// (here a new query) retries the delete.
	err = svc.Cleanup(ctx)
	assert.ErrorIs(t, err, singletarget.ErrThrottled)
	clock.Add(20 * time.Second)
	_, err = svc.Query(ctx, ngc1566, form(t, svc, window), nil)
	require.NoError(t, err)
	assert.Empty(t, svc.PendingCleanup())
	assert.Equal(t, "deleted", sim.Tasks()[0].State)
	assert.NoError(t, svc.Cleanup(ctx))
}

func countDatums(t *testing.T, s dataproduct.Store) int {
	t.Helper()
	ds, err := s.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	return len(ds)
}

func TestServiceKeepRemote(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, func(o *atlas.Options) { o.KeepRemote = true })
	m := manager(t, svc, dataproduct.NewMemoryStore(nil))
	_, err := m.Run(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	assert.Equal(t, "finished", sim.Tasks()[0].State)
	assert.Zero(t, sim.Stats().Deletes)
}

func TestServiceRefusesForeignInput(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	svc := newService(t, sim, nil)
	_, err := svc.Query(ctx, ngc1566, &singletarget.FormBase{}, nil)
	assert.Error(t, err)
	_, err = svc.Resume(ctx, ngc1566, singletarget.RemoteTask{ID: "abc"}, nil)
	assert.Error(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc.Resume(cctx, ngc1566, singletarget.RemoteTask{ID: "1"}, nil)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = atlas.NewService(sim.URL, "", nil)
	assert.Error(t, err, "the service needs a token")

	info := svc.Info()
	assert.Equal(t, "Forced Photometry", info.Kind)
	assert.Equal(t, "atlas_photometry", info.DataProductType)
	assert.Equal(t, "https://fallingstar-data.com/forcedphot/", info.InfoURL)
	assert.True(t, info.Async)
	assert.Equal(t, "ATLAS", svc.Name())
	assert.Same(t, svc.Client(), svc.Client())
}

// waitFinished waits until the simulator's first task has finished.
func waitFinished(t *testing.T, sim *atlastest.Server) {
	t.Helper()
	require.Eventually(t, func() bool { s := sim.Tasks()[0].State; return s == "finished" || s == "failed" }, 10*time.Second, 2*time.Millisecond)
}

func manager(t *testing.T, svc singletarget.Service, store dataproduct.Store) *singletarget.Manager {
	t.Helper()
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{MaxThrottleWait: time.Minute})
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddService(svc))
	return m
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestRegisterAndLoad(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	r := singletarget.NewRegistry()
	require.NoError(t, atlas.Register(r))
	assert.Contains(t, r.Classes(), "atlas.ForcedPhotometryService")
	assert.Contains(t, r.ProcessorClasses(), "atlas.Processor")
	assert.Error(t, atlas.Register(r), "registering twice is an error")

	settings := func(extra string) string {
		return `
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: ` + sim.URL + `
    api_key: ${ATLAS_KEY}
` + extra + `
data_product_types:
  atlas_photometry: ATLAS Photometry
data_processors:
  atlas_photometry: atlas.Processor
`
	}
	env := func(k string) (string, bool) {
		if k == "ATLAS_KEY" {
			return sim.Token.Reveal(), true
		}
		return "", false
	}
	load := func(extra string) (*singletarget.Manager, dataproduct.Store, error) {
		cfg, err := singletarget.ParseConfig([]byte(settings(extra)), env)
		if err != nil {
			return nil, nil, err
		}
		store := dataproduct.NewMemoryStore(nil)
		m, err := r.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
		return m, store, err
	}

	m, store, err := load("    poll_queued: 3ms\n    poll_running: 3ms\n    poll_max: 10ms\n    poll_growth: \"1.5\"\n    deadline: 1h\n    timeout: 30s\n    keep_remote: \"false\"\n" +
		"    read_rate: 100\n    read_window: 10s\n    list_max_age: 5ms\n    queue_positions_max_age: never\n    callback_url: https://192.0.2.10/cb")
	require.NoError(t, err)
	res, err := m.Run(ctx, singletarget.Request{Service: "ATLAS", Target: ngc1566, Params: window})
	require.NoError(t, err)
	require.Len(t, res.Products, 1)
	atlasSvc, err := m.Service("ATLAS")
	require.NoError(t, err)
	assert.Equal(t, "", atlasSvc.(*atlas.Service).CallbackURL(), "the simulator refused the callback URL (not a public address): polled instead")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: ngc1566.ID})
	require.NoError(t, err)
	assert.Len(t, ds, res.Added)
	assert.Equal(t, map[string]string{"atlas_photometry": "ATLAS Photometry"}, m.DataProductTypes())

	for extra, key := range map[string]string{
		"    poll_every: 3s":                          "single_target_data_services.ATLAS.poll_every",
		"    poll_queued: soon":                       "single_target_data_services.ATLAS.poll_queued",
		"    deadline: -1h":                           "single_target_data_services.ATLAS.deadline",
		"    poll_growth: \"0\"":                      "single_target_data_services.ATLAS.poll_growth",
		"    callback_url: http://tom.example.org/cb": "single_target_data_services.ATLAS.callback_url",
		"    read_rate: -5":                           "single_target_data_services.ATLAS.read_rate",
		"    list_max_age: often":                     "single_target_data_services.ATLAS.list_max_age",
	} {
		_, _, err := load(extra)
		require.Error(t, err, extra)
		assert.ErrorIs(t, err, singletarget.ErrConfig)
		assert.Contains(t, err.Error(), key)
		assert.NotContains(t, err.Error(), sim.Token.Reveal())
	}

	_, err = atlas.Factory(singletarget.Settings{Name: "ATLAS", Class: atlas.ServiceClass})
	require.ErrorIs(t, err, singletarget.ErrConfig)
	assert.Contains(t, err.Error(), "single_target_data_services.ATLAS.api_key")
	svc, err := atlas.Factory(singletarget.Settings{Name: "ATLAS", Class: atlas.ServiceClass, APIKey: sim.Token})
	require.NoError(t, err)
	assert.Equal(t, atlas.DefaultURL, svc.(*atlas.Service).Client().BaseURL(), "the real server by default")
	_, err = atlas.Factory(singletarget.Settings{Name: "ATLAS", Class: atlas.ServiceClass, APIKey: sim.Token, URL: "not a url"})
	assert.ErrorIs(t, err, singletarget.ErrConfig)
}

// TestProductNamesAreDeterministic: the same remote task always gives the
// same product name, and resuming twice stores nothing twice.
func TestProductNamesAreDeterministic(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{FirstID: 1851119})
	svc := newService(t, sim, func(o *atlas.Options) { o.KeepRemote = true })
	store := dataproduct.NewMemoryStore(nil)
	out, err := svc.Query(ctx, ngc1566, form(t, svc, url.Values{"min_date": {"2024-01-01"}, "max_date": {"2024-02-01"}}), store)
	require.NoError(t, err)
	a, _, err := resumeUntilDone(t, ctx, svc, ngc1566, *out.Pending, store)
	require.NoError(t, err)
	b, err := svc.Resume(ctx, ngc1566, *out.Pending, store)
	require.NoError(t, err)
	assert.Equal(t, "atlas_2024_01_01-2024_02_01.txt", a.Products[0].Name, "the TOM's name without the task, with the .txt of the result file")
	assert.Equal(t, a.Products[0].ID, b.Products[0].ID)
	// Another task of the same query: the same product.
	out2, err := svc.Query(ctx, ngc1566, form(t, svc, url.Values{"min_date_mjd": {"60310"}, "max_date": {"2024-02-01T00:00:00Z"}}), store)
	require.NoError(t, err)
	c, _, err := resumeUntilDone(t, ctx, svc, ngc1566, *out2.Pending, store)
	require.NoError(t, err)
	assert.Equal(t, a.Products[0].ID, c.Products[0].ID)
	assert.NotEqual(t, out.Pending.ID, out2.Pending.ID)
	ps, _ := store.ListProducts(ctx, dataproduct.ProductFilter{})
	assert.Len(t, ps, 1)
	n, err := processor.Ingest(ctx, store, ps[0], atlas.Processor{})
	require.NoError(t, err)
	again, err := processor.Ingest(ctx, store, ps[0], atlas.Processor{})
	require.NoError(t, err)
	assert.Zero(t, again.Added)
	assert.Equal(t, n.Added, again.Skipped)
	assert.Equal(t, strconv.Itoa(1851119), a.Products[0].Extra["task_id"])
}

func TestProductName(t *testing.T) {
	hi := 60336.0
	frac := 60336.75
	for _, c := range []struct {
		lo      float64
		hi      *float64
		reduced bool
		want    string
	}{
		{60316, &hi, false, "atlas_2024_01_07-2024_01_27.txt"},
		{60316, nil, false, "atlas_2024_01_07-now.txt"},
		{60316, nil, true, "atlas_2024_01_07-now_reduced.txt"},
		{60316.25, &frac, false, "atlas_60316.25-60336.75.txt"},
	} {
		got := atlas.ProductName(c.lo, c.hi, c.reduced)
		assert.Equal(t, c.want, got)
		assert.NoError(t, dataproduct.CheckName(got))
	}
}
