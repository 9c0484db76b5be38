// Package atlastest is an httptest-style simulator of the ATLAS
// forced-photometry server (https://fallingstar-data.com/forcedphot/), for
// offline tests of the atlas package and of TOMs built on it. It speaks the
// protocol of the project's specification (shared/services/atlas.md §12):
//
//   - token authentication (POST /api-token-auth/, "Authorization: Token",
//     HTTP Basic), with the server's 401/403 texts;
//   - POST /queue/ (form-encoded or JSON) validated as the server does,
//     201 with the full task JSON and a Location header;
//   - the per-user sliding-window write throttle (POST and DELETE; default
//     60 a minute) answered by 429 with
//     {"detail": "Request was throttled. Expected available in N seconds."}
//     ("1 second" in the singular) and Retry-After: N; an optional read
//     throttle (the 2026 server's 600 a minute);
//   - the cap of 500 not-yet-started tasks per user (400 with a
//     non_field_errors string);
//   - a task clock: queued → started → finished after configurable times, K
//     parallel run slots shared round-robin across users, queuepos;
//   - result files generated deterministically from the target's
//     coordinates and window (GenerateResult) or a fixture, served as
//     text/plain at result_url; "No data returned" with no result_url for an
//     empty region;
//   - DELETE (204; finished tasks archived, their files removed, later GETs
//     404 "Page not found"; unfinished ones cancelled), owner-only;
//   - what the 2026 server gives pollers: the task list GET /queue/ in
//     cursor-paginated pages (?pagesize= up to 100, ?cursor=, "next"
//     links; each task with its comment), an ETag on task details and list
//     pages with 304 for a matching If-None-Match, and
//     GET /queuepositions.json;
//   - completion callbacks (callback_url): validated as the server does
//     (https, a public address; Options.AllowHTTPCallbacks admits
//     loopback http for tests), POSTed once when the task finishes, never
//     retried (a fault on EndpointCallback drops one);
//   - retention: finished tasks purged after 31 days (configurable);
//   - the legacy server of 2022 to 2026-07 (Options.Legacy): HTML unless
//     "Accept: application/json", and every 401/403 turned into a 302 to
//     the login page;
//   - an optional per-token limit of concurrently active tasks (a
//     simulator option, not a server feature) answered with the real
//     throttle text;
//   - scripted transport faults (Inject, ClearFaults; the same Fault as
//     every simulator of the library): any status (5xx, 429 with the
//     server's text, 404 as for purged results, HTML instead of JSON),
//     slow answers, dropped connections, answers cut short (malformed
//     JSON, result files cut inside a row or aborted mid-way); and the
//     server's own misbehaviours (FailNextTask, StickNextTask, SetLegacy);
//   - counters (Stats: requests by endpoint, reads, writes, list pages,
//     304s, downloads, deletes, callbacks) and task snapshots (Tasks) for
//     assertions such as "exactly one remote task per query" or "200
//     pending tasks cost 3 reads a poll round".
//
// The server is mounted under a non-empty base path (default /forcedphot),
// like the real one, to catch clients that drop it.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package atlastest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/internal/simfault"
	"github.com/tomgo/targetdata/singletarget"
)

// NoDataMessage is the error_msg of a task with no measurements.
const NoDataMessage = "No data returned"

// Options configure a Server; nil means the defaults on each field. The
// defaults are the real server's limits with task times of milliseconds,
// so that tests are fast.
type Options struct {
	// BasePath is where the API is mounted. Default "/forcedphot".
	BasePath string
	// Username and Password are the default account's credentials.
	// Defaults "tester" and "atlastest-password".
	Username, Password string
	// WriteRate writes (POST, DELETE) are allowed per user in any
	// WriteWindow. Default 60; -1 disables the write throttle.
	WriteRate int
	// WriteWindow is the throttle's sliding window. Default 1 minute.
	WriteWindow time.Duration
	// ReadRate, when positive, throttles reads too, per user (per client
	// address for anonymous reads) in a separate bucket, like the 2026
	// server's 600 a minute. Default 0: reads are not throttled (the
	// server before 2026-08).
	ReadRate int
	// ReadWindow is the read throttle's window. Default 1 minute.
	ReadWindow time.Duration
	// PageSize is the task list's page size when the request does not ask
	// for one (?pagesize=, at most 100, the server's max_page_size).
	// Default 100.
	PageSize int
	// AllowHTTPCallbacks accepts a callback_url on plain http and to
	// loopback and private addresses, as the server does in its
	// development mode (tests cannot serve public https). Default false:
	// https to a public address only (spec §3).
	AllowHTTPCallbacks bool
	// MaxQueued is the cap of not-yet-started tasks per user. Default 500;
	// -1 disables it.
	MaxQueued int
	// MaxActivePerToken, when positive, refuses a new task with the 429
	// throttle text while the user already has that many tasks queued or
	// running. A simulator option for batch tests (the real server has no
	// such limit). Default 0: none.
	MaxActivePerToken int
	// Slots is the number of tasks that run at the same time (the runner
	// takes at most one task per user per round). Default 4.
	Slots int
	// QueueDelay is the least time a task waits before it may start.
	// Default 10 ms.
	QueueDelay time.Duration
	// RunTime is how long a task runs. Default 20 ms (about a minute on
	// the real server).
	RunTime time.Duration
	// Retention is how long a finished task and its file are kept.
	// Default 31 days; deleted (archived) tasks are purged after 7 days.
	Retention time.Duration
	// Empty reports a sky region with no data: its tasks finish with
	// "No data returned". Default: Dec < −89.
	Empty func(ra, dec float64) bool
	// Fixture, when set, is the result file of every task (e.g. a real
	// sample); otherwise GenerateResult makes one from the coordinates and
	// the window.
	Fixture []byte
	// FixtureReader, when set, gives the result file of every task, read
	// afresh from a new reader at each download and streamed without a
	// Content-Length: a file of any size (hundreds of MB, or endless), never
	// held in memory. It wins over Fixture.
	FixtureReader func() io.Reader
	// Legacy reproduces the server of 2022 to 2026-07: HTML unless the
	// request sends "Accept: application/json", every 401 and 403 answered
	// by a 302 to {BasePath}/api-auth/login/?next=<path>, and the older
	// text of the 500-task cap.
	Legacy bool
	// Now is the server's clock. Default time.Now.
	Now func() time.Time
	// FirstID is the first task's id. Default 1.
	FirstID int64
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.BasePath == "" {
		out.BasePath = "/forcedphot"
	}
	out.BasePath = "/" + strings.Trim(out.BasePath, "/")
	if out.Username == "" {
		out.Username = "tester"
	}
	if out.Password == "" {
		out.Password = "atlastest-password"
	}
	if out.WriteRate == 0 {
		out.WriteRate = 60
	}
	if out.WriteWindow <= 0 {
		out.WriteWindow = time.Minute
	}
	if out.ReadWindow <= 0 {
		out.ReadWindow = time.Minute
	}
	if out.PageSize <= 0 || out.PageSize > maxPageSize {
		out.PageSize = maxPageSize
	}
	if out.MaxQueued == 0 {
		out.MaxQueued = 500
	}
	if out.Slots <= 0 {
		out.Slots = 4
	}
	if out.QueueDelay == 0 {
		out.QueueDelay = 10 * time.Millisecond
	}
	if out.RunTime <= 0 {
		out.RunTime = 20 * time.Millisecond
	}
	if out.Retention <= 0 {
		out.Retention = 31 * 24 * time.Hour
	}
	if out.Empty == nil {
		out.Empty = func(_, dec float64) bool { return dec < -89 }
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.FirstID <= 0 {
		out.FirstID = 1
	}
	return out
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API's base URL, e.g. "http://127.0.0.1:41234/forcedphot"
	// (no trailing slash): what atlas.New takes.
	URL string
	// Username, Password and Token are the default account's credentials.
	Username string
	Password singletarget.Secret
	Token    singletarget.Secret

	ts   *httptest.Server
	opts Options

	mu       sync.Mutex
	legacy   bool
	users    []*user // by id order
	byName   map[string]*user
	byToken  map[string]*user
	anonRead map[string][]time.Time
	tasks    map[int64]*task
	nextID   int64
	clock    time.Time // time of the last simulated event
	rrLast   int       // id of the user the runner served last
	faults   simfault.Queue
	echoes   simfault.Countdown
	stuck    int
	failMsgs []string
	stats    Stats
	maxAct   map[string]int

	// callbacks (callback.go)
	closed    chan struct{}
	closeOnce sync.Once
	sending   sync.WaitGroup
}

type user struct {
	id       int
	name     string
	password string
	token    string
	writes   []time.Time
	reads    []time.Time
}

type task struct {
	id                 int64
	owner              *user
	created            time.Time
	started, finished  time.Time
	ra, dec            *float64
	mpcName            string
	mjdMin, mjdMax     *float64
	epoch              *string
	pmRA, pmDec        *float64
	useReduced         bool
	sendEmail          bool
	comment            *string
	callbackURL        string
	errorMsg           string
	result             []byte
	resultGone         bool
	archived           time.Time // when the owner deleted it (finished tasks)
	stuck              bool      // never finishes: restarts after every run
	failMsg            string    // finishes with this error_msg
	attempts, polls    int
	downloads, deletes int
}

// NewServer starts a simulator and registers its Close with tb.Cleanup.
func NewServer(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s := newServer(opts)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a simulator outside of a test (an example, a demo
// program); call Close when done.
func Start(opts *Options) *Server { return newServer(opts) }

func newServer(opts *Options) *Server {
	o := opts.withDefaults()
	s := &Server{opts: o, legacy: o.Legacy, byName: map[string]*user{}, byToken: map[string]*user{},
		anonRead: map[string][]time.Time{}, tasks: map[int64]*task{}, nextID: o.FirstID, maxAct: map[string]int{},
		closed: make(chan struct{})}
	s.stats.TasksByUser = map[string]int{}
	s.stats.ByEndpoint = map[Endpoint]int{}
	s.Token = s.AddUser(o.Username, o.Password)
	s.Username, s.Password = o.Username, singletarget.Secret(o.Password)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL + o.BasePath
	go s.clockLoop()
	return s
}

// Client returns an HTTP client for the server (the httptest server's).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down, after the callbacks being sent. It may be
// called more than once.
func (s *Server) Close() {
	// Under s.mu, as callbackLocked checks closed and counts a callback in
	// sending under it: no callback starts once Wait may have returned.
	s.mu.Lock()
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Unlock()
	s.sending.Wait()
	s.ts.Close()
}

// AddUser adds an account and returns its API token (40 lower-case hex
// characters, the same for the same username). Adding an existing
// username updates its password.
func (s *Server) AddUser(username, password string) singletarget.Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.byName[username]; ok {
		u.password = password
		return singletarget.Secret(u.token)
	}
	sum := sha1.Sum([]byte("atlastest token for " + username))
	u := &user{id: len(s.users) + 1, name: username, password: password, token: hex.EncodeToString(sum[:])}
	s.users = append(s.users, u)
	s.byName[username] = u
	s.byToken[u.token] = u
	return singletarget.Secret(u.token)
}

// SetLegacy switches the legacy (2022 to 2026-07) behaviour on or off.
func (s *Server) SetLegacy(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacy = on
}

func (s *Server) isLegacy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legacy
}

// StickNextTask makes the next n tasks created never finish: like a
// runner whose run fails without a definite error, they restart after
// every RunTime with a new starttimestamp.
func (s *Server) StickNextTask(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stuck += n
}

// FailNextTask makes the next task created finish with error_msg msg and
// no result (e.g. "Could not parse the result file").
func (s *Server) FailNextTask(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMsgs = append(s.failMsgs, msg)
}

// Stats are the simulator's counters.
type Stats struct {
	// Requests counts every request.
	Requests int
	// ByEndpoint counts the requests of each endpoint as they arrive
	// (those answered by a fault, a throttle or an error included).
	ByEndpoint map[Endpoint]int
	// Reads counts the API's reads as they arrive: task details, task
	// list pages and queue positions (what the 2026 server's read
	// throttle counts; result files are static files, counted apart).
	// Writes counts queue POSTs and DELETEs (the write throttle's).
	Reads, Writes int
	// Lists counts the task list's pages served (200 or 304).
	Lists int
	// NotModified counts 304 answers to If-None-Match (task details and
	// list pages).
	NotModified int
	// CallbacksSent counts completion callbacks delivered (the endpoint
	// answered 2xx); CallbacksFailed those that failed or were refused;
	// CallbacksDropped those a fault dropped (EndpointCallback). None is
	// retried, as on the server.
	CallbacksSent, CallbacksFailed, CallbacksDropped int
	// TasksCreated counts tasks created; TasksByUser per username.
	TasksCreated int
	TasksByUser  map[string]int
	// Deletes counts successful DELETEs (204).
	Deletes int
	// Polls counts GETs of a task's detail that reached the task (after
	// the read throttle; 304 answers included).
	Polls int
	// Downloads counts result files served in full.
	Downloads int
	// Throttled counts 429 answers.
	Throttled int
	// MaxActive is the most tasks one user had queued or running at the
	// same time; MaxActiveByUser per username.
	MaxActive       int
	MaxActiveByUser map[string]int
	// MaxRunning is the most tasks running at the same time.
	MaxRunning int
}

// Summary is the counters by kind on one line, for test logs: reads (list
// pages, task details, queue positions) with the 304s among them, writes
// (queue POSTs, DELETEs), result downloads, tasks created and callbacks.
func (st Stats) Summary() string {
	e := st.ByEndpoint
	return fmt.Sprintf("reads %d (list %d, detail %d, queue positions %d; 304 %d), writes %d (queue %d, delete %d), "+
		"downloads %d, tasks created %d, callbacks sent %d", st.Reads, e[EndpointList], e[EndpointTask], e[EndpointQueuePositions],
		st.NotModified, st.Writes, e[EndpointQueue], e[EndpointDelete], st.Downloads, st.TasksCreated, st.CallbacksSent)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.TasksByUser = maps.Clone(s.stats.TasksByUser)
	out.ByEndpoint = maps.Clone(s.stats.ByEndpoint)
	out.MaxActiveByUser = make(map[string]int, len(s.maxAct))
	for k, v := range s.maxAct {
		out.MaxActiveByUser[k] = v
	}
	return out
}

// CreatedBy returns how many tasks the account with this API token has
// created (0 for an unknown token).
func (s *Server) CreatedBy(token singletarget.Secret) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.byToken[token.Reveal()]; u != nil {
		return s.stats.TasksByUser[u.name]
	}
	return 0
}

// TaskInfo is a snapshot of one task, for assertions.
type TaskInfo struct {
	ID    int64
	Owner string
	// State is "queued", "running", "finished", "failed" (finished with an
	// error message) or "deleted" (archived by its owner).
	State                      string
	Created, Started, Finished time.Time
	RA, Dec                    *float64
	MJDMin, MJDMax             *float64
	UseReduced, SendEmail      bool
	ErrorMsg                   string
	// Attempts counts runs started; Polls, Downloads and Deletes the
	// requests about this task.
	Attempts, Polls, Downloads, Deletes int
}

// Tasks returns every task still known (cancelled and purged tasks are
// gone), ordered by id.
func (s *Server) Tasks() []TaskInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	out := make([]TaskInfo, 0, len(s.tasks))
	for _, t := range s.tasks {
		out = append(out, TaskInfo{ID: t.id, Owner: t.owner.name, State: t.state(), Created: t.created, Started: t.started,
			Finished: t.finished, RA: t.ra, Dec: t.dec, MJDMin: t.mjdMin, MJDMax: t.mjdMax, UseReduced: t.useReduced,
			SendEmail: t.sendEmail, ErrorMsg: t.errorMsg, Attempts: t.attempts, Polls: t.polls, Downloads: t.downloads, Deletes: t.deletes})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (t *task) state() string {
	switch {
	case !t.archived.IsZero():
		return "deleted"
	case !t.finished.IsZero() && t.errorMsg != "":
		return "failed"
	case !t.finished.IsZero():
		return "finished"
	case !t.started.IsZero():
		return "running"
	}
	return "queued"
}

func (t *task) active() bool { return t.finished.IsZero() }

// ---- task clock ----

// advanceLocked runs the task clock up to now: tasks start when a slot is
// free (round-robin across users, at most one per user per turn) and
// finish RunTime later; finished tasks are purged after Retention.
func (s *Server) advanceLocked(now time.Time) {
	if s.clock.IsZero() {
		s.clock = now
	}
	for {
		var running, queued []*task
		for _, t := range s.tasks {
			switch {
			case t.stuck:
				// restarts forever, holding its slot
				if !t.started.IsZero() {
					running = append(running, t)
				} else {
					queued = append(queued, t)
				}
			case !t.finished.IsZero():
			case !t.started.IsZero():
				running = append(running, t)
			default:
				queued = append(queued, t)
			}
		}
		// The next finish of a task that is not stuck.
		var fin *task
		for _, t := range running {
			if !t.stuck && (fin == nil || t.started.Before(fin.started) || t.started.Equal(fin.started) && t.id < fin.id) {
				fin = t
			}
		}
		// The earliest time a queued task may start.
		var eligible time.Time
		for _, t := range queued {
			if e := t.created.Add(s.opts.QueueDelay); eligible.IsZero() || e.Before(eligible) {
				eligible = e
			}
		}
		startAt := eligible
		if startAt.Before(s.clock) {
			startAt = s.clock
		}
		canStart := len(queued) > 0 && len(running) < s.opts.Slots && !startAt.After(now)
		var finAt time.Time
		if fin != nil {
			finAt = fin.started.Add(s.opts.RunTime)
		}
		switch {
		case canStart && (fin == nil || !startAt.After(finAt)):
			s.clock = startAt
			t := s.pickLocked(queued, startAt)
			t.started = startAt
			t.attempts++
			if n := len(running) + 1; n > s.stats.MaxRunning {
				s.stats.MaxRunning = n
			}
		case fin != nil && !finAt.After(now):
			s.clock = finAt
			s.finishLocked(fin, finAt)
		default:
			s.restartStuckLocked(now)
			s.purgeLocked(now)
			return
		}
	}
}

// pickLocked takes the next task round-robin: the first user after the
// last one served with a task eligible at time at, and that user's oldest.
func (s *Server) pickLocked(queued []*task, at time.Time) *task {
	byUser := map[int][]*task{}
	for _, t := range queued {
		if !t.created.Add(s.opts.QueueDelay).After(at) {
			byUser[t.owner.id] = append(byUser[t.owner.id], t)
		}
	}
	ids := make([]int, 0, len(byUser))
	for id := range byUser {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	pick := ids[0]
	for _, id := range ids {
		if id > s.rrLast {
			pick = id
			break
		}
	}
	s.rrLast = pick
	ts := byUser[pick]
	sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	return ts[0]
}

func (s *Server) finishLocked(t *task, at time.Time) {
	t.finished = at
	defer s.callbackLocked(t)
	switch {
	case t.failMsg != "":
		t.errorMsg = t.failMsg
	case t.ra != nil && s.opts.Empty(*t.ra, *t.dec):
		t.errorMsg = NoDataMessage
	case s.opts.FixtureReader != nil:
		t.result = []byte{} // streamed at download
	default:
		var body []byte
		if s.opts.Fixture != nil {
			body = s.opts.Fixture
		} else {
			lo := float64(FirstMJD)
			if t.mjdMin != nil {
				lo = *t.mjdMin
			}
			hi := mjdOf(at)
			if t.mjdMax != nil {
				hi = *t.mjdMax
			}
			body = GenerateResult(*t.ra, *t.dec, lo, hi)
		}
		if bytes.Count(bytes.TrimSpace(body), []byte("\n")) == 0 {
			t.errorMsg = NoDataMessage // the server never hands out a header-only file
		} else {
			t.result = body
		}
	}
}

func (s *Server) restartStuckLocked(now time.Time) {
	for _, t := range s.tasks {
		if t.stuck && !t.started.IsZero() {
			if k := now.Sub(t.started) / s.opts.RunTime; k > 0 {
				t.started = t.started.Add(k * s.opts.RunTime)
				t.attempts += int(k)
			}
		}
	}
}

func (s *Server) purgeLocked(now time.Time) {
	for id, t := range s.tasks {
		switch {
		case !t.archived.IsZero() && now.Sub(t.archived) > 7*24*time.Hour:
			delete(s.tasks, id)
		case !t.finished.IsZero() && now.Sub(t.finished) > s.opts.Retention:
			delete(s.tasks, id)
		}
	}
}

// queuePosLocked is a queued task's position in the global queue (0 =
// next), following the runner's round-robin.
func (s *Server) queuePosLocked(target *task) int {
	byUser := map[int][]*task{}
	for _, t := range s.tasks {
		if t.started.IsZero() && t.archived.IsZero() {
			byUser[t.owner.id] = append(byUser[t.owner.id], t)
		}
	}
	ids := make([]int, 0, len(byUser))
	for id, ts := range byUser {
		ids = append(ids, id)
		sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	}
	sort.Ints(ids)
	// Users after the last served come first.
	sort.SliceStable(ids, func(i, j int) bool { return (ids[i] > s.rrLast) && !(ids[j] > s.rrLast) })
	pos := 0
	for round := 0; ; round++ {
		any := false
		for _, id := range ids {
			ts := byUser[id]
			if round < len(ts) {
				any = true
				if ts[round] == target {
					return pos
				}
				pos++
			}
		}
		if !any {
			return pos
		}
	}
}

func mjdOf(t time.Time) float64 {
	return float64(t.UTC().UnixNano())/86400e9 + 40587
}

// ---- HTTP ----

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.Path, s.opts.BasePath)
	if !ok || (path != "" && path[0] != '/') {
		s.notFoundHTML(w)
		return
	}
	ep, id := route(r.Method, path)
	if ep == "" {
		if path == "/queue" || path == "/api-token-auth" {
			http.Redirect(w, r, s.opts.BasePath+path+"/", http.StatusMovedPermanently)
			return
		}
		if strings.HasPrefix(path, "/api-auth/login") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!DOCTYPE html><html><head><title>Log in | ATLAS Forced Photometry</title></head><body><form method=\"post\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>\n")
			return
		}
		s.notFoundHTML(w)
		return
	}
	s.mu.Lock()
	s.stats.ByEndpoint[ep]++
	switch ep {
	case EndpointList, EndpointTask, EndpointQueuePositions:
		s.stats.Reads++
	case EndpointQueue, EndpointDelete:
		s.stats.Writes++
	}
	s.mu.Unlock()
	if s.echoes.Take() {
		s.echoCredentials(w, r, ep)
		return
	}
	f, faulty := s.takeFault(ep, r.Method)
	if !faulty {
		s.answer(w, r, ep, id)
		return
	}
	simfault.Serve(w, r, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, ep, id) }),
		func(w http.ResponseWriter, _ int) string { return s.faultBody(w, r, ep, f) })
}

// answer answers a request to endpoint ep (task id for the task endpoints).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ep Endpoint, id int64) {
	switch ep {
	case EndpointToken:
		s.handleToken(w, r)
	case EndpointQueue:
		s.handleQueue(w, r)
	case EndpointList:
		s.handleList(w, r)
	case EndpointTask:
		s.handleTask(w, r, id)
	case EndpointDelete:
		s.handleDelete(w, r, id)
	case EndpointResult:
		s.handleResult(w, r, id)
	case EndpointQueuePositions:
		s.handleQueuePositions(w, r)
	}
}

// route maps a request to its endpoint and task id.
func route(method, path string) (Endpoint, int64) {
	switch {
	case path == "/api-token-auth/" && method == http.MethodPost:
		return EndpointToken, 0
	case path == "/queue/" && method == http.MethodPost:
		return EndpointQueue, 0
	case path == "/queue/" && method == http.MethodGet:
		return EndpointList, 0
	case path == "/queuepositions.json" && method == http.MethodGet:
		return EndpointQueuePositions, 0
	case strings.HasPrefix(path, "/static/results/job") && strings.HasSuffix(path, ".txt") && method == http.MethodGet:
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(path, "/static/results/job"), ".txt"), 10, 64)
		if err == nil {
			return EndpointResult, id
		}
	case strings.HasPrefix(path, "/queue/"):
		rest := strings.TrimPrefix(path, "/queue/")
		num, tail, _ := strings.Cut(rest, "/")
		id, err := strconv.ParseInt(num, 10, 64)
		if err != nil || id <= 0 {
			return "", 0
		}
		switch {
		case tail == "" && method == http.MethodGet:
			return EndpointTask, id
		case tail == "" && method == http.MethodDelete:
			return EndpointDelete, id
		case tail == "data.txt" && method == http.MethodGet:
			return EndpointResult, id
		}
	}
	return "", 0
}

// accepts reports whether the request accepts media type mt explicitly.
func accepts(r *http.Request, mt string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		t, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(t), mt) {
			return true
		}
	}
	return false
}

// wantsHTML is the content negotiation: the legacy server put its HTML
// renderer first (JSON only for "Accept: application/json"); the 2026 one
// answers JSON unless the client asks for HTML and not JSON.
func (s *Server) wantsHTML(r *http.Request) bool {
	if accepts(r, "application/json") {
		return false
	}
	return s.isLegacy() || accepts(r, "text/html")
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, v any) {
	if s.wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		b, _ := json.MarshalIndent(v, "", "    ")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>ATLAS Forced Photometry</title></head><body><pre>%s</pre></body></html>\n",
			strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(string(b)))
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Vary", "Accept, Cookie")
	w.WriteHeader(status)
	w.Write(b)
}

func detail(msg string) map[string]string { return map[string]string{"detail": msg} }

func (s *Server) notFoundHTML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, notFoundPage)
}

// notFoundPage is the web server's 404 page.
const notFoundPage = "<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>\n"

// pageNotFound is the answer for an archived (deleted) task.
func (s *Server) pageNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, "Page not found")
}

// authFailed answers 401/403, or the legacy (and browser) redirect to the
// login page.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if s.isLegacy() || (accepts(r, "text/html") && !accepts(r, "application/json")) {
		// Django's redirect_to_login keeps the slashes of next unescaped.
		next := strings.ReplaceAll(url.QueryEscape(r.URL.Path), "%2F", "/")
		http.Redirect(w, r, s.opts.BasePath+"/api-auth/login/?next="+next, http.StatusFound)
		return
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
	}
	s.write(w, r, status, detail(msg))
}

// account authenticates r for a view that needs an account: a request
// without credentials is answered status with msg, and check (checkRead,
// checkWrite) applies the account's throttle. It returns nil when it has
// answered.
func (s *Server) account(w http.ResponseWriter, r *http.Request, check func(http.ResponseWriter, *http.Request, *user) bool, status int, msg string) *user {
	u, ok := s.authenticate(w, r)
	if !ok {
		return nil
	}
	if u == nil {
		s.authFailed(w, r, status, msg)
		return nil
	}
	if !check(w, r, u) {
		return nil
	}
	return u
}

// authenticate returns the request's user, nil for an anonymous request,
// or ok=false after answering 401 for bad credentials.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*user, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, true
	}
	scheme, cred, _ := strings.Cut(h, " ")
	s.mu.Lock()
	var u *user
	msg := "Invalid token."
	switch strings.ToLower(scheme) {
	case "token":
		u = s.byToken[strings.TrimSpace(cred)]
		if strings.TrimSpace(cred) == "" {
			msg = "Invalid token header. No credentials provided."
		}
	case "basic":
		name, pass, ok := r.BasicAuth()
		if ok {
			if c := s.byName[name]; c != nil && c.password == pass {
				u = c
			}
		}
		msg = "Invalid username/password."
	default:
		s.mu.Unlock()
		return nil, true // an unknown scheme is ignored, as DRF does
	}
	s.mu.Unlock()
	if u == nil {
		s.authFailed(w, r, http.StatusUnauthorized, msg)
		return nil, false
	}
	return u, true
}

// throttleWait applies a sliding-window throttle: it records the request
// and returns 0, or returns the whole seconds to wait (not recording it),
// as Django REST framework's SimpleRateThrottle does.
func throttleWait(history *[]time.Time, now time.Time, rate int, window time.Duration) int {
	h := *history
	i := 0
	for i < len(h) && !h[i].After(now.Add(-window)) {
		i++
	}
	h = h[i:]
	if len(h) >= rate {
		*history = h
		remaining := window - now.Sub(h[0])
		avail := rate - len(h) + 1
		if avail <= 0 {
			avail = 1
		}
		wait := remaining.Seconds() / float64(avail)
		return max(1, int(math.Ceil(wait)))
	}
	*history = append(h, now)
	return 0
}

// throttled answers 429 with the server's text.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, n int) {
	s.mu.Lock()
	s.stats.Throttled++
	s.mu.Unlock()
	w.Header().Set("Retry-After", strconv.Itoa(n))
	s.write(w, r, http.StatusTooManyRequests, detail(throttleText(n)))
}

// throttleText is the server's 429 text for a wait of n seconds.
func throttleText(n int) string {
	unit := "seconds"
	if n == 1 {
		unit = "second"
	}
	return fmt.Sprintf("Request was throttled. Expected available in %d %s.", n, unit)
}

// checkWrite applies the write throttle; false after answering 429.
func (s *Server) checkWrite(w http.ResponseWriter, r *http.Request, u *user) bool {
	if s.opts.WriteRate < 0 {
		return true
	}
	s.mu.Lock()
	n := throttleWait(&u.writes, s.opts.Now(), s.opts.WriteRate, s.opts.WriteWindow)
	s.mu.Unlock()
	if n > 0 {
		s.throttled(w, r, n)
		return false
	}
	return true
}

// checkRead applies the optional read throttle; false after answering 429.
func (s *Server) checkRead(w http.ResponseWriter, r *http.Request, u *user) bool {
	if s.opts.ReadRate <= 0 {
		return true
	}
	s.mu.Lock()
	var n int
	if u != nil {
		n = throttleWait(&u.reads, s.opts.Now(), s.opts.ReadRate, s.opts.ReadWindow)
	} else {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		h := s.anonRead[host]
		n = throttleWait(&h, s.opts.Now(), s.opts.ReadRate, s.opts.ReadWindow)
		s.anonRead[host] = h
	}
	s.mu.Unlock()
	if n > 0 {
		s.throttled(w, r, n)
		return false
	}
	return true
}

// ---- handlers ----

// formValues reads a form-encoded or JSON body into strings; JSON null
// becomes a present, empty value.
func formValues(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var raw map[string]any
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("JSON parse error - %v", err)
		}
		for k, v := range raw {
			switch v := v.(type) {
			case nil:
				out[k] = ""
			case string:
				out[k] = v
			case json.Number:
				out[k] = v.String()
			case bool:
				out[k] = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
		return out, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k := range r.PostForm {
		out[k] = r.PostForm.Get(k)
	}
	return out, nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	v, err := formValues(r)
	if err != nil {
		s.write(w, r, http.StatusBadRequest, detail(err.Error()))
		return
	}
	errs := map[string][]string{}
	for _, k := range []string{"username", "password"} {
		if v[k] == "" {
			errs[k] = []string{"This field is required."}
		}
	}
	if len(errs) > 0 {
		s.write(w, r, http.StatusBadRequest, errs)
		return
	}
	s.mu.Lock()
	u := s.byName[v["username"]]
	ok := u != nil && u.password == v["password"]
	s.mu.Unlock()
	if !ok {
		s.write(w, r, http.StatusBadRequest, map[string][]string{"non_field_errors": {"Unable to log in with provided credentials."}})
		return
	}
	s.write(w, r, http.StatusOK, map[string]string{"token": u.token})
}

var drfTrue = map[string]bool{"t": true, "y": true, "yes": true, "true": true, "on": true, "1": true}
var drfFalse = map[string]bool{"f": true, "n": true, "no": true, "false": true, "off": true, "0": true}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	u := s.account(w, r, s.checkWrite, http.StatusUnauthorized, "Authentication credentials were not provided.")
	if u == nil {
		return
	}
	v, err := formValues(r)
	if err != nil {
		s.write(w, r, http.StatusBadRequest, detail(err.Error()))
		return
	}
	now := s.opts.Now()
	t := &task{owner: u, sendEmail: true}
	errs := map[string][]string{}
	num := func(k string) *float64 {
		sv, ok := v[k]
		if !ok || strings.TrimSpace(sv) == "" {
			return nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(sv), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			errs[k] = append(errs[k], "A valid number is required.")
			return nil
		}
		return &f
	}
	boolean := func(k string, def bool) bool {
		sv, ok := v[k]
		if !ok || sv == "" {
			return def
		}
		switch {
		case drfTrue[strings.ToLower(sv)]:
			return true
		case drfFalse[strings.ToLower(sv)]:
			return false
		}
		errs[k] = append(errs[k], "Must be a valid boolean.")
		return def
	}
	t.ra, t.dec = num("ra"), num("dec")
	t.mpcName = strings.TrimSpace(v["mpc_name"])
	if sv, ok := v["mjd_min"]; !ok {
		d := math.Round((mjdOf(now)-30)*1e5) / 1e5
		t.mjdMin = &d
	} else if sv != "" {
		t.mjdMin = num("mjd_min")
	}
	t.mjdMax = num("mjd_max")
	t.useReduced = boolean("use_reduced", false)
	t.sendEmail = boolean("send_email", true)
	if ep := num("radec_epoch_year"); ep != nil {
		e := strconv.FormatFloat(*ep, 'f', 1, 64)
		t.epoch = &e
	}
	t.pmRA, t.pmDec = num("propermotion_ra"), num("propermotion_dec")
	if c, ok := v["comment"]; ok && c != "" {
		if len(c) > 300 {
			errs["comment"] = append(errs["comment"], "Ensure this field has no more than 300 characters.")
		}
		t.comment = &c
	}
	if cb, ok := v["callback_url"]; ok && cb != "" && !s.isLegacy() {
		// (The legacy server has no such field and ignores it.)
		if msg := s.checkCallbackURL(cb); msg != "" {
			errs["callback_url"] = append(errs["callback_url"], msg)
		}
		t.callbackURL = cb
	}
	if _, ok := v["radeclist"]; ok {
		errs["radeclist"] = append(errs["radeclist"], "radeclist is not supported by the simulator.")
	}
	switch rt := v["request_type"]; rt {
	case "", "FP":
	default:
		errs["request_type"] = append(errs["request_type"], fmt.Sprintf("%q is not a valid choice.", rt))
	}
	if len(errs) == 0 {
		_, hasRA := v["ra"]
		_, hasDec := v["dec"]
		switch {
		case t.mpcName != "" && (t.ra != nil || t.dec != nil):
			errs["non_field_errors"] = []string{"Specify either an mpc_name or (ra, dec), not both."}
		case t.mpcName != "":
			errs["non_field_errors"] = []string{"The simulator does not run minor-planet (mpc_name) tasks."}
		case t.ra != nil && t.dec == nil:
			errs["dec"] = []string{"ra was set but dec is missing."}
		case t.dec != nil && t.ra == nil:
			errs["ra"] = []string{"dec was set but ra is missing."}
		case t.ra == nil && t.dec == nil && !hasRA && !hasDec:
			errs["non_field_errors"] = []string{"Either an mpc_name or (ra, dec) must be specified."}
		case t.ra == nil || t.dec == nil:
			errs["non_field_errors"] = []string{"Either an mpc_name or (ra, dec) must be specified."}
		case *t.dec < -90 || *t.dec > 90:
			errs["dec"] = []string{"Ensure this value is between -90 and 90."}
		}
		if t.mjdMax != nil {
			switch {
			case *t.mjdMax <= 0:
				errs["mjd_max"] = []string{"mjd_max must be greater than zero."}
			case t.mjdMin != nil && *t.mjdMax <= *t.mjdMin:
				errs["mjd_max"] = []string{fmt.Sprintf("mjd_max must be greater than mjd_min (%s was applied).", pyFloat(*t.mjdMin))}
			}
		}
	}
	if len(errs) > 0 {
		s.write(w, r, http.StatusBadRequest, errs)
		return
	}
	s.mu.Lock()
	s.advanceLocked(now)
	notStarted, active := 0, 0
	var earliest time.Time
	for _, o := range s.tasks {
		if o.owner != u {
			continue
		}
		if o.started.IsZero() && o.archived.IsZero() {
			notStarted++
		}
		if o.active() {
			active++
			if !o.started.IsZero() {
				if end := o.started.Add(s.opts.RunTime); earliest.IsZero() || end.Before(earliest) {
					earliest = end
				}
			}
		}
	}
	legacy := s.legacy
	if s.opts.MaxQueued > 0 && notStarted+1 > s.opts.MaxQueued {
		s.mu.Unlock()
		msg := fmt.Sprintf("ERROR: You have too many queued tasks (%d queued + 1 requested > %d).", notStarted, s.opts.MaxQueued)
		if legacy {
			msg = fmt.Sprintf("ERROR: You have too many queued tasks (%d >= %d).", notStarted, s.opts.MaxQueued)
		}
		s.write(w, r, http.StatusBadRequest, map[string]string{"non_field_errors": msg})
		return
	}
	if s.opts.MaxActivePerToken > 0 && active >= s.opts.MaxActivePerToken {
		s.mu.Unlock()
		wait := s.opts.QueueDelay + s.opts.RunTime
		if !earliest.IsZero() {
			wait = earliest.Sub(now)
		}
		s.throttled(w, r, max(1, int(math.Ceil(wait.Seconds()))))
		return
	}
	t.id = s.nextID
	s.nextID++
	t.created = now
	if s.stuck > 0 {
		s.stuck--
		t.stuck = true
	}
	if len(s.failMsgs) > 0 {
		t.failMsg, s.failMsgs = s.failMsgs[0], s.failMsgs[1:]
	}
	s.tasks[t.id] = t
	s.stats.TasksCreated++
	s.stats.TasksByUser[u.name]++
	if a := active + 1; a > s.maxAct[u.name] {
		s.maxAct[u.name] = a
		if a > s.stats.MaxActive {
			s.stats.MaxActive = a
		}
	}
	s.advanceLocked(now)
	body := s.taskJSONLocked(r, t)
	s.mu.Unlock()
	w.Header().Set("Location", body.URL)
	s.write(w, r, http.StatusCreated, body)
}

// pyFloat formats a number as Python's repr of a float.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func (s *Server) handleTask(w http.ResponseWriter, r *http.Request, id int64) {
	u, ok := s.authenticate(w, r)
	if !ok || !s.checkRead(w, r, u) {
		return
	}
	s.mu.Lock()
	s.advanceLocked(s.opts.Now())
	s.stats.Polls++
	t := s.tasks[id]
	if t == nil {
		s.mu.Unlock()
		s.write(w, r, http.StatusNotFound, detail("Not found."))
		return
	}
	if !t.archived.IsZero() {
		s.mu.Unlock()
		s.pageNotFound(w)
		return
	}
	t.polls++
	body := s.taskJSONLocked(r, t)
	s.mu.Unlock()
	s.writeTagged(w, r, body)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, id int64) {
	u := s.account(w, r, s.checkWrite, http.StatusUnauthorized, "Authentication credentials were not provided.")
	if u == nil {
		return
	}
	s.mu.Lock()
	now := s.opts.Now()
	s.advanceLocked(now)
	t := s.tasks[id]
	switch {
	case t == nil:
		s.mu.Unlock()
		s.write(w, r, http.StatusNotFound, detail("Not found."))
		return
	case !t.archived.IsZero():
		s.mu.Unlock()
		s.pageNotFound(w)
		return
	case t.owner != u:
		s.mu.Unlock()
		s.authFailed(w, r, http.StatusForbidden, "You must be the owner of this object.")
		return
	}
	t.deletes++
	s.stats.Deletes++
	if t.finished.IsZero() {
		delete(s.tasks, id) // cancelled
	} else {
		t.archived = now
		t.result = nil
		t.resultGone = true
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request, id int64) {
	s.mu.Lock()
	s.advanceLocked(s.opts.Now())
	t := s.tasks[id]
	if t == nil || t.result == nil || t.resultGone {
		s.mu.Unlock()
		s.notFoundHTML(w)
		return
	}
	body := t.result
	t.downloads++
	s.stats.Downloads++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	if s.opts.FixtureReader != nil {
		_, _ = io.Copy(w, s.opts.FixtureReader())
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// taskJSON is the task as the 2024 server serialises it.
type taskJSON struct {
	URL                  string   `json:"url"`
	ID                   int64    `json:"id"`
	UserID               int      `json:"user_id"`
	Username             string   `json:"username"`
	Timestamp            string   `json:"timestamp"`
	MPCName              *string  `json:"mpc_name"`
	RA                   *float64 `json:"ra"`
	Dec                  *float64 `json:"dec"`
	MJDMin               *float64 `json:"mjd_min"`
	MJDMax               *float64 `json:"mjd_max"`
	RadecEpochYear       *string  `json:"radec_epoch_year"`
	PropermotionRA       *float64 `json:"propermotion_ra"`
	PropermotionDec      *float64 `json:"propermotion_dec"`
	UseReduced           bool     `json:"use_reduced"`
	Finished             bool     `json:"finished"`
	ResultURL            *string  `json:"result_url"`
	Comment              *string  `json:"comment"`
	SendEmail            bool     `json:"send_email"`
	StartTimestamp       *string  `json:"starttimestamp"`
	FinishTimestamp      *string  `json:"finishtimestamp"`
	ErrorMsg             *string  `json:"error_msg"`
	PreviewImageURL      *string  `json:"previewimage_url"`
	ParentTaskID         *int64   `json:"parent_task_id"`
	ParentTaskURL        *string  `json:"parent_task_url"`
	RequestType          string   `json:"request_type"`
	PDFPlotURL           *string  `json:"pdfplot_url"`
	QueuePos             *int     `json:"queuepos"`
	ImageRequestTaskID   *int64   `json:"imagerequest_task_id"`
	ImageRequestURL      *string  `json:"imagerequest_url"`
	ImageRequestFinished *bool    `json:"imagerequest_finished"`
	ResultImagestackURL  *string  `json:"result_imagestack_url"`
	ResultImagezipURL    *string  `json:"result_imagezip_url"`
	CallbackURL          *string  `json:"callback_url,omitempty"` // 2026 server; shown when set
}

// absBase is the absolute base URL as the request reached the server.
func (s *Server) absBase(r *http.Request) string {
	return "http://" + r.Host + s.opts.BasePath
}

func ts(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
	return &v
}

func str(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func (s *Server) taskJSONLocked(r *http.Request, t *task) taskJSON {
	base := s.absBase(r)
	j := taskJSON{
		URL: fmt.Sprintf("%s/queue/%d/", base, t.id), ID: t.id, UserID: t.owner.id, Username: t.owner.name,
		Timestamp: *ts(t.created), MPCName: str(t.mpcName), RA: t.ra, Dec: t.dec, MJDMin: t.mjdMin, MJDMax: t.mjdMax,
		RadecEpochYear: t.epoch, PropermotionRA: t.pmRA, PropermotionDec: t.pmDec, UseReduced: t.useReduced,
		Finished: !t.finished.IsZero(), Comment: t.comment, SendEmail: t.sendEmail,
		StartTimestamp: ts(t.started), FinishTimestamp: ts(t.finished), ErrorMsg: str(t.errorMsg), RequestType: "FP",
		CallbackURL: str(t.callbackURL),
	}
	switch {
	case !t.finished.IsZero():
		if t.errorMsg == "" {
			j.ResultURL = str(fmt.Sprintf("%s/static/results/job%05d.txt", base, t.id))
			j.PreviewImageURL = str(fmt.Sprintf("%s/static/results/job%05d.jpg", base, t.id))
			j.PDFPlotURL = str(fmt.Sprintf("%s/queue/%d/plot.pdf", base, t.id))
		}
	case !t.started.IsZero():
		zero := 0
		j.QueuePos = &zero
	default:
		p := s.queuePosLocked(t)
		j.QueuePos = &p
	}
	return j
}
