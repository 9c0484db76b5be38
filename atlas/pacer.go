package atlas

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// reservationTTL is how long a place reserved for a queue request (see
// pacer.reserve) is kept if no request comes to use it.
const reservationTTL = time.Minute

// pacer keeps an account's writes (queue POSTs and DELETEs), or its reads
// (task details, list pages, queue positions), within the server's
// throttle of that kind, a sliding window of rate requests per window
// (Django REST framework's SimpleRateThrottle, spec §6): a request may go
// when fewer than rate requests were answered in the last window, counting
// the ones still unanswered and the places reserved for queue requests
// (writes only).
// Times are taken when the answer arrives, which is never before the
// server saw the request, so the client's window always covers the
// server's. It is safe for concurrent use; the nil *pacer paces
// nothing.
type pacer struct {
	noun   string // "write" or "read", for messages
	rate   int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	done     []time.Time // answer times within the window, oldest first
	open     int         // requests sent and not answered yet
	reserved []time.Time // when each reservation lapses, oldest first
}

func newWritePacer(rate int, window time.Duration, now func() time.Time) *pacer {
	return newPacer("write", rate, window, now)
}

func newReadPacer(rate int, window time.Duration, now func() time.Time) *pacer {
	return newPacer("read", rate, window, now)
}

func newPacer(noun string, rate int, window time.Duration, now func() time.Time) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{noun: noun, rate: rate, window: window, now: now}
}

// delayLocked is how long until one more request may go (0: now), after
// dropping answers older than the window and lapsed reservations.
func (p *pacer) delayLocked(now time.Time) time.Duration {
	cut := now.Add(-p.window)
	i := 0
	for i < len(p.done) && !p.done[i].After(cut) {
		i++
	}
	p.done = p.done[i:]
	i = 0
	for i < len(p.reserved) && !p.reserved[i].After(now) {
		i++
	}
	p.reserved = p.reserved[i:]
	n := len(p.done) + p.open + len(p.reserved)
	if n < p.rate {
		return 0
	}
	// The (n-rate+1)-th oldest answer must leave the window first.
	k := n - p.rate
	if k >= len(p.done) {
		// The window is full of unanswered or reserved requests: look again
		// soon.
		return max(p.window/time.Duration(p.rate), time.Millisecond)
	}
	return p.done[k].Add(p.window).Sub(now)
}

// delay reports how long until a request may go.
func (p *pacer) delay() time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(0, p.delayLocked(p.now()))
}

// reserve keeps a place for a coming queue request (a batch admitted it),
// so that deletes do not take it first, and returns 0; or returns how long
// until there is a place, reserving nothing.
func (p *pacer) reserve() time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if d := p.delayLocked(now); d > 0 {
		return d
	}
	p.reserved = append(p.reserved, now.Add(reservationTTL))
	return 0
}

// acquire takes a place for a request, or returns the wait. A queue
// request (query) takes a reserved place if there is one.
func (p *pacer) acquire(query bool) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.delayLocked(p.now())
	switch {
	case query && len(p.reserved) > 0:
		p.reserved = p.reserved[1:]
	case d > 0:
		return d
	}
	p.open++
	return 0
}

// finish records the answer to a request acquire let through.
func (p *pacer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open--
	t := p.now()
	i, _ := slices.BinarySearchFunc(p.done, t, func(a, b time.Time) int { return a.Compare(b) })
	p.done = slices.Insert(p.done, i, t)
}

// throttled is the error of a request the pacing holds back.
func (p *pacer) throttled(wait time.Duration) error {
	return &singletarget.ThrottledError{Service: ServiceName, RetryAfter: wait,
		Detail: "client-side pacing: the account's " + p.noun + "s are kept to " + plural(p.rate, p.noun) + " per " + p.window.String()}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
