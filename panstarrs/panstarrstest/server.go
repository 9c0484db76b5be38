// Package panstarrstest is a simulator of the MAST PanSTARRS catalogs API
// (shared/services/panstarrs.md §7), like net/http/httptest: a real HTTP
// server on the loopback interface, for tests of the panstarrs package and
// of TOMs built on it. It serves
//
//   - GET and POST (form fields or a JSON body) on
//     {base}/{dr1|dr2}/{table}.{csv|json}, or {base}/{release}/{table}
//     with format= or an Accept header (JSON by default); dr1 has only
//     mean and stack, and other pairs get a 404;
//   - {base}/{release}/{table}/metadata[.json]: the column list;
//   - cone searches (ra, dec, radius in degrees, at most Options.MaxRadius,
//     else 422) that add a distance column (degrees) to the default
//     columns, and searches by equality (objID=...), which the detection
//     table needs unless a cone is given;
//   - columns in both encodings (columns=[a,b] and repeated columns=a),
//     and as a JSON array; an unknown column is a 422;
//   - constraints column=value (repeated or a JSON array: any of) and
//     column.min/.max/.gt/.gte/.lt/.lte; sort_by=column[.asc|.desc];
//     pagesize and page (1-based);
//   - CSV (a header line, then rows; −999 for missing numbers; an empty
//     result is a 200 with an empty body) and JSON ({"info": [...],
//     "data": [...]}, rows as objects keyed by column and 64-bit ids as
//     strings, as the 2026 service answers by default; flatten_response=
//     true gives rows as arrays, raw=true ids as numbers; "None" strings
//     where the service sends them);
//   - malformed parameters → 422 with a FastAPI-style {"detail": [...]}
//     body;
//   - scripted transport faults (Inject, ClearFaults; the same Fault as
//     every simulator of the library): HTTP errors (5xx), throttling (429
//     with Retry-After; whether MAST throttles is unconfirmed), slow
//     answers, truncated bodies and dropped connections.
//
// The rows come from a deterministic generated catalog (see Sky): any cone
// north of Dec −30° finds objects, the same ones every time.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package panstarrstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/internal/simfault"
)

// DefaultBasePath is where the simulator mounts the API, as MAST does.
const DefaultBasePath = "/api/v0.1/panstarrs"

// Options configure a Server; nil means the defaults on each field.
type Options struct {
	// BasePath is the path the API is mounted under. Default
	// DefaultBasePath. It must not be empty or "/".
	BasePath string
	// Seed selects the generated sky. Default 1.
	Seed uint64
	// MaxRadius is the largest cone radius in degrees; larger ones get a
	// 422. Default 0.5.
	MaxRadius float64
	// DefaultPageSize is the number of rows returned when a request has
	// no pagesize (MAST's own default is unconfirmed). Default 50000.
	DefaultPageSize int
	// Latency delays every answer. Default 0.
	Latency time.Duration
}

// Endpoint names the requests a Fault applies to, as Server.Hits counts
// them: "<release>/<table>" for searches ("dr2/detection"),
// "<release>/<table>/metadata" for the metadata endpoint.
type Endpoint string

// EndpointAny matches every request.
const EndpointAny Endpoint = ""

// Fault is a scripted transport failure for the next matching requests,
// the same as every simulator of the library has. The fields combine:
// Delay holds the answer back first; then Reset drops the connection
// without an answer, Status answers instead of the data, and Truncate cuts
// the real answer.
type Fault struct {
	// Endpoint selects the requests; EndpointAny ("") matches every one.
	Endpoint Endpoint
	// Times is how many matching requests get the fault (0 means 1).
	Times int
	// Status, when not 0, is answered instead of the data (e.g. 503, or
	// 429 for throttling).
	Status int
	// RetryAfter is the wait a 429 or 503 announces (Retry-After, whole
	// seconds rounded up).
	RetryAfter time.Duration
	// Body is the body sent with Status; default a JSON {"detail": ...}
	// as MAST writes it.
	Body string
	// Delay holds the answer back (a slow server); a client that gives up
	// earlier ends the wait.
	Delay time.Duration
	// Truncate breaks the body off half way: alone, the half is sent as
	// if it were the whole answer; with Reset, the whole length is
	// announced, half is sent and the connection is dropped.
	Truncate bool
	// Reset drops the connection without an answer (with Truncate: after
	// half the body).
	Reset bool
}

// Request is a request the simulator received.
type Request struct {
	Method string
	// Endpoint is "dr2/mean", "dr2/detection/metadata", ... ("" for
	// paths outside the API).
	Endpoint string
	// Format is "csv" or "json" for searches.
	Format string
	// Params are the decoded parameters (query string, form fields or
	// JSON body; JSON arrays become repeated values).
	Params url.Values
	// Token is the mast_token cookie, if one was sent.
	Token string
	// Status is the HTTP status answered.
	Status int
}

// Server is a running simulator. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the base URL of the API, e.g.
	// "http://127.0.0.1:41234/api/v0.1/panstarrs".
	URL string

	srv  *httptest.Server
	opts Options
	sky  *Sky

	mu       sync.Mutex
	faults   simfault.Queue
	echoes   simfault.Countdown
	hits     map[string]int
	requests []Request
	empty    bool
}

// NewServer starts a simulator and registers its Close with tb.Cleanup.
// Options.BasePath must not be the root.
func NewServer(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a simulator outside a test (in an Example or a developer
// tool); the caller must Close it. It panics on an invalid Options, as
// httptest.NewServer panics when it cannot listen.
func Start(opts *Options) *Server {
	s, err := start(opts)
	if err != nil {
		panic(err)
	}
	return s
}

func start(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	o.BasePath = "/" + strings.Trim(o.BasePath, "/")
	if o.BasePath == "/" {
		return nil, errors.New("panstarrstest: Options.BasePath must not be the root: MAST mounts the API under a path")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MaxRadius <= 0 {
		o.MaxRadius = 0.5
	}
	if o.DefaultPageSize <= 0 {
		o.DefaultPageSize = 50000
	}
	s := &Server{opts: o, sky: NewSky(o.Seed), hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + o.BasePath
	return s, nil
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down; it may be called more than once.
func (s *Server) Close() { s.srv.Close() }

// Sky returns the generated catalog, to compute what a query must find.
func (s *Server) Sky() *Sky { return s.sky }

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

// ThrottleNext makes the next request answer 429 Too Many Requests with
// Retry-After: the hook servicetest's Instance.Throttle takes.
func (s *Server) ThrottleNext(retryAfter time.Duration) {
	s.Inject(Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// SetEmpty makes every search find nothing (true) or restores the sky.
func (s *Server) SetEmpty(empty bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.empty = empty
}

// Hits returns the number of requests to an endpoint: "<release>/<table>"
// for searches, "<release>/<table>/metadata" for the metadata endpoint.
func (s *Server) Hits(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[endpoint]
}

// TotalHits returns the number of requests received.
func (s *Server) TotalHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns the requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Params = cloneValues(r.Params)
		out[i] = r
	}
	return out
}

// Reset forgets the counters, the recorded requests and pending faults.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits = map[string]int{}
	s.requests = nil
	s.faults.Clear()
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Tables returns the tables the simulator serves for a release (nil for an
// unknown release).
func Tables(release string) []string {
	switch release {
	case "dr1":
		return []string{"mean", "stack"}
	case "dr2":
		return []string{"mean", "stack", "forced_mean", "detection"}
	}
	return nil
}

var (
	schemaOnce sync.Once
	schemas    map[string][]column
)

func schema(table string) []column {
	schemaOnce.Do(func() {
		schemas = map[string][]column{
			"mean": meanColumns(), "stack": stackColumns(), "forced_mean": forcedMeanColumns(), "detection": detectionColumns(),
		}
	})
	return schemas[table]
}

// Columns returns the columns of a simulated table, as its metadata
// endpoint lists them (nil for an unknown table).
func Columns(table string) []Column {
	var out []Column
	for _, c := range schema(table) {
		out = append(out, Column{Name: c.name, Type: c.typ, Unit: c.unit, Description: c.desc})
	}
	return out
}

// httpError is an answer other than 200.
type httpError struct {
	status int
	body   string
}

func unprocessable(loc, msg string) *httpError {
	b, _ := json.Marshal(map[string]any{"detail": []map[string]any{{"loc": []string{"query", loc}, "msg": msg, "type": "value_error"}}})
	return &httpError{http.StatusUnprocessableEntity, string(b)}
}

func detail(status int, msg string) *httpError {
	b, _ := json.Marshal(map[string]string{"detail": msg})
	return &httpError{status, string(b)}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.echoes.Take() {
		echoCredentials(w, r)
		return
	}
	rec := Request{Method: r.Method}
	if c, err := r.Cookie("mast_token"); err == nil {
		rec.Token = c.Value
	}
	status, body, ctype := s.handle(r, &rec)
	fault, faulty := s.faults.Take(func(e string) bool { return e == "" || e == rec.Endpoint })
	rec.Status = status
	if faulty && fault.Status != 0 {
		rec.Status = fault.Status
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	if rec.Endpoint != "" {
		s.hits[rec.Endpoint]++
	}
	s.mu.Unlock()

	if !simfault.Wait(r.Context(), simfault.Fault{Delay: s.opts.Latency}) {
		return
	}
	w.Header().Set("Server", "nginx/1.22.1 (panstarrstest)")
	if faulty {
		if !simfault.Wait(r.Context(), fault) {
			return
		}
		switch {
		case fault.Reset && !fault.Truncate:
			simfault.Drop(w)
			return
		case fault.Status != 0:
			simfault.WriteStatus(w, fault, fmt.Sprintf(`{"detail":%q}`, http.StatusText(fault.Status)))
			return
		case fault.Truncate:
			w.Header().Set("Content-Type", ctype)
			simfault.RetryAfterHeader(w, fault)
			simfault.Truncated(w, status, body, fault.Reset)
			return
		}
		simfault.RetryAfterHeader(w, fault)
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// handle computes the answer to a request.
func (s *Server) handle(r *http.Request, rec *Request) (int, []byte, string) {
	out := func(e *httpError) (int, []byte, string) { return e.status, []byte(e.body), "application/json" }
	rest, ok := strings.CutPrefix(r.URL.Path, s.opts.BasePath+"/")
	if !ok {
		return out(detail(http.StatusNotFound, "Not Found"))
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return out(detail(http.StatusNotFound, "Not Found"))
	}
	release := parts[0]
	table, ext, _ := strings.Cut(parts[1], ".")
	tables := Tables(release)
	if tables == nil {
		return out(detail(http.StatusNotFound, fmt.Sprintf("unknown data release %q", release)))
	}
	if !slices.Contains(tables, table) {
		return out(detail(http.StatusNotFound, fmt.Sprintf("table %q is not available in release %s (tables: %s)", table, release, strings.Join(tables, ", "))))
	}
	if len(parts) == 3 {
		if ext != "" || (parts[2] != "metadata" && parts[2] != "metadata.json") {
			return out(detail(http.StatusNotFound, "Not Found"))
		}
		rec.Endpoint = release + "/" + table + "/metadata"
		if r.Method != http.MethodGet {
			return out(detail(http.StatusMethodNotAllowed, "Method Not Allowed"))
		}
		return http.StatusOK, metadata(schema(table)), "application/json"
	}
	rec.Endpoint = release + "/" + table
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return out(detail(http.StatusMethodNotAllowed, "Method Not Allowed"))
	}
	params, herr := readParams(r)
	rec.Params = params
	if herr != nil {
		return out(herr)
	}
	format := ext
	if format == "" {
		format = params.Get("format")
	}
	if format == "" {
		format = strings.ToLower(r.Header.Get("Accept"))
		if format != "csv" && format != "json" {
			format = "json"
		}
	}
	rec.Format = format
	if format != "csv" && format != "json" {
		return out(unprocessable("format", fmt.Sprintf("format %q is not simulated (csv, json)", format)))
	}
	s.mu.Lock()
	empty := s.empty
	s.mu.Unlock()
	res, herr := s.search(release, table, params, empty)
	if herr != nil {
		return out(herr)
	}
	if format == "csv" {
		return http.StatusOK, res.csv(params.Get("include_info") != "false"), "text/csv; charset=utf-8"
	}
	return http.StatusOK, res.json(params.Get("flatten_response") == "true", params.Get("raw") == "true", params.Get("include_info") != "false"),
		"application/json"
}

// readParams decodes the query string and a POST's form or JSON body.
func readParams(r *http.Request) (url.Values, *httpError) {
	params := cloneValues(r.URL.Query())
	if r.Method != http.MethodPost {
		return params, nil
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") {
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			return params, &httpError{http.StatusUnprocessableEntity, `{"detail":[{"loc":["body"],"msg":"invalid JSON body","type":"value_error.jsondecode"}]}`}
		}
		for k, v := range body {
			vals, ok := jsonValues(v)
			if !ok {
				return params, unprocessable(k, "nested objects are not allowed")
			}
			params[k] = append(params[k], vals...)
		}
		return params, nil
	}
	if err := r.ParseForm(); err != nil {
		return params, unprocessable("body", err.Error())
	}
	for k, vs := range r.PostForm {
		params[k] = append(params[k], vs...)
	}
	return params, nil
}

func jsonValues(v any) ([]string, bool) {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, e := range v {
			s, ok := jsonValues(e)
			if !ok || len(s) != 1 {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	case string:
		return []string{v}, true
	case json.Number:
		return []string{v.String()}, true
	case bool:
		return []string{strconv.FormatBool(v)}, true
	case nil:
		return []string{""}, true
	}
	return nil, false
}

// metadata renders the metadata endpoint's JSON array.
func metadata(cols []column) []byte {
	b, _ := json.Marshal(infoEntries(cols))
	return b
}

func infoEntries(cols []column) []map[string]string {
	out := make([]map[string]string, len(cols))
	for i, c := range cols {
		dbType, size, def := "STRING", "32", "NULL"
		switch c.typ {
		case "long", "int", "short", "unsignedByte":
			dbType, size, def = "INTEGER", map[string]string{"long": "8", "int": "4", "short": "2", "unsignedByte": "1"}[c.typ], "-999"
		case "float", "double":
			dbType, size, def = "DOUBLE", map[string]string{"float": "4", "double": "8"}[c.typ], "-999"
		}
		unit, desc := c.unit, c.desc
		if unit == "" {
			unit = "NULL"
		}
		out[i] = map[string]string{
			"name": c.name, "column_name": c.name, "type": c.typ, "datatype": c.typ, "db_type": dbType,
			"description": desc, "unit": unit, "ucd": "NULL", "utype": "NULL", "size": size, "principal": "NULL",
			"indexed": "NULL", "std": "NULL", "column_index": strconv.Itoa(i + 1), "arraysize": "NULL",
			"search_priority": strconv.Itoa(i + 1), "default_value": def,
		}
	}
	return out
}
