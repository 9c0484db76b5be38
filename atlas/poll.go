package atlas

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// poller is a Service's poll coordinator: it answers the looks of Resume
// at the account's pending tasks, in this process, from as few reads as it
// can. With one pending task a look reads that task (a conditional GET);
// with two or more it reads the account's task list (newest first, up to
// 100 tasks a page, each page a conditional GET) at most every
// Options.ListMaxAge and answers every look from that read, stopping at
// the page that holds the oldest pending task. While tasks are queued it
// reads /queuepositions.json at most every Options.QueuePositionsMaxAge.
// It is safe for concurrent use.
type poller struct {
	c    *Client
	opts *Options

	mu      sync.Mutex
	tracked map[int64]time.Time // pending tasks → their last look
	seen    map[int64]seenTask  // each task as the latest list read showed it
	woken   map[int64]time.Time // callbacks for tracked tasks, not yet looked at
	// listing is closed when the list read under way ends (nil: none).
	listing    chan struct{}
	listErr    error // the error of the last list read
	listAt     time.Time
	detailAt   map[int64]time.Time
	positions  map[int64]int
	positionAt time.Time
	noPosition bool // the server has no /queuepositions.json
}

// seenTask is a task as a list read showed it, and when that read began.
type seenTask struct {
	t  Task
	at time.Time
}

func newPoller(c *Client, opts *Options) *poller {
	return &poller{c: c, opts: opts, tracked: map[int64]time.Time{}, seen: map[int64]seenTask{},
		woken: map[int64]time.Time{}, detailAt: map[int64]time.Time{}}
}

// maxWakeGap bounds the least time between two reads made for woken jobs.
const maxWakeGap = 2 * time.Second

// wakeGap is the least time between two reads of one kind (the list, or
// one task) made for looks that want news from after a wake-up:
// ListMaxAge, at most 2 s.
func (p *poller) wakeGap() time.Duration { return min(p.opts.ListMaxAge, maxWakeGap) }

// trackFor is how long a task is followed after its last look (a job
// cancelled in another process, or gone, stops being looked at).
func (p *poller) trackFor() time.Duration { return 3*p.opts.PollMax + time.Minute }

// look returns the latest news of task id: from a list read no older than
// ListMaxAge when two or more tasks are followed, else from a read of the
// task; when want is set (the job was woken before its time) or a
// callback came for it, from a read begun at or after that. When such news
// cannot be had without reading again sooner than wakeGap after the last
// read of its kind (so that a flood of wake-ups, forged callbacks
// included, costs at most one list read per gap), it returns the time to look again instead (and
// no task).
func (p *poller) look(ctx context.Context, id int64, want time.Time) (*Task, time.Time, error) {
	now := p.opts.Now()
	p.mu.Lock()
	p.tracked[id] = now
	for tid, last := range p.tracked {
		if now.Sub(last) > p.trackFor() {
			p.forgetLocked(tid)
		}
	}
	if w, ok := p.woken[id]; ok && w.After(want) {
		want = w
	}
	for {
		s, ok := p.seen[id]
		if ok && !s.at.Before(want) && now.Sub(s.at) <= p.opts.ListMaxAge {
			delete(p.woken, id)
			t := p.withPositionLocked(s.t)
			p.mu.Unlock()
			return &t, time.Time{}, nil
		}
		if len(p.tracked) < 2 {
			break // one task: read it alone
		}
		if p.listing != nil {
			done := p.listing
			p.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				return nil, time.Time{}, ctx.Err()
			}
			p.mu.Lock()
			if s, ok := p.seen[id]; ok && !s.at.Before(want) {
				continue // the read just made answers
			}
			if err := p.listErr; err != nil {
				if isContextErr(err) && ctx.Err() == nil {
					continue // the reader gave up, not this look: read again
				}
				p.mu.Unlock()
				return nil, time.Time{}, err
			}
			break // not in the list: read it alone
		}
		if !want.IsZero() && now.Sub(p.listAt) < p.wakeGap() {
			again := p.listAt.Add(p.wakeGap())
			p.mu.Unlock()
			return nil, again, nil
		}
		p.listLocked(ctx, now)
		if p.listErr != nil {
			err := p.listErr
			p.mu.Unlock()
			return nil, time.Time{}, err
		}
		if _, ok := p.seen[id]; !ok {
			break
		}
	}
	// Read the task alone.
	if last := p.detailAt[id]; !want.IsZero() && now.Sub(last) < p.wakeGap() {
		again := last.Add(p.wakeGap())
		p.mu.Unlock()
		return nil, again, nil
	}
	p.detailAt[id] = now
	p.mu.Unlock()
	t, err := p.c.Task(ctx, id)
	if err != nil {
		return nil, time.Time{}, err
	}
	p.mu.Lock()
	delete(p.woken, id)
	out := p.withPositionLocked(*t)
	p.mu.Unlock()
	return &out, time.Time{}, nil
}

// listLocked reads the task list (the lock is released meanwhile; other
// looks wait on p.listing) and records what it shows.
func (p *poller) listLocked(ctx context.Context, now time.Time) {
	done := make(chan struct{})
	p.listing = done
	want := make(map[int64]bool, len(p.tracked))
	oldest := int64(0)
	for id := range p.tracked {
		want[id] = true
		if oldest == 0 || id < oldest {
			oldest = id
		}
	}
	queued := false
	p.mu.Unlock()
	left := len(want)
	tasks, err := p.c.Tasks(ctx, func(t Task) bool {
		if want[t.ID] {
			left--
			if t.State() == StateQueued {
				queued = true
			}
		}
		// Newest first: past the oldest pending task there is nothing to
		// look for.
		return left == 0 || t.ID <= oldest
	})
	var pos map[int64]int
	var posErr error
	readPositions := err == nil && queued && p.opts.QueuePositionsMaxAge > 0
	if readPositions {
		p.mu.Lock()
		readPositions = !p.noPosition && now.Sub(p.positionAt) >= p.opts.QueuePositionsMaxAge
		p.mu.Unlock()
	}
	if readPositions {
		pos, posErr = p.c.QueuePositions(ctx)
	}
	p.mu.Lock()
	p.listing, p.listErr, p.listAt = nil, err, now
	close(done)
	if err != nil {
		return
	}
	for _, t := range tasks {
		if _, ok := p.tracked[t.ID]; ok {
			p.seen[t.ID] = seenTask{t: t, at: now}
		}
	}
	switch {
	case !readPositions:
	case posErr == nil:
		p.positions, p.positionAt = pos, now
	case errors.Is(posErr, singletarget.ErrNotFound):
		p.noPosition = true
		p.opts.Logger.DebugContext(ctx, "ATLAS: the server has no /queuepositions.json; showing each task's queuepos")
	default:
		p.positionAt = now // try again at the next interval
		p.opts.Logger.DebugContext(ctx, "ATLAS: reading the queue positions failed", "error", posErr)
	}
}

// withPositionLocked sets a queued task's position from the latest queue
// positions read, when they have it.
func (p *poller) withPositionLocked(t Task) Task {
	if t.State() == StateQueued {
		if pos, ok := p.positions[t.ID]; ok {
			t.QueuePos = &pos
		}
	}
	return t
}

// track starts following task id (just queued).
func (p *poller) track(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tracked[id] = p.opts.Now()
}

// wake notes a completion callback for task id: its next look reads news
// made after now. It does nothing for a task this process does not follow
// (so forged ids cost nothing).
func (p *poller) wake(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.tracked[id]; ok {
		p.woken[id] = p.opts.Now()
	}
}

// forget stops following task id (finished, deleted or given up).
func (p *poller) forget(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forgetLocked(id)
}

func (p *poller) forgetLocked(id int64) {
	delete(p.tracked, id)
	delete(p.seen, id)
	delete(p.woken, id)
	delete(p.detailAt, id)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
