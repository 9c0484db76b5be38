// Package sdsstest is a small simulator of the two SDSS endpoints the sdss
// service uses — SkyServer's SQL search and the SAS file tree — for tests
// and offline runs, in the style of net/http/httptest.
//
// The search understands the service's query (the position and radius
// given to dbo.fGetNearbySpecObjEq, an optional class filter, TOP 1 …
// ORDER BY distance) over a small catalogue, and answers SkyServer's JSON.
// The SAS serves each catalogued spectrum's spec-lite file at its real
// path. Faults can be scripted: throttling (429 with Retry-After), any
// status or body (SkyServer's HTML error page), a truncated download.
// Both endpoints are mounted under a non-empty base path.
package sdsstest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/examples/customservice/sdss"
)

// specLite is a spec-lite file written by astropy (testdata/gen.py): a
// constructed galaxy spectrum, 3850 pixels, DATE-OBS 2010-12-25T05:43:21.
//
//go:embed testdata/spec-4242-55555-0123.fits
var specLite []byte

// SpecLite returns a copy of the bundled spec-lite file
// (spec-4242-55555-0123.fits).
func SpecLite() []byte { return bytes.Clone(specLite) }

// Object is one catalogued spectrum.
type Object struct {
	// SpecObj is the row the search returns (Distance is computed).
	sdss.SpecObj
	// File is the spec-lite file; nil means the bundled one.
	File []byte
}

// DefaultObjects is the default catalogue: the bundled spectrum, a galaxy
// at (210.910674, 54.311686), and a star 10 arcsec away.
func DefaultObjects() []Object {
	return []Object{
		{SpecObj: sdss.SpecObj{SpecObjID: "4776035489613422592", Plate: 4242, MJD: 55555, FiberID: 123, Run2D: "v5_13_2",
			Survey: "boss", RA: 210.910674, Dec: 54.311686, Z: 0.1, Class: "GALAXY"}},
		{SpecObj: sdss.SpecObj{SpecObjID: "1152921504606846976", Plate: 1324, MJD: 52797, FiberID: 7, Run2D: "26",
			Survey: "sdss", RA: 210.910674, Dec: 54.311686 + 10.0/3600, Z: 0.0001, Class: "STAR"}},
	}
}

// Options configure a Server. A nil *Options means the defaults.
type Options struct {
	// Objects is the catalogue; default DefaultObjects().
	Objects []Object
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the SkyServer base URL to give the service (as
	// https://skyserver.sdss.org/dr17).
	URL string
	// SASURL is the SAS base URL (as https://data.sdss.org/sas/dr17).
	SASURL string

	ts      *httptest.Server
	objects []Object

	mu       sync.Mutex
	faults   []*Fault
	requests []string
}

// Endpoint names the requests a Fault applies to.
type Endpoint string

// Endpoints.
const (
	// EndpointAny matches every request.
	EndpointAny Endpoint = ""
	// EndpointSearch is SkyServer's SQL search.
	EndpointSearch Endpoint = "search"
	// EndpointFile is a spec-lite file on the SAS.
	EndpointFile Endpoint = "file"
)

// Fault is a scripted transport failure for the next matching requests.
// The fields combine: Delay holds the answer back first; then Reset drops
// the connection without an answer, Status answers instead of the
// simulator, and Truncate cuts the simulator's answer.
type Fault struct {
	// Endpoint selects the requests; EndpointAny ("") matches every one.
	Endpoint Endpoint
	// Times is how many matching requests get the fault (0 means 1).
	Times int
	// Status, when not 0, is answered instead of the normal answer, with
	// Body (for example 200 with an HTML page, as SkyServer answers some
	// failures).
	Status int
	// RetryAfter is the wait a 429 or 503 announces (Retry-After, whole
	// seconds rounded up).
	RetryAfter time.Duration
	// Body is the body sent with Status; default "Too many requests, slow
	// down" for 429, "down for maintenance" for 503, the status text
	// otherwise. Its Content-Type follows its first character (HTML or
	// plain text).
	Body string
	// Delay holds the answer back this long (or until the client gives
	// up).
	Delay time.Duration
	// Truncate breaks the body off half way: the whole length is
	// announced, half is sent and the connection ends (the client sees an
	// unexpected EOF).
	Truncate bool
	// Reset drops the connection without an answer.
	Reset bool
}

// NewServer starts a simulator that is closed when the test ends.
func NewServer(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s := Start(opts)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a simulator outside tests (a command's offline mode); call
// Close when done.
func Start(opts *Options) *Server {
	s := &Server{objects: DefaultObjects()}
	if opts != nil && opts.Objects != nil {
		s.objects = opts.Objects
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/dr17/SkyServerWS/SearchTools/SqlSearch", s.search)
	mux.HandleFunc("GET /sim/sas/dr17/{tree}/spectro/redux/{run2d}/spectra/lite/{plate}/{file}", s.file)
	s.ts = httptest.NewServer(s.faulty(mux))
	s.URL = s.ts.URL + "/sim/dr17"
	s.SASURL = s.ts.URL + "/sim/sas/dr17"
	return s
}

// Client returns an HTTP client for the simulator.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close stops the simulator.
func (s *Server) Close() { s.ts.Close() }

// Inject scripts faults. Faults apply in the order injected; each request
// gets at most one.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		if f.Times <= 0 {
			f.Times = 1
		}
		s.faults = append(s.faults, &f)
	}
}

// ClearFaults removes the faults not used yet.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// ThrottleNext makes the next request answer 429 Too Many Requests with
// Retry-After: the hook servicetest's Instance.Throttle takes.
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	s.Inject(Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// Requests returns the paths (with queries) requested so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// take returns the first fault for endpoint ep, using it up.
func (s *Server) take(ep Endpoint) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Endpoint != EndpointAny && f.Endpoint != ep {
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

// faulty records requests and plays scripted faults.
func (s *Server) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RequestURI())
		s.mu.Unlock()
		ep := EndpointFile
		if strings.Contains(r.URL.Path, "/SkyServerWS/") {
			ep = EndpointSearch
		}
		f := s.take(ep)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		switch {
		case f.Reset:
			hangUp(w)
		case f.Status != 0:
			body := f.Body
			if body == "" {
				switch f.Status {
				case http.StatusTooManyRequests:
					body = "Too many requests, slow down"
				case http.StatusServiceUnavailable:
					body = "down for maintenance"
				default:
					body = http.StatusText(f.Status)
				}
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if strings.HasPrefix(strings.TrimSpace(body), "<") {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
			}
			if f.Truncate {
				w = &truncating{ResponseWriter: w, status: f.Status}
			} else {
				w.WriteHeader(f.Status)
			}
			fmt.Fprint(w, body)
		case f.Truncate:
			next.ServeHTTP(&truncating{ResponseWriter: w, status: http.StatusOK}, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// truncating writes half of the first Write's bytes, announcing the full
// length, then hangs up: the client sees an unexpected EOF. (The
// simulator's handlers write each answer in one Write.)
type truncating struct {
	http.ResponseWriter
	status int
	done   bool
}

func (t *truncating) Write(p []byte) (int, error) {
	if t.done {
		return len(p), nil
	}
	t.done = true
	t.Header().Set("Content-Length", strconv.Itoa(len(p)))
	t.ResponseWriter.WriteHeader(t.status)
	if _, err := t.ResponseWriter.Write(p[:len(p)/2]); err != nil {
		return 0, err
	}
	if fl, ok := t.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
	hangUp(t.ResponseWriter)
	return len(p), nil
}

func (t *truncating) WriteHeader(status int) {
	if status != http.StatusOK {
		t.status = status
	}
}

var (
	nearbyRE = regexp.MustCompile(`(?i)fGetNearbySpecObjEq\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)`)
	classRE  = regexp.MustCompile(`(?i)s\.class\s*=\s*'(\w+)'`)
	topRE    = regexp.MustCompile(`(?i)^\s*SELECT\s+TOP\s+(\d+)\s`)
)

// search answers SkyServer's SQL search for the service's query shape.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("format") != "json" {
		http.Error(w, "format must be json in this simulator", http.StatusBadRequest)
		return
	}
	cmd := q.Get("cmd")
	m := nearbyRE.FindStringSubmatch(cmd)
	top := topRE.FindStringSubmatch(cmd)
	if m == nil || top == nil {
		// SkyServer answers SQL it cannot run with an error page.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><body><h1>SQL Search</h1><p>Error: the simulator understands only the sdss service's query, not %q</p></body></html>", cmd)
		return
	}
	ra, _ := strconv.ParseFloat(m[1], 64)
	dec, _ := strconv.ParseFloat(m[2], 64)
	radius, _ := strconv.ParseFloat(m[3], 64) // arcmin
	n, _ := strconv.Atoi(top[1])
	class := ""
	if c := classRE.FindStringSubmatch(cmd); c != nil {
		class = strings.ToUpper(c[1])
	}
	type hit struct {
		o Object
		d float64
	}
	var hits []hit
	for _, o := range s.objects {
		d := separationArcmin(ra, dec, o.RA, o.Dec)
		if d <= radius && (class == "" || strings.EqualFold(o.Class, class)) {
			hits = append(hits, hit{o, d})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].d < hits[j].d })
	if len(hits) > n {
		hits = hits[:n]
	}
	rows := make([]map[string]any, len(hits))
	for i, h := range hits {
		rows[i] = map[string]any{
			"specObjID": json.Number(h.o.SpecObjID), // a bare 64-bit integer, as SkyServer writes it
			"plate":     h.o.Plate, "mjd": h.o.MJD, "fiberID": h.o.FiberID,
			"run2d": h.o.Run2D, "survey": h.o.Survey, "ra": h.o.RA, "dec": h.o.Dec,
			"z": h.o.Z, "class": h.o.Class, "distance": h.d,
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode([]map[string]any{{"TableName": "Table1", "Rows": rows}})
}

// file serves the spec-lite files at their SAS paths.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	for _, o := range s.objects {
		tree := "eboss"
		if o.Run2D == "26" || o.Run2D == "103" || o.Run2D == "104" {
			tree = "sdss"
		}
		if r.PathValue("tree") == tree && r.PathValue("run2d") == o.Run2D &&
			r.PathValue("plate") == fmt.Sprintf("%04d", o.Plate) && r.PathValue("file") == o.FileName() {
			b := o.File
			if b == nil {
				b = specLite
			}
			w.Header().Set("Content-Type", "application/fits")
			w.Write(b)
			return
		}
	}
	http.NotFound(w, r)
}

// separationArcmin is the angle between two positions (haversine).
func separationArcmin(ra1, dec1, ra2, dec2 float64) float64 {
	rad := math.Pi / 180
	dra, ddec := (ra2-ra1)*rad, (dec2-dec1)*rad
	a := math.Sin(ddec/2)*math.Sin(ddec/2) + math.Cos(dec1*rad)*math.Cos(dec2*rad)*math.Sin(dra/2)*math.Sin(dra/2)
	return 2 * math.Asin(math.Min(1, math.Sqrt(a))) / rad * 60
}
