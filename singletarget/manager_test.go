package singletarget_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

var sn2023ixf = singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}

func demoManager(t *testing.T, polls int) (*singletarget.Manager, *demo.Archive, dataproduct.Store) {
	t.Helper()
	a := demo.NewArchive("key-12345", polls)
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(demo.NewService(a, "key-12345", time.Millisecond)))
	return m, a, store
}

func window() url.Values { return url.Values{"min_date_mjd": {"60080"}, "max_date_mjd": {"60100"}} }

func TestManagerRun(t *testing.T) {
	m, a, store := demoManager(t, 3)
	var mu sync.Mutex
	var stages []string
	ctx := singletarget.WithProgress(context.Background(), func(p singletarget.Progress) {
		mu.Lock()
		stages = append(stages, p.Stage)
		mu.Unlock()
	})
	a.ThrottleNext(20 * time.Millisecond)
	res, err := m.Run(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	require.Len(t, res.Products, 1)
	assert.Equal(t, "demo-SN_2023ixf-60080-60100.csv", res.Products[0].Name)
	assert.Equal(t, 40, res.Added, "20 nights × 2 bands")
	assert.Equal(t, 1, a.Submitted, "one remote task despite the throttling")
	require.NotNil(t, res.Remote)
	assert.Equal(t, "DEMO", res.Remote.Service)
	mu.Lock()
	assert.Equal(t, "throttled", stages[1], "throttling is visible: %v", stages)
	assert.Contains(t, stages, "queued")
	assert.Contains(t, stages, "processing")
	mu.Unlock()

	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	require.NoError(t, err)
	assert.Len(t, ds, 40)
	report := dataproduct.Report{Product: "demo-SN_2023ixf-60080-60100.csv", Rows: 40, Datums: 40}
	assert.Equal(t, []dataproduct.Report{report}, res.Reports, "the result says what the processor made of the file")
	again, err := m.Run(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Added: 0, Skipped: 40, Reports: []dataproduct.Report{report}}, again.IngestResult)
}

func TestManagerRefusesBadRequests(t *testing.T) {
	m, a, _ := demoManager(t, 1)
	ctx := context.Background()
	_, err := m.Run(ctx, singletarget.Request{Service: "NOPE", Target: sn2023ixf})
	assert.ErrorIs(t, err, singletarget.ErrUnknown)
	_, err = m.Run(ctx, singletarget.Request{Service: "DEMO", Target: singletarget.Target{ID: 1, Name: "x", RA: 400, Dec: -91}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Fields, "ra")
	assert.Contains(t, fe.Fields, "dec")
	_, err = m.Run(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: url.Values{"min_date_mjd": {"soon"}}})
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Fields, "min_date_mjd")
	assert.Equal(t, 0, a.Submitted, "nothing reached the archive")
}

func TestManagerThrottleBudget(t *testing.T) {
	a := demo.NewArchive("key-12345", 1)
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), &singletarget.ManagerOptions{MaxThrottleWait: 2 * time.Second})
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(demo.NewService(a, "key-12345", time.Millisecond)))
	a.ThrottleNext(time.Hour)
	_, err := m.Run(context.Background(), singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te, "a wait over the budget is returned, not slept")
	assert.Equal(t, time.Hour, te.RetryAfter)
}

func TestManagerAddChecks(t *testing.T) {
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	a := demo.NewArchive("k", 1)
	err := m.AddService(demo.NewService(a, "k", 0))
	assert.ErrorContains(t, err, `no processor is set for that type (data_processors.demo_photometry)`)
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	assert.Error(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(demo.NewService(a, "k", 0)))
	assert.Error(t, m.AddService(demo.NewService(a, "k", 0)), "duplicate name")
}

func TestManagerUpload(t *testing.T) {
	m, _, store := demoManager(t, 1)
	ctx := context.Background()
	res, err := m.Upload(ctx, 9, demo.DataProductType, "my-photometry.csv", strings.NewReader("time,filter,magnitude,error\n60000.5,g,17,0.1\n"))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	_, err = m.Upload(ctx, 9, demo.DataProductType, "broken.csv", strings.NewReader("time,filter,magnitude\n60000.5,g,17\n60001,g,oops\n"))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, "broken.csv", pe.File)
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 9})
	require.NoError(t, err)
	assert.Len(t, ds, 1, "nothing of the broken file was ingested")
	_, err = m.Upload(ctx, 9, "unknown_type", "x.csv", strings.NewReader(""))
	assert.Error(t, err)
}

// An upload's rows that are no measurement are reported and logged; a
// spectrum without a time takes the one given with it, recorded with the
// product.
func TestManagerUploadReportAndObservationTime(t *testing.T) {
	var logs strings.Builder
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, m.AddProcessor("photometry", processor.PhotometryTable{}))
	require.NoError(t, m.AddProcessor("spectroscopy", processor.Spectroscopy{}))
	ctx := context.Background()

	res, err := m.Upload(ctx, 9, "photometry", "mine.csv", strings.NewReader("time,filter,magnitude,limit\n60000.5,g,17,\n60001.5,g,,\n"))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	require.Len(t, res.Reports, 1)
	assert.Equal(t, []dataproduct.SkippedRows{{Reason: processor.ReasonNoMagnitudeOrLimit, Count: 1, Lines: []int{3}}}, res.Reports[0].Skipped)
	assert.Contains(t, logs.String(), `msg="product processed" product=upload-mine.csv rows=2 datums=1 skipped_rows=1`)

	spectrum := "wavelength flux\n4000 1e-16\n4001 2e-16\n"
	_, err = m.Upload(ctx, 9, "spectroscopy", "spec.txt", strings.NewReader(spectrum))
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe, "no time in the file and none given")
	assert.Contains(t, err.Error(), "no observation time")

	at := time.Date(2024, 1, 26, 3, 14, 15, 0, time.UTC)
	res, err = m.Upload(ctx, 9, "spectroscopy", "spec2.txt", strings.NewReader(spectrum), singletarget.WithObservationTime(at))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	require.Len(t, res.Products, 1)
	assert.Equal(t, "2024-01-26T03:14:15Z", res.Products[0].Extra[dataproduct.ExtraObservationTime], "the time is kept with the product")
	assert.Contains(t, res.Reports[0].Notes[0], "the time given with it is used")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 9, DataType: "spectroscopy"})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, at, ds[0].Timestamp)
	again, err := m.Process(ctx, res.Products[0])
	require.NoError(t, err)
	assert.Equal(t, 0, again.Added, "re-processing the product gives the same datum")
	assert.Equal(t, 1, again.Skipped)
}

func TestImmediate(t *testing.T) {
	m, _, _ := demoManager(t, 2)
	ex := singletarget.NewImmediate(m)
	ctx := context.Background()
	id, err := ex.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	st, err := ex.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobSucceeded, st.State, "final at once: %+v", st)
	assert.Equal(t, 40, st.Added)
	assert.Len(t, st.Products, 1)
	require.NotNil(t, st.Remote)

	_, err = ex.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: url.Values{"max_date_mjd": {"1"}}})
	assert.ErrorIs(t, err, singletarget.ErrInvalidForm, "bad params come back from Submit")
	_, err = ex.Status(ctx, "nope")
	assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
	assert.NotErrorIs(t, err, singletarget.ErrNotFound, "an unknown job is not an archive with nothing")
}

// flaky is a synchronous service that fails with a remote error n times.
type flaky struct {
	fails atomic.Int32
	calls atomic.Int32
	err   error
	block chan struct{}
}

func (f *flaky) Name() string { return "FLAKY" }
func (f *flaky) NewForm() singletarget.QueryForm {
	b := &singletarget.FormBase{}
	return b
}
func (f *flaky) Info() singletarget.Info {
	return singletarget.Info{DataProductType: demo.DataProductType}
}
func (f *flaky) Query(ctx context.Context, t singletarget.Target, _ singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fails.Add(-1) >= 0 {
		return nil, f.err
	}
	p, err := out.PutProduct(ctx, dataproduct.Product{TargetID: t.ID, Name: "flaky.csv", DataProductType: demo.DataProductType},
		strings.NewReader(demo.Lightcurve(t, 60000, 60002, "g")))
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

func TestPool(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, a, _ := demoManager(t, 2)
	fl := &flaky{err: &singletarget.RemoteError{Service: "FLAKY", Status: 503}}
	fl.fails.Store(2)
	require.NoError(t, m.AddService(fl))
	p := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 2, RetryBackoff: func(int) time.Duration { return time.Millisecond }})
	ctx := context.Background()
	// Jobs submitted before Start wait.
	var ids []singletarget.JobID
	for i := range 6 {
		tg := sn2023ixf
		tg.ID = int64(i + 1)
		id, err := p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg, Params: window()})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	st, err := p.Status(ctx, ids[0])
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobQueued, st.State)
	flakyID, err := p.Submit(ctx, singletarget.Request{Service: "FLAKY", Target: sn2023ixf})
	require.NoError(t, err)

	require.NoError(t, p.Start(ctx))
	for _, id := range append(ids, flakyID) {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		st, err := p.Wait(wctx, id)
		cancel()
		require.NoError(t, err)
		require.Equal(t, singletarget.JobSucceeded, st.State, "job %s: %+v", id, st)
	}
	st, _ = p.Status(ctx, ids[3])
	assert.Equal(t, 40, st.Added)
	assert.Equal(t, 6, a.Submitted, "one remote task per job")
	st, _ = p.Status(ctx, flakyID)
	assert.Equal(t, 3, st.Attempts, "two failures, then success")
	assert.Equal(t, int32(3), fl.calls.Load())

	require.NoError(t, p.Stop(ctx))
	<-p.Stopped()
	_, err = p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	assert.ErrorIs(t, err, singletarget.ErrPoolStopped)
}

func TestPoolFailuresAndCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, a, _ := demoManager(t, 1_000_000) // tasks that never finish
	bad := &flaky{err: fmt.Errorf("archive says: %w", singletarget.ErrNotFound)}
	bad.fails.Store(100)
	require.NoError(t, m.AddService(bad))
	p := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 1})
	ctx := context.Background()
	require.NoError(t, p.Start(ctx))

	id, err := p.Submit(ctx, singletarget.Request{Service: "FLAKY", Target: sn2023ixf})
	require.NoError(t, err)
	st, err := p.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobFailed, st.State)
	assert.True(t, errors.Is(st.Err, singletarget.ErrNotFound), "not retried: %v", st.Err)
	assert.Equal(t, 1, st.Attempts)

	// An id the pool never issued: ErrUnknownJob, not ErrNotFound.
	_, err = p.Status(ctx, "nope")
	assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
	assert.NotErrorIs(t, err, singletarget.ErrNotFound)
	assert.ErrorIs(t, p.Cancel(ctx, "nope"), singletarget.ErrUnknownJob)

	// A parked job (remote task pending) is cancelled and its remote task withdrawn.
	id, err = p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, _ := p.Status(ctx, id)
		return st.Remote != nil && st.Remote.Polls > 2
	}, 10*time.Second, time.Millisecond, "the job polls its remote task")
	require.NoError(t, p.Cancel(ctx, id))
	st, err = p.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobCancelled, st.State)
	assert.Equal(t, 1, a.Submitted)

	// A running step is cancelled through its context.
	blocker := &flaky{block: make(chan struct{})}
	blocker2 := &flakyNamed{flaky: blocker, name: "BLOCK"}
	require.NoError(t, m.AddService(blocker2))
	id, err = p.Submit(ctx, singletarget.Request{Service: "BLOCK", Target: sn2023ixf})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return blocker.calls.Load() == 1 }, 10*time.Second, time.Millisecond)
	require.NoError(t, p.Cancel(ctx, id))
	st, err = p.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobCancelled, st.State)

	require.NoError(t, p.StopAndCancel(ctx))
}

type flakyNamed struct {
	*flaky
	name string
}

func (f *flakyNamed) Name() string { return f.name }

func TestPoolForgetsOldFinishedJobs(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _, _ := demoManager(t, 1)
	p := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 1, KeepFinished: 50 * time.Millisecond})
	ctx := context.Background()
	require.NoError(t, p.Start(ctx))
	defer p.Stop(ctx)
	id, err := p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	st, err := p.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State)
	time.Sleep(100 * time.Millisecond) // past KeepFinished (the prune runs on the next submission)
	_, err = p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	_, err = p.Status(ctx, id)
	assert.ErrorIs(t, err, singletarget.ErrUnknownJob, "a finished job is forgotten after KeepFinished")
}

// countsOf is r without its reports: the datum counts alone.
func countsOf(r dataproduct.IngestResult) dataproduct.IngestResult {
	r.Reports = nil
	return r
}
