package atlastest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/tomgo/targetdata/internal/simfault"
)

// Endpoint names a kind of request, for fault scripting.
type Endpoint string

// Endpoints.
const (
	// EndpointAny matches every request.
	EndpointAny Endpoint = ""
	// EndpointToken is POST /api-token-auth/.
	EndpointToken Endpoint = "token"
	// EndpointQueue is POST /queue/ (creating a task).
	EndpointQueue Endpoint = "queue"
	// EndpointList is GET /queue/ (the user's task list).
	EndpointList Endpoint = "list"
	// EndpointTask is GET /queue/{id}/ (polling a task).
	EndpointTask Endpoint = "task"
	// EndpointDelete is DELETE /queue/{id}/.
	EndpointDelete Endpoint = "delete"
	// EndpointResult is GET of a result file (/static/results/jobNNNNN.txt
	// or /queue/{id}/data.txt).
	EndpointResult Endpoint = "result"
	// EndpointQueuePositions is GET /queuepositions.json.
	EndpointQueuePositions Endpoint = "queuepositions"
	// EndpointWrite matches the throttled writes: queue POSTs and DELETEs.
	EndpointWrite Endpoint = "write"
	// EndpointRead matches the throttled reads: task details, task list
	// pages and queue positions.
	EndpointRead Endpoint = "read"
	// EndpointCallback is the completion callback the server sends (a
	// request from the server, not to it): a fault with Status or Reset
	// drops the callback (it is never sent, as when the receiver is down:
	// the server does not retry), Delay holds it back.
	EndpointCallback Endpoint = "callback"
)

func (e Endpoint) matches(ep Endpoint, method string) bool {
	switch e {
	case EndpointAny:
		return true
	case EndpointWrite:
		return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions && ep != EndpointToken && ep != EndpointCallback
	case EndpointRead:
		return ep == EndpointList || ep == EndpointTask || ep == EndpointQueuePositions
	}
	return e == ep
}

// Fault is a scripted transport failure for the next matching requests.
// The fields combine: Delay holds the answer back first; then Reset drops
// the connection without an answer, Status answers instead of the server
// (the request has no effect), and Truncate cuts the server's answer (the
// request has its effect: a queue POST still creates its task).
type Fault struct {
	// Endpoint selects the requests; EndpointAny ("") matches every one.
	Endpoint Endpoint
	// Times is how many matching requests get the fault (0 means 1).
	Times int
	// Status, when not 0, is answered instead of the server's answer, with
	// Body. 429 is the server's throttle answer.
	Status int
	// RetryAfter is the wait a 429 or 503 announces (Retry-After, whole
	// seconds rounded up; with 429 also the server's "Expected available
	// in N seconds" text). For 429 the default is 1 s.
	RetryAfter time.Duration
	// Body is the body sent with Status. Default a realistic one: the
	// throttle JSON for 429, the server's 404 answers for 404 ("Page not
	// found" for a task, an HTML page for a result file), an HTML error
	// page otherwise (200 included: HTML where JSON was expected, as the
	// legacy server sent).
	Body string
	// Delay holds the answer back this long (a client that gives up first
	// gets nothing).
	Delay time.Duration
	// Truncate breaks the body off half way: alone, the half is sent as
	// if it were the whole answer (malformed JSON, a result file cut
	// inside a row); with Reset, the whole length is announced, half is
	// sent and the connection is dropped.
	Truncate bool
	// Reset drops the connection without an answer (with Truncate: after
	// half the body).
	Reset bool
}

// Inject scripts faults. Faults apply in the order injected; each request
// gets at most one.
func (s *Server) Inject(faults ...Fault) {
	for _, f := range faults {
		if f.Status == http.StatusTooManyRequests && f.RetryAfter <= 0 {
			f.RetryAfter = time.Second
		}
		s.faults.Add(simfault.Fault{Endpoint: string(f.Endpoint), Times: f.Times, Status: f.Status, RetryAfter: f.RetryAfter,
			Body: f.Body, Delay: f.Delay, Truncate: f.Truncate, Reset: f.Reset})
	}
}

// ClearFaults removes the faults not used yet.
func (s *Server) ClearFaults() { s.faults.Clear() }

// takeFault returns the fault for this request, if any, using it up.
func (s *Server) takeFault(ep Endpoint, method string) (simfault.Fault, bool) {
	return s.faults.Take(func(e string) bool { return Endpoint(e).matches(ep, method) })
}

// faultBody is the realistic body of a scripted status answer.
func (s *Server) faultBody(w http.ResponseWriter, r *http.Request, ep Endpoint, f simfault.Fault) string {
	switch f.Status {
	case http.StatusTooManyRequests:
		s.mu.Lock()
		s.stats.Throttled++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(detail(throttleText(int(math.Ceil(f.RetryAfter.Seconds())))))
		return string(b)
	case http.StatusNotFound:
		if ep != EndpointResult {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			return "Page not found"
		}
		return notFoundPage
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if f.Status == http.StatusOK {
		return "<!DOCTYPE html><html><head><title>ATLAS Forced Photometry</title></head><body><p>Task list</p></body></html>\n"
	}
	return fmt.Sprintf("<!DOCTYPE html><html><body><h1>%d %s</h1><p>The server is having trouble (simulated).</p></body></html>\n", f.Status, http.StatusText(f.Status))
}

// ThrottleNext makes the next write (queue POST or DELETE) get a 429
// asking to wait retryAfter (whole seconds, at least 1), with the server's
// text: the hook servicetest's Instance.Throttle takes.
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	s.Inject(Fault{Endpoint: EndpointWrite, Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}
