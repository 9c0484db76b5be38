package singletarget

import (
	"context"
	"net/http"
)

// RemoteWaker is implemented by the executors that park jobs waiting on a
// remote task (Pool, and riverexec's Executor): an archive's completion
// notice (ATLAS's callback_url) wakes the job waiting on the task, so that
// it looks at the task now rather than at its next poll. Waking a job does
// nothing else: the job then asks the archive, as it would have at its
// next poll, so a forged notice costs at most an early look.
type RemoteWaker interface {
	// WakeRemote makes the job waiting on the remote task (the service's
	// registry name, the remote task id) due now and returns the job's id.
	// A task that no job of the executor is waiting on (unknown, finished,
	// running a step right now, or its clean-up waiting) is an error
	// matching ErrUnknownJob.
	WakeRemote(ctx context.Context, service, taskID string) (JobID, error)
}

// CallbackReceiver is implemented by services whose archive can notify the
// end of a remote task (ATLAS: callback_url). A TOM serves CallbackHandler
// at the path of CallbackURL, without its login (the archive cannot log
// in): builtin.App.CallbackHandlers does it for the configured services.
type CallbackReceiver interface {
	// CallbackURL is the public URL the archive is asked to notify; ""
	// when the service sends none.
	CallbackURL() string
	// CallbackHandler serves CallbackURL: it wakes, through w, the job
	// waiting on the task the notice names, and does nothing else.
	CallbackHandler(w RemoteWaker) http.Handler
}

// CleanupQueue keeps remote tasks whose clean-up (Finisher.FinishRemote,
// or Canceller.CancelRemote when cancel is set) has to wait, and does it
// later: riverexec's Executor keeps each as a job of its own in the job
// database, so it outlives the process; Pool keeps them in memory while it
// runs. Executors put theirs on the context of every step
// (WithCleanupQueue); the Manager and services hand tasks to it with
// DeferCleanup.
type CleanupQueue interface {
	QueueCleanup(ctx context.Context, task RemoteTask, cancel bool) error
}

type cleanupKey struct{}

// WithCleanupQueue returns a context whose DeferCleanup calls go to q.
func WithCleanupQueue(ctx context.Context, q CleanupQueue) context.Context {
	return context.WithValue(ctx, cleanupKey{}, q)
}

// DeferCleanup hands a remote task whose clean-up has to wait (throttled,
// or the archive failing for now) to the CleanupQueue of the executor
// running the step, which finishes it later (cancel: withdraw it with
// Canceller.CancelRemote instead of Finisher.FinishRemote). It reports
// false when ctx carries no queue or the queue refused the task: the
// caller then keeps it itself, or leaves it to the archive's retention.
func DeferCleanup(ctx context.Context, task RemoteTask, cancel bool) bool {
	q, ok := ctx.Value(cleanupKey{}).(CleanupQueue)
	if !ok || q == nil {
		return false
	}
	return q.QueueCleanup(context.WithoutCancel(ctx), task, cancel) == nil
}
