// Package simfault plays the transport faults of the built-in simulators
// (atlastest, panstarrstest, ztftest, alercetest): each keeps its own
// exported Fault type, with the fields and documentation a user reads, and
// converts it to this package's Fault to queue and serve it, so they all
// behave the same.
package simfault

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a simulator's Fault with the endpoint as a string. The fields
// mean what the simulators' Fault documents.
type Fault struct {
	Endpoint   string
	Times      int
	Status     int
	RetryAfter time.Duration
	Body       string
	Delay      time.Duration
	Truncate   bool
	Reset      bool
}

// Queue holds the scripted faults, in the order injected. It is safe for
// concurrent use.
type Queue struct {
	mu     sync.Mutex
	faults []*Fault
}

// Add appends faults; Times 0 means 1.
func (q *Queue) Add(faults ...Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, f := range faults {
		if f.Times <= 0 {
			f.Times = 1
		}
		q.faults = append(q.faults, &f)
	}
}

// Clear drops the faults not used yet.
func (q *Queue) Clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = nil
}

// Take returns the first fault whose endpoint matches, using up one of
// its Times. match is given the fault's Endpoint ("" matches every request
// unless match says otherwise).
func (q *Queue) Take(match func(endpoint string) bool) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.faults {
		if !match(f.Endpoint) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			q.faults = append(q.faults[:i:i], q.faults[i+1:]...)
		}
		return *f, true
	}
	return Fault{}, false
}

// Wait holds the answer back for f.Delay; false when the client gave up
// first (nothing more is to be written then).
func Wait(ctx context.Context, f Fault) bool {
	if f.Delay <= 0 {
		return true
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Drop closes the connection without an answer.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// RetryAfterHeader sets Retry-After to f.RetryAfter in whole seconds
// (rounded up), when it is set.
func RetryAfterHeader(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
}

// ContentType guesses the type of a scripted body: HTML, JSON or text.
func ContentType(body string) string {
	b := strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(b, "<"):
		return "text/html; charset=utf-8"
	case strings.HasPrefix(b, "{"), strings.HasPrefix(b, "["):
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// WriteStatus answers f.Status with f.Body (or body, the simulator's
// realistic default, when f.Body is empty) and Retry-After; with
// f.Truncate the body is cut as Truncated cuts it.
func WriteStatus(w http.ResponseWriter, f Fault, body string) {
	if f.Body != "" {
		body = f.Body
	}
	RetryAfterHeader(w, f)
	if w.Header().Get("Content-Type") == "" || f.Body != "" {
		w.Header().Set("Content-Type", ContentType(body))
	}
	if f.Truncate {
		Truncated(w, f.Status, []byte(body), f.Reset)
		return
	}
	w.WriteHeader(f.Status)
	fmt.Fprint(w, body)
}

// Record runs h on r and returns what it answered.
func Record(h http.Handler, w http.ResponseWriter, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	return rec
}

// Truncated sends half of body. With reset it announces the whole length,
// sends half and drops the connection (the client sees the body break
// off); without, the half is sent as if it were the whole answer (a file
// cut short on the server), cut inside a line rather than at its end.
func Truncated(w http.ResponseWriter, status int, body []byte, reset bool) {
	if reset {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		Drop(w)
		return
	}
	cut := len(body) / 2
	for cut > 0 && cut < len(body) && (body[cut-1] == '\n' || body[cut] == '\n') {
		cut--
	}
	w.Header().Set("Content-Length", strconv.Itoa(cut))
	w.WriteHeader(status)
	w.Write(body[:cut])
}

// Serve plays f around next: the delay, then a dropped connection
// (Reset without Truncate), a status answer (Status, with defaultBody's
// body for it), or next's answer cut short (Truncate); a fault with none
// of these lets next answer (after the delay). defaultBody may set headers
// (a Content-Type) on w.
func Serve(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler, defaultBody func(w http.ResponseWriter, status int) string) {
	if !Wait(r.Context(), f) {
		return
	}
	switch {
	case f.Reset && !f.Truncate:
		Drop(w)
	case f.Status != 0:
		WriteStatus(w, f, defaultBody(w, f.Status))
	case f.Truncate:
		rec := Record(next, w, r)
		RetryAfterHeader(w, f)
		Truncated(w, rec.Code, rec.Body.Bytes(), f.Reset)
	default:
		RetryAfterHeader(w, f)
		next.ServeHTTP(w, r)
	}
}

// Countdown counts the next requests a simulator answers in a way of its
// own (EchoCredentialsNext). The zero value counts none; it is safe for
// concurrent use.
type Countdown struct {
	mu sync.Mutex
	n  int
}

// Add makes n more requests count.
func (c *Countdown) Add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += n
}

// Take reports whether a request counts, using one up.
func (c *Countdown) Take() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n > 0 {
		c.n--
		return true
	}
	return false
}
