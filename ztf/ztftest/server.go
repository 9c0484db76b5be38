// Package ztftest simulates the two ZTF services of package ztf, like
// net/http/httptest, for tests of the library and of TOMs built on it:
//
//   - IRSA's ZTF light-curve API (spec A of shared/services/ztf.md),
//     mounted under /irsa: the real parameter grammar (POS=CIRCLE ra dec
//     radius or CIRCLE, ID, BANDNAME, BAND, MAG, NOBS_MIN, TIME,
//     BAD_CATFLAGS_MASK, COLLECTION, FORMAT csv / tsv / ipac_table /
//     votable), deterministic light curves for any cone (a star at the
//     cone's centre with one light curve per field and filter), empty
//     answers south of Dec −31° (outside ZTF's sky), and error answers for
//     bad parameters (HTTP 200 with a message and no table by default);
//   - the ZTF Forced Photometry Service (spec B), mounted under /zfps: the
//     site-wide HTTP Basic auth and the account's email/userpass checked on
//     every call, single and batch submissions, the job-list pages with
//     their 11 columns filling in as jobs go queued → running → done on a
//     clock (durations configurable, milliseconds in tests), "Zero records
//     returned" for an account with no jobs, 30-day expiry, and result
//     files in the documented layout (comment header, column line,
//     deterministic rows with low-S/N, negative, null, procstatus 56/57/61
//     and cloudy epochs, END trailer).
//
// Transport faults are scripted with Inject and ClearFaults, the same Fault
// as every simulator of the library has (any HTTP status and body,
// Retry-After, slow answers, truncated bodies and dropped connections);
// ThrottleNext and FailNextJob script the services' own answers. Counters (Requests, Submissions) let tests
// assert, for example, that exactly one job was submitted.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package ztftest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/internal/simfault"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
)

// Base paths of the two simulated sites on the server.
const (
	LightCurvePrefix       = "/irsa"
	ForcedPhotometryPrefix = "/zfps"
)

// The account every Server accepts unless Options.Accounts says otherwise.
const (
	DefaultEmail    = "astronomer@example.org"
	DefaultUserpass = "k3ep-it-s3cret"
)

// Endpoint names a simulated endpoint, for fault scripting and counters.
type Endpoint string

// Endpoints.
const (
	// EndpointAny matches every request.
	EndpointAny Endpoint = ""
	// EndpointLightCurves is IRSA's nph_light_curves.
	EndpointLightCurves Endpoint = "lightcurves"
	// EndpointSubmit is requestForcedPhotometry.cgi and batchfp.py/submit.
	EndpointSubmit Endpoint = "submit"
	// EndpointStatus is getForcedPhotometryRequests.cgi and
	// getBatchForcedPhotometryRequests.cgi.
	EndpointStatus Endpoint = "status"
	// EndpointDownload is the result files under /ztf/ops/.
	EndpointDownload Endpoint = "download"
)

// Fault is a scripted transport failure for the next matching requests,
// the same as every simulator of the library has. The fields combine:
// Delay holds the answer back first; then Reset drops the connection
// without an answer, Status answers instead of the service, and Truncate
// cuts the service's answer. A Fault with none of these set lets one
// request through untouched (to fault the one after it).
type Fault struct {
	// Endpoint selects the requests; EndpointAny ("") matches every one.
	Endpoint Endpoint
	// Times is how many matching requests get the fault (0 means 1).
	Times int
	// Status, when not 0, is answered instead of the normal answer, with
	// Body.
	Status int
	// RetryAfter is the wait a 429 or 503 announces (Retry-After, whole
	// seconds rounded up).
	RetryAfter time.Duration
	// Body is the body sent with Status (default: the status text); its
	// Content-Type follows its first character (HTML, JSON or plain text).
	Body string
	// Delay holds the answer back this long (or until the client gives
	// up).
	Delay time.Duration
	// Truncate breaks the body off half way: alone, the half is sent as
	// if it were the whole answer (a file cut short on the server); with
	// Reset, the whole length is announced, half is sent and the
	// connection is dropped.
	Truncate bool
	// Reset drops the connection without an answer (with Truncate: after
	// half the body).
	Reset bool
}

// Options configure a Server; nil means defaults.
type Options struct {
	// Epochs is the number of epochs of the main light curves of a star
	// (per filter, g and r; i and the overlapping field get a third).
	// Default 30.
	Epochs int
	// Collections are the data releases served; the last is the default.
	// Default ztf_dr22, ztf_dr23.
	Collections []string
	// HasData reports whether the sky has a star at (ra, dec). Default:
	// Dec ≥ −31° (ZTF's sky).
	HasData func(ra, dec float64) bool
	// InvalidStatus is the HTTP status of IRSA's answers to bad parameters
	// (the real one is not documented: spec A.4). Default 200, a text
	// message and no table.
	InvalidStatus int

	// Accounts maps ZFPS account emails to their userpass. Default:
	// DefaultEmail → DefaultUserpass.
	Accounts map[string]string
	// HTTPUser and HTTPPassword are the ZFPS site-wide Basic credentials.
	// Defaults ztf.DefaultHTTPUser, ztf.DefaultHTTPPassword.
	HTTPUser, HTTPPassword string
	// QueueTime is how long a job waits before it starts, RunTime how long
	// it runs. The real service takes minutes to hours; defaults 10 ms and
	// 20 ms.
	QueueTime, RunTime time.Duration
	// StatusLag delays a job's appearance in the job list (the real
	// single-job page was refreshed hourly). Default 0.
	StatusLag time.Duration
	// Retention is how long jobs and files are kept. Default 30 days.
	Retention time.Duration
	// MaxEpochs caps the rows of a result file. Default 120.
	MaxEpochs int
	// LastJD is the latest epoch the simulated survey has. Default
	// 2461400.5 (2026-11-25).
	LastJD float64
	// MaxPending is the number of unfinished single jobs an account may
	// have. Default 100.
	MaxPending int
	// Now is the simulator's clock. Default time.Now.
	Now func() time.Time
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the root of the test server, e.g. http://127.0.0.1:1234.
	URL string
	// LightCurveURL is the base URL of the simulated IRSA (URL + /irsa),
	// for ztf.New and ztf.NewService.
	LightCurveURL string
	// ForcedPhotometryURL is the base URL of the simulated ZFPS (URL +
	// /zfps), for ztf.NewForcedPhotometryClient and
	// ztf.NewForcedPhotometryService.
	ForcedPhotometryURL string

	opts Options
	srv  *httptest.Server

	mu        sync.Mutex
	faults    simfault.Queue
	echoes    simfault.Countdown
	requests  map[Endpoint]int
	submitted map[string]int
	nextExit  []int
	jobs      []*job
	nextReq   int64
	nextBatch int64
	stars     map[int64]star
}

// NewServer starts a simulator and stops it when the test ends.
func NewServer(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s := Start(opts)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a simulator outside of a test (an example, a demo
// program); call Close when done.
func Start(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Epochs <= 0 {
		o.Epochs = 30
	}
	if len(o.Collections) == 0 {
		o.Collections = []string{"ztf_dr22", "ztf_dr23"}
	}
	if o.HasData == nil {
		o.HasData = func(_, dec float64) bool { return dec >= -31 }
	}
	if o.InvalidStatus == 0 {
		o.InvalidStatus = http.StatusOK
	}
	if len(o.Accounts) == 0 {
		o.Accounts = map[string]string{DefaultEmail: DefaultUserpass}
	}
	if o.HTTPUser == "" {
		o.HTTPUser = ztf.DefaultHTTPUser
	}
	if o.HTTPPassword == "" {
		o.HTTPPassword = ztf.DefaultHTTPPassword
	}
	if o.QueueTime == 0 {
		o.QueueTime = 10 * time.Millisecond
	}
	if o.RunTime == 0 {
		o.RunTime = 20 * time.Millisecond
	}
	if o.Retention == 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.MaxEpochs <= 0 {
		o.MaxEpochs = 120
	}
	if o.LastJD == 0 {
		o.LastJD = 2461400.5
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{
		opts:     o,
		requests: map[Endpoint]int{}, submitted: map[string]int{},
		nextReq: 69600, nextBatch: 2064100, stars: map[int64]star{},
	}
	mux := http.NewServeMux()
	mux.Handle(LightCurvePrefix+ztf.LightCurvePath, s.wrap(EndpointLightCurves, http.HandlerFunc(s.lightCurves)))
	mux.Handle(ForcedPhotometryPrefix+ztf.SubmitPath, s.wrap(EndpointSubmit, s.basicAuth(http.HandlerFunc(s.submitSingle))))
	mux.Handle(ForcedPhotometryPrefix+batchSubmitPath, s.wrap(EndpointSubmit, s.basicAuth(http.HandlerFunc(s.submitBatch))))
	mux.Handle(ForcedPhotometryPrefix+ztf.StatusPath, s.wrap(EndpointStatus, s.basicAuth(http.HandlerFunc(s.status))))
	mux.Handle(ForcedPhotometryPrefix+batchStatusPath, s.wrap(EndpointStatus, s.basicAuth(http.HandlerFunc(s.status))))
	mux.Handle(ForcedPhotometryPrefix+"/ztf/ops/", s.wrap(EndpointDownload, s.basicAuth(http.HandlerFunc(s.download))))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.LightCurveURL = s.URL + LightCurvePrefix
	s.ForcedPhotometryURL = s.URL + ForcedPhotometryPrefix
	return s
}

// Close shuts the server down (NewServer registers it with tb.Cleanup).
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the server (pass it as
// Options.HTTPClient).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Credentials returns ZFPS credentials of the default account (the first
// account in Options.Accounts when it was set) and the site's Basic pair.
func (s *Server) Credentials() ztf.Credentials {
	email, pass := DefaultEmail, DefaultUserpass
	if _, ok := s.opts.Accounts[DefaultEmail]; !ok {
		for e, p := range s.opts.Accounts {
			email, pass = e, p
			break
		}
	}
	return ztf.Credentials{
		Email: singletarget.Secret(email), Password: singletarget.Secret(pass),
		HTTPUser: singletarget.Secret(s.opts.HTTPUser), HTTPPassword: singletarget.Secret(s.opts.HTTPPassword),
	}
}

// Inject scripts faults. Faults apply in the order injected; each request
// gets at most one.
func (s *Server) Inject(faults ...Fault) {
	for _, f := range faults {
		s.faults.Add(simfault.Fault{Endpoint: string(f.Endpoint), Times: f.Times, Status: f.Status, RetryAfter: f.RetryAfter,
			Body: f.Body, Delay: f.Delay, Truncate: f.Truncate, Reset: f.Reset})
	}
}

// ClearFaults removes the faults not used yet.
func (s *Server) ClearFaults() { s.faults.Clear() }

// ThrottleNext makes the next request to any endpoint answer 429 Too Many
// Requests with a Retry-After of retryAfter: the hook servicetest's
// Instance.Throttle takes.
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	s.Inject(Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Body: "Too many requests: slow down."})
}

// FailNextJob makes the next submitted job end with exitCode and, unless
// the code is below 63 (a warning), no result file: 63 no epochs, 64
// catastrophic error, 65 end before the survey start, 255 database error.
func (s *Server) FailNextJob(exitCode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextExit = append(s.nextExit, exitCode)
}

// Requests returns the number of requests ep received (EndpointAny: all),
// faulted ones included.
func (s *Server) Requests(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep == EndpointAny {
		n := 0
		for _, c := range s.requests {
			n += c
		}
		return n
	}
	return s.requests[ep]
}

// Submissions returns the number of jobs the account email has queued
// (single positions and batch positions).
func (s *Server) Submissions(email string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submitted[email]
}

// wrap counts the requests to ep and plays the scripted faults around h.
func (s *Server) wrap(ep Endpoint, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[ep]++
		s.mu.Unlock()
		if s.echoes.Take() {
			echoCredentials(w, r)
			return
		}
		f, ok := s.faults.Take(func(e string) bool { return e == "" || Endpoint(e) == ep })
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		simfault.Serve(w, r, f, h, func(w http.ResponseWriter, status int) string { return http.StatusText(status) })
	})
}

// basicAuth checks the ZFPS site-wide Basic credentials (401 otherwise).
func (s *Server) basicAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.opts.HTTPUser || p != s.opts.HTTPPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="ZTF Forced Photometry Service"`)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, "<html><head><title>401 Unauthorized</title></head><body><h1>Unauthorized</h1>"+
				"<p>This server could not verify that you are authorized to access the document requested.</p></body></html>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// now is the simulator's clock.
func (s *Server) now() time.Time { return s.opts.Now() }
