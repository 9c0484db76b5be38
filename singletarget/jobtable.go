package singletarget

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultKeepFinished is how long the in-memory executors keep the status
// of a finished job.
const DefaultKeepFinished = 24 * time.Hour

// jobTable keeps the statuses of the in-memory executors (Immediate and
// Pool), safe for concurrent use: Status, List, Watch and Wait are written
// once here. A finished job is forgotten keep (KeepFinished) after it
// ended, at the next add, so a long-lived executor does not grow without
// bound.
type jobTable struct {
	mu   sync.Mutex
	jobs map[JobID]*jobEntry
	// seq numbers jobs in submission order (List's order and cursor).
	seq uint64
	// changed is closed and replaced whenever a job changes (Watch).
	changed   chan struct{}
	keep      time.Duration
	lastPrune time.Time
}

type jobEntry struct {
	st  JobStatus
	seq uint64 // submission order
	rev uint64 // bumped on every change
}

func newJobTable(keep time.Duration) *jobTable {
	if keep <= 0 {
		keep = DefaultKeepFinished
	}
	return &jobTable{jobs: map[JobID]*jobEntry{}, changed: make(chan struct{}), keep: keep, lastPrune: time.Now()}
}

func (t *jobTable) add(st *JobStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	t.jobs[st.ID] = &jobEntry{st: *st, seq: t.seq}
	if now := time.Now(); now.Sub(t.lastPrune) > min(t.keep, time.Minute) {
		t.lastPrune = now
		for id, j := range t.jobs {
			if j.st.State.Done() && now.Sub(j.st.Updated) > t.keep {
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
	if e, ok := t.jobs[id]; ok {
		fn(&e.st)
		e.st.Updated = time.Now().UTC()
		e.rev++
		t.notifyLocked()
	}
}

// copyOf returns a status the caller may keep.
func copyOf(st *JobStatus) JobStatus {
	out := *st
	out.Products = slices.Clone(st.Products)
	if st.Remote != nil {
		r := *st.Remote
		out.Remote = &r
	}
	if st.Window != nil {
		w := *st.Window
		out.Window = &w
	}
	return out
}

func (t *jobTable) get(id JobID) (JobStatus, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[id]
	if !ok {
		return JobStatus{}, fmt.Errorf("%w: %q", ErrUnknownJob, id)
	}
	return copyOf(&e.st), nil
}

// list implements Executor.List; the cursor is the submission number of
// the last job of the previous page.
func (t *jobTable) list(f JobFilter) (JobPage, error) {
	if err := f.Check(); err != nil {
		return JobPage{}, err
	}
	before := uint64(0) // 0: from the newest
	if f.After != "" {
		n, err := strconv.ParseUint(f.After, 10, 64)
		if err != nil || n == 0 {
			return JobPage{}, badCursor(f.After)
		}
		before = n
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	matches := make([]*jobEntry, 0, len(t.jobs))
	for _, e := range t.jobs {
		if (before == 0 || e.seq < before) && f.Matches(e.st) {
			matches = append(matches, e)
		}
	}
	slices.SortFunc(matches, func(a, b *jobEntry) int { return cmp.Compare(b.seq, a.seq) })
	size := f.PageSize()
	var page JobPage
	if len(matches) > size {
		matches = matches[:size]
		page.Next = strconv.FormatUint(matches[size-1].seq, 10)
	}
	page.Jobs = make([]JobStatus, len(matches))
	for i, e := range matches {
		page.Jobs[i] = copyOf(&e.st)
	}
	return page, nil
}

// watch implements Executor.Watch.
func (t *jobTable) watch(ctx context.Context, id JobID) iter.Seq2[JobStatus, error] {
	return func(yield func(JobStatus, error) bool) {
		var last JobStatus
		seen := false
		var lastRev uint64
		for {
			t.mu.Lock()
			e, ok := t.jobs[id]
			ch := t.changed
			var st JobStatus
			var rev uint64
			if ok {
				st, rev = copyOf(&e.st), e.rev
			}
			t.mu.Unlock()
			if !ok {
				yield(last, fmt.Errorf("%w: %q", ErrUnknownJob, id))
				return
			}
			if !seen || rev != lastRev {
				seen, last, lastRev = true, st, rev
				if !yield(st, nil) || st.State.Done() {
					return
				}
			}
			select {
			case <-ctx.Done():
				yield(last, ctx.Err())
				return
			case <-ch:
			}
		}
	}
}

// waitFor consumes a Watch sequence and returns its last status: the final
// one, or the latest with the error that ended it.
func waitFor(seq iter.Seq2[JobStatus, error]) (JobStatus, error) {
	var last JobStatus
	for st, err := range seq {
		if err != nil {
			return st, err
		}
		last = st
	}
	return last, nil
}
