package atlas

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// writePacer keeps an account's writes (queue POSTs and DELETEs) within
// the server's throttle, a sliding window of rate requests per window
// (Django REST framework's SimpleRateThrottle, spec §6): a write may go
// when fewer than rate writes were answered in the last window, counting
// the ones still unanswered. Times are taken when the answer arrives, which
// is never before the server saw the request, so the client's window
// always covers the server's. It is safe for concurrent use.
type writePacer struct {
	rate   int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	done []time.Time // answer times within the window, oldest first
	open int         // writes sent and not answered yet
}

func newWritePacer(rate int, window time.Duration, now func() time.Time) *writePacer {
	if rate <= 0 {
		return nil
	}
	return &writePacer{rate: rate, window: window, now: now}
}

// delayLocked is how long until a write may go (0: now).
func (p *writePacer) delayLocked(now time.Time) time.Duration {
	cut := now.Add(-p.window)
	i := 0
	for i < len(p.done) && !p.done[i].After(cut) {
		i++
	}
	p.done = p.done[i:]
	n := len(p.done) + p.open
	if n < p.rate {
		return 0
	}
	// The (n-rate+1)-th oldest answer must leave the window first.
	k := n - p.rate
	if k >= len(p.done) {
		// The window is full of unanswered writes: look again soon.
		return max(p.window/time.Duration(p.rate), time.Millisecond)
	}
	return p.done[k].Add(p.window).Sub(now)
}

// delay reports how long until a write may go.
func (p *writePacer) delay() time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(0, p.delayLocked(p.now()))
}

// acquire takes a place for a write, or returns the wait.
func (p *writePacer) acquire() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.delayLocked(p.now()); d > 0 {
		return d
	}
	p.open++
	return 0
}

// finish records the answer to a write acquire let through.
func (p *writePacer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open--
	t := p.now()
	i, _ := slices.BinarySearchFunc(p.done, t, func(a, b time.Time) int { return a.Compare(b) })
	p.done = slices.Insert(p.done, i, t)
}

// throttled is the error of a write the pacing holds back.
func (p *writePacer) throttled(wait time.Duration) error {
	return &singletarget.ThrottledError{Service: Name, RetryAfter: wait,
		Detail: "client-side pacing: the account's writes are kept to " + plural(p.rate, "write") + " per " + p.window.String()}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
