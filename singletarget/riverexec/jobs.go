package riverexec

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tomgo/targetdata/singletarget"
)

// This file is the executor's job surface beyond Submit: public job ids,
// List, Watch and Wait.

// newKey returns the random part of a job's public id.
func newKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// jobID is a job's public id: "<row id>-<key>". The row id finds the row
// at once; the key (96 random bits, kept in the job's args) makes the id
// unguessable. Jobs inserted before keys existed keep "<row id>".
func jobID(rowID int64, key string) singletarget.JobID {
	if key == "" {
		return singletarget.JobID(strconv.FormatInt(rowID, 10))
	}
	return singletarget.JobID(strconv.FormatInt(rowID, 10) + "-" + key)
}

// parseID splits a public id into the row id and the key.
func parseID(id singletarget.JobID) (int64, string, error) {
	num, key, _ := strings.Cut(string(id), "-")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, "", fmt.Errorf("%w: %q", singletarget.ErrUnknownJob, id)
	}
	return n, key, nil
}

// row returns the job row a public id names: a query job whose key is the
// id's. Anything else is singletarget.ErrUnknownJob.
func (x *Executor) row(ctx context.Context, id singletarget.JobID) (*rivertype.JobRow, error) {
	n, key, err := parseID(id)
	if err != nil {
		return nil, err
	}
	job, err := x.eng.get(ctx, n)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", singletarget.ErrUnknownJob, id)
	}
	if err != nil {
		return nil, fmt.Errorf("riverexec: job %s: %w", id, err)
	}
	if job.Kind != Kind || subtle.ConstantTimeCompare([]byte(argsOf(job).Key), []byte(key)) != 1 {
		return nil, fmt.Errorf("%w: %q", singletarget.ErrUnknownJob, id)
	}
	return job, nil
}

// Tags a query job carries, so that List filters in the database.
const (
	targetTagPrefix  = "targetdata_target_"
	serviceTagPrefix = "targetdata_service_"
)

// River accepts tags of word characters and inner hyphens, up to 255.
var plainTag = regexp.MustCompile(`\A[\w][\w\-]*[\w]\z|\A\w\z`)

func targetTag(id int64) string { return targetTagPrefix + strconv.FormatInt(id, 10) }

// serviceTag is the tag of a service's jobs: its name when River accepts
// it in a tag, else a hash of it.
func serviceTag(name string) string {
	if len(name) <= 200 && plainTag.MatchString(name) {
		return serviceTagPrefix + name
	}
	sum := sha256.Sum256([]byte(name))
	return serviceTagPrefix + "sha256_" + hex.EncodeToString(sum[:16])
}

// jobTags are the tags of a query job for req.
func jobTags(req singletarget.Request) []string {
	return []string{targetTag(req.Target.ID), serviceTag(req.Service)}
}

func (e *riverEngine[TTx]) listJobs(ctx context.Context, tags []string, states []rivertype.JobState, before int64, limit int) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().Kinds(Kind).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit)
	if len(tags) > 0 {
		p = p.TagsAll(tags...)
	}
	if len(states) > 0 {
		p = p.States(states...)
	}
	if before > 0 {
		p = p.After(river.JobListCursorFromJob(&rivertype.JobRow{ID: before}))
	}
	res, err := e.client.JobList(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

// riverStates are the River states a job in one of states can be in
// (statusOf tells them apart).
func riverStates(states []singletarget.JobState) []rivertype.JobState {
	var out []rivertype.JobState
	add := func(ss ...rivertype.JobState) {
		for _, s := range ss {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, s := range states {
		switch s {
		case singletarget.JobQueued:
			add(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending)
		case singletarget.JobRunning:
			add(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending,
				rivertype.JobStateRunning, rivertype.JobStateRetryable)
		case singletarget.JobSucceeded:
			add(rivertype.JobStateCompleted)
		case singletarget.JobFailed:
			add(rivertype.JobStateDiscarded, rivertype.JobStateCancelled)
		case singletarget.JobCancelled:
			add(rivertype.JobStateCancelled)
		}
	}
	return out
}

// List implements singletarget.Executor: the query jobs in the database,
// newest first, from any process (an insert-only one included). Target
// and service are filtered in the database (by the tags each job carries;
// jobs inserted by versions before List existed carry none and appear only
// in lists without those conditions), states as statusOf reads them. The
// cursor is a row id.
func (x *Executor) List(ctx context.Context, f singletarget.JobFilter) (singletarget.JobPage, error) {
	if err := f.Check(); err != nil {
		return singletarget.JobPage{}, err
	}
	var before int64
	if f.After != "" {
		n, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || n <= 0 {
			var errs singletarget.FormErrors
			errs.Add("after", fmt.Sprintf("%q is not a job list cursor of this executor.", f.After))
			return singletarget.JobPage{}, &errs
		}
		before = n
	}
	var tags []string
	if f.TargetID != 0 {
		tags = append(tags, targetTag(f.TargetID))
	}
	if f.Service != "" {
		tags = append(tags, serviceTag(f.Service))
	}
	states := riverStates(f.States)
	size := f.PageSize()
	chunk := min(max(size+1, 100), 10_000)
	var page singletarget.JobPage
	var lastRow int64
	for {
		rows, err := x.eng.listJobs(ctx, tags, states, before, chunk)
		if err != nil {
			return singletarget.JobPage{}, fmt.Errorf("riverexec: list jobs: %w", err)
		}
		for _, r := range rows {
			st := statusOf(r)
			if !f.Matches(st) {
				continue
			}
			if len(page.Jobs) == size {
				page.Next = strconv.FormatInt(lastRow, 10)
				return page, nil
			}
			page.Jobs = append(page.Jobs, st)
			lastRow = r.ID
		}
		if len(rows) < chunk {
			return page, nil
		}
		before = rows[len(rows)-1].ID
	}
}

// notifier wakes the watchers of this process when a job may have changed
// (a worker of this executor recorded progress, a job ended or snoozed).
type notifier struct {
	mu      sync.Mutex
	changed chan struct{}
}

// wait returns a channel closed at the next notify.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.changed == nil {
		n.changed = make(chan struct{})
	}
	return n.changed
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.changed != nil {
		close(n.changed)
		n.changed = nil
	}
}

func (e *riverEngine[TTx]) subscribe() (<-chan *river.Event, func()) {
	return e.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed,
		river.EventKindJobSnoozed)
}

// followEvents wakes this process's watchers when its workers end or
// snooze a job, until the executor stops.
func (x *Executor) followEvents() {
	events, cancel := x.eng.subscribe()
	stopped := x.eng.stopped()
	go func() {
		defer cancel()
		for {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
				x.note.notify()
			case <-stopped:
				return
			}
		}
	}()
}

// Watch implements singletarget.Executor. It reads the job's row every
// Options.PollInterval, so it follows jobs run by any process; changes made
// by this process's own workers (progress, a step's end) wake it at once.
func (x *Executor) Watch(ctx context.Context, id singletarget.JobID) iter.Seq2[singletarget.JobStatus, error] {
	return func(yield func(singletarget.JobStatus, error) bool) {
		tick := time.NewTicker(x.opts.PollInterval)
		defer tick.Stop()
		var last singletarget.JobStatus
		var lastJSON []byte
		for {
			woken := x.note.wait()
			st, err := x.Status(ctx, id)
			if err != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				yield(last, err)
				return
			}
			b, _ := json.Marshal(st)
			if lastJSON == nil || !bytes.Equal(b, lastJSON) {
				last, lastJSON = st, b
				if !yield(st, nil) || st.State.Done() {
					return
				}
			}
			select {
			case <-ctx.Done():
				yield(last, ctx.Err())
				return
			case <-tick.C:
			case <-woken:
			}
		}
	}
}

// Wait implements singletarget.Executor: it follows the job (Watch) until
// it is finished and returns its final status, or the latest one and ctx's
// error when ctx ends first.
func (x *Executor) Wait(ctx context.Context, id singletarget.JobID) (singletarget.JobStatus, error) {
	var last singletarget.JobStatus
	for st, err := range x.Watch(ctx, id) {
		if err != nil {
			return st, err
		}
		last = st
	}
	return last, nil
}
