package riverexec_test

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

// slowService is the demo service under another name, on an archive whose
// tasks never finish, counting the remote tasks it is asked to withdraw.
type slowService struct {
	*demo.Service
	withdrawn atomic.Int32
}

func (s *slowService) Name() string { return "SLOW" }

func (s *slowService) CancelRemote(ctx context.Context, rt singletarget.RemoteTask) error {
	s.withdrawn.Add(1)
	return s.Service.CancelRemote(ctx, rt)
}

// executorManager is a Manager with DEMO (tasks finish after three polls)
// and SLOW (tasks never finish).
func executorManager(t *testing.T) (*singletarget.Manager, *demo.Archive, *slowService) {
	t.Helper()
	archive := demo.NewArchive("key-12345", 3)
	m := newManager(t, archive, dataproduct.NewMemoryStore(nil))
	slow := &slowService{Service: demo.NewService(demo.NewArchive("key-12345", 1_000_000), "key-12345", 10*time.Millisecond)}
	require.NoError(t, m.AddService(slow))
	return m, archive, slow
}

// TestEveryExecutor runs one program, written against singletarget.Executor
// only, on Immediate, Pool and River (SQLite and PostgreSQL): it submits,
// lists, follows, waits for and cancels jobs the same way on each.
func TestEveryExecutor(t *testing.T) {
	run := func(t *testing.T, x singletarget.Executor, archive *demo.Archive, slow *slowService) {
		exerciseExecutor(t, x, archive, slow)
	}
	t.Run("Immediate", func(t *testing.T) {
		m, archive, slow := executorManager(t)
		run(t, singletarget.NewImmediate(m), archive, slow)
	})
	t.Run("Pool", func(t *testing.T) {
		m, archive, slow := executorManager(t)
		p := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 2})
		require.NoError(t, p.Start(context.Background()))
		t.Cleanup(func() { _ = p.StopAndCancel(context.Background()) })
		run(t, p, archive, slow)
	})
	t.Run("River", func(t *testing.T) {
		backends(t, func(t *testing.T, open opener) {
			m, archive, slow := executorManager(t)
			x := open(t, m, testOptions())
			start(t, x)
			run(t, x, archive, slow)

			// River ids are not row numbers: the row id alone finds nothing.
			page, err := x.List(context.Background(), singletarget.JobFilter{Limit: 1})
			require.NoError(t, err)
			require.Len(t, page.Jobs, 1)
			id := string(page.Jobs[0].ID)
			row, key, ok := strings.Cut(id, "-")
			require.True(t, ok, id)
			assert.Regexp(t, `^[0-9]+$`, row)
			assert.Regexp(t, `^[0-9a-f]{24}$`, key)
			_, err = x.Status(context.Background(), singletarget.JobID(row))
			assert.ErrorIs(t, err, singletarget.ErrUnknownJob, "a sequential id is not enough")
			n, _ := strconv.Atoi(row)
			_, err = x.Status(context.Background(), singletarget.JobID(strconv.Itoa(n-1)+"-"+key))
			assert.ErrorIs(t, err, singletarget.ErrUnknownJob, "another row with this key")
		})
	})
}

// exerciseExecutor is the program TestEveryExecutor runs on each executor.
func exerciseExecutor(t *testing.T, x singletarget.Executor, archive *demo.Archive, slow *slowService) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tg := func(id int64) singletarget.Target {
		t := target
		t.ID = id
		return t
	}

	// Bad params: a *FormErrors from Submit, and no job.
	_, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg(1), Params: url.Values{"max_mjd": {"1"}}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)

	// Submit and wait: two targets, one job each.
	var ids []singletarget.JobID
	for _, target := range []int64{1, 2} {
		id, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg(target), Params: window()})
		require.NoError(t, err)
		assert.Regexp(t, `[0-9a-f]{24}$`, string(id), "at least 96 random bits")
		ids = append(ids, id)
	}
	for _, id := range ids {
		st, err := x.Wait(ctx, id)
		require.NoError(t, err)
		require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
		assert.Equal(t, 40, st.Added)
		assert.Equal(t, id, st.ID)
		st2, err := x.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, st.State, st2.State)
	}
	wrong := ids[0][:len(ids[0])-1] + "x"
	_, err = x.Status(ctx, wrong)
	assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
	_, err = x.Wait(ctx, wrong)
	assert.ErrorIs(t, err, singletarget.ErrUnknownJob)
	assert.ErrorIs(t, x.Cancel(ctx, wrong), singletarget.ErrUnknownJob)
	assert.NoError(t, x.Cancel(ctx, ids[0]), "cancelling a finished job does nothing")
	st, err := x.Status(ctx, ids[0])
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobSucceeded, st.State)

	// List: newest first, filtered, paged.
	page, err := x.List(ctx, singletarget.JobFilter{})
	require.NoError(t, err)
	assert.Equal(t, []singletarget.JobID{ids[1], ids[0]}, jobIDs(page), "newest first")
	assert.Empty(t, page.Next)
	page, err = x.List(ctx, singletarget.JobFilter{TargetID: 1})
	require.NoError(t, err)
	assert.Equal(t, []singletarget.JobID{ids[0]}, jobIDs(page))
	page, err = x.List(ctx, singletarget.JobFilter{Service: "DEMO", States: []singletarget.JobState{singletarget.JobSucceeded}})
	require.NoError(t, err)
	assert.Len(t, page.Jobs, 2)
	page, err = x.List(ctx, singletarget.JobFilter{Service: "SLOW"})
	require.NoError(t, err)
	assert.Empty(t, page.Jobs)
	page, err = x.List(ctx, singletarget.JobFilter{States: []singletarget.JobState{singletarget.JobFailed, singletarget.JobQueued}})
	require.NoError(t, err)
	assert.Empty(t, page.Jobs)
	page, err = x.List(ctx, singletarget.JobFilter{Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, []singletarget.JobID{ids[1]}, jobIDs(page))
	require.NotEmpty(t, page.Next, "a second page")
	page, err = x.List(ctx, singletarget.JobFilter{Limit: 1, After: page.Next})
	require.NoError(t, err)
	assert.Equal(t, []singletarget.JobID{ids[0]}, jobIDs(page))
	assert.Empty(t, page.Next, "the last page")
	for _, bad := range []singletarget.JobFilter{{After: "not-a-cursor"}, {Limit: -1}, {States: []singletarget.JobState{"lost"}}} {
		_, err = x.List(ctx, bad)
		assert.ErrorAs(t, err, &fe, "%+v", bad)
	}

	// Follow a job submitted from another goroutine (Immediate's Submit
	// returns only when the job is done), found by List.
	submitted := make(chan singletarget.JobID, 1)
	go func() {
		id, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg(3), Params: window()})
		assert.NoError(t, err)
		submitted <- id
	}()
	id := findJob(t, x, singletarget.JobFilter{TargetID: 3})
	var seen []singletarget.JobStatus
	for st, err := range x.Watch(ctx, id) {
		require.NoError(t, err)
		seen = append(seen, st)
	}
	require.NotEmpty(t, seen)
	final := seen[len(seen)-1]
	assert.Equal(t, singletarget.JobSucceeded, final.State, "Watch ends with the final status")
	assert.Equal(t, 40, final.Added)
	for i, st := range seen[:len(seen)-1] {
		assert.False(t, st.State.Done(), "only the last status is final: %d %+v", i, st)
	}
	assert.Equal(t, id, <-submitted)

	// Cancel a job that never finishes, found by List while it runs: its
	// remote task is withdrawn and Wait reports it cancelled.
	go func() {
		id, err := x.Submit(ctx, singletarget.Request{Service: "SLOW", Target: tg(4), Params: window()})
		assert.NoError(t, err)
		submitted <- id
	}()
	id = findJob(t, x, singletarget.JobFilter{Service: "SLOW", States: []singletarget.JobState{singletarget.JobQueued, singletarget.JobRunning}})
	var polling singletarget.JobStatus
	for st, err := range x.Watch(ctx, id) {
		require.NoError(t, err)
		if st.Remote != nil && st.Remote.Polls >= 1 {
			polling = st
			break // stop following
		}
	}
	require.NotNil(t, polling.Remote, "the job polls its remote task")
	assert.Equal(t, singletarget.JobRunning, polling.State)
	assert.Equal(t, "SLOW", polling.Progress.Service, "progress names its service")
	assert.NotEmpty(t, polling.Progress.Stage)
	require.NoError(t, x.Cancel(ctx, id))
	st, err = x.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobCancelled, st.State, "%+v", st)
	assert.Equal(t, id, <-submitted)
	assert.Equal(t, int32(1), slow.withdrawn.Load(), "the remote task was withdrawn")
	page, err = x.List(ctx, singletarget.JobFilter{States: []singletarget.JobState{singletarget.JobCancelled}})
	require.NoError(t, err)
	assert.Equal(t, []singletarget.JobID{id}, jobIDs(page))

	// Wait until a deadline: the latest status and the context's error.
	go func() {
		id, err := x.Submit(ctx, singletarget.Request{Service: "SLOW", Target: tg(5), Params: window()})
		assert.NoError(t, err)
		submitted <- id
	}()
	id = findJob(t, x, singletarget.JobFilter{TargetID: 5})
	// Long enough for the first read of the row on a loaded machine (under
	// -race it took over 200 ms): the job (SLOW) never ends anyway.
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	st, err = x.Wait(short, id)
	cancelShort()
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, id, st.ID, "the latest status comes with the error")
	assert.False(t, st.State.Done())
	require.NoError(t, x.Cancel(ctx, id))
	assert.Equal(t, id, <-submitted)
	assert.Equal(t, 3, archive.Submitted, "one remote task per DEMO job")
	assert.Equal(t, int32(2), slow.withdrawn.Load(), "both SLOW tasks withdrawn")
}

func jobIDs(p singletarget.JobPage) []singletarget.JobID {
	out := make([]singletarget.JobID, len(p.Jobs))
	for i, st := range p.Jobs {
		out[i] = st.ID
	}
	return out
}

// findJob waits until List shows exactly one job for f and returns it.
func findJob(t *testing.T, x singletarget.Executor, f singletarget.JobFilter) singletarget.JobID {
	t.Helper()
	var id singletarget.JobID
	require.Eventually(t, func() bool {
		page, err := x.List(context.Background(), f)
		if err != nil || len(page.Jobs) != 1 {
			return false
		}
		id = page.Jobs[0].ID
		return true
	}, 30*time.Second, 5*time.Millisecond, "List shows the job")
	return id
}

// A web process's insert-only executor sees the progress a worker process
// reports, the latest of several reports of the same stage included.
func TestInsertOnlySeesWorkerProgress(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		store := dataproduct.NewMemoryStore(nil)
		steps := &stepService{release: make(chan struct{})}
		mk := func() *singletarget.Manager {
			m := singletarget.NewManager(store, nil)
			require.NoError(t, m.AddService(steps))
			return m
		}
		webOpts := testOptions()
		webOpts.InsertOnly = true
		web := open(t, mk(), webOpts)
		wOpts := testOptions()
		wOpts.ProgressInterval = 100 * time.Millisecond
		worker := open(t, mk(), wOpts)
		start(t, worker)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		id, err := web.Submit(ctx, singletarget.Request{Service: "STEPS", Target: target})
		require.NoError(t, err)
		var last singletarget.Progress
		for st, err := range web.Watch(ctx, id) {
			require.NoError(t, err)
			last = st.Progress
			if st.Progress.Message == "2 of 3" {
				break
			}
		}
		assert.Equal(t, singletarget.Progress{Service: "STEPS", Stage: singletarget.StageFetching, Message: "2 of 3"},
			singletarget.Progress{Service: last.Service, Stage: last.Stage, Message: last.Message},
			"the latest report of the stage, held back by ProgressInterval, reaches the row")
		st, err := web.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, singletarget.JobRunning, st.State)
		assert.Equal(t, "2 of 3", st.Progress.Message)
		close(steps.release)
		st, err = web.Wait(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, singletarget.JobFailed, st.State)
		assert.Contains(t, st.Error, "nothing here")
	})
}

// stepService reports two progress messages of one stage, then blocks
// until released, and finds nothing.
type stepService struct{ release chan struct{} }

func (s *stepService) Name() string { return "STEPS" }
func (s *stepService) NewForm() singletarget.QueryForm {
	f := &struct{ singletarget.FormBase }{}
	f.Bind(f)
	return f
}
func (s *stepService) Query(ctx context.Context, _ singletarget.Target, _ singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	singletarget.ReportProgress(ctx, singletarget.Progress{Stage: singletarget.StageFetching, Message: "1 of 3"})
	singletarget.ReportProgress(ctx, singletarget.Progress{Stage: singletarget.StageFetching, Message: "2 of 3"})
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, errNothing
}

var errNothing = &nothingError{}

type nothingError struct{}

func (*nothingError) Error() string        { return "nothing here" }
func (*nothingError) Is(target error) bool { return target == singletarget.ErrNotFound }

// A report held back by ProgressInterval when the step returns is never
// written after it: the worker changes the job's state without the lock
// then (st.Result on success), so a late write would race with it. The
// logger holds the worker right after the success is recorded, long
// enough for a held report's timer to fire; under -race a write then
// fails the test.
func TestHeldProgressNotWrittenAfterStep(t *testing.T) {
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddService(quickService{}))
	opts := testOptions()
	opts.ProgressInterval = 500 * time.Millisecond
	opts.Logger = slog.New(&holdHandler{msg: "job succeeded", hold: 3 * opts.ProgressInterval})
	x := sqliteOpener(t)(t, m, opts)
	start(t, x)
	id, err := x.Submit(context.Background(), singletarget.Request{Service: "QUICK", Target: target})
	require.NoError(t, err)
	st := wait(t, x, id)
	assert.Equal(t, singletarget.JobSucceeded, st.State)
	assert.Equal(t, "2 of 2", st.Progress.Message, "the final state carries the latest report")
}

// quickService reports two progress messages of one stage (the second is
// held back) and succeeds at once with no product.
type quickService struct{}

func (quickService) Name() string { return "QUICK" }
func (quickService) NewForm() singletarget.QueryForm {
	f := &struct{ singletarget.FormBase }{}
	f.Bind(f)
	return f
}
func (quickService) Query(ctx context.Context, _ singletarget.Target, _ singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	singletarget.ReportProgress(ctx, singletarget.Progress{Stage: singletarget.StageFetching, Message: "1 of 2"})
	singletarget.ReportProgress(ctx, singletarget.Progress{Stage: singletarget.StageFetching, Message: "2 of 2"})
	return &singletarget.Outcome{}, nil
}

// holdHandler discards records, but holds the goroutine logging msg for
// hold.
type holdHandler struct {
	msg  string
	hold time.Duration
}

func (h *holdHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *holdHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		time.Sleep(h.hold)
	}
	return nil
}
func (h *holdHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *holdHandler) WithGroup(string) slog.Handler      { return h }
