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
	faults   []fault
	truncate int
	requests []string
}

type fault struct {
	status int
	body   string
	header http.Header
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

// ThrottleNext makes the next request answer 429 Too Many Requests with
// Retry-After (whole seconds).
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	h := http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(retryAfter.Seconds())))}}
	s.push(fault{status: http.StatusTooManyRequests, body: "Too many requests, slow down", header: h})
}

// FailNext makes the next request answer status with body (for example
// 200 with an HTML page, as SkyServer does for some failures).
func (s *Server) FailNext(status int, body string) {
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		h.Set("Content-Type", "text/html; charset=utf-8")
	}
	s.push(fault{status: status, body: body, header: h})
}

// UnavailableNext makes the next request answer 503 Service Unavailable
// with Retry-After (whole seconds), as during maintenance.
func (s *Server) UnavailableNext(retryAfter time.Duration) {
	h := http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(retryAfter.Seconds())))}}
	s.push(fault{status: http.StatusServiceUnavailable, body: "down for maintenance", header: h})
}

// TruncateNext makes the next file download (not search) stop halfway
// through.
func (s *Server) TruncateNext() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate++
}

// Requests returns the paths (with queries) requested so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) push(f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// faulty records requests and plays scripted faults.
func (s *Server) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RequestURI())
		var f *fault
		if len(s.faults) > 0 {
			f = &s.faults[0]
			s.faults = s.faults[1:]
		}
		s.mu.Unlock()
		if f == nil {
			next.ServeHTTP(w, r)
		} else {
			for k, v := range f.header {
				w.Header()[k] = v
			}
			w.WriteHeader(f.status)
			fmt.Fprint(w, f.body)
		}
	})
}

// truncating writes half of a body that announces its full length, then
// stops: the client sees an unexpected EOF.
type truncating struct {
	http.ResponseWriter
	done bool
}

func (t *truncating) Write(p []byte) (int, error) {
	if t.done {
		return len(p), nil
	}
	t.done = true
	t.Header().Set("Content-Length", strconv.Itoa(len(p)))
	t.ResponseWriter.WriteHeader(http.StatusOK)
	if _, err := t.ResponseWriter.Write(p[:len(p)/2]); err != nil {
		return 0, err
	}
	if hj, ok := t.ResponseWriter.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
	return len(p), nil
}

func (t *truncating) WriteHeader(int) {}

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
			s.mu.Lock()
			cut := s.truncate > 0
			if cut {
				s.truncate--
			}
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/fits")
			if cut {
				w = &truncating{ResponseWriter: w}
			}
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
