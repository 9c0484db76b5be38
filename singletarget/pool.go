package singletarget

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// PoolOptions configure a Pool; nil means defaults.
type PoolOptions struct {
	// Workers is the number of jobs that run a step at the same time.
	// Jobs waiting on a remote task or on throttling hold no worker.
	// Default 4.
	Workers int
	// MaxAttempts is how many times a job is tried when it fails with a
	// retryable error (see Retryable; throttling and pending tasks do not
	// count). A failed Query of an asynchronous service is not retried
	// unless it was throttled or the service is a KeyedQuerier, since the
	// remote task may exist. Default 3.
	MaxAttempts int
	// RetryBackoff returns the wait before attempt n+1 after n failures.
	// Default: 2ⁿ s with ±20% jitter, at most 5 min.
	RetryBackoff func(n int) time.Duration
	// MaxThrottleWait caps the total throttling wait of one job. Default
	// 1 hour.
	MaxThrottleWait time.Duration
	// SoftStopTimeout is how long Stop lets running steps finish before
	// cancelling them. Default 10 s.
	SoftStopTimeout time.Duration
	// Logger receives the pool's logs. Default: the Manager's.
	Logger *slog.Logger
	// KeepFinished is how long Status remembers a finished job. Default
	// DefaultKeepFinished (24 hours).
	KeepFinished time.Duration
}

func (o *PoolOptions) withDefaults(m *Manager) PoolOptions {
	var out PoolOptions
	if o != nil {
		out = *o
	}
	if out.Workers <= 0 {
		out.Workers = 4
	}
	if out.MaxAttempts <= 0 {
		out.MaxAttempts = 3
	}
	if out.RetryBackoff == nil {
		out.RetryBackoff = func(n int) time.Duration {
			d := time.Duration(1<<min(n, 9)) * time.Second
			d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
			return min(d, 5*time.Minute)
		}
	}
	if out.MaxThrottleWait <= 0 {
		out.MaxThrottleWait = time.Hour
	}
	if out.SoftStopTimeout <= 0 {
		out.SoftStopTimeout = 10 * time.Second
	}
	if out.Logger == nil {
		out.Logger = m.logger
	}
	return out
}

// ErrPoolStopped is returned by Submit after Stop.
var ErrPoolStopped = errors.New("pool stopped")

// Pool is the in-process asynchronous executor: a bounded set of worker
// goroutines. An asynchronous service's job holds no goroutine while the
// remote task runs: it is parked until the task's NotBefore and resumed by
// whichever worker is free; throttled jobs are parked for the server's
// wait. Jobs live in memory only: for jobs that survive a restart, use
// riverexec.
//
// Lifecycle: NewPool, Start, then Stop or StopAndCancel; Stopped is closed
// once every goroutine has returned. Submit works before Start (jobs
// queue). A Pool is safe for concurrent use.
type Pool struct {
	m    *Manager
	opts PoolOptions
	jobs *jobTable

	mu       sync.Mutex
	ready    []*poolJob
	waiting  waitHeap
	byID     map[JobID]*poolJob
	started  bool
	stopping bool
	wake     chan struct{} // closed and replaced on every change
	baseCtx  context.Context
	hardStop context.CancelFunc
	wg       sync.WaitGroup
	stopped  chan struct{}
}

type poolJob struct {
	id        JobID
	req       Request
	cp        Checkpoint // where the query stands (Manager.Step)
	failures  int
	throttled time.Duration
	due       time.Time
	index     int // in waiting, -1 when not there
	ctx       context.Context
	cancel    context.CancelFunc
	cancelled bool
	hooks     jobHooks     // a Batch following the job (batch.go), or nil
	progress  ProgressFunc // the WithProgress callback of Submit's context, or nil
	// remoteWait is set while the job is parked until its remote task's
	// NotBefore (WakeRemote may wake it).
	remoteWait bool
	// cleanup, when set, makes this a clean-up (QueueCleanup), not a query
	// job: it has no status and no place in byID.
	cleanup *poolCleanup
}

// poolCleanup is a remote task whose clean-up waits (QueueCleanup).
type poolCleanup struct {
	task   RemoteTask
	cancel bool
}

// NewPool returns a Pool running m's queries.
func NewPool(m *Manager, opts *PoolOptions) *Pool {
	o := opts.withDefaults(m)
	return &Pool{
		m: m, opts: o, jobs: newJobTable(o.KeepFinished),
		byID: map[JobID]*poolJob{}, wake: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// Start starts the workers. Cancelling ctx cancels every running job (a
// hard stop); prefer Stop. Start fails if the pool was started before.
func (p *Pool) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("pool already started")
	}
	p.started = true
	p.baseCtx, p.hardStop = context.WithCancel(context.WithoutCancel(ctx))
	for _, j := range p.byID {
		p.bindLocked(j)
	}
	for range p.opts.Workers {
		p.wg.Add(1)
		go p.worker()
	}
	go func() {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.stopping = true
			p.notifyLocked()
			p.mu.Unlock()
			p.hardStop()
		case <-p.stopped:
		}
	}()
	go func() {
		p.wg.Wait()
		p.hardStop()
		close(p.stopped)
	}()
	return nil
}

// bindLocked gives a job its context once the pool has a base context.
func (p *Pool) bindLocked(j *poolJob) {
	if j.ctx == nil && p.baseCtx != nil {
		j.ctx, j.cancel = context.WithCancel(p.baseCtx)
		if j.cancelled {
			j.cancel()
		}
	}
}

// Stop stops taking jobs, lets running steps finish for up to
// SoftStopTimeout (or until ctx ends), then cancels what still runs, and
// waits for every goroutine. Queued and parked jobs stay as they are.
func (p *Pool) Stop(ctx context.Context) error {
	return p.stop(ctx, p.opts.SoftStopTimeout)
}

// StopAndCancel is Stop without the grace period: running steps are
// cancelled at once.
func (p *Pool) StopAndCancel(ctx context.Context) error {
	return p.stop(ctx, 0)
}

func (p *Pool) stop(ctx context.Context, grace time.Duration) error {
	p.mu.Lock()
	if !p.started {
		p.started, p.stopping = true, true
		close(p.stopped)
		p.mu.Unlock()
		return nil
	}
	p.stopping = true
	p.notifyLocked()
	p.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.stopped:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	p.hardStop()
	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stopped is closed when the pool has stopped and every goroutine returned.
func (p *Pool) Stopped() <-chan struct{} { return p.stopped }

// Submit implements Executor. The request is checked at once; bad params
// give a *FormErrors and no job. The job runs under Start's context, but a
// WithProgress callback on ctx receives every progress report of the job
// (it must not block for long).
func (p *Pool) Submit(ctx context.Context, req Request) (JobID, error) {
	if err := p.m.Check(req); err != nil {
		return "", err
	}
	return p.submit(ctx, req, nil)
}

// submit queues a checked request; hooks, if set, follow the job.
func (p *Pool) submit(ctx context.Context, req Request, hooks jobHooks) (JobID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	j := &poolJob{id: newJobID(), req: req, index: -1, hooks: hooks, progress: progressOf(ctx)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return "", ErrPoolStopped
	}
	p.jobs.add(&JobStatus{ID: j.id, Request: req, State: JobQueued, Created: now, Updated: now})
	p.byID[j.id] = j
	p.bindLocked(j)
	p.ready = append(p.ready, j)
	p.notifyLocked()
	return j.id, nil
}

// Status implements Executor.
func (p *Pool) Status(_ context.Context, id JobID) (JobStatus, error) { return p.jobs.get(id) }

// List implements Executor.
func (p *Pool) List(_ context.Context, f JobFilter) (JobPage, error) { return p.jobs.list(f) }

// Watch implements Executor.
func (p *Pool) Watch(ctx context.Context, id JobID) iter.Seq2[JobStatus, error] {
	return p.jobs.watch(ctx, id)
}

// Wait implements Executor: it blocks until the job is finished and
// returns its final status, or the latest one and ctx's error when ctx
// ends first.
func (p *Pool) Wait(ctx context.Context, id JobID) (JobStatus, error) {
	return waitFor(p.jobs.watch(ctx, id))
}

// Cancel implements Executor: a queued or parked job ends at once as
// cancelled; a running step is cancelled through its context and the job
// ends when the step returns. A pending remote task is withdrawn (when the
// service is a Canceller) before the job shows as cancelled.
func (p *Pool) Cancel(ctx context.Context, id JobID) error {
	p.mu.Lock()
	j, ok := p.byID[id]
	if !ok {
		p.mu.Unlock()
		if _, err := p.jobs.get(id); err != nil {
			return err
		}
		return nil // already finished
	}
	j.cancelled = true
	if j.cancel != nil {
		j.cancel()
	}
	parked := p.removeLocked(j)
	p.mu.Unlock()
	if parked {
		p.endCancelled(ctx, j)
	}
	return nil
}

// endCancelled ends a cancelled job that no step is running: its pending
// remote task is withdrawn, then it shows as cancelled.
func (p *Pool) endCancelled(ctx context.Context, j *poolJob) {
	p.cancelRemote(ctx, j)
	p.jobs.update(j.id, func(s *JobStatus) {
		if !s.State.Done() {
			s.State, s.Error = JobCancelled, "cancelled"
		}
	})
	p.forget(j)
}

// removeLocked takes j out of the ready list or the waiting heap and
// reports whether it was there (not running).
func (p *Pool) removeLocked(j *poolJob) bool {
	if j.index >= 0 {
		heap.Remove(&p.waiting, j.index)
		return true
	}
	for i, r := range p.ready {
		if r == j {
			p.ready = append(p.ready[:i], p.ready[i+1:]...)
			return true
		}
	}
	return false
}

func (p *Pool) forget(j *poolJob) {
	p.mu.Lock()
	delete(p.byID, j.id)
	p.mu.Unlock()
	if j.cancel != nil {
		j.cancel()
	}
	if j.hooks != nil {
		if st, err := p.jobs.get(j.id); err == nil {
			j.hooks.finished(st)
		}
	}
}

func (p *Pool) cancelRemote(ctx context.Context, j *poolJob) {
	withdraw(WithCleanupQueue(ctx, p), p.m, p.opts.Logger, j.req, j.cp.Remote)
}

// report records a progress report of j in its status and passes it to
// the Batch following j and to Submit's WithProgress callback.
func (p *Pool) report(j *poolJob, pr Progress) {
	if pr.Service == "" {
		pr.Service = j.req.Service
	}
	if pr.Time.IsZero() {
		pr.Time = time.Now().UTC()
	}
	p.jobs.update(j.id, func(s *JobStatus) { setProgress(s, pr) })
	if j.hooks != nil {
		j.hooks.progressed(pr)
	}
	if j.progress != nil {
		j.progress(pr)
	}
}

func (p *Pool) notifyLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// next blocks until a job is ready (or the pool stops: nil).
func (p *Pool) next() *poolJob {
	for {
		p.mu.Lock()
		if p.stopping {
			p.mu.Unlock()
			return nil
		}
		now := time.Now()
		for len(p.waiting) > 0 && !p.waiting[0].due.After(now) {
			j := heap.Pop(&p.waiting).(*poolJob)
			p.ready = append(p.ready, j)
		}
		if len(p.ready) > 0 {
			j := p.ready[0]
			p.ready = p.ready[1:]
			p.mu.Unlock()
			return j
		}
		var timer *time.Timer
		var tc <-chan time.Time
		if len(p.waiting) > 0 {
			timer = time.NewTimer(p.waiting[0].due.Sub(now))
			tc = timer.C
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-tc:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (p *Pool) worker() {
	defer p.wg.Done()
	for {
		j := p.next()
		if j == nil {
			return
		}
		p.run(j)
	}
}

// park puts j back to run at due. A job cancelled after its step returned
// (Cancel found it neither ready nor parked) ends cancelled here instead.
func (p *Pool) park(j *poolJob, due time.Time) {
	p.mu.Lock()
	if j.cancelled {
		p.mu.Unlock()
		if j.cleanup == nil {
			p.endCancelled(j.ctx, j)
		}
		return
	}
	j.due = due
	heap.Push(&p.waiting, j)
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *Pool) run(j *poolJob) {
	if j.cleanup != nil {
		p.runCleanup(j)
		return
	}
	p.mu.Lock()
	j.remoteWait = false
	p.mu.Unlock()
	log := p.opts.Logger.With("job", j.id, "service", j.req.Service, "target", j.req.Target.Name)
	p.jobs.update(j.id, func(s *JobStatus) {
		s.State = JobRunning
		s.Attempts = j.failures + 1
	})
	ctx := WithProgress(withProgressService(j.ctx, j.req.Service), func(pr Progress) { p.report(j, pr) })
	ctx = WithCleanupQueue(ctx, p)
	prev := j.cp.Remote
	res, err := p.m.Step(ctx, j.req, j.cp, nil)
	if res != nil {
		j.cp = res.Checkpoint
	}
	if j.hooks != nil {
		j.hooks.stepped(prev, res, err)
	}
	if j.ctx.Err() != nil {
		// Cancelled by Cancel, or the pool is stopping hard.
		p.mu.Lock()
		cancelled := j.cancelled
		p.mu.Unlock()
		if cancelled {
			p.endCancelled(ctx, j)
			return
		}
		p.jobs.update(j.id, func(s *JobStatus) {
			s.State, s.Error = JobFailed, "pool stopped while the job ran"
			s.Err = fmt.Errorf("%w: %v", ErrPoolStopped, err)
		})
		p.forget(j)
		return
	}
	var te *ThrottledError
	svc, _ := p.m.Service(j.req.Service)
	_, async := svc.(Resumer)
	switch {
	case err == nil && res.Pending != nil:
		p.jobs.update(j.id, func(s *JobStatus) { r := *res.Pending; s.Remote = &r })
		p.mu.Lock()
		j.remoteWait = res.Pending.State != RemoteFinishing
		p.mu.Unlock()
		p.park(j, res.Pending.NotBefore)
		return
	case err == nil:
		p.jobs.update(j.id, func(s *JobStatus) { finish(s, &res.Result, nil) })
		log.Info("job succeeded", "products", len(res.Products), "added", res.Added, "skipped", res.Skipped)
		p.forget(j)
		return
	case errors.As(err, &te):
		wait := max(te.RetryAfter, time.Second)
		if j.throttled+wait <= p.opts.MaxThrottleWait {
			j.throttled += wait
			p.report(j, Progress{Stage: StageThrottled, RetryAfter: wait, Message: throttledFor(wait), Remote: j.cp.Remote})
			log.Info("job throttled", "wait", wait)
			p.park(j, time.Now().Add(wait))
			return
		}
	case Retryable(err) && (j.cp.Remote != nil || !async || j.cp.Key != "" || len(j.cp.Products) > 0):
		// A retry resumes from the checkpoint: it processes stored
		// products again (never asking the archive), resumes a remote
		// task, or (a KeyedQuerier) looks for the task a lost submission
		// made before submitting.
		j.failures++
		if j.failures < p.opts.MaxAttempts {
			wait := p.opts.RetryBackoff(j.failures)
			p.report(j, Progress{Stage: StageRetrying, RetryAfter: wait, Message: err.Error(), Remote: j.cp.Remote})
			log.Warn("job failed, will retry", "error", err, "attempt", j.failures, "wait", wait)
			p.park(j, time.Now().Add(wait))
			return
		}
	}
	var result *Result
	if res != nil {
		result = &res.Result
	}
	p.jobs.update(j.id, func(s *JobStatus) { finish(s, result, err) })
	log.Warn("job failed", "error", err)
	p.forget(j)
}

// WakeRemote implements RemoteWaker: the job parked until the next look
// at the remote task (service, taskID) is made due now. A job running a
// step, parked for throttling or a retry, or waiting on its clean-up is
// not woken (an error matching ErrUnknownJob, as for an unknown task).
func (p *Pool) WakeRemote(_ context.Context, service, taskID string) (JobID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, j := range p.waiting {
		if r := j.cp.Remote; j.remoteWait && r != nil && r.Service == service && r.ID == taskID {
			j.due = time.Now()
			heap.Fix(&p.waiting, j.index)
			p.notifyLocked()
			return j.id, nil
		}
	}
	return "", fmt.Errorf("%w: no job waits on %s task %q", ErrUnknownJob, service, taskID)
}

// maxCleanupFailures is how many failures (other than throttling) a
// clean-up the Pool keeps gets before it is logged and dropped.
const maxCleanupFailures = 10

// QueueCleanup implements CleanupQueue: the Pool keeps the task in memory
// and runs its clean-up (Finisher.FinishRemote, or Canceller.CancelRemote
// when cancel is set) on its workers, waiting out throttling and retrying
// failures with its back-off (up to 10 times). It does not outlive the
// process: for that, use riverexec.
func (p *Pool) QueueCleanup(_ context.Context, task RemoteTask, cancel bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || p.baseCtx == nil {
		return ErrPoolStopped
	}
	j := &poolJob{id: JobID("cleanup-" + task.Service + "-" + task.ID), index: -1, cleanup: &poolCleanup{task: task, cancel: cancel}}
	p.bindLocked(j)
	j.due = time.Now()
	heap.Push(&p.waiting, j)
	p.notifyLocked()
	return nil
}

// runCleanup runs a clean-up the Pool keeps.
func (p *Pool) runCleanup(j *poolJob) {
	c := j.cleanup
	log := p.opts.Logger.With("service", c.task.Service, "task", c.task.ID)
	svc, err := p.m.Service(c.task.Service)
	if err == nil {
		if c.cancel {
			if cr, ok := svc.(Canceller); ok {
				err = cr.CancelRemote(j.ctx, c.task)
			}
		} else if f, ok := svc.(Finisher); ok {
			err = f.FinishRemote(j.ctx, c.task)
		}
	}
	var te *ThrottledError
	switch {
	case err == nil:
		log.Info("remote task cleaned up")
		j.cancel()
		return
	case j.ctx.Err() != nil:
		return // the pool is stopping
	case errors.As(err, &te):
		p.park(j, time.Now().Add(max(te.RetryAfter, time.Second)))
		return
	case Retryable(err):
		j.failures++
		if j.failures < maxCleanupFailures {
			p.park(j, time.Now().Add(p.opts.RetryBackoff(j.failures)))
			return
		}
	}
	log.Warn("cleaning up the remote task failed; the archive's retention removes it", "error", err)
	j.cancel()
}

// jobHooks let a Batch follow the Pool jobs it submitted.
type jobHooks interface {
	// stepped is called after every step with the remote task it resumed
	// (nil for a query) and what Manager.Step returned.
	stepped(task *RemoteTask, res *StepResult, err error)
	// progressed is called with every progress report of a step.
	progressed(Progress)
	// finished is called once, with the final status.
	finished(JobStatus)
}

// waitHeap orders parked jobs by due time.
type waitHeap []*poolJob

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, k int) bool { return h[i].due.Before(h[k].due) }
func (h waitHeap) Swap(i, k int) {
	h[i], h[k] = h[k], h[i]
	h[i].index = i
	h[k].index = k
}
func (h *waitHeap) Push(x any) {
	j := x.(*poolJob)
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *waitHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	j.index = -1
	*h = old[:len(old)-1]
	return j
}
