package riverexec

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tomgo/targetdata/singletarget"
)

// BatchID identifies a batch of query jobs: a River tag on each of them.
type BatchID string

// batchTag is what a batch's jobs carry in their tags.
func (id BatchID) tag() string { return "targetdata_batch_" + string(id) }

var batchIDPattern = regexp.MustCompile(`^[0-9a-f]{16,32}$`)

// insertChunk bounds one InsertMany (SQLite caps a statement's variables).
const insertChunk = 500

func (e *riverEngine[TTx]) insertMany(ctx context.Context, args []Args, opts *river.InsertOpts) ([]*rivertype.JobRow, error) {
	params := make([]river.InsertManyParams, len(args))
	for i := range args {
		o := *opts
		o.Tags = append(slices.Clone(opts.Tags), jobTags(args[i].Request)...)
		params[i] = river.InsertManyParams{Args: args[i], InsertOpts: &o}
	}
	return e.insertParams(ctx, params)
}

func (e *riverEngine[TTx]) insertParams(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobRow, error) {
	res, err := e.client.InsertMany(ctx, params)
	if err != nil {
		return nil, err
	}
	out := make([]*rivertype.JobRow, len(res))
	for i, r := range res {
		out[i] = r.Job
	}
	return out, nil
}

func (e *riverEngine[TTx]) list(ctx context.Context, tag string, after *river.JobListCursor) ([]*rivertype.JobRow, *river.JobListCursor, error) {
	p := river.NewJobListParams().Kinds(Kind).TagsAll(tag).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1000).
		States(rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
			rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled)
	if after != nil {
		p = p.After(after)
	}
	res, err := e.client.JobList(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	return res.Jobs, res.LastCursor, nil
}

// SubmitBatch checks a batch (singletarget.Manager.CheckBatch: bad params
// give a *singletarget.FormErrors, bad targets errors naming targets[i])
// and inserts one query job per target, all tagged with the batch's id,
// in transactions of up to 500 jobs. The batch is durable: workers run its
// jobs as they run any other (each account's limit applies, see the
// package documentation), a restarted worker carries on where it stopped,
// and BatchProgress, BatchStatuses, WaitBatch and CancelBatch find the
// jobs by the tag from any process, an insert-only one included.
func (x *Executor) SubmitBatch(ctx context.Context, service string, targets []singletarget.Target, params url.Values) (BatchID, error) {
	if err := x.m.CheckBatch(service, targets, params); err != nil {
		return "", err
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := BatchID(hex.EncodeToString(b[:]))
	opts := &river.InsertOpts{Queue: x.opts.Queue, MaxAttempts: x.opts.MaxAttempts, Tags: []string{id.tag()}}
	for lo := 0; lo < len(targets); lo += insertChunk {
		hi := min(lo+insertChunk, len(targets))
		args := make([]Args, 0, hi-lo)
		for _, t := range targets[lo:hi] {
			args = append(args, Args{Request: singletarget.Request{Service: service, Target: t, Params: params}, Key: newKey()})
		}
		if _, err := x.eng.insertMany(ctx, args, opts); err != nil {
			err = fmt.Errorf("riverexec: insert batch %s (targets %d to %d): %w", id, lo, hi-1, err)
			if lo > 0 {
				err = fmt.Errorf("%w; the first %d targets were inserted: cancel the batch to drop them", err, lo)
			}
			return id, err
		}
	}
	return id, nil
}

func parseBatchID(id BatchID) error {
	if !batchIDPattern.MatchString(string(id)) {
		return fmt.Errorf("%w: batch %q", singletarget.ErrUnknownJob, id)
	}
	return nil
}

// batchJobs lists a batch's jobs, oldest first.
func (x *Executor) batchJobs(ctx context.Context, id BatchID) ([]*rivertype.JobRow, error) {
	if err := parseBatchID(id); err != nil {
		return nil, err
	}
	var all []*rivertype.JobRow
	var cursor *river.JobListCursor
	for {
		jobs, next, err := x.eng.list(ctx, id.tag(), cursor)
		if err != nil {
			return nil, fmt.Errorf("riverexec: list batch %s: %w", id, err)
		}
		all = append(all, jobs...)
		if len(jobs) < 1000 || next == nil {
			break
		}
		cursor = next
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: batch %q", singletarget.ErrUnknownJob, id)
	}
	slices.SortFunc(all, func(a, b *rivertype.JobRow) int { return cmp.Compare(a.ID, b.ID) })
	return all, nil
}

// BatchStatuses returns the status of every job of the batch, in the order
// of its targets. An unknown batch is an error matching
// singletarget.ErrUnknownJob.
func (x *Executor) BatchStatuses(ctx context.Context, id BatchID) ([]singletarget.JobStatus, error) {
	jobs, err := x.batchJobs(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]singletarget.JobStatus, len(jobs))
	for i, j := range jobs {
		out[i] = statusOf(j)
	}
	return out, nil
}

// BatchProgress counts the batch's targets as the database has them
// (singletarget.BatchProgress: a target held back by its account's limit
// is Waiting; one with a query or remote task under way is InFlight).
func (x *Executor) BatchProgress(ctx context.Context, id BatchID) (singletarget.BatchProgress, error) {
	jobs, err := x.batchJobs(ctx, id)
	if err != nil {
		return singletarget.BatchProgress{}, err
	}
	return progressOf(jobs, time.Now()), nil
}

func progressOf(jobs []*rivertype.JobRow, now time.Time) singletarget.BatchProgress {
	p := singletarget.BatchProgress{Total: len(jobs)}
	var first time.Time
	for _, j := range jobs {
		if first.IsZero() || j.CreatedAt.Before(first) {
			first = j.CreatedAt
		}
		st := statusOf(j)
		switch st.State {
		case singletarget.JobSucceeded:
			p.Done++
			p.Added += st.Added
			p.Skipped += st.Skipped
		case singletarget.JobFailed:
			p.Failed++
		case singletarget.JobCancelled:
			p.Cancelled++
		default:
			switch {
			case st.Progress.Stage == singletarget.StageThrottled:
				p.Throttled++
			case st.Remote != nil || j.State == rivertype.JobStateRunning:
				p.Pending++
				p.InFlight++
			default:
				p.Pending++
				p.Waiting++
			}
		}
	}
	if !first.IsZero() {
		p.Elapsed = now.Sub(first)
	}
	return p
}

// WaitBatch polls the batch's progress every interval (default 1 s) until
// every target is final or ctx ends, and returns the last progress.
func (x *Executor) WaitBatch(ctx context.Context, id BatchID, interval time.Duration) (singletarget.BatchProgress, error) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p, err := x.BatchProgress(ctx, id)
		if err != nil || p.Finished() {
			return p, err
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-t.C:
		}
	}
}

// CancelBatch cancels every job of the batch that has not finished, as
// Cancel does (pending remote tasks are withdrawn). It returns the first
// error, after trying every job.
func (x *Executor) CancelBatch(ctx context.Context, id BatchID) error {
	jobs, err := x.batchJobs(ctx, id)
	if err != nil {
		return err
	}
	var first error
	for _, j := range jobs {
		if j.FinalizedAt != nil {
			continue
		}
		if err := x.cancelRow(ctx, j.ID, statusOf(j).ID); err != nil && first == nil {
			first = err
		}
	}
	return first
}
