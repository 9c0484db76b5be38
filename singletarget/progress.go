package singletarget

import (
	"context"
	"time"
)

// Progress stages reported while a query runs.
const (
	StageQuerying   = "querying"   // talking to the archive
	StageQueued     = "queued"     // the remote task waits in the remote queue
	StageRunning    = "running"    // the remote task runs
	StageThrottled  = "throttled"  // refused for now; waiting RetryAfter
	StageRetrying   = "retrying"   // a failed attempt will be retried
	StageFetching   = "fetching"   // downloading a result file
	StageProcessing = "processing" // turning files into datums
)

// Progress is one report of what a query is doing, for a UI or a log line
// ("queued", "running", "throttled for 37 s").
type Progress struct {
	// Service is the registry name of the service.
	Service string `json:"service,omitempty"`
	// Stage is one of the Stage constants (or a service's own word).
	Stage string `json:"stage"`
	// Message is a short human-readable line.
	Message string `json:"message,omitempty"`
	// RetryAfter is the wait when Stage is "throttled" or "retrying".
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Remote is the remote task, when there is one.
	Remote *RemoteTask `json:"remote,omitempty"`
	// Time is when the report was made.
	Time time.Time `json:"time"`
}

// ProgressFunc receives progress reports. It must not block for long.
type ProgressFunc func(Progress)

type progressKey struct{}

// WithProgress returns a context whose ReportProgress calls go to fn (as
// well as to any function an outer context carries).
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	if outer := progressOf(ctx); outer != nil {
		inner := fn
		fn = func(p Progress) { inner(p); outer(p) }
	}
	return context.WithValue(ctx, progressKey{}, fn)
}

// ReportProgress sends a report to the context's progress function, if
// any. Services call it when their state changes (e.g. a 429 wait). A
// report without a Service gets the name of the service whose query the
// Manager runs under ctx.
func ReportProgress(ctx context.Context, p Progress) {
	if fn := progressOf(ctx); fn != nil {
		if p.Time.IsZero() {
			p.Time = time.Now().UTC()
		}
		if p.Service == "" {
			p.Service, _ = ctx.Value(progressServiceKey{}).(string)
		}
		fn(p)
	}
}

// progressOf returns the context's progress function, or nil.
func progressOf(ctx context.Context) ProgressFunc {
	fn, _ := ctx.Value(progressKey{}).(ProgressFunc)
	return fn
}

type progressServiceKey struct{}

// withProgressService names the service whose work ctx carries, for the
// reports that do not name it (ReportProgress).
func withProgressService(ctx context.Context, service string) context.Context {
	return context.WithValue(ctx, progressServiceKey{}, service)
}
