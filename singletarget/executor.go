package singletarget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
)

// JobID identifies a job in its executor. Ids are unguessable on every
// backend (they carry at least 96 random bits), so a job's page can be
// shared by its URL without exposing the others.
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

// JobStates lists every job state, unfinished ones first.
var JobStates = []JobState{JobQueued, JobRunning, JobSucceeded, JobFailed, JobCancelled}

// Done reports whether the state is final.
func (s JobState) Done() bool { return s == JobSucceeded || s == JobFailed || s == JobCancelled }

// JobStatus reports a job.
type JobStatus struct {
	ID      JobID    `json:"id"`
	Request Request  `json:"request"`
	State   JobState `json:"state"`
	// Progress is the latest progress report (on every backend: a River
	// worker records it in the job's row, see riverexec).
	Progress Progress `json:"progress"`
	// Remote is the asynchronous service's remote task, once queued.
	Remote *RemoteTask `json:"remote,omitempty"`
	// Products, Added, Skipped and Reports (what the processor made of
	// each product, rows skipped included) are set when the job succeeded.
	Products []dataproduct.Product `json:"products,omitempty"`
	dataproduct.IngestResult
	// Window is the window a refresh (Request.Refresh) asked for, once
	// the job succeeded.
	Window *Window `json:"window,omitempty"`
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
// durably on a job engine (package riverexec). The three give every method
// the same meaning, so a program written against Executor runs unchanged
// on any of them:
//
//   - Submit checks the request at once (bad params give a *FormErrors and
//     no job) and returns the new job's id. Immediate runs the query to
//     the end inside Submit; the others queue it.
//   - Status returns the job's latest status, its Progress included. An
//     unknown id is an error matching ErrUnknownJob.
//   - List returns one page of jobs, newest first, filtered by target,
//     service and state (JobFilter); JobPage.Next continues the listing.
//   - Watch follows one job's changes as they happen (see below).
//   - Wait blocks until the job is finished and returns its final status;
//     when ctx ends first it returns the latest status and ctx's error.
//   - Cancel stops the job (a running step through its context) and
//     withdraws a pending remote task when the service is a Canceller;
//     cancelling a finished job does nothing.
//
// Watch yields the job's current status at once, then each new status as
// the job changes (state, progress, remote task), and ends after yielding a
// final one (State.Done). When ctx ends first it yields the latest status
// with ctx's error and ends; an unknown id yields an error matching
// ErrUnknownJob. A consumer slower than the job skips intermediate
// statuses, never the latest. Break out of the loop to stop following:
//
//	for st, err := range x.Watch(ctx, id) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(st.State, st.Progress.Stage, st.Progress.Message)
//	}
//
// In-memory executors (Immediate, Pool) keep a finished job for
// KeepFinished (DefaultKeepFinished); River keeps it as long as its
// retention settings do.
type Executor interface {
	Submit(ctx context.Context, req Request) (JobID, error)
	Status(ctx context.Context, id JobID) (JobStatus, error)
	List(ctx context.Context, f JobFilter) (JobPage, error)
	Watch(ctx context.Context, id JobID) iter.Seq2[JobStatus, error]
	Wait(ctx context.Context, id JobID) (JobStatus, error)
	Cancel(ctx context.Context, id JobID) error
}

// Page sizes of Executor.List.
const (
	// DefaultJobLimit is the page size when JobFilter.Limit is 0.
	DefaultJobLimit = 50
	// MaxJobLimit caps JobFilter.Limit.
	MaxJobLimit = 1000
)

// JobFilter selects the jobs Executor.List returns. The zero value lists
// every job the executor knows, newest first, DefaultJobLimit at a time.
// Conditions combine with AND.
type JobFilter struct {
	// TargetID keeps the jobs of one target (Request.Target.ID); 0 keeps
	// every target.
	TargetID int64 `json:"target_id,omitempty"`
	// Service keeps the jobs of one service (its registry name); "" keeps
	// every service.
	Service string `json:"service,omitempty"`
	// States keeps the jobs in any of these states; none keeps every state.
	States []JobState `json:"states,omitempty"`
	// Limit is the page size: at most this many jobs. 0 means
	// DefaultJobLimit; more than MaxJobLimit means MaxJobLimit.
	Limit int `json:"limit,omitempty"`
	// After continues a listing: pass the Next of the previous page (with
	// the same conditions). "" starts at the newest job. A cursor is
	// opaque and belongs to the executor that returned it; any other
	// value is refused with a *FormErrors naming "after".
	After string `json:"after,omitempty"`
}

// JobPage is one page of Executor.List.
type JobPage struct {
	// Jobs are the matching jobs, newest first (by submission).
	Jobs []JobStatus `json:"jobs"`
	// Next, when not "", is the JobFilter.After that lists the following
	// (older) jobs; "" means this page is the last.
	Next string `json:"next,omitempty"`
}

// Check checks the filter's own values: a negative Limit or an unknown
// state is a *FormErrors naming "limit" or "states". Executors call it in
// List.
func (f JobFilter) Check() error {
	var errs FormErrors
	if f.Limit < 0 {
		errs.Add("limit", fmt.Sprintf("Must be 0 (the default) or more, not %d.", f.Limit))
	}
	for _, s := range f.States {
		if !slices.Contains(JobStates, s) {
			errs.Add("states", fmt.Sprintf("Unknown job state %q (use %v).", s, JobStates))
		}
	}
	if f.TargetID < 0 {
		errs.Add("target_id", fmt.Sprintf("Must be 0 (every target) or a target id, not %d.", f.TargetID))
	}
	return errs.Err()
}

// PageSize is the number of jobs a page holds at most: Limit within
// [1, MaxJobLimit], DefaultJobLimit when Limit is 0.
func (f JobFilter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultJobLimit
	case f.Limit > MaxJobLimit:
		return MaxJobLimit
	}
	return f.Limit
}

// Matches reports whether a job's status meets the filter's conditions
// (After and Limit aside).
func (f JobFilter) Matches(st JobStatus) bool {
	return (f.TargetID == 0 || st.Request.Target.ID == f.TargetID) &&
		(f.Service == "" || st.Request.Service == f.Service) &&
		(len(f.States) == 0 || slices.Contains(f.States, st.State))
}

// badCursor is the error for a JobFilter.After this executor did not
// return.
func badCursor(after string) error {
	var errs FormErrors
	errs.Add("after", fmt.Sprintf("%q is not a job list cursor of this executor.", after))
	return &errs
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

// withdraw asks the request's service to withdraw a pending remote task,
// when it is a Canceller, and logs a failure.
func withdraw(ctx context.Context, m *Manager, log *slog.Logger, req Request, task *RemoteTask) {
	if task == nil {
		return
	}
	svc, err := m.Service(req.Service)
	if err != nil {
		return
	}
	if c, ok := svc.(Canceller); ok {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := c.CancelRemote(cctx, *task)
		switch {
		case err == nil:
		case Retryable(err) && DeferCleanup(ctx, *task, true): // throttled, or failing for now
			log.InfoContext(ctx, "withdrawing the remote task handed to the clean-up queue", "service", req.Service, "task", task.ID, "error", err)
		default:
			log.WarnContext(ctx, "withdrawing the remote task failed", "service", req.Service, "task", task.ID, "error", err)
		}
	}
}

func finish(st *JobStatus, res *Result, err error) {
	if res != nil {
		st.Products = res.Products
		st.IngestResult = res.IngestResult
		st.Window = res.Window
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

// setProgress records a progress report in a status.
func setProgress(s *JobStatus, p Progress) {
	s.Progress = p
	if p.Remote != nil {
		r := *p.Remote
		s.Remote = &r
	}
}
