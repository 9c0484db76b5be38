package ztf_test

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// clock is a fake clock shared by a simulator and a service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clocked returns a service and simulator on a fake clock: jobs queue for
// an hour and run for an hour; the service polls from 1 minute to 10.
func clocked(t *testing.T, simOpts ztftest.Options, opts ztf.ForcedPhotometryOptions) (*ztf.ForcedPhotometryService, *ztftest.Server, *clock) {
	t.Helper()
	clk := newClock()
	simOpts.Now = clk.Now
	if simOpts.QueueTime == 0 {
		simOpts.QueueTime, simOpts.RunTime = time.Hour, time.Hour
	}
	opts.Now = clk.Now
	if opts.PollInterval == 0 {
		opts.PollInterval, opts.MaxPollInterval = time.Minute, 10*time.Minute
	}
	svc, sim := newFPService(t, &simOpts, &opts)
	return svc, sim, clk
}

func fpForm(t *testing.T, svc singletarget.Service, params url.Values) singletarget.QueryForm {
	t.Helper()
	f := svc.NewForm()
	require.NoError(t, f.Decode(params))
	require.NoError(t, f.Validate())
	return f
}

var window = url.Values{"min_date_mjd": {"59300"}, "max_date_mjd": {"59500"}}

func TestForcedPhotometryLifecycle(t *testing.T) {
	svc, sim, clk := clocked(t, ztftest.Options{StatusLag: 10 * time.Minute}, ztf.ForcedPhotometryOptions{})
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	t0 := clk.Now()

	out, err := svc.Query(ctx, target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	require.NotNil(t, out.Pending)
	assert.Empty(t, out.Products)
	task := *out.Pending
	assert.Equal(t, "ZTF_FP", task.Service)
	assert.Equal(t, "submitted", task.State)
	assert.Empty(t, task.ID, "the submission page names no job id")
	assert.Equal(t, t0, task.Submitted)
	assert.Equal(t, t0.Add(time.Minute), task.NotBefore)
	assert.Equal(t, sim.ForcedPhotometryURL+ztf.StatusPath, task.URL)
	assert.Equal(t, map[string]string{"ra": "230.7155157", "dec": "41.0502799", "jdstart": "2459300.5", "jdend": "2459500.5"}, task.Data)
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail))

	step := func(d time.Duration) *singletarget.Outcome {
		t.Helper()
		clk.Add(d)
		out, err := svc.Resume(ctx, target, task, store)
		require.NoError(t, err)
		if out.Pending != nil {
			task = *out.Pending
		}
		return out
	}
	// Not listed yet (the status page lags).
	require.NotNil(t, step(time.Minute).Pending, "still pending")
	assert.Equal(t, "submitted", task.State)
	assert.Empty(t, task.ID)
	assert.Equal(t, 1, task.Polls)
	assert.Equal(t, clk.Now().Add(time.Minute), task.NotBefore)
	// Listed, queued.
	require.NotNil(t, step(15*time.Minute).Pending, "still pending")
	assert.Equal(t, "queued", task.State)
	assert.Equal(t, "69601", task.ID)
	assert.Equal(t, clk.Now().Add(2*time.Minute), task.NotBefore, "the wait doubles")
	require.NotNil(t, step(time.Minute).Pending, "still pending")
	assert.Equal(t, clk.Now().Add(4*time.Minute), task.NotBefore)
	require.NotNil(t, step(time.Minute).Pending, "still pending")
	assert.Equal(t, clk.Now().Add(8*time.Minute), task.NotBefore)
	require.NotNil(t, step(time.Minute).Pending, "still pending")
	assert.Equal(t, clk.Now().Add(10*time.Minute), task.NotBefore, "up to MaxPollInterval")
	// Running.
	require.NotNil(t, step(50*time.Minute).Pending, "still pending")
	assert.Equal(t, "running", task.State)
	// Done.
	out = step(time.Hour)
	require.Nil(t, out.Pending)
	require.Len(t, out.Products, 1)
	p := out.Products[0]
	assert.Equal(t, "ztf_fp-SN_2024abc-2459300.5-2459500.5.txt", p.Name)
	assert.Equal(t, ztf.ForcedPhotometryDataProductType, p.DataProductType)
	assert.Equal(t, "69601", p.Extra["reqid"])
	assert.Equal(t, "forcedphotometry_req00069601_lc.txt", p.Extra["file"])
	assert.Equal(t, "0", p.Extra["exitcode"])
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail), "exactly one job")
	assert.Equal(t, 1, sim.Requests(ztftest.EndpointDownload))

	rc, err := store.OpenProduct(ctx, p.ID)
	require.NoError(t, err)
	defer rc.Close()
	ds, err := ztf.ForcedPhotometryProcessor{}.Process(ctx, rc)
	require.NoError(t, err)
	assert.NotEmpty(t, ds)
	var det, lim int
	for _, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		if ph.Magnitude != nil {
			det++
		} else {
			lim++
		}
		assert.GreaterOrEqual(t, *ph.MJD, 59300.0)
		assert.LessOrEqual(t, *ph.MJD, 59500.0)
	}
	assert.Positive(t, det)
	assert.Positive(t, lim)
}

func TestForcedPhotometryJobFailures(t *testing.T) {
	for _, c := range []struct {
		code int
		err  error
		text string
	}{
		{63, singletarget.ErrNotFound, "no ZTF epochs"},
		{64, singletarget.ErrTaskFailed, "exit code 64, catastrophic error"},
		{65, singletarget.ErrTaskFailed, "exit code 65"},
		{255, singletarget.ErrTaskFailed, "submit the query again"},
	} {
		t.Run(ztf.ExitCodeMeaning(c.code), func(t *testing.T) {
			svc, sim, clk := clocked(t, ztftest.Options{}, ztf.ForcedPhotometryOptions{})
			sim.FailNextJob(c.code)
			store := dataproduct.NewMemoryStore(nil)
			out, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
			require.NoError(t, err)
			clk.Add(3 * time.Hour)
			_, err = svc.Resume(context.Background(), target, *out.Pending, store)
			assert.ErrorIs(t, err, c.err)
			assert.ErrorContains(t, err, c.text)
			assert.False(t, singletarget.Retryable(err))
			ps, _ := store.ListProducts(context.Background(), dataproduct.ProductFilter{})
			assert.Empty(t, ps)
		})
	}
	t.Run("window before the survey has no epochs", func(t *testing.T) {
		svc, _, clk := clocked(t, ztftest.Options{}, ztf.ForcedPhotometryOptions{})
		f := fpForm(t, svc, url.Values{"min_date_mjd": {"61500"}, "max_date_mjd": {"61600"}})
		out, err := svc.Query(context.Background(), target, f, dataproduct.NewMemoryStore(nil))
		require.NoError(t, err)
		clk.Add(3 * time.Hour)
		_, err = svc.Resume(context.Background(), target, *out.Pending, dataproduct.NewMemoryStore(nil))
		assert.ErrorIs(t, err, singletarget.ErrNotFound)
	})
	t.Run("warning exit code with a file", func(t *testing.T) {
		svc, sim, clk := clocked(t, ztftest.Options{}, ztf.ForcedPhotometryOptions{})
		sim.FailNextJob(62)
		out, err := svc.Query(context.Background(), target, fpForm(t, svc, window), dataproduct.NewMemoryStore(nil))
		require.NoError(t, err)
		clk.Add(3 * time.Hour)
		out, err = svc.Resume(context.Background(), target, *out.Pending, dataproduct.NewMemoryStore(nil))
		require.NoError(t, err)
		require.Len(t, out.Products, 1)
		assert.Equal(t, "62", out.Products[0].Extra["exitcode"])
	})
}

func TestForcedPhotometryDeadlineAndExpiry(t *testing.T) {
	svc, _, clk := clocked(t, ztftest.Options{QueueTime: 10 * time.Hour, RunTime: time.Hour}, ztf.ForcedPhotometryOptions{Deadline: 3 * time.Hour})
	store := dataproduct.NewMemoryStore(nil)
	out, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	clk.Add(2 * time.Hour)
	out, err = svc.Resume(context.Background(), target, *out.Pending, store)
	require.NoError(t, err)
	task := *out.Pending
	clk.Add(2 * time.Hour)
	_, err = svc.Resume(context.Background(), target, task, store)
	assert.ErrorIs(t, err, singletarget.ErrDeadline)
	assert.ErrorContains(t, err, "job 69601 still queued")

	// A job that has gone from the list (30 days).
	clk.Add(31 * 24 * time.Hour)
	_, err = svc.Resume(context.Background(), target, task, store)
	assert.ErrorIs(t, err, singletarget.ErrTaskFailed)
	assert.ErrorContains(t, err, "no longer in the job list")
}

func TestForcedPhotometryDownloadFaults(t *testing.T) {
	svc, sim, clk := clocked(t, ztftest.Options{}, ztf.ForcedPhotometryOptions{})
	store := dataproduct.NewMemoryStore(nil)
	out, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	task := *out.Pending
	clk.Add(3 * time.Hour)
	sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointDownload, Truncate: true})
	_, err = svc.Resume(context.Background(), target, task, store)
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.ErrorContains(t, err, "cut short")
	assert.True(t, singletarget.Retryable(err), "the executor looks again later")
	sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 502}, ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 503})
	out, err = svc.Resume(context.Background(), target, task, store)
	require.NoError(t, err, "5xx on the status page are retried inside the call")
	require.Len(t, out.Products, 1)
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail))
}

func TestForcedPhotometryAdoptsPendingJob(t *testing.T) {
	svc, sim, clk := clocked(t, ztftest.Options{}, ztf.ForcedPhotometryOptions{})
	store := dataproduct.NewMemoryStore(nil)
	_, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	clk.Add(time.Minute)
	// The same query again (say, after a crash before the task was saved).
	again, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail), "no duplicate job")
	assert.Equal(t, "69601", again.Pending.ID)
	assert.Equal(t, "queued", again.Pending.State)
	assert.Equal(t, "true", again.Pending.Data["adopted"])

	// Once the job is done, the same query uses it at once.
	clk.Add(3 * time.Hour)
	third, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	assert.Nil(t, third.Pending)
	require.Len(t, third.Products, 1)
	assert.Equal(t, "69601", third.Products[0].Extra["reqid"])
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail), "no second job")

	// NoAdopt always submits.
	svc2, sim2, _ := clocked(t, ztftest.Options{}, ztf.ForcedPhotometryOptions{NoAdopt: true})
	for range 2 {
		_, err := svc2.Query(context.Background(), target, fpForm(t, svc2, window), store)
		require.NoError(t, err)
	}
	assert.Equal(t, 2, sim2.Submissions(ztftest.DefaultEmail))
}

func TestForcedPhotometryResumeAfterRestart(t *testing.T) {
	clk := newClock()
	sim := ztftest.NewServer(t, &ztftest.Options{Now: clk.Now, QueueTime: time.Hour, RunTime: time.Hour})
	build := func() *ztf.ForcedPhotometryService {
		svc, err := ztf.NewForcedPhotometryService(sim.ForcedPhotometryURL, sim.Credentials(),
			&ztf.ForcedPhotometryOptions{HTTPClient: sim.Client(), Now: clk.Now})
		require.NoError(t, err)
		return svc
	}
	store := dataproduct.NewMemoryStore(nil)
	svc := build()
	out, err := svc.Query(context.Background(), target, fpForm(t, svc, window), store)
	require.NoError(t, err)
	saved, err := json.Marshal(out.Pending)
	require.NoError(t, err)
	c := sim.Credentials()
	for _, s := range []singletarget.Secret{c.Email, c.Password, c.HTTPPassword} {
		assert.NotContains(t, string(saved), s.Reveal(), "the persisted task holds no credentials")
	}

	// A new process: a new service from the same settings, the task from JSON.
	var task singletarget.RemoteTask
	require.NoError(t, json.Unmarshal(saved, &task))
	clk.Add(3 * time.Hour)
	out, err = build().Resume(context.Background(), target, task, store)
	require.NoError(t, err)
	require.Len(t, out.Products, 1)
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail))

	_, err = build().Resume(context.Background(), target, singletarget.RemoteTask{Data: map[string]string{"ra": "x"}}, store)
	assert.ErrorIs(t, err, singletarget.ErrTaskFailed)
}

func TestForcedPhotometryQueryErrors(t *testing.T) {
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	t.Run("bad account", func(t *testing.T) {
		sim := ztftest.NewServer(t, nil)
		svc, err := ztf.NewForcedPhotometryService(sim.ForcedPhotometryURL, ztf.Credentials{Email: "nobody@example.org", Password: "wrong-pass"},
			&ztf.ForcedPhotometryOptions{HTTPClient: sim.Client()})
		require.NoError(t, err)
		_, err = svc.Query(ctx, target, svc.NewForm(), store)
		assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
		assert.NotContains(t, err.Error(), "wrong-pass")
		assert.NotContains(t, err.Error(), "nobody@example.org")
		assert.Zero(t, sim.Requests(ztftest.EndpointSubmit), "nothing is submitted with refused credentials")
	})
	t.Run("bad site password", func(t *testing.T) {
		sim := ztftest.NewServer(t, nil)
		c := sim.Credentials()
		c.HTTPPassword = "guess-again"
		svc, err := ztf.NewForcedPhotometryService(sim.ForcedPhotometryURL, c, &ztf.ForcedPhotometryOptions{HTTPClient: sim.Client()})
		require.NoError(t, err)
		_, err = svc.Query(ctx, target, svc.NewForm(), store)
		assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
		assert.NotContains(t, err.Error(), "guess-again")
	})
	t.Run("throttled before submitting", func(t *testing.T) {
		svc, sim := newFPService(t, nil, nil)
		sim.ThrottleNext(time.Minute)
		_, err := svc.Query(ctx, target, svc.NewForm(), store)
		var te *singletarget.ThrottledError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, time.Minute, te.RetryAfter)
		assert.Zero(t, sim.Requests(ztftest.EndpointSubmit))
	})
	t.Run("submission fails once, not retried", func(t *testing.T) {
		svc, sim := newFPService(t, nil, nil)
		sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointSubmit, Status: 502})
		_, err := svc.Query(ctx, target, svc.NewForm(), store)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Equal(t, 1, sim.Requests(ztftest.EndpointSubmit))
		sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointSubmit, Reset: true})
		_, err = svc.Query(ctx, target, svc.NewForm(), store)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Equal(t, 2, sim.Requests(ztftest.EndpointSubmit), "a dropped connection is not retried either")
	})
	t.Run("cancelled", func(t *testing.T) {
		svc, _ := newFPService(t, nil, nil)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := svc.Query(cctx, target, svc.NewForm(), store)
		assert.ErrorIs(t, err, context.Canceled)
		_, err = svc.Resume(cctx, target, singletarget.RemoteTask{}, store)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("wrong form", func(t *testing.T) {
		svc, _ := newFPService(t, nil, nil)
		_, err := svc.Query(ctx, target, &ztf.Form{}, store)
		assert.ErrorContains(t, err, "*ztf.ForcedPhotometryForm")
	})
	t.Run("not a canceller", func(t *testing.T) {
		svc, _ := newFPService(t, nil, nil)
		_, ok := any(svc).(singletarget.Canceller)
		assert.False(t, ok, "ZFPS cannot withdraw a job")
		info := svc.Info()
		assert.True(t, info.Async)
		assert.Equal(t, "Forced Photometry", info.Kind)
		assert.Equal(t, ztf.ForcedPhotometryDataProductType, info.DataProductType)
	})
}

func TestPoolForcedPhotometry(t *testing.T) {
	svc, sim := newFPService(t, &ztftest.Options{QueueTime: 20 * time.Millisecond, RunTime: 30 * time.Millisecond}, nil)
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(ztf.ForcedPhotometryDataProductType, ztf.ForcedPhotometryProcessor{}))
	require.NoError(t, m.AddService(svc))
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(context.Background())

	id, err := pool.Submit(ctx, singletarget.Request{Service: "ZTF_FP", Target: target, Params: window})
	require.NoError(t, err)
	st, err := pool.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	require.Len(t, st.Products, 1)
	assert.Regexp(t, `^ztf_fp-SN_2024abc-2459300\.5-2459500\.5\.txt$`, st.Products[0].Name)
	assert.Positive(t, st.Added)
	require.NotNil(t, st.Remote)
	assert.NotEmpty(t, st.Remote.ID)
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail), "exactly one remote job")
	assert.Equal(t, 1, sim.Requests(ztftest.EndpointSubmit))
	assert.Equal(t, 1, sim.Requests(ztftest.EndpointDownload))
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID, Source: "ZTF_FP"})
	require.NoError(t, err)
	assert.Len(t, ds, st.Added)

	// A bad form is refused at Submit.
	_, err = pool.Submit(ctx, singletarget.Request{Service: "ZTF_FP", Target: target, Params: url.Values{"max_date_mjd": {"2460000"}}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.NotEmpty(t, fe.Fields["max_date_mjd"])
}

// TestForcedPhotometrySameQueryTwice runs one query twice through a
// Manager, the second a second later: ZFPS writes the time a job ended
// into its result file, so a second job's file differs from the first's
// in that line. The second query reuses the first's finished job: one
// job, nothing stored or ingested again. A query on another day (the
// default window ends at the end of the day) submits a new job.
func TestForcedPhotometrySameQueryTwice(t *testing.T) {
	for name, params := range map[string]url.Values{"window": window, "default window": {}} {
		t.Run(name, func(t *testing.T) {
			var skew atomic.Int64 // added to the real time, shared by all clocks
			now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
			svc, sim := newFPService(t, &ztftest.Options{Now: now}, &ztf.ForcedPhotometryOptions{Now: now})
			store := dataproduct.NewMemoryStore(nil)
			m := singletarget.NewManager(store, &singletarget.ManagerOptions{Now: now})
			require.NoError(t, m.AddProcessor(ztf.ForcedPhotometryDataProductType, ztf.ForcedPhotometryProcessor{}))
			require.NoError(t, m.AddService(svc))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			req := singletarget.Request{Service: ztf.ForcedPhotometryServiceName, Target: target, Params: params}

			first, err := m.Run(ctx, req)
			require.NoError(t, err)
			require.Len(t, first.Products, 1)
			require.Positive(t, first.Added)
			before, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
			require.NoError(t, err)

			skew.Add(int64(time.Second))
			again, err := m.Run(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail), "the finished job of the same request is reused")
			assert.Equal(t, 2, sim.Requests(ztftest.EndpointDownload), "its file is downloaded again")
			require.Len(t, again.Products, 1)
			assert.Equal(t, first.Products[0].Name, again.Products[0].Name)
			assert.Zero(t, again.Added, "nothing is ingested again")
			after, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
			require.NoError(t, err)
			assert.Equal(t, before, after, "nothing is stored again")

			if params.Has("max_date_mjd") {
				return
			}
			skew.Add(int64(24 * time.Hour))
			_, err = m.Run(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 2, sim.Submissions(ztftest.DefaultEmail), "the next day's window ends a day later: a new job")
		})
	}
}

// TestForcedPhotometryReusesFinishedJob: which finished job of the same
// request a second Query uses instead of submitting.
func TestForcedPhotometryReusesFinishedJob(t *testing.T) {
	future := url.Values{"min_date_mjd": {"59300"}, "max_date_mjd": {"61400"}} // the clock is at MJD 61368
	for _, c := range []struct {
		name     string
		exit     int // the first job's exit code (0: success)
		params   url.Values
		opts     ztf.ForcedPhotometryOptions
		fault    *ztftest.Fault
		reused   bool
		notFound bool
	}{
		{name: "success", reused: true},
		{name: "start reset (62)", exit: 62, reused: true},
		{name: "no epochs (63)", exit: 63, reused: true, notFound: true},
		{name: "catastrophic error (64)", exit: 64},
		{name: "end before the survey (65)", exit: 65},
		{name: "database error (255)", exit: 255},
		{name: "window reaching into the future", params: future},
		{name: "NoAdopt", opts: ztf.ForcedPhotometryOptions{NoAdopt: true}},
		{name: "file gone", fault: &ztftest.Fault{Endpoint: ztftest.EndpointDownload, Status: 404}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			svc, sim, clk := clocked(t, ztftest.Options{}, c.opts)
			params := window
			if c.params != nil {
				params = c.params
			}
			if c.exit != 0 {
				sim.FailNextJob(c.exit)
			}
			store := dataproduct.NewMemoryStore(nil)
			_, err := svc.Query(ctx, target, fpForm(t, svc, params), store)
			require.NoError(t, err)
			clk.Add(3 * time.Hour)
			if c.fault != nil {
				sim.Inject(*c.fault)
			}
			out, err := svc.Query(ctx, target, fpForm(t, svc, params), store)
			switch {
			case c.notFound:
				assert.ErrorIs(t, err, singletarget.ErrNotFound)
				assert.ErrorContains(t, err, "job 69601")
				assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail))
			case c.reused:
				require.NoError(t, err)
				assert.Nil(t, out.Pending)
				require.Len(t, out.Products, 1)
				assert.Equal(t, "69601", out.Products[0].Extra["reqid"])
				assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail))
			default:
				require.NoError(t, err)
				require.NotNil(t, out.Pending, "a new job")
				assert.Empty(t, out.Products)
				assert.Equal(t, 2, sim.Submissions(ztftest.DefaultEmail))
				assert.Equal(t, "69601", out.Pending.Data["known"])
				// Resume follows the new job, whatever the old one did.
				clk.Add(time.Minute)
				next, err := svc.Resume(ctx, target, *out.Pending, store)
				require.NoError(t, err)
				require.NotNil(t, next.Pending)
				assert.Equal(t, "69602", next.Pending.ID)
			}
		})
	}
}
