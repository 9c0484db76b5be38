package singletarget

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// BatchOptions configure a batch; nil means defaults.
type BatchOptions struct {
	// Pool runs the batch's queries; it must be started (by its owner)
	// for them to run, and other jobs may share it. Default: a private
	// Pool of Workers workers, started by Batch and stopped when the batch
	// ends.
	Pool *Pool
	// Workers is the size of the private pool. Default 4.
	Workers int
	// PoolOptions configure the private pool (its Workers field is
	// ignored). Default nil.
	PoolOptions *PoolOptions
	// MaxInFlight caps this batch's targets in flight at once (submitted
	// and not finished), on top of the account's limit (Manager.Slots).
	// Default 0: the account's limit alone.
	MaxInFlight int
	// Refresh makes every target's query a refresh (Request.Refresh): it
	// asks only for the epochs from the target's newest stored datum on,
	// less the service's overlap.
	Refresh bool
}

// BatchProgress counts a batch's targets. Done, Failed, Cancelled,
// Throttled and Pending add up to Total.
type BatchProgress struct {
	// Total is the number of targets.
	Total int `json:"total"`
	// Done counts targets whose query succeeded (products stored and
	// processed).
	Done int `json:"done"`
	// Failed counts targets whose query ended with an error (an archive
	// with nothing for the target included).
	Failed int `json:"failed"`
	// Cancelled counts targets cancelled before they finished.
	Cancelled int `json:"cancelled"`
	// Throttled counts targets waiting out a refusal of the service (a
	// 429, or the client's own pacing).
	Throttled int `json:"throttled"`
	// Pending counts the others: waiting to be sent (Waiting), or with a
	// query or remote task in progress (InFlight).
	Pending int `json:"pending"`
	// Waiting counts the pending targets not sent yet: held back by the
	// account's limits or by the batch's own.
	Waiting int `json:"waiting"`
	// InFlight counts the pending targets sent and not finished.
	InFlight int `json:"in_flight"`
	// Added and Skipped sum the datums ingested and the duplicates.
	Added   int `json:"added"`
	Skipped int `json:"skipped"`
	// Elapsed is the time since the batch started.
	Elapsed time.Duration `json:"elapsed"`
}

// Finished reports whether every target is final.
func (p BatchProgress) Finished() bool { return p.Done+p.Failed+p.Cancelled == p.Total }

// String is a one-line summary such as
// "37/200 done, 2 failed, 0 cancelled, 1 throttled, 160 pending (8 in flight)".
func (p BatchProgress) String() string {
	return fmt.Sprintf("%d/%d done, %d failed, %d cancelled, %d throttled, %d pending (%d in flight)",
		p.Done, p.Total, p.Failed, p.Cancelled, p.Throttled, p.Pending, p.InFlight)
}

// Batch is a query of one service for many targets, run on a Pool and
// kept exactly as busy as the service's account allows: a target is sent
// only when Manager.Slots admits it (the account's limit on remote tasks
// in flight, its cap of tasks not started, the service's own request
// pacing, and the pause after a throttled query), so the remote side is
// never asked for more than it allows, while a target waiting for a slot
// holds no worker and no remote state. Targets are sent in order.
//
// Progress counts the targets; Results lists each one's status; Cancel
// stops the batch. A Batch lives in memory: for a batch that survives a
// restart, use riverexec.Executor.SubmitBatch. It is safe for concurrent
// use.
type Batch struct {
	service string
	pool    *Pool
	ownPool bool
	slots   *Slots
	opts    BatchOptions
	id      string
	start   time.Time

	mu      sync.Mutex
	items   []*batchItem
	next    int  // the next target to send
	stopped bool // cancelled: send nothing more
	final   int  // items final
	changed chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc
}

// batchItem is one target of a batch; it follows its Pool job.
type batchItem struct {
	b      *Batch
	key    string // in Slots
	req    Request
	job    JobID
	sent   bool       // submitted to the pool
	thr    bool       // the last step was throttled
	status *JobStatus // final status
}

// Batch queries service for every target with the same form params and
// returns at once with the running batch. Every target and the params are
// checked first: a bad one fails the whole call (a *FormErrors for bad
// params; errors naming targets[i] for bad targets) and nothing is sent.
//
// The batch runs until every target is final, Cancel is called, or ctx
// ends (which cancels it, as Cancel does).
func (m *Manager) Batch(ctx context.Context, service string, targets []Target, params url.Values, opts *BatchOptions) (*Batch, error) {
	if err := m.CheckBatch(service, targets, params); err != nil {
		return nil, err
	}
	slots, err := m.Slots(service)
	if err != nil {
		return nil, err
	}
	var o BatchOptions
	if opts != nil {
		o = *opts
	}
	b := &Batch{service: service, slots: slots, opts: o, id: string(newJobID()), start: time.Now(),
		changed: make(chan struct{}), done: make(chan struct{})}
	params = cloneValues(params) // the caller may reuse theirs
	b.items = make([]*batchItem, len(targets))
	for i, t := range targets {
		b.items[i] = &batchItem{b: b, key: "batch:" + b.id + ":" + strconv.Itoa(i),
			req: Request{Service: service, Target: t, Params: params, Refresh: o.Refresh}}
	}
	b.pool = o.Pool
	if b.pool == nil {
		var po PoolOptions
		if o.PoolOptions != nil {
			po = *o.PoolOptions
		}
		po.Workers = o.Workers
		b.pool = NewPool(m, &po)
		b.ownPool = true
		if err := b.pool.Start(context.WithoutCancel(ctx)); err != nil {
			return nil, err
		}
	}
	ctx, b.cancel = context.WithCancel(ctx)
	go b.dispatch(ctx)
	go b.watch(ctx)
	return b, nil
}

// StageWaiting is the progress stage of a batch's target held back by the
// account's limits (Slots) before its query is sent.
const StageWaiting = "waiting"

// CheckBatch checks a batch without running it: the service exists, the
// params pass its form (a *FormErrors otherwise), there is at least one
// target and every target is valid (errors name targets[i]; the first ten
// are reported).
func (m *Manager) CheckBatch(service string, targets []Target, params url.Values) error {
	if _, err := m.Form(service, params); err != nil {
		return err
	}
	if len(targets) == 0 {
		return errors.New("batch: no targets")
	}
	var errs []error
	for i, t := range targets {
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("targets[%d] (%q): %w", i, t.Name, err))
			if len(errs) == 10 {
				errs = append(errs, errors.New("(and maybe more)"))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// ID identifies the batch (in logs).
func (b *Batch) ID() string { return b.id }

// Service is the service the batch queries.
func (b *Batch) Service() string { return b.service }

// Done is closed when every target is final (and the private pool, if
// any, has stopped).
func (b *Batch) Done() <-chan struct{} { return b.done }

func (b *Batch) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// dispatch sends the targets in order as Slots admit them.
func (b *Batch) dispatch(ctx context.Context) {
	for {
		b.mu.Lock()
		if b.stopped || b.next >= len(b.items) {
			b.mu.Unlock()
			return
		}
		it := b.items[b.next]
		changed := b.changed
		inFlight := b.next - b.final
		b.mu.Unlock()

		var timer <-chan time.Time
		var t *time.Timer
		if b.opts.MaxInFlight <= 0 || inFlight < b.opts.MaxInFlight {
			slotsChanged := b.slots.Changed()
			ok, retry := b.slots.TryAcquire(it.key)
			if ok {
				b.send(ctx, it)
				continue
			}
			if retry > 0 {
				t = time.NewTimer(retry)
				timer = t.C
			}
			select {
			case <-ctx.Done():
			case <-changed:
			case <-slotsChanged:
			case <-timer:
			}
		} else {
			select {
			case <-ctx.Done():
			case <-changed:
			}
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// send submits an admitted target to the pool.
func (b *Batch) send(ctx context.Context, it *batchItem) {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		b.slots.Release(it.key)
		return
	}
	it.sent = true
	b.next++
	b.mu.Unlock()
	id, err := b.pool.submit(ctx, it.req, it)
	b.mu.Lock()
	if err != nil {
		b.slots.Release(it.key)
		now := time.Now().UTC()
		st := JobStatus{Request: it.req, State: JobFailed, Error: err.Error(), Err: err, Created: now, Updated: now}
		if b.stopped {
			st.State, st.Error = JobCancelled, "cancelled"
		}
		b.finishLocked(it, st)
		b.mu.Unlock()
		return
	}
	it.job = id
	cancel := b.stopped && it.status == nil // Cancel came while submitting
	b.mu.Unlock()
	if cancel {
		_ = b.pool.Cancel(context.WithoutCancel(ctx), id)
	}
}

// watch ends the batch when ctx ends (a cancel) or the pool stops.
func (b *Batch) watch(ctx context.Context) {
	select {
	case <-b.done:
		return
	case <-ctx.Done():
		_ = b.Cancel(context.WithoutCancel(ctx))
	case <-b.pool.Stopped():
		b.mu.Lock()
		b.stopped = true
		for _, it := range b.items {
			if it.status == nil {
				b.slots.Release(it.key)
				now := time.Now().UTC()
				b.finishLocked(it, JobStatus{ID: it.job, Request: it.req, State: JobFailed, Error: "pool stopped",
					Err: ErrPoolStopped, Created: now, Updated: now})
			}
		}
		b.mu.Unlock()
	}
}

// finishLocked records an item's final status.
func (b *Batch) finishLocked(it *batchItem, st JobStatus) {
	if it.status != nil {
		return
	}
	it.status = &st
	it.thr = false
	b.final++
	b.notifyLocked()
	if b.final == len(b.items) {
		// Called from a pool worker: stop the private pool from another
		// goroutine, then close done.
		go func() {
			if b.ownPool {
				_ = b.pool.Stop(context.Background())
			}
			close(b.done)
			b.cancel()
		}()
	}
}

// stepped implements jobHooks.
func (it *batchItem) stepped(task *RemoteTask, res *StepResult, err error) {
	it.b.slots.Observe(it.key, task, res, err)
	b := it.b
	b.mu.Lock()
	defer b.mu.Unlock()
	it.thr = errors.Is(err, ErrThrottled)
}

// progressed implements jobHooks: once the result is being fetched or
// processed, the remote task is over, and its slot goes back.
func (it *batchItem) progressed(p Progress) {
	if p.Stage == StageFetching || p.Stage == StageProcessing {
		it.b.slots.Release(it.key)
	}
}

// finished implements jobHooks.
func (it *batchItem) finished(st JobStatus) {
	it.b.slots.Release(it.key)
	b := it.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finishLocked(it, st)
}

// Progress counts the targets now.
func (b *Batch) Progress() BatchProgress {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := BatchProgress{Total: len(b.items), Elapsed: time.Since(b.start)}
	for _, it := range b.items {
		switch {
		case it.status != nil:
			switch it.status.State {
			case JobSucceeded:
				p.Done++
			case JobCancelled:
				p.Cancelled++
			default:
				p.Failed++
			}
			p.Added += it.status.Added
			p.Skipped += it.status.Skipped
		case it.thr:
			p.Throttled++
		case it.sent:
			p.Pending++
			p.InFlight++
		default:
			p.Pending++
			p.Waiting++
		}
	}
	return p
}

// Results returns every target's status, in the order of the targets:
// final ones as they ended, the others as the pool sees them now (a
// target not sent yet is JobQueued with an empty ID).
func (b *Batch) Results() []JobStatus {
	b.mu.Lock()
	out := make([]JobStatus, len(b.items))
	var live []int
	for i, it := range b.items {
		switch {
		case it.status != nil:
			out[i] = *it.status
		case it.job != "":
			out[i].ID = it.job
			live = append(live, i)
		default:
			out[i] = JobStatus{Request: it.req, State: JobQueued}
		}
	}
	b.mu.Unlock()
	for _, i := range live {
		if st, err := b.pool.Status(context.Background(), out[i].ID); err == nil {
			out[i] = st
		}
	}
	return out
}

// Wait blocks until every target is final or ctx ends, and returns the
// progress then; the error is ctx's when it ended first. Failed targets
// are not an error: see Progress and Results.
func (b *Batch) Wait(ctx context.Context) (BatchProgress, error) {
	select {
	case <-b.done:
		return b.Progress(), nil
	case <-ctx.Done():
		return b.Progress(), ctx.Err()
	}
}

// Cancel stops the batch: targets not sent yet end cancelled at once, and
// those in flight are cancelled in the pool (a pending remote task is
// withdrawn when the service is a Canceller). It returns when every
// target is final or ctx ends.
func (b *Batch) Cancel(ctx context.Context) error {
	b.mu.Lock()
	b.stopped = true
	var jobs []JobID
	for _, it := range b.items {
		switch {
		case it.status != nil:
		case !it.sent:
			now := time.Now().UTC()
			b.finishLocked(it, JobStatus{Request: it.req, State: JobCancelled, Error: "cancelled", Created: now, Updated: now})
		case it.job != "":
			jobs = append(jobs, it.job)
		}
	}
	b.mu.Unlock()
	for _, id := range jobs {
		if err := b.pool.Cancel(ctx, id); err != nil && !errors.Is(err, ErrUnknownJob) {
			return err
		}
	}
	_, err := b.Wait(ctx)
	return err
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
