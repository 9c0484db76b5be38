package singletarget_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

// busyArchive is an asynchronous service whose server allows only K tasks
// in flight per account: a query beyond that is refused with a 429-like
// ThrottledError matching ErrConcurrencyLimit. Tasks finish RunTime after
// they were queued.
type busyArchive struct {
	K       int
	RunTime time.Duration
	Limit   singletarget.ConcurrencyLimit // what the service tells the Manager
	Wait    time.Duration                 // RetryAfter of a refusal
	Pace    func() time.Duration          // ReserveQuery, when set

	mu        sync.Mutex
	next      int
	active    map[string]time.Time // task id → finish time
	maxActive int
	refused   int
	queued    int
	cancelled []string
}

type busyService struct{ a *busyArchive }

type pacedService struct{ busyService }

func (s pacedService) ReserveQuery() time.Duration { return s.a.Pace() }

func newBusy(k int, run time.Duration) *busyArchive {
	return &busyArchive{K: k, RunTime: run, Wait: 5 * time.Millisecond, active: map[string]time.Time{}}
}

func (a *busyArchive) expireLocked(now time.Time) {
	for id, end := range a.active {
		if !now.Before(end) {
			delete(a.active, id)
		}
	}
}

func (s busyService) Name() string { return "BUSY" }
func (s busyService) NewForm() singletarget.QueryForm {
	f := &singletarget.FormBase{}
	return f
}
func (s busyService) Info() singletarget.Info {
	return singletarget.Info{DataProductType: demo.DataProductType, Async: true}
}
func (s busyService) ConcurrencyLimit() singletarget.ConcurrencyLimit { return s.a.Limit }

func (s busyService) Query(ctx context.Context, t singletarget.Target, _ singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := s.a
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	if len(a.active) >= a.K {
		a.refused++
		return nil, &singletarget.ThrottledError{Service: "BUSY", RetryAfter: a.Wait, Detail: "too many tasks", Err: singletarget.ErrConcurrencyLimit}
	}
	a.next++
	a.queued++
	id := strconv.Itoa(a.next)
	a.active[id] = now.Add(a.RunTime)
	a.maxActive = max(a.maxActive, len(a.active))
	return &singletarget.Outcome{Pending: &singletarget.RemoteTask{Service: "BUSY", ID: id, State: "queued",
		Submitted: now, NotBefore: now.Add(a.RunTime / 4)}}, nil
}

func (s busyService) Resume(ctx context.Context, t singletarget.Target, rt singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	a := s.a
	now := time.Now()
	a.mu.Lock()
	end, ok := a.active[rt.ID]
	a.mu.Unlock()
	if ok && now.Before(end) {
		rt.State, rt.NotBefore = "running", now.Add(a.RunTime/4)
		rt.Polls++
		return &singletarget.Outcome{Pending: &rt}, nil
	}
	a.mu.Lock()
	delete(a.active, rt.ID)
	a.mu.Unlock()
	singletarget.ReportProgress(ctx, singletarget.Progress{Stage: singletarget.StageFetching})
	p, err := out.PutProduct(ctx, dataproduct.Product{TargetID: t.ID, Name: "busy-" + rt.ID + ".csv", DataProductType: demo.DataProductType},
		strings.NewReader(demo.Lightcurve(t, 60000, 60003, "g")))
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

func (s busyService) CancelRemote(_ context.Context, rt singletarget.RemoteTask) error {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	delete(s.a.active, rt.ID)
	s.a.cancelled = append(s.a.cancelled, rt.ID)
	return nil
}

func busyManager(t *testing.T, svc singletarget.Service) *singletarget.Manager {
	t.Helper()
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(svc))
	return m
}

func targets(n int) []singletarget.Target {
	out := make([]singletarget.Target, n)
	for i := range out {
		out[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("T%03d", i+1), RA: float64(i) * 1.7, Dec: -30 + float64(i)}
	}
	return out
}

func waitBatch(t *testing.T, b *singletarget.Batch) singletarget.BatchProgress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := b.Wait(ctx)
	require.NoError(t, err, "batch did not finish: %s", p)
	return p
}

func TestBatchKeepsToTheConfiguredLimit(t *testing.T) {
	defer goleak.VerifyNone(t)
	a := newBusy(3, 20*time.Millisecond)
	a.Limit = singletarget.ConcurrencyLimit{Max: 3}
	m := busyManager(t, busyService{a})
	b, err := m.Batch(context.Background(), "BUSY", targets(24), nil, &singletarget.BatchOptions{Workers: 2})
	require.NoError(t, err)
	p := waitBatch(t, b)
	assert.Equal(t, singletarget.BatchProgress{Total: 24, Done: 24, Added: 24 * 3, Elapsed: p.Elapsed}, p)
	assert.True(t, p.Finished())
	a.mu.Lock()
	assert.Equal(t, 0, a.refused, "never more than the limit was asked")
	assert.Equal(t, 3, a.maxActive, "and the limit was used")
	assert.Equal(t, 24, a.queued, "one remote task per target")
	a.mu.Unlock()

	res := b.Results()
	require.Len(t, res, 24)
	for i, st := range res {
		assert.Equal(t, singletarget.JobSucceeded, st.State)
		assert.Equal(t, int64(i+1), st.Request.Target.ID, "in target order")
		assert.Len(t, st.Products, 1)
	}
	sl, err := m.Slots("BUSY")
	require.NoError(t, err)
	assert.Equal(t, 0, sl.Status().InFlight, "every slot given back")
	assert.Contains(t, p.String(), "24/24 done, 0 failed")
}

func TestBatchLearnsTheLimitFromRefusals(t *testing.T) {
	defer goleak.VerifyNone(t)
	a := newBusy(4, 30*time.Millisecond)
	a.Limit = singletarget.ConcurrencyLimit{Learn: true}
	m := busyManager(t, busyService{a})
	b, err := m.Batch(context.Background(), "BUSY", targets(30), nil, &singletarget.BatchOptions{
		Workers: 4, PoolOptions: &singletarget.PoolOptions{RetryBackoff: func(int) time.Duration { return time.Millisecond }}})
	require.NoError(t, err)
	p := waitBatch(t, b)
	assert.Equal(t, 30, p.Done, "%s", p)
	sl, _ := m.Slots("BUSY")
	st := sl.Status()
	assert.Equal(t, 4, st.Learned, "learned from the refusal with 4 in flight")
	assert.Equal(t, 4, st.Max)
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.LessOrEqual(t, a.maxActive, 4)
	assert.Positive(t, a.refused, "learning takes a refusal")
	assert.LessOrEqual(t, a.refused, 6, "and then the limit holds")
}

func TestBatchPacedService(t *testing.T) {
	defer goleak.VerifyNone(t)
	a := newBusy(100, 5*time.Millisecond)
	var mu sync.Mutex
	var asked int
	// The pacer lets a query through every other time it is asked.
	a.Pace = func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		asked++
		if asked%2 == 1 {
			return 2 * time.Millisecond
		}
		return 0
	}
	m := busyManager(t, pacedService{busyService{a}})
	b, err := m.Batch(context.Background(), "BUSY", targets(10), nil, nil)
	require.NoError(t, err)
	p := waitBatch(t, b)
	assert.Equal(t, 10, p.Done)
	mu.Lock()
	assert.GreaterOrEqual(t, asked, 20, "every query waited for the pacer")
	mu.Unlock()
}

func TestBatchCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	a := newBusy(3, time.Hour) // tasks that do not finish
	a.Limit = singletarget.ConcurrencyLimit{Max: 3}
	m := busyManager(t, busyService{a})
	ctx := context.Background()
	b, err := m.Batch(ctx, "BUSY", targets(10), nil, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p := b.Progress()
		return p.InFlight == 3 && p.Waiting == 7
	}, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		sl, _ := m.Slots("BUSY")
		return sl.Status().Remote == 3
	}, 10*time.Second, time.Millisecond, "three remote tasks queued")
	require.NoError(t, b.Cancel(ctx))
	p := b.Progress()
	assert.Equal(t, singletarget.BatchProgress{Total: 10, Cancelled: 10, Elapsed: p.Elapsed}, p)
	<-b.Done()
	a.mu.Lock()
	assert.Len(t, a.cancelled, 3, "the remote tasks were withdrawn")
	a.mu.Unlock()
	for _, st := range b.Results() {
		assert.Equal(t, singletarget.JobCancelled, st.State)
	}
	sl, _ := m.Slots("BUSY")
	assert.Equal(t, 0, sl.Status().InFlight)
}

func TestBatchContextEndsIt(t *testing.T) {
	defer goleak.VerifyNone(t)
	a := newBusy(2, time.Hour)
	m := busyManager(t, busyService{a})
	ctx, cancel := context.WithCancel(context.Background())
	b, err := m.Batch(ctx, "BUSY", targets(5), nil, &singletarget.BatchOptions{MaxInFlight: 2})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.Progress().InFlight == 2 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, 3, b.Progress().Waiting, "MaxInFlight holds the rest back")
	cancel()
	p := waitBatch(t, b)
	assert.Equal(t, 5, p.Cancelled)
}

func TestBatchOnASharedPool(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, arch, _ := demoManager(t, 2)
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 2})
	ctx := context.Background()
	require.NoError(t, pool.Start(ctx))
	b, err := m.Batch(ctx, "DEMO", targets(6), window(), &singletarget.BatchOptions{Pool: pool})
	require.NoError(t, err)
	p := waitBatch(t, b)
	assert.Equal(t, 6, p.Done)
	assert.Equal(t, 6*40, p.Added)
	assert.Equal(t, 6, arch.Submitted)
	// A pool that stops ends a batch still running on it.
	arch.Polls = 1_000_000
	b, err = m.Batch(ctx, "DEMO", targets(3), window(), &singletarget.BatchOptions{Pool: pool})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.Progress().InFlight == 3 }, 10*time.Second, time.Millisecond)
	require.NoError(t, pool.StopAndCancel(ctx))
	p = waitBatch(t, b)
	assert.Equal(t, 3, p.Failed)
	for _, st := range b.Results() {
		assert.Equal(t, singletarget.JobFailed, st.State)
	}
}

func TestBatchFailuresAreCounted(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _, _ := demoManager(t, 1)
	bad := &flaky{err: fmt.Errorf("archive: %w", singletarget.ErrNotFound)}
	bad.fails.Store(2)
	require.NoError(t, m.AddService(bad))
	b, err := m.Batch(context.Background(), "FLAKY", targets(4), nil, &singletarget.BatchOptions{Workers: 1})
	require.NoError(t, err)
	p := waitBatch(t, b)
	assert.Equal(t, 2, p.Failed)
	assert.Equal(t, 2, p.Done)
	var notFound int
	for _, st := range b.Results() {
		if errors.Is(st.Err, singletarget.ErrNotFound) {
			notFound++
		}
	}
	assert.Equal(t, 2, notFound)
}

func TestBatchChecksEverythingFirst(t *testing.T) {
	m, arch, _ := demoManager(t, 1)
	ctx := context.Background()
	ts := targets(3)
	ts[1].RA = 400
	_, err := m.Batch(ctx, "DEMO", ts, window(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `targets[1] ("T002")`)
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Fields, "ra")

	_, err = m.Batch(ctx, "DEMO", targets(2), map[string][]string{"min_date_mjd": {"soon"}}, nil)
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Fields, "min_date_mjd")
	_, err = m.Batch(ctx, "NOPE", targets(2), nil, nil)
	assert.ErrorIs(t, err, singletarget.ErrUnknown)
	_, err = m.Batch(ctx, "DEMO", nil, window(), nil)
	assert.Error(t, err)
	assert.Equal(t, 0, arch.Submitted)
}
