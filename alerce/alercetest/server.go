// Package alercetest simulates ALeRCE's three public APIs for tests of
// package alerce and of TOMs built on it, like net/http/httptest
// (shared/services/alerce.md §10):
//
//   - the v1 ZTF API under ZTFPrefix: the object search GET /objects/
//     (ra, dec, radius in arcsec with default 30, oid, page, page_size,
//     count; items not sorted by distance; a cone whose ra or dec is
//     exactly 0 is ignored, as the real server's truth test does), GET
//     /objects/{oid}, and GET /objects/{oid}/{lightcurve, detections,
//     non_detections} with 404 for unknown objects, null keys left out
//     (skip_none), a duplicated exposure, a negative (isdiffpos −1)
//     detection and the sigmapsf_corr = 100 sentinel;
//   - the v2 lightcurve API under LightCurvePrefix: GET
//     /forced-photometry/{oid}?survey_id= (ztf, atlas, all; 400
//     otherwise; [] for unknown objects) with extra_fields, S/N from 0.2
//     to 50 of both signs, procstatus "0", "56" and "57" and an e_mag =
//     100 sentinel;
//   - the multisurvey API under MultisurveyPrefix:
//     /lightcurve_api/conesearch/objects_by_coordinates (radius in
//     degrees) and /lightcurve_api/{detections, non_detections,
//     forced-photometry, lightcurve}?survey_id=lsst&oid= with band_map, nJy
//     fluxes, TAI times, no LSST non-detections, the single-oid LIMIT 10
//     bug of forced photometry, ZTF requests failing as they do on the real
//     server, and the 422/400/500 bodies of FastAPI.
//
// The sky is generated from the position: a cone search in ZTF's sky
// (Dec ≥ −31°) finds a ZTF transient at the centre and a neighbour 8″
// north; in Rubin's sky (Dec ≤ +33°) the multisurvey search also finds an
// LSST transient whose diaObjectId is above 2^53. ZTF20aaelulu is always
// there, answering the real light curve of
// shared/services/samples/alerce_ztf20aaelulu_lightcurve.json.
//
// Faults are scripted through Inject, the same Fault as every simulator of
// the library (HTTP statuses with realistic bodies, Retry-After, slow
// answers, bodies cut short or broken off half way, dropped connections);
// SetEmpty empties every light curve. A request path with a
// double slash (which the official Python client builds) is counted
// (DoubleSlashes) and redirected as Werkzeug does.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package alercetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/internal/simfault"
)

// Path prefixes of the three simulated APIs under Server.URL. The
// multisurvey API, a host of its own in reality, is mounted under a path
// so that a client that drops a base path is caught.
const (
	ZTFPrefix         = "/ztf/v1"
	LightCurvePrefix  = "/v2/lightcurve"
	MultisurveyPrefix = "/multisurvey"
)

// Endpoint names a group of routes, for faults and counters.
type Endpoint string

// Endpoints.
const (
	// EndpointAny matches every request.
	EndpointAny Endpoint = ""
	// EndpointObjects is the v1 object search and GET /objects/{oid}.
	EndpointObjects Endpoint = "objects"
	// EndpointLightCurve is the v1 /objects/{oid}/lightcurve,
	// /detections and /non_detections.
	EndpointLightCurve Endpoint = "lightcurve"
	// EndpointForcedPhotometry is the v2 forced-photometry route.
	EndpointForcedPhotometry Endpoint = "forced_photometry"
	// EndpointConeSearch is the multisurvey cone search.
	EndpointConeSearch Endpoint = "conesearch"
	// EndpointMultisurvey is the multisurvey light-curve routes.
	EndpointMultisurvey Endpoint = "multisurvey"
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
	// Body is the body sent with Status (default: a realistic one: the
	// API's JSON for 4xx and 500, the load balancer's HTML page for
	// 502–504).
	Body string
	// Delay holds the answer back this long (or until the client gives
	// up).
	Delay time.Duration
	// Truncate breaks the body off half way: alone, the half is sent as
	// if it were the whole answer (JSON cut short on the server); with
	// Reset, the whole length is announced, half is sent and the
	// connection is dropped.
	Truncate bool
	// Reset drops the connection without an answer (with Truncate: after
	// half the body).
	Reset bool
}

// Options configure a Server; nil means defaults.
type Options struct {
	// Epochs is the number of detections per band of a generated object.
	// Default 12.
	Epochs int
	// HasZTF and HasLSST report whether the survey has a transient at (ra,
	// dec). Defaults: Dec ≥ −31° (ZTF's sky), Dec ≤ +33° (Rubin's).
	HasZTF, HasLSST func(ra, dec float64) bool
	// FixZeroCoordinates makes the v1 object search honour a cone whose ra
	// or dec is exactly 0 (the real server ignores the cone then).
	FixZeroCoordinates bool
	// FixLimitBug makes single-oid multisurvey forced photometry return
	// every row (the real server returns at most 10, spec §5.3).
	FixLimitBug bool
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the root of the test server, e.g. http://127.0.0.1:1234.
	URL string

	opts Options
	srv  *httptest.Server

	faults simfault.Queue

	mu            sync.Mutex
	requests      map[Endpoint]int
	doubleSlashes int
	empty         bool
	added         int                // epochs added by AddEpochs
	objects       map[string]*object // by oid
}

// Start starts a simulator; the caller stops it with Close.
func Start(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Epochs <= 0 {
		o.Epochs = 12
	}
	if o.HasZTF == nil {
		o.HasZTF = func(_, dec float64) bool { return dec >= -31 }
	}
	if o.HasLSST == nil {
		o.HasLSST = func(_, dec float64) bool { return dec <= 33 }
	}
	s := &Server{opts: o, requests: map[Endpoint]int{}, objects: map[string]*object{}}
	s.addSample()
	mux := http.NewServeMux()
	route := func(pattern string, ep Endpoint, h http.HandlerFunc) { mux.Handle(pattern, s.wrap(ep, h)) }
	route("GET "+ZTFPrefix+"/objects/{$}", EndpointObjects, s.v1Objects)
	route("GET "+ZTFPrefix+"/objects/{oid}", EndpointObjects, s.v1Object)
	route("GET "+ZTFPrefix+"/objects/{oid}/{list}", EndpointLightCurve, s.v1LightCurve)
	route("GET "+LightCurvePrefix+"/forced-photometry/{oid}", EndpointForcedPhotometry, s.v2ForcedPhotometry)
	route("GET "+MultisurveyPrefix+"/lightcurve_api/conesearch/objects_by_coordinates", EndpointConeSearch, s.msConeSearch)
	route("GET "+MultisurveyPrefix+"/lightcurve_api/{route}", EndpointMultisurvey, s.msLightCurve)
	s.srv = httptest.NewServer(s.mergeSlashes(mux))
	s.URL = s.srv.URL
	return s
}

// NewServer starts a simulator and stops it when the test ends.
func NewServer(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s := Start(opts)
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down. It may be called more than once.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the server (pass it as
// alerce.Options.HTTPClient).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// URLs returns the base URLs of the three simulated APIs, for alerce.New
// and alerce.NewService.
func (s *Server) URLs() alerce.URLs {
	return alerce.URLs{ZTF: s.URL + ZTFPrefix, LightCurve: s.URL + LightCurvePrefix, Multisurvey: s.URL + MultisurveyPrefix}
}

// Inject scripts faults; they apply in order, each to the next Times
// matching requests.
func (s *Server) Inject(faults ...Fault) {
	for _, f := range faults {
		s.faults.Add(simfault.Fault{Endpoint: string(f.Endpoint), Times: f.Times, Status: f.Status, RetryAfter: f.RetryAfter,
			Body: f.Body, Delay: f.Delay, Truncate: f.Truncate, Reset: f.Reset})
	}
}

// ClearFaults drops the faults not used yet.
func (s *Server) ClearFaults() { s.faults.Clear() }

// ThrottleNext makes the next request to any endpoint answer 429 with a
// Retry-After of retryAfter (ALeRCE's code has no rate limit; a load
// balancer in front might).
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	s.Inject(Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// SetEmpty makes every light curve empty (objects are still found), or
// full again.
func (s *Server) SetEmpty(empty bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.empty = empty
}

// AddEpochs adds n new epochs per band, after the last, to the light
// curve of every generated object, as a night's new alerts would: ZTF
// detections with their forced photometry, LSST sources with their
// forced sources (those of weak visits only as forced sources). The rows
// served before stay as they were; the real sample does not change.
func (s *Server) AddEpochs(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.added += max(n, 0)
}

func (s *Server) addedEpochs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.added
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

// DoubleSlashes returns the number of requests whose path held "//".
func (s *Server) DoubleSlashes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doubleSlashes
}

// mergeSlashes redirects a path with "//" to the merged path with a 308,
// as Werkzeug's merge_slashes does for the v1 API.
func (s *Server) mergeSlashes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "//") {
			h.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.doubleSlashes++
		s.mu.Unlock()
		p := r.URL.Path
		for strings.Contains(p, "//") {
			p = strings.ReplaceAll(p, "//", "/")
		}
		if r.URL.RawQuery != "" {
			p += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, p, http.StatusPermanentRedirect)
	})
}

// wrap counts the requests to ep and plays their scripted faults around h.
func (s *Server) wrap(ep Endpoint, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[ep]++
		s.mu.Unlock()
		f, ok := s.faults.Take(func(e string) bool { return e == "" || Endpoint(e) == ep })
		if !ok {
			h(w, r)
			return
		}
		simfault.Serve(w, r, f, h, func(w http.ResponseWriter, status int) string {
			ct, body := faultBody(ep, status)
			w.Header().Set("Content-Type", ct)
			return body
		})
	})
}

// faultBody is a realistic body for a faulted status: the AWS load
// balancer's HTML page for 502–504, else the API's JSON (Flask-RESTX's
// {"message"} for v1, FastAPI's {"detail"} for the others).
func faultBody(ep Endpoint, status int) (contentType, body string) {
	if status >= 502 && status <= 504 {
		text := fmt.Sprintf("%d %s", status, http.StatusText(status))
		return "text/html", "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n"
	}
	msg := http.StatusText(status)
	if status == http.StatusInternalServerError && ep != EndpointObjects && ep != EndpointLightCurve {
		msg = "An error occurred"
	}
	if ep == EndpointObjects || ep == EndpointLightCurve {
		return "application/json", fmt.Sprintf("{%q: %q}\n", "message", msg)
	}
	return "application/json", fmt.Sprintf(`{"detail":%q}`, msg)
}
