package atlastest

import (
	"net/http"
	"time"
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
	// EndpointWrite matches the throttled writes: queue POSTs and DELETEs.
	EndpointWrite Endpoint = "write"
)

func (e Endpoint) matches(ep Endpoint, method string) bool {
	switch e {
	case EndpointAny:
		return true
	case EndpointWrite:
		return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions && ep != EndpointToken
	}
	return e == ep
}

// FaultKind says what a scripted fault does.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus answers Status (default 503) with an HTML page; the
	// request has no effect.
	FaultStatus FaultKind = iota
	// FaultSlow waits Delay, then answers normally (a client that gives up
	// first gets nothing).
	FaultSlow
	// FaultDrop closes the connection without an answer; no effect.
	FaultDrop
	// FaultThrottle answers 429 with the server's text and Retry-After for
	// RetryAfter (rounded up to whole seconds, at least 1); no effect.
	FaultThrottle
	// FaultMalformedJSON does the work, then sends only the first half of
	// the JSON answer (a queue POST still creates its task, and the
	// Location header is still sent).
	FaultMalformedJSON
	// FaultHTML does the work, then answers an HTML page with the same
	// status, as the legacy server did for a client without
	// "Accept: application/json".
	FaultHTML
	// FaultTruncate sends a result file cut in the middle of a row, with
	// correct HTTP framing.
	FaultTruncate
	// FaultAbort promises the whole result file (Content-Length), sends
	// half and drops the connection.
	FaultAbort
	// FaultGone answers 404 as for a purged task or result file.
	FaultGone
)

// Fault is a scripted failure for the next matching requests.
type Fault struct {
	// Kind is what happens.
	Kind FaultKind
	// Endpoint selects the requests; EndpointAny matches all.
	Endpoint Endpoint
	// Times is how many matching requests get the fault. Default 1.
	Times int
	// Status is FaultStatus's HTTP status. Default 503.
	Status int
	// Delay is FaultSlow's wait.
	Delay time.Duration
	// RetryAfter is FaultThrottle's wait. Default 1 s.
	RetryAfter time.Duration
}

// Inject scripts a fault. Faults apply in the order injected; each
// request gets at most one.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Kind == FaultStatus && f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	if f.Kind == FaultThrottle && f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes the faults not used yet.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault for this request, if any, using it up.
func (s *Server) takeFault(ep Endpoint, method string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.Endpoint.matches(ep, method) {
			continue
		}
		if !appliesTo(f.Kind, ep) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		cp := *f
		return &cp
	}
	return nil
}

// appliesTo keeps result-file faults on result files.
func appliesTo(k FaultKind, ep Endpoint) bool {
	switch k {
	case FaultTruncate, FaultAbort:
		return ep == EndpointResult
	}
	return true
}

// ThrottleNext makes the next write (queue POST or DELETE) get a 429
// asking to wait retryAfter (whole seconds, at least 1), with the server's
// text: the hook servicetest's Instance.Throttle takes.
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	s.Inject(Fault{Kind: FaultThrottle, Endpoint: EndpointWrite, RetryAfter: retryAfter})
}

// FailNext makes the next n requests to endpoint answer status.
func (s *Server) FailNext(endpoint Endpoint, n, status int) {
	s.Inject(Fault{Kind: FaultStatus, Endpoint: endpoint, Times: n, Status: status})
}

// SlowNext delays the next n requests to endpoint by d.
func (s *Server) SlowNext(endpoint Endpoint, n int, d time.Duration) {
	s.Inject(Fault{Kind: FaultSlow, Endpoint: endpoint, Times: n, Delay: d})
}
