package riverexec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/tomgo/targetdata/singletarget"
)

// worker runs query jobs: one step per run, snoozing between steps.
type worker struct {
	river.WorkerDefaults[Args]
	x *Executor
}

// Work implements river.Worker.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	x := w.x
	st := stateOf(job.JobRow)
	req := job.Args.Request
	log := x.opts.Logger.With("job", job.ID, "service", req.Service, "target", req.Target.Name)
	var mu sync.Mutex // progress reports may come from a service's goroutines
	var saveFailed bool
	save := func() error {
		mu.Lock()
		defer mu.Unlock()
		var err error
		for i := range 3 { // the remote task must not be lost: try hard
			if err = x.eng.setOutput(context.WithoutCancel(ctx), job.ID, &st); err == nil {
				x.note.notify()
				return nil
			}
			time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
		}
		log.Error("recording the job state failed", "error", err)
		saveFailed = true
		return err
	}
	// record is the Manager's SaveFunc: the checkpoint is in the database
	// before the Manager acts on it.
	record := func(_ context.Context, cp singletarget.Checkpoint) error {
		mu.Lock()
		st.Checkpoint = cp
		mu.Unlock()
		return save()
	}
	progress := x.newProgressWriter(ctx, job.ID, req.Service, &mu, &st) // progress.go
	defer progress.stop()
	ctx = singletarget.WithProgress(ctx, progress.report)
	ctx = singletarget.WithCleanupQueue(ctx, x) // cleanup.go

	if wait := time.Until(job.Args.NotBefore); wait > 0 && st.Remote == nil && len(st.Products) == 0 && st.Key == "" {
		// A scheduled refresh's place in its service's pace.
		if st.Progress == nil || st.Progress.Stage != singletarget.StageWaiting {
			st.Progress = &singletarget.Progress{Service: req.Service, Stage: singletarget.StageWaiting, RetryAfter: wait,
				Message: "scheduled refresh: paced to start at " + job.Args.NotBefore.UTC().Format(time.TimeOnly) + " UTC", Time: time.Now().UTC()}
			_ = save()
		}
		return river.JobSnooze(wait)
	}
	key := slotKey(job.ID)
	slots, _ := x.m.Slots(req.Service)
	if slots != nil && st.Remote == nil && len(st.Products) == 0 {
		if wait, ok := w.admit(slots, key, job, &st, save); !ok {
			return river.JobSnooze(wait)
		}
	}
	if slots != nil {
		// A job that ends, or whose query failed (or panicked), gives its
		// slot back; one that snoozes or retries with a remote task keeps
		// it.
		defer func() {
			if st.Remote == nil || st.Result != nil || st.Failure != "" {
				slots.Release(key)
			}
		}()
	}
	prev := st.Remote
	res, err := x.m.Step(ctx, req, st.Checkpoint, record)
	// The step is over: no held progress report may be written from here
	// on, as the code below changes st without holding mu (a timer's flush
	// would read st while it is written).
	progress.stop()
	if res != nil {
		mu.Lock()
		st.Checkpoint = res.Checkpoint
		mu.Unlock()
	}
	if slots != nil {
		slots.Observe(key, prev, res, err)
	}
	if err != nil && ctx.Err() != nil {
		// Stopping, cancelled, or out of time: River decides (a soft stop
		// reruns the job, a remote cancel ends it, a timeout retries).
		return err
	}
	var te *singletarget.ThrottledError
	svc, _ := x.m.Service(req.Service)
	_, async := svc.(singletarget.Resumer)
	switch {
	case saveFailed && err != nil:
		// The database did not take the checkpoint: run the step again
		// later (every step is safe to repeat).
		return fmt.Errorf("recording the job state: %w", err)
	case err == nil && res.Pending != nil:
		// Step recorded the task before returning it.
		wait := res.Pending.Wait(time.Now())
		log.Debug("remote task pending", "task", res.Pending.ID, "state", res.Pending.State, "snooze", wait)
		return river.JobSnooze(wait)
	case err == nil:
		st.Result = &res.Result
		if res.Remote != nil {
			st.Remote = res.Remote
		}
		if rerr := river.RecordOutput(ctx, &st); rerr != nil {
			return rerr
		}
		log.Info("job succeeded", "products", len(res.Products), "added", res.Added, "skipped", res.Skipped)
		return nil
	case errors.As(err, &te):
		wait := max(te.RetryAfter, time.Second)
		if st.Throttled+wait <= x.opts.MaxThrottleWait {
			st.Throttled += wait
			st.Progress = &singletarget.Progress{Service: req.Service, Stage: singletarget.StageThrottled, RetryAfter: wait,
				Message: fmt.Sprintf("throttled for %d s", int(wait.Round(time.Second)/time.Second)), Remote: st.Remote, Time: time.Now().UTC()}
			_ = save()
			log.Info("throttled", "wait", wait)
			return river.JobSnooze(wait)
		}
		err = fmt.Errorf("%w (waited %s on throttling already)", err, st.Throttled)
	case singletarget.Retryable(err) && (st.Remote != nil || !async || st.Key != "" || len(st.Products) > 0):
		// River retries with backoff, counting the attempt; the retry
		// resumes from the checkpoint Step recorded (stored products are
		// processed again, never fetched again).
		_ = save()
		return err
	}
	st.Failure = err.Error()
	_ = save()
	log.Warn("job failed", "error", err)
	return river.JobCancel(err)
}

// slotKey is a job's key in singletarget.Slots.
func slotKey(id int64) string { return "river:" + strconv.FormatInt(id, 10) }

// admit asks the account's Slots for a place for the job's query. When
// there is none it returns the snooze: the pause or pacing the Slots name,
// or a back-off that grows with the job's waits (Options.SlotWait doubled
// per wait, at most 32 times, with jitter), so that thousands of waiting
// jobs do not all poll at once. The first wait is recorded as progress
// ("waiting").
func (w *worker) admit(slots *singletarget.Slots, key string, job *river.Job[Args], st *State, save func() error) (time.Duration, bool) {
	ok, retry := slots.TryAcquire(key)
	if ok {
		st.SlotWaits = 0
		return 0, true
	}
	st.SlotWaits++
	wait := retry
	if wait <= 0 {
		wait = w.x.opts.SlotWait << min(st.SlotWaits-1, 5)
		wait = time.Duration(float64(wait) * (0.5 + rand.Float64()))
	}
	if st.Progress == nil || st.Progress.Stage != singletarget.StageWaiting {
		ss := slots.Status()
		st.Progress = &singletarget.Progress{Service: job.Args.Request.Service, Stage: singletarget.StageWaiting, RetryAfter: wait,
			Message: fmt.Sprintf("waiting for a slot (%d in flight for the account)", ss.InFlight), Time: time.Now().UTC()}
		_ = save()
	}
	return wait, false
}
