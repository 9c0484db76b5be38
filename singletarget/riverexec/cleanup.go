package riverexec

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tomgo/targetdata/singletarget"
)

// This file is the executor's durable clean-up queue
// (singletarget.CleanupQueue) and its wake-ups of jobs waiting on a remote
// task (singletarget.RemoteWaker).

// CleanupKind is the River job kind of a remote task's clean-up.
const CleanupKind = "targetdata_cleanup"

// cleanupMaxAttempts caps the attempts of a clean-up job failing with
// retryable errors (River's back-off then spans days; throttling snoozes
// and uses none).
const cleanupMaxAttempts = 20

// CleanupArgs are a clean-up job's arguments: the remote task to clean up
// (Finisher.FinishRemote), or to withdraw (Canceller.CancelRemote) when
// Cancel is set. One job per service, task id and kind of clean-up is kept
// at a time.
type CleanupArgs struct {
	Service string                  `json:"service" river:"unique"`
	TaskID  string                  `json:"task_id" river:"unique"`
	Cancel  bool                    `json:"cancel,omitempty" river:"unique"`
	Task    singletarget.RemoteTask `json:"task"`
}

// Kind implements river.JobArgs.
func (CleanupArgs) Kind() string { return CleanupKind }

// QueueCleanup implements singletarget.CleanupQueue: it inserts a
// clean-up job, which any worker process runs: a throttled clean-up
// snoozes for the archive's wait, other retryable failures are retried
// with River's back-off (up to 20 attempts), and a task already gone is
// done. Unlike the in-memory queues it outlives the process, so a task
// whose DELETE was throttled is not forgotten when the worker stops or
// dies. An insert-only executor (a web process) queues them too.
func (x *Executor) QueueCleanup(ctx context.Context, task singletarget.RemoteTask, cancel bool) error {
	args := CleanupArgs{Service: task.Service, TaskID: task.ID, Cancel: cancel, Task: task}
	_, err := x.eng.insertArgs(ctx, args, &river.InsertOpts{Queue: x.opts.Queue, MaxAttempts: cleanupMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable,
			rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}}})
	if err != nil {
		x.opts.Logger.WarnContext(ctx, "queueing the clean-up of a remote task failed", "service", task.Service, "task", task.ID, "error", err)
		return fmt.Errorf("riverexec: queue the clean-up of %s task %s: %w", task.Service, task.ID, err)
	}
	x.note.notify()
	return nil
}

// cleanupWorker runs clean-up jobs.
type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	x *Executor
}

// Work implements river.Worker.
func (w *cleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	a := job.Args
	log := w.x.opts.Logger.With("job", job.ID, "service", a.Service, "task", a.TaskID)
	svc, err := w.x.m.Service(a.Service)
	if err != nil {
		log.Warn("clean-up of a remote task of a service this worker does not have", "error", err)
		return river.JobCancel(err)
	}
	if a.Cancel {
		if c, ok := svc.(singletarget.Canceller); ok {
			err = c.CancelRemote(ctx, a.Task)
		}
	} else if f, ok := svc.(singletarget.Finisher); ok {
		err = f.FinishRemote(ctx, a.Task)
	}
	var te *singletarget.ThrottledError
	switch {
	case err == nil:
		log.Info("remote task cleaned up")
		return nil
	case ctx.Err() != nil:
		return err
	case errors.As(err, &te):
		wait := max(te.RetryAfter, time.Second)
		log.Debug("clean-up throttled", "wait", wait)
		return river.JobSnooze(wait)
	case singletarget.Retryable(err):
		return err
	}
	log.Warn("cleaning up the remote task failed; the archive's retention removes it", "error", err)
	return river.JobCancel(err)
}

func (e *riverEngine[TTx]) waitingOn(ctx context.Context, service, taskID string) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().Kinds(Kind).TagsAll(serviceTag(service)).
		States(rivertype.JobStateScheduled, rivertype.JobStateAvailable).
		Where("metadata->'output'->'remote'->>'id' = @task_id", river.NamedArgs{"task_id": taskID}).First(10)
	res, err := e.client.JobList(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

func (e *riverEngine[TTx]) retry(ctx context.Context, id int64) error {
	_, err := e.client.JobRetry(ctx, id)
	return err
}

// WakeRemote implements singletarget.RemoteWaker: the job (of any process)
// snoozed until the next look at the remote task (service, taskID) is made
// available now, and a worker runs its step at once. It changes nothing
// else in the job: the step reads the archive as a poll would. A task no
// snoozed job follows (unknown, the job running a step, done, or its
// clean-up waiting) is an error matching singletarget.ErrUnknownJob. An
// insert-only executor (a web process) wakes jobs too.
func (x *Executor) WakeRemote(ctx context.Context, service, taskID string) (singletarget.JobID, error) {
	rows, err := x.eng.waitingOn(ctx, service, taskID)
	if err != nil {
		return "", fmt.Errorf("riverexec: looking for the job waiting on %s task %s: %w", service, taskID, err)
	}
	for _, r := range rows {
		st := stateOf(r)
		if st.Remote == nil || st.Remote.Service != service || st.Remote.ID != taskID || st.Result != nil ||
			st.Ingested != nil || len(st.Products) > 0 || st.Remote.State == singletarget.RemoteFinishing {
			continue
		}
		if err := x.eng.retry(ctx, r.ID); err != nil {
			return "", fmt.Errorf("riverexec: waking job %d: %w", r.ID, err)
		}
		x.note.notify()
		return jobID(r.ID, argsOf(r).Key), nil
	}
	return "", fmt.Errorf("%w: no job waits on %s task %q", singletarget.ErrUnknownJob, service, taskID)
}
