package singletarget

import (
	"context"
	"iter"
	"sync"
	"time"
)

// Immediate is the executor that runs each query to the end inside Submit
// (the TOM's synchronous fallback): Status is final as soon as Submit
// returns. While Submit runs, other goroutines see the job through Status,
// List, Watch and Wait, and Cancel stops it (Submit then returns the job's
// id, its status cancelled). It is safe for concurrent use.
type Immediate struct {
	m    *Manager
	jobs *jobTable

	mu        sync.Mutex
	running   map[JobID]context.CancelFunc // jobs whose Submit runs
	cancelled map[JobID]bool               // ... and that Cancel stopped
}

// NewImmediate returns an Immediate executor over m. It keeps the status
// of each job for DefaultKeepFinished.
func NewImmediate(m *Manager) *Immediate {
	return &Immediate{m: m, jobs: newJobTable(0), running: map[JobID]context.CancelFunc{}, cancelled: map[JobID]bool{}}
}

// Submit implements Executor: it checks the request (returning a
// *FormErrors for bad params), then runs it with Manager.Run under ctx. A
// query that fails still gets a job id; its status says why. Progress goes
// to the job's status and to a WithProgress callback on ctx.
func (e *Immediate) Submit(ctx context.Context, req Request) (JobID, error) {
	if err := e.m.Check(req); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	st := &JobStatus{ID: newJobID(), Request: req, State: JobRunning, Attempts: 1, Created: now, Updated: now}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.mu.Lock()
	e.running[st.ID] = cancel
	e.mu.Unlock()
	e.jobs.add(st)
	ctx = WithProgress(ctx, func(p Progress) {
		e.jobs.update(st.ID, func(s *JobStatus) { setProgress(s, p) })
	})
	res, err := e.m.Run(ctx, req)
	e.mu.Lock()
	cancelled := e.cancelled[st.ID]
	delete(e.running, st.ID)
	delete(e.cancelled, st.ID)
	e.mu.Unlock()
	if cancelled && err != nil {
		// The job is final only once its remote task is withdrawn.
		var remote *RemoteTask
		if cur, gerr := e.jobs.get(st.ID); gerr == nil {
			remote = cur.Remote
		}
		if res != nil && res.Remote != nil {
			remote = res.Remote
		}
		withdraw(ctx, e.m, e.m.logger, req, remote)
	}
	e.jobs.update(st.ID, func(s *JobStatus) {
		if cancelled && err != nil {
			s.State = JobCancelled
		}
		finish(s, res, err)
	})
	return st.ID, nil
}

// Status implements Executor.
func (e *Immediate) Status(_ context.Context, id JobID) (JobStatus, error) { return e.jobs.get(id) }

// List implements Executor.
func (e *Immediate) List(_ context.Context, f JobFilter) (JobPage, error) { return e.jobs.list(f) }

// Watch implements Executor.
func (e *Immediate) Watch(ctx context.Context, id JobID) iter.Seq2[JobStatus, error] {
	return e.jobs.watch(ctx, id)
}

// Wait implements Executor. A job is finished when its Submit returns, so
// Wait blocks only while another goroutine's Submit runs it.
func (e *Immediate) Wait(ctx context.Context, id JobID) (JobStatus, error) {
	return waitFor(e.jobs.watch(ctx, id))
}

// Cancel implements Executor: a job whose Submit still runs is cancelled
// through Submit's context; its pending remote task is withdrawn when the
// service is a Canceller, and then the job is final (cancelled). A
// finished job stays as it is.
func (e *Immediate) Cancel(_ context.Context, id JobID) error {
	if _, err := e.jobs.get(id); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if cancel, ok := e.running[id]; ok {
		e.cancelled[id] = true
		cancel()
	}
	return nil
}
