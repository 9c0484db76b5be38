package singletarget

import (
	"errors"
	"sync"
	"time"
)

// ErrConcurrencyLimit is matched by a refusal that a service knows (or,
// configured so, assumes) comes from the server's limit on the remote
// tasks one account may have in flight: a *ThrottledError whose Err is
// this sentinel. Slots learn the limit from such refusals when
// ConcurrencyLimit.Learn is set; other throttling (a request rate) teaches
// nothing but a pause.
var ErrConcurrencyLimit = errors.New("too many remote tasks in flight for the account")

// ConcurrencyLimit is what an account may have in flight at once on an
// asynchronous service's server. The zero value means no limit.
type ConcurrencyLimit struct {
	// Max is the most remote tasks in flight (queued or running on the
	// server, plus queries being sent) at once; 0 for no known limit.
	Max int
	// MaxNotStarted is the most remote tasks that have not started yet
	// (ATLAS refuses a 501st, spec §6); 0 for none. A task counts as not
	// started until a poll sees it running, so the count errs on the safe
	// side.
	MaxNotStarted int
	// Learn lowers Max (or sets it, when 0) when a query is refused with
	// an error matching ErrConcurrencyLimit: to the number of remote tasks
	// in flight at that moment (at least 1), which then holds.
	Learn bool
}

// ConcurrencyLimiter is implemented by services whose server limits the
// remote tasks one account may have in flight. Manager.Slots reads it once.
type ConcurrencyLimiter interface {
	ConcurrencyLimit() ConcurrencyLimit
}

// Pacer is implemented by services that pace their own requests on the
// client side (ATLAS: the account's write rate). Slots call ReserveQuery
// when they would admit a query: when the pacing has room for one more
// request now, the service keeps that room for its next query (so that
// its other requests do not take it first) and returns 0; otherwise it
// returns how long until there is room, reserving nothing. A reservation
// that no query uses must lapse after a while. ReserveQuery must be cheap
// and must not block.
type Pacer interface {
	ReserveQuery() time.Duration
}

// slotGrace is how long past its next expected step an entry is kept
// without news (a job cancelled by another process, a pool stopped with
// jobs parked): after that its slot is given back.
const slotGrace = 30 * time.Minute

// queryGrace is how long an admitted query may go unanswered before its
// slot is given back (a query is one request; a worker that died while
// sending it must not block the account for long).
const queryGrace = 10 * time.Minute

// Slots admit an account's new remote tasks under its ConcurrencyLimit and
// its service's Pacer, and count the tasks in flight. The Manager keeps
// one per service (Manager.Slots), shared by every batch and every River
// worker of the process: the counts are in-process only.
//
// An executor asks TryAcquire before a query that would create a remote
// task, reports every step with Observe, and calls Release when the job
// ends. Entries are keyed by a job key of the executor's choosing, unique
// within the Manager. An entry with no news for 30 minutes past its
// task's NotBefore (10 minutes after admission, for a query not answered
// yet) is dropped, so a job ended elsewhere (cancelled by another
// process, a worker that died) does not hold a slot for ever.
//
// Slots are safe for concurrent use.
type Slots struct {
	service string
	pacer   Pacer
	now     func() time.Time

	mu      sync.Mutex
	limit   ConcurrencyLimit
	learned int
	paused  time.Time // no admission before this (a throttled query)
	held    map[string]*slotEntry
	changed chan struct{}
}

type slotEntry struct {
	remote  bool // a remote task exists
	started bool // it has been seen running
	expires time.Time
}

// SlotsStatus is a snapshot of Slots.
type SlotsStatus struct {
	// Limit is the configured ConcurrencyLimit.
	Limit ConcurrencyLimit
	// Learned is the limit learned from refusals (0: none); the effective
	// limit is the lower of Limit.Max and Learned, ignoring zeros.
	Learned int
	// Max is the effective limit on tasks in flight (0: none).
	Max int
	// InFlight counts the entries held: remote tasks plus queries
	// admitted and not yet answered.
	InFlight int
	// Remote counts the remote tasks known to exist.
	Remote int
	// NotStarted counts the entries not seen running.
	NotStarted int
	// PausedFor is how long admission stays paused after a throttled
	// query.
	PausedFor time.Duration
}

func newSlots(service string, svc Service, now func() time.Time) *Slots {
	s := &Slots{service: service, now: now, held: map[string]*slotEntry{}, changed: make(chan struct{})}
	if p, ok := svc.(Pacer); ok {
		s.pacer = p
	}
	if l, ok := svc.(ConcurrencyLimiter); ok {
		s.limit = l.ConcurrencyLimit()
	}
	return s
}

// Slots returns the named service's Slots, made on first use from its
// ConcurrencyLimiter (if it is one).
func (m *Manager) Slots(service string) (*Slots, error) {
	svc, err := m.Service(service)
	if err != nil {
		return nil, err
	}
	if s, ok := m.slots.Load(service); ok {
		return s.(*Slots), nil
	}
	s, _ := m.slots.LoadOrStore(service, newSlots(service, svc, m.opts.Now))
	return s.(*Slots), nil
}

// SetLimit replaces the configured limit (the service's, by default). A
// learned limit is kept.
func (s *Slots) SetLimit(l ConcurrencyLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = l
	s.notifyLocked()
}

// Changed returns a channel closed at the next change that may admit more
// (a release, a new limit).
func (s *Slots) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Slots) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Slots) maxLocked() int {
	m := s.limit.Max
	if s.learned > 0 && (m <= 0 || s.learned < m) {
		m = s.learned
	}
	return max(m, 0)
}

func (s *Slots) countLocked() (remote, notStarted, querying int) {
	for _, e := range s.held {
		switch {
		case !e.remote:
			querying++
			notStarted++
		case !e.started:
			remote++
			notStarted++
		default:
			remote++
		}
	}
	return remote, notStarted, querying
}

func (s *Slots) expireLocked(now time.Time) {
	for k, e := range s.held {
		if now.After(e.expires) {
			delete(s.held, k)
		}
	}
}

// TryAcquire admits a new remote task for key, or says why not: retry > 0
// is how long a pause or the service's pacing lasts; retry == 0 means
// wait for Changed. A key already held is admitted again at once.
//
// A Pacer service is asked last, to reserve room for the query. While a
// limit to Learn is still unknown,
// one admitted query at a time waits for its answer, so that the limit is
// learned from the first refusal, not from a crowd of them.
func (s *Slots) TryAcquire(key string) (ok bool, retry time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, held := s.held[key]; held {
		return true, 0
	}
	s.expireLocked(now)
	if d := s.paused.Sub(now); d > 0 {
		return false, d
	}
	_, notStarted, querying := s.countLocked()
	if m := s.maxLocked(); m > 0 && len(s.held) >= m {
		return false, 0
	}
	if n := s.limit.MaxNotStarted; n > 0 && notStarted >= n {
		return false, 0
	}
	if s.limit.Learn && s.maxLocked() == 0 && querying > 0 {
		return false, 0 // learning: one query at a time
	}
	if s.pacer != nil {
		if d := s.pacer.ReserveQuery(); d > 0 {
			return false, d
		}
	}
	s.held[key] = &slotEntry{expires: now.Add(queryGrace)}
	return true, 0
}

// Observe records what a step of key's job did: task is the remote task
// the step resumed (nil for a query), res and err what Manager.Step
// returned. A pending task keeps (or, after a restart, takes) its slot; a
// finished one gives it back; a throttled query pauses admission for the
// wait and, with Learn, a refusal matching ErrConcurrencyLimit sets the
// learned limit to the remote tasks in flight.
func (s *Slots) Observe(key string, task *RemoteTask, res *StepResult, err error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.held[key]
	var te *ThrottledError
	switch {
	case err == nil && res != nil && res.Pending != nil:
		if e == nil { // resumed after a restart: it is in flight
			e = &slotEntry{}
			s.held[key] = e
		}
		e.remote = true
		e.started = stageOf(*res.Pending) == StageRunning
		e.expires = later(res.Pending.NotBefore, now).Add(slotGrace)
		if task == nil {
			s.notifyLocked() // the query is answered: the next may go
		}
	case task == nil && errors.As(err, &te):
		wait := max(te.RetryAfter, 0)
		if until := now.Add(wait); until.After(s.paused) {
			s.paused = until
		}
		if s.limit.Learn && errors.Is(err, ErrConcurrencyLimit) {
			remote, _, _ := s.countLocked()
			k := max(remote, 1)
			if s.learned == 0 || k < s.learned {
				s.learned = k
			}
		}
		if e != nil {
			e.expires = now.Add(wait + slotGrace)
		}
	case res != nil && res.Pending == nil && (err == nil || len(res.Products) > 0):
		// The remote task (if any) is over: its products are stored.
		if e != nil {
			delete(s.held, key)
			s.notifyLocked()
		}
	}
}

// Release gives key's slot back (the job ended, or its remote task
// finished). Releasing a key not held does nothing.
func (s *Slots) Release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.held[key]; ok {
		delete(s.held, key)
		s.notifyLocked()
	}
}

// Status returns a snapshot.
func (s *Slots) Status() SlotsStatus {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	remote, notStarted, _ := s.countLocked()
	return SlotsStatus{Limit: s.limit, Learned: s.learned, Max: s.maxLocked(), InFlight: len(s.held), Remote: remote,
		NotStarted: notStarted, PausedFor: max(0, s.paused.Sub(now))}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
