package singletarget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
)

// JobID identifies a job in its executor.
type JobID string

// JobState is where a job is.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"    // accepted, not started
	JobRunning   JobState = "running"   // running, or waiting on a remote task or throttling
	JobSucceeded JobState = "succeeded" // products stored and processed
	JobFailed    JobState = "failed"    // ended with an error
	JobCancelled JobState = "cancelled" // cancelled by Cancel
)

// Done reports whether the state is final.
func (s JobState) Done() bool { return s == JobSucceeded || s == JobFailed || s == JobCancelled }

// JobStatus reports a job.
type JobStatus struct {
	ID      JobID    `json:"id"`
	Request Request  `json:"request"`
	State   JobState `json:"state"`
	// Progress is the latest progress report.
	Progress Progress `json:"progress"`
	// Remote is the asynchronous service's remote task, once queued.
	Remote *RemoteTask `json:"remote,omitempty"`
	// Products, Added and Skipped are set when the job succeeded.
	Products []dataproduct.Product `json:"products,omitempty"`
	dataproduct.IngestResult
	// Error says why the job failed; Err is the error itself (not
	// serialised; nil when the status was read back from a database).
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
	// Attempts counts the attempts made (retries of retryable errors).
	Attempts int `json:"attempts"`
	// Created and Updated are when the job was submitted and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Executor runs queries: now (Immediate), on in-process workers (Pool) or
// durably on a job engine (riverexec). Submit validates the request at once
// (a *FormErrors comes back from Submit, not from the job).
type Executor interface {
	Submit(ctx context.Context, req Request) (JobID, error)
	Status(ctx context.Context, id JobID) (JobStatus, error)
	Cancel(ctx context.Context, id JobID) error
}

// Canceller is implemented by asynchronous services that can withdraw a
// remote task (ATLAS: DELETE the task). Executors call it when a job with
// a pending remote task is cancelled.
type Canceller interface {
	CancelRemote(ctx context.Context, task RemoteTask) error
}

func newJobID() JobID {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return JobID(hex.EncodeToString(b[:]))
}

// DefaultKeepFinished is how long the in-memory executors keep the status
// of a finished job.
const DefaultKeepFinished = 24 * time.Hour

// jobTable keeps statuses in memory, safe for concurrent use. Finished
// jobs are forgotten keep after they ended, so a long-lived executor does
// not grow without bound.
type jobTable struct {
	mu   sync.Mutex
	jobs map[JobID]*JobStatus
	// changed is closed and replaced whenever a job changes (for Wait).
	changed   chan struct{}
	keep      time.Duration
	lastPrune time.Time
}

func newJobTable(keep time.Duration) *jobTable {
	if keep <= 0 {
		keep = DefaultKeepFinished
	}
	return &jobTable{jobs: map[JobID]*JobStatus{}, changed: make(chan struct{}), keep: keep, lastPrune: time.Now()}
}

func (t *jobTable) add(st *JobStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.jobs[st.ID] = st
	if now := time.Now(); now.Sub(t.lastPrune) > min(t.keep, time.Minute) {
		t.lastPrune = now
		for id, j := range t.jobs {
			if j.State.Done() && now.Sub(j.Updated) > t.keep {
				delete(t.jobs, id)
			}
		}
	}
	t.notifyLocked()
}

func (t *jobTable) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// update applies fn to the job under the lock.
func (t *jobTable) update(id JobID, fn func(*JobStatus)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.jobs[id]; ok {
		fn(st)
		st.Updated = time.Now().UTC()
		t.notifyLocked()
	}
}

func (t *jobTable) get(id JobID) (JobStatus, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.jobs[id]
	if !ok {
		return JobStatus{}, fmt.Errorf("%w: %q", ErrUnknownJob, id)
	}
	out := *st
	out.Products = append([]dataproduct.Product(nil), st.Products...)
	return out, nil
}

// wait blocks until the job is done or ctx ends.
func (t *jobTable) wait(ctx context.Context, id JobID) (JobStatus, error) {
	for {
		t.mu.Lock()
		st, ok := t.jobs[id]
		ch := t.changed
		var done bool
		if ok {
			done = st.State.Done()
		}
		t.mu.Unlock()
		if !ok {
			return JobStatus{}, fmt.Errorf("%w: %q", ErrUnknownJob, id)
		}
		if done {
			return t.get(id)
		}
		select {
		case <-ctx.Done():
			return t.get(id)
		case <-ch:
		}
	}
}

func finish(st *JobStatus, res *Result, err error) {
	if res != nil {
		st.Products = res.Products
		st.IngestResult = res.IngestResult
		if res.Remote != nil {
			st.Remote = res.Remote
		}
	}
	switch {
	case err == nil:
		st.State = JobSucceeded
		st.Error, st.Err = "", nil
	case errors.Is(err, context.Canceled) && st.State == JobCancelled:
		st.Error, st.Err = "cancelled", err
	default:
		st.State = JobFailed
		st.Error, st.Err = err.Error(), err
	}
}

// Immediate is the executor that runs each query to the end inside Submit
// (the TOM's synchronous fallback): Status is final as soon as Submit
// returns. It is safe for concurrent use.
type Immediate struct {
	m    *Manager
	jobs *jobTable
}

// NewImmediate returns an Immediate executor over m. It keeps the status
// of each job for DefaultKeepFinished.
func NewImmediate(m *Manager) *Immediate { return &Immediate{m: m, jobs: newJobTable(0)} }

// Submit implements Executor: it checks the request (returning a
// *FormErrors for bad params), then runs it with Manager.Run under ctx. A
// query that fails still gets a job id; its status says why.
func (e *Immediate) Submit(ctx context.Context, req Request) (JobID, error) {
	if err := e.m.Check(req); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	st := &JobStatus{ID: newJobID(), Request: req, State: JobRunning, Attempts: 1, Created: now, Updated: now}
	e.jobs.add(st)
	ctx = WithProgress(ctx, func(p Progress) {
		e.jobs.update(st.ID, func(s *JobStatus) {
			s.Progress = p
			if p.Remote != nil {
				r := *p.Remote
				s.Remote = &r
			}
		})
	})
	res, err := e.m.Run(ctx, req)
	e.jobs.update(st.ID, func(s *JobStatus) { finish(s, res, err) })
	return st.ID, nil
}

// Status implements Executor.
func (e *Immediate) Status(_ context.Context, id JobID) (JobStatus, error) { return e.jobs.get(id) }

// Cancel implements Executor; an Immediate job is always finished, so
// Cancel only checks the id.
func (e *Immediate) Cancel(_ context.Context, id JobID) error {
	_, err := e.jobs.get(id)
	return err
}
