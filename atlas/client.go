package atlas

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/internal/redact"
	"github.com/tomgo/targetdata/internal/textscan"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultURL is the production server's base URL (no trailing slash).
const DefaultURL = "https://fallingstar-data.com/forcedphot"

// Task states, as Task.State derives them from the timestamps (the server
// has no status field, spec §4).
const (
	StateQueued   = "queued"   // not started
	StateRunning  = "running"  // started, not finished
	StateFinished = "finished" // finished with a result file
	StateFailed   = "failed"   // finished with an error message and no result
)

// NoDataMessage is the error_msg of a task whose cone had no measurements.
const NoDataMessage = "No data returned"

// ErrQueueFull is matched (with singletarget.ErrThrottled) by the error of
// a queue request refused because the account already has the maximum
// number (500) of tasks that have not started (spec §6).
var ErrQueueFull = errors.New("too many queued tasks")

// Client speaks the ATLAS forced-photometry API (spec: shared/services/atlas.md;
// upstream: https://fallingstar-data.com/forcedphot/apiguide/). Every
// request sends "Accept: application/json" and, to the configured host
// only, "Authorization: Token …". Redirects are never followed. Reads
// (task details, list pages, queue positions), writes (POST, DELETE) and
// result files go through separate HTTP clients, because the server
// throttles writes (60 a minute) and reads (600 a minute, 2026 server) per
// user in separate buckets, and result files not at all: after a 429 the
// client remembers the wait and fails further requests of that kind fast
// (with a *singletarget.ThrottledError) without blocking the others. The
// client paces both kinds itself too (Options.WriteRate, ReadRate).
//
// Methods return typed errors: *singletarget.ThrottledError (429, or the
// 500-task cap, which also matches ErrQueueFull), *ValidationError (400
// with field errors; matches singletarget.ErrInvalidForm),
// *singletarget.RemoteError (401/403 match ErrUnauthorized, 404
// ErrNotFound, 5xx ErrRemote), an error matching ErrUnauthorized for a
// redirect to the login page, one matching ErrRemote for HTML or malformed
// JSON where JSON was expected, and *TaskError for a task that finished
// with an error. When ctx is done, the error wraps ctx.Err().
//
// A Client is safe for concurrent use.
type Client struct {
	base   string   // no trailing slash
	origin *url.URL // scheme and host of base
	token  singletarget.Secret
	opts   Options
	read   *httpclient.Client // task details, list pages, queue positions
	files  *httpclient.Client // result files (static files, not throttled)
	write  *httpclient.Client
	pace   *pacer // writes; nil when Options.WriteRate is -1
	rpace  *pacer // reads; nil when Options.ReadRate is -1
	etags  *etagCache
}

// New returns a client for the server at baseURL (e.g. DefaultURL; a
// trailing slash is ignored) authenticating with token, the 40-character
// API token of the account. The token may be empty for ObtainToken and the
// public reads (Task, Download); Queue and Delete then fail with an error
// matching singletarget.ErrUnauthorized.
func New(baseURL string, token singletarget.Secret, opts *Options) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("atlas: base URL %q must be an absolute http(s) URL without credentials, query or fragment", redact.BaseURL(singletarget.Redact(baseURL, token)))
	}
	if strings.ContainsAny(token.Reveal(), " \t\r\n") {
		return nil, errors.New("atlas: the API token contains white space")
	}
	c := &Client{base: base, origin: &url.URL{Scheme: u.Scheme, Host: u.Host}, token: token, opts: o}
	c.init()
	return c, nil
}

// init makes the client's HTTP clients, pacing and cache.
func (c *Client) init() {
	c.read = c.httpClient(nil)
	c.files = c.httpClient(nil)
	c.write = c.httpClient(nil)
	c.pace = newWritePacer(c.opts.WriteRate, c.opts.WriteWindow, c.opts.Now)
	c.rpace = newReadPacer(c.opts.ReadRate, c.opts.ReadWindow, c.opts.Now)
	c.etags = newETagCache()
}

func (c *Client) httpClient(extra []singletarget.Secret) *httpclient.Client {
	return httpclient.New(httpclient.Options{
		Service:      ServiceName,
		HTTPClient:   c.opts.HTTPClient,
		Timeout:      c.opts.Timeout,
		RetryMax:     c.opts.RetryMax,
		RetryWaitMin: c.opts.RetryWaitMin,
		RetryWaitMax: c.opts.RetryWaitMax,
		// A 429 is never waited out inside a request: the caller (the
		// Manager, an executor, or QueueAndWait) waits and reports it.
		MaxRetryAfter:      time.Nanosecond,
		MaxBodySize:        c.opts.MaxResultSize,
		UserAgent:          c.opts.UserAgent,
		NoRedirects:        true,
		Logger:             c.opts.Logger,
		Secrets:            append([]singletarget.Secret{c.token}, extra...),
		RetryAfterFromBody: ParseRetryAfter,
		Now:                c.opts.Now,
	})
}

// WithToken returns a client like c that authenticates with token (for
// instance one from ObtainToken). It shares nothing mutable with c.
func (c *Client) WithToken(token singletarget.Secret) *Client {
	n := &Client{base: c.base, origin: c.origin, token: token, opts: c.opts}
	n.init()
	return n
}

// BaseURL returns the base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// TaskURL returns the URL of task id: {base}/queue/{id}/.
func (c *Client) TaskURL(id int64) string { return fmt.Sprintf("%s/queue/%d/", c.base, id) }

// PollDelay is the client's poll policy: the wait before the next look at
// a task in state (StateQueued or StateRunning) after n looks in that
// state (n = 0 right after queueing or a change of state): PollQueued or
// PollRunning times PollGrowth to the n, at most PollMax.
func (c *Client) PollDelay(state string, n int) time.Duration { return c.opts.pollDelay(state, n) }

// WriteBlockedFor reports how long writes (Queue, Delete) will still fail
// fast because of an earlier 429 or the client-side pacing
// (Options.WriteRate); 0 when one would be sent now.
func (c *Client) WriteBlockedFor() time.Duration { return max(c.write.BlockedFor(), c.pace.delay()) }

// ReadBlockedFor reports how long reads (Task, Tasks, QueuePositions)
// will still fail fast because of an earlier 429 or the client-side pacing
// (Options.ReadRate); 0 when one would be sent now.
func (c *Client) ReadBlockedFor() time.Duration { return max(c.read.BlockedFor(), c.rpace.delay()) }

// sendRead sends a read through the account's read pacing: a read the
// pacing holds back fails fast with a *singletarget.ThrottledError.
func (c *Client) sendRead(ctx context.Context, req *httpclient.Request, want ...int) (*httpclient.Response, error) {
	if c.rpace != nil && c.read.BlockedFor() <= 0 {
		if wait := c.rpace.acquire(false); wait > 0 {
			return nil, c.rpace.throttled(wait)
		}
		defer c.rpace.finish()
	}
	return c.send(ctx, c.read, req, want...)
}

// getJSON reads a JSON answer with a conditional GET: it sends the ETag of
// the last answer for this URL (If-None-Match) and, on 304, decodes that
// answer again.
func (c *Client) getJSON(ctx context.Context, target string, into any) error {
	h := c.headers(target, "application/json")
	cached, hasCached := c.etags.get(target)
	if hasCached {
		h.Set("If-None-Match", cached.etag)
	}
	req := &httpclient.Request{Method: http.MethodGet, URL: target, Header: h}
	resp, err := c.sendRead(ctx, req, http.StatusOK, http.StatusNotModified)
	if err != nil {
		return err
	}
	if resp.Status == http.StatusNotModified {
		if !hasCached {
			return fmt.Errorf("%s: GET %s: %w: 304 Not Modified without a conditional request", ServiceName, c.read.RedactURL(target), singletarget.ErrRemote)
		}
		return c.decodeJSON(req, &httpclient.Response{Status: http.StatusOK, Header: cached.header, Body: cached.body}, into)
	}
	if err := c.decodeJSON(req, resp, into); err != nil {
		return err
	}
	if etag := resp.Header.Get("ETag"); etag != "" {
		c.etags.put(target, etagEntry{etag: etag, header: resp.Header, body: resp.Body})
	} else if hasCached {
		c.etags.drop(target)
	}
	return nil
}

// sendWrite sends a write through the account's pacing: a write the
// pacing holds back fails fast with a *singletarget.ThrottledError. It
// reports whether the answer was the server's own 429.
func (c *Client) sendWrite(ctx context.Context, req *httpclient.Request, want ...int) (*httpclient.Response, bool, error) {
	blocked := c.write.BlockedFor() > 0 // fails fast in send, reaching nothing
	if c.pace != nil && !blocked {
		if wait := c.pace.acquire(req.Method == http.MethodPost); wait > 0 {
			return nil, false, c.pace.throttled(wait)
		}
		defer c.pace.finish()
	}
	resp, err := c.send(ctx, c.write, req, want...)
	var te *singletarget.ThrottledError
	server429 := !blocked && errors.As(err, &te) && te.Err == nil && ctx.Err() == nil
	return resp, server429, err
}

var availableIn = regexp.MustCompile(`available in (\d+) (second|minute)`)

// ParseRetryAfter reads the wait from a 429 body such as
// {"detail": "Request was throttled. Expected available in 37 seconds."}
// ("1 second" in the singular; "minutes" is accepted too though Django REST
// framework never writes it).
func ParseRetryAfter(body []byte) (time.Duration, bool) {
	m := availableIn.FindSubmatch(body)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n < 0 || n > 1e6 {
		return 0, false
	}
	unit := time.Second
	if string(m[2]) == "minute" {
		unit = time.Minute
	}
	return time.Duration(n) * unit, true
}

// headers returns the request headers; the token goes only to the
// configured host.
func (c *Client) headers(target string, accept string) http.Header {
	h := http.Header{}
	h.Set("Accept", accept)
	if !c.token.IsZero() && c.sameOrigin(target) {
		h.Set("Authorization", "Token "+c.token.Reveal())
	}
	return h
}

func (c *Client) sameOrigin(target string) bool {
	u, err := url.Parse(target)
	return err == nil && httpclient.SameOrigin(u, c.origin)
}

func (c *Client) needToken(op string) error {
	if c.token.IsZero() {
		return fmt.Errorf("%s: %s: %w: no API token configured", ServiceName, op, singletarget.ErrUnauthorized)
	}
	return nil
}

// send runs one request and maps every non-success answer to a typed
// error. want lists the success statuses.
func (c *Client) send(ctx context.Context, hc *httpclient.Client, req *httpclient.Request, want ...int) (*httpclient.Response, error) {
	resp, err := hc.Do(ctx, req)
	if err != nil {
		if resp != nil && resp.Status == http.StatusBadRequest {
			if verr := c.badRequest(req, resp); verr != nil {
				return nil, verr
			}
		}
		return nil, err
	}
	if err := c.answerError(hc, req, resp, want...); err != nil {
		return nil, err
	}
	return resp, nil
}

// answerError maps an answer that is not one of the success statuses in
// want to a typed error: a redirect to the login page (refused token),
// another redirect, another status.
func (c *Client) answerError(hc *httpclient.Client, req *httpclient.Request, resp *httpclient.Response, want ...int) error {
	for _, w := range want {
		if resp.Status == w { // 304 Not Modified included, when asked for
			return nil
		}
	}
	if resp.Status >= 300 && resp.Status < 400 {
		loc := resp.Header.Get("Location")
		if strings.Contains(loc, "/api-auth/login/") || strings.Contains(loc, "/accounts/login") {
			return fmt.Errorf("%s: %s %s: %w: the server redirected to its login page (HTTP %d): the token was refused",
				ServiceName, req.Method, hc.RedactURL(req.URL), singletarget.ErrUnauthorized, resp.Status)
		}
		return fmt.Errorf("%s: %s %s: %w: unexpected redirect (HTTP %d) to %q",
			ServiceName, req.Method, hc.RedactURL(req.URL), singletarget.ErrRemote, resp.Status, hc.RedactURL(loc))
	}
	return fmt.Errorf("%s: %s %s: %w: unexpected HTTP %d %s", ServiceName, req.Method, hc.RedactURL(req.URL),
		singletarget.ErrRemote, resp.Status, http.StatusText(resp.Status))
}

// decodeJSON decodes a JSON answer, refusing HTML and malformed bodies.
func (c *Client) decodeJSON(req *httpclient.Request, resp *httpclient.Response, into any) error {
	body := bytes.TrimSpace(resp.Body)
	if resp.IsHTML() || bytes.HasPrefix(body, []byte("<")) {
		return fmt.Errorf("%s: %s %s: %w: the server answered HTML where JSON was expected (HTTP %d)",
			ServiceName, req.Method, c.read.RedactURL(req.URL), singletarget.ErrRemote, resp.Status)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%s: %s %s: %w: malformed JSON (HTTP %d): %v",
			ServiceName, req.Method, c.read.RedactURL(req.URL), singletarget.ErrRemote, resp.Status, err)
	}
	return nil
}

// ValidationError is a 400 answer that lists what the server refused,
// field by field (spec §3.1), e.g. {"dec": ["ra was set but dec is
// missing."]}. It matches singletarget.ErrInvalidForm.
type ValidationError struct {
	// Method and URL are the request's.
	Method, URL string
	// Fields maps the server's field names ("non_field_errors" for the
	// request as a whole) to their messages.
	Fields map[string][]string
}

// Error implements error.
func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: the server refused the request", ServiceName, e.Method, e.URL)
	for i, k := range names {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if k != "non_field_errors" {
			b.WriteString(k)
			b.WriteString(": ")
		}
		b.WriteString(strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// Is matches singletarget.ErrInvalidForm (and so its category
// singletarget.ErrInvalidInput).
func (e *ValidationError) Is(target error) bool {
	return target == singletarget.ErrInvalidForm || target == singletarget.ErrInvalidInput
}

// badRequest interprets a 400 JSON body: field errors, or the 500-task cap.
// It returns nil for a body that is not a JSON object.
func (c *Client) badRequest(req *httpclient.Request, resp *httpclient.Response) error {
	var raw map[string]json.RawMessage
	if resp.IsHTML() || json.Unmarshal(resp.Body, &raw) != nil || len(raw) == 0 {
		return nil
	}
	fields := map[string][]string{}
	for k, v := range raw {
		var list []string
		var one string
		switch {
		case json.Unmarshal(v, &list) == nil:
		case json.Unmarshal(v, &one) == nil:
			list = []string{one}
		default:
			list = []string{string(v)}
		}
		// The server may quote what it was sent: keep no credential.
		for i := range list {
			list[i] = c.read.Redact(list[i])
		}
		fields[c.read.Redact(k)] = list
	}
	for _, msg := range fields["non_field_errors"] {
		if strings.Contains(msg, "too many queued tasks") {
			return &singletarget.ThrottledError{Service: ServiceName, RetryAfter: c.opts.QueueFullWait,
				Detail: c.read.Redact(msg), Err: ErrQueueFull}
		}
	}
	return &ValidationError{Method: req.Method, URL: c.read.RedactURL(req.URL), Fields: fields}
}

// ObtainToken asks the server for the account's API token
// (POST {base}/api-token-auth/, spec §1.1). The server returns the same
// token on every call until the user rotates it. Wrong credentials give an
// error matching singletarget.ErrUnauthorized. The password never appears
// in logs or errors.
func (c *Client) ObtainToken(ctx context.Context, username string, password singletarget.Secret) (singletarget.Secret, error) {
	if username == "" || password.IsZero() {
		return "", fmt.Errorf("%s: obtain token: %w: username and password are required", ServiceName, singletarget.ErrUnauthorized)
	}
	hc := c.httpClient([]singletarget.Secret{password})
	form := url.Values{"username": {username}, "password": {password.Reveal()}}
	req := &httpclient.Request{Method: http.MethodPost, URL: c.base + "/api-token-auth/", Body: []byte(form.Encode()),
		Header: http.Header{"Accept": {"application/json"}, "Content-Type": {"application/x-www-form-urlencoded"}},
		// Asking twice returns the same token: safe to retry.
		Idempotent: true}
	resp, err := c.send(ctx, hc, req, http.StatusOK)
	if err != nil {
		var verr *ValidationError
		if errors.As(err, &verr) {
			return "", fmt.Errorf("%s: obtain token: %w: %s", ServiceName, singletarget.ErrUnauthorized, hc.Redact(verr.Error()))
		}
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := c.decodeJSON(req, resp, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("%s: obtain token: %w: the answer holds no token", ServiceName, singletarget.ErrRemote)
	}
	return singletarget.Secret(out.Token), nil
}

// QueueRequest is one forced-photometry request (spec §3).
type QueueRequest struct {
	// RA and Dec are the target's ICRS coordinates in degrees.
	RA, Dec float64
	// MJDMin is the start of the window (MJD, UTC). Nil leaves it to the
	// server, which then uses the last 30 days.
	MJDMin *float64
	// MJDMax is the end of the window; nil means up to now.
	MJDMax *float64
	// UseReduced asks for photometry on the reduced (not difference)
	// images; false (the default) is difference imaging, best for
	// transients.
	UseReduced bool
	// RadecEpochYear is the epoch of RA/Dec for proper motion (e.g. 2016.0),
	// sent with one decimal place; nil omits it.
	RadecEpochYear *float64
	// PropermotionRA and PropermotionDec are proper motions in mas/yr; nil
	// omits them.
	PropermotionRA, PropermotionDec *float64
	// Comment is a free text (at most 300 characters).
	Comment string
	// CallbackURL, when set, is the https URL the server POSTs to once
	// when the task finishes (2026 server, spec §3; see
	// Options.CallbackURL).
	CallbackURL string
}

// Validate checks the request before it is sent; the *FormErrors names
// the server's fields (ra, dec, mjd_min, mjd_max, ...).
func (q QueueRequest) Validate() error {
	var errs singletarget.FormErrors
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(q.RA) || q.RA < 0 || q.RA >= 360 {
		errs.Add("ra", fmt.Sprintf("must be in [0, 360) degrees, not %v", q.RA))
	}
	if !finite(q.Dec) || q.Dec < -90 || q.Dec > 90 {
		errs.Add("dec", fmt.Sprintf("must be in [-90, 90] degrees, not %v", q.Dec))
	}
	if q.MJDMin != nil && !finite(*q.MJDMin) {
		errs.Add("mjd_min", "must be a finite MJD")
	}
	if q.MJDMax != nil {
		switch {
		case !finite(*q.MJDMax) || *q.MJDMax <= 0:
			errs.Add("mjd_max", "must be a positive MJD")
		case q.MJDMin != nil && *q.MJDMax <= *q.MJDMin:
			errs.Add("mjd_max", fmt.Sprintf("must be greater than mjd_min (%v)", *q.MJDMin))
		}
	}
	for name, v := range map[string]*float64{"radec_epoch_year": q.RadecEpochYear, "propermotion_ra": q.PropermotionRA, "propermotion_dec": q.PropermotionDec} {
		if v != nil && !finite(*v) {
			errs.Add(name, "must be a finite number")
		}
	}
	if len(q.Comment) > 300 {
		errs.Add("comment", "must be at most 300 characters")
	}
	if q.CallbackURL != "" {
		if err := checkCallbackURL(q.CallbackURL); err != nil {
			errs.Add("callback_url", err.Error())
		}
	}
	return errs.Err()
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// form encodes the request as the API guide and the TOM Toolkit send it.
func (q QueueRequest) form() url.Values {
	v := url.Values{}
	v.Set("ra", formatFloat(q.RA))
	v.Set("dec", formatFloat(q.Dec))
	if q.MJDMin != nil {
		v.Set("mjd_min", formatFloat(*q.MJDMin))
	}
	if q.MJDMax != nil {
		v.Set("mjd_max", formatFloat(*q.MJDMax))
	}
	v.Set("use_reduced", strconv.FormatBool(q.UseReduced))
	v.Set("send_email", "false")
	if q.RadecEpochYear != nil {
		v.Set("radec_epoch_year", strconv.FormatFloat(*q.RadecEpochYear, 'f', 1, 64))
	}
	if q.PropermotionRA != nil {
		v.Set("propermotion_ra", formatFloat(*q.PropermotionRA))
	}
	if q.PropermotionDec != nil {
		v.Set("propermotion_dec", formatFloat(*q.PropermotionDec))
	}
	if q.Comment != "" {
		v.Set("comment", q.Comment)
	}
	if q.CallbackURL != "" {
		v.Set("callback_url", q.CallbackURL)
	}
	return v
}

// Queue creates a task (POST {base}/queue/, spec §3). The request is
// never retried: a retry could queue a second remote task. A 429 comes
// back at once as a *singletarget.ThrottledError carrying the server's
// wait (matching singletarget.ErrConcurrencyLimit too when
// Options.LearnActiveLimit); so does the 500-task cap (matching
// ErrQueueFull too), and a write the client-side pacing holds back
// (Options.WriteRate), which is not sent.
func (c *Client) Queue(ctx context.Context, q QueueRequest) (*Task, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: queue: %w", ServiceName, err)
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := c.needToken("queue"); err != nil {
		return nil, err
	}
	target := c.base + "/queue/"
	h := c.headers(target, "application/json")
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	req := &httpclient.Request{Method: http.MethodPost, URL: target, Header: h, Body: []byte(q.form().Encode())}
	resp, server429, err := c.sendWrite(ctx, req, http.StatusCreated)
	if err != nil {
		var te *singletarget.ThrottledError
		if server429 && c.opts.LearnActiveLimit && errors.As(err, &te) {
			te.Err = singletarget.ErrConcurrencyLimit
		}
		return nil, err
	}
	var t Task
	err = c.decodeJSON(req, resp, &t)
	c.redactTask(&t)
	if err != nil || t.ID <= 0 {
		// The task exists: fall back on the Location header.
		if id, ok := taskIDFromURL(resp.Header.Get("Location")); ok {
			c.opts.Logger.WarnContext(ctx, "ATLAS queue answer unreadable; using its Location header", "task", id, "error", err)
			return &Task{ID: id, URL: c.TaskURL(id)}, nil
		}
		if err == nil {
			err = fmt.Errorf("%s: POST %s: %w: the answer has no task id", ServiceName, target, singletarget.ErrRemote)
		}
		return nil, fmt.Errorf("%w (a remote task may have been created)", err)
	}
	if t.URL == "" {
		t.URL = c.TaskURL(t.ID)
	}
	return &t, nil
}

// redactTask removes the client's credentials from the texts of a task the
// server described (its error message and comment may quote them). The
// result URL is left as it is: it is fetched, and httpclient redacts the URLs
// it logs or reports.
func (c *Client) redactTask(t *Task) {
	t.ErrorMsg, t.Comment, t.URL = c.read.Redact(t.ErrorMsg), c.read.Redact(t.Comment), c.read.Redact(t.URL)
}

// taskIDFromURL reads the id of ".../queue/<id>/".
func taskIDFromURL(u string) (int64, bool) {
	p, err := url.Parse(u)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(strings.Trim(p.Path, "/"), "/")
	if len(parts) < 2 || parts[len(parts)-2] != "queue" {
		return 0, false
	}
	id, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	return id, err == nil && id > 0
}

// Task reads task id (GET {base}/queue/{id}/, spec §4). It sends the
// ETag of the last answer about the task (If-None-Match): a 304 (no
// change, 2026 server) returns that answer again. A task that no longer
// exists (deleted, or purged 31 days after finishing) gives a
// *singletarget.RemoteError matching singletarget.ErrNotFound. Reads are
// paced (Options.ReadRate).
func (c *Client) Task(ctx context.Context, id int64) (*Task, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: task %d: %w", ServiceName, id, err)
	}
	target := c.TaskURL(id)
	var t Task
	if err := c.getJSON(ctx, target, &t); err != nil {
		if errors.Is(err, singletarget.ErrNotFound) {
			c.etags.drop(target)
		}
		return nil, err
	}
	c.redactTask(&t)
	if t.ID != id {
		return nil, fmt.Errorf("%s: GET %s: %w: the answer describes task %d", ServiceName, target, singletarget.ErrRemote, t.ID)
	}
	return &t, nil
}

// maxListPages bounds the pages Tasks reads.
const maxListPages = 50

// ListPageSize is the page size Tasks asks for (?pagesize=, the server's
// most).
const ListPageSize = 100

// Tasks lists the account's tasks (GET {base}/queue/?pagesize=100, spec
// §2): every task not deleted, in the server's order (newest first),
// following the pagination's "next" links on the same host, at most 50
// pages. Each page is a paced read sent with the ETag of its last answer
// (a 304 reuses that answer). stop, when not nil, is called on each task
// in turn and ends the listing early when it returns true (the tasks seen
// so far, that one included, are returned). The answer may be a paginated
// object ({"next", "results", ...}) or a plain JSON list.
func (c *Client) Tasks(ctx context.Context, stop func(Task) bool) ([]Task, error) {
	if err := c.needToken("list tasks"); err != nil {
		return nil, err
	}
	target := c.base + "/queue/?pagesize=" + strconv.Itoa(ListPageSize)
	var out []Task
	for page := 0; target != ""; page++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: list tasks: %w", ServiceName, err)
		}
		if page == maxListPages {
			return out, fmt.Errorf("%s: list tasks: %w: more than %d pages", ServiceName, singletarget.ErrRemote, maxListPages)
		}
		var paged listPage
		if err := c.getJSON(ctx, target, &paged); err != nil {
			return nil, err
		}
		for _, t := range paged.Results {
			c.redactTask(&t)
			out = append(out, t)
			if stop != nil && stop(t) {
				return out, nil
			}
		}
		target = ""
		if paged.Next != nil && *paged.Next != "" {
			if !c.sameOrigin(*paged.Next) {
				return nil, fmt.Errorf("%s: list tasks: %w: the next page %q is on another host", ServiceName, singletarget.ErrRemote, c.read.RedactURL(*paged.Next))
			}
			target = *paged.Next
		}
	}
	return out, nil
}

// listPage is one page of the task list: a paginated object, or a plain
// list.
type listPage struct {
	Next    *string `json:"next"`
	Results []Task  `json:"results"`
}

// UnmarshalJSON accepts both forms.
func (p *listPage) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &p.Results)
	}
	type plain listPage
	return json.Unmarshal(b, (*plain)(p))
}

// QueuePositions reads GET {base}/queuepositions.json (2026 server, spec
// §2): the position in the global queue (0 = next) of each of the
// account's unfinished tasks, by task id. A server without the endpoint
// answers 404 (an error matching singletarget.ErrNotFound). It is a paced
// read.
func (c *Client) QueuePositions(ctx context.Context) (map[int64]int, error) {
	if err := c.needToken("queue positions"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: queue positions: %w", ServiceName, err)
	}
	target := c.base + "/queuepositions.json"
	req := &httpclient.Request{Method: http.MethodGet, URL: target, Header: c.headers(target, "application/json")}
	resp, err := c.sendRead(ctx, req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var out struct {
		Positions map[string]int `json:"queuepositions"`
	}
	if err := c.decodeJSON(req, resp, &out); err != nil {
		return nil, err
	}
	pos := make(map[int64]int, len(out.Positions))
	for k, v := range out.Positions {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil && id > 0 {
			pos[id] = v
		}
	}
	return pos, nil
}

// Download fetches a finished task's result file (GET result_url, spec §5)
// into memory and checks that it is one, as DownloadTo does. Prefer
// DownloadTo for anything but small files: Download holds the whole file.
func (c *Client) Download(ctx context.Context, resultURL string) ([]byte, error) {
	var buf bytes.Buffer
	err := c.DownloadTo(ctx, resultURL, func(r io.Reader) error {
		buf.Reset() // a body that broke off is fetched again
		_, err := buf.ReadFrom(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DownloadTo streams a finished task's result file (GET result_url, spec
// §5) to consume (typically a ProductSink's PutProduct), checking it as it
// flows, so that a file of any size costs the same small memory. The
// reader consume gets fails, and DownloadTo returns an error saying why,
// when the file is not an ATLAS result file: an HTML page, an empty body
// or a first line that is not the ###MJD header (on the first Read),
// or a body that does not end with a newline (cut short; at the end), all
// matching singletarget.ErrRemote; a header without rows matches
// singletarget.ErrNotFound. A body over Options.MaxResultSize fails at
// the cap (singletarget.ErrRemote and httpclient.ErrBodyTooLarge). A body that
// breaks off is fetched again and consume called afresh (PutProduct stores
// nothing from a reader that fails). The token is sent only if resultURL
// is on the configured host (the file is public).
func (c *Client) DownloadTo(ctx context.Context, resultURL string, consume func(io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: download: %w", ServiceName, err)
	}
	u, err := url.Parse(resultURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: download: %w: result URL %q is not an absolute http(s) URL", ServiceName, singletarget.ErrRemote, c.read.RedactURL(resultURL))
	}
	req := &httpclient.Request{Method: http.MethodGet, URL: resultURL, Header: c.headers(resultURL, "text/plain, */*;q=0.1")}
	return c.files.Fetch(ctx, req, func(resp *httpclient.Response, body io.Reader) error {
		if err := c.answerError(c.files, req, resp, http.StatusOK); err != nil {
			return err
		}
		chk := &resultCheck{r: bufio.NewReaderSize(body, 64<<10), html: resp.IsHTML()}
		err := consume(chk)
		if chk.err != nil {
			return fmt.Errorf("%s: GET %s: %w", ServiceName, c.read.RedactURL(resultURL), chk.err)
		}
		return err
	})
}

// resultCheck passes a result file through, failing its Read when the
// file is not one (see DownloadTo). It scans the bytes once: the leading
// white space and the header line, then until the first byte of a row.
type resultCheck struct {
	r     *bufio.Reader
	html  bool // the answer says it is HTML
	begun bool
	phase int  // 0: white space before the header, 1: the header line, 2: after it
	rows  bool // a non-space byte after the header line
	last  byte
	size  int64
	err   error
}

func (c *resultCheck) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if !c.begun {
		c.begun = true
		if err := c.checkStart(); err != nil {
			c.err = err
			return 0, err
		}
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.size += int64(n)
		c.last = p[n-1]
		c.scan(p[:n])
	}
	if err == io.EOF {
		switch {
		case c.last != '\n':
			c.err = fmt.Errorf("%w: the result file does not end with a newline: cut short (%d bytes)", singletarget.ErrRemote, c.size)
		case !c.rows:
			c.err = fmt.Errorf("%w: the result file has a header and no rows", singletarget.ErrNotFound)
		}
		if c.err != nil {
			return n, c.err
		}
	}
	return n, err
}

// checkStart looks at the start of the file: not empty, not HTML, the
// ###MJD header first.
func (c *resultCheck) checkStart() error {
	head, err := c.r.Peek(c.r.Size())
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return err // a broken body: the caller asks again
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\v\f")
	switch {
	case len(trimmed) == 0 && err == io.EOF:
		return fmt.Errorf("%w: the result file is empty", singletarget.ErrRemote)
	case c.html || (len(trimmed) > 0 && trimmed[0] == '<'):
		return fmt.Errorf("%w: an HTML page instead of a result file", singletarget.ErrRemote)
	}
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	if !isHeader(textscan.TrimSpace(first)) {
		return fmt.Errorf("%w: not an ATLAS result file (the first line is not the ###MJD header)", singletarget.ErrRemote)
	}
	return nil
}

// scan follows the phases over the next bytes of the file.
func (c *resultCheck) scan(b []byte) {
	for i := 0; i < len(b) && !c.rows; i++ {
		space := textscan.IsSpace(b[i]) || b[i] == '\n' || b[i] == '\r'
		switch {
		case c.phase == 0 && !space:
			c.phase = 1
		case c.phase == 1 && b[i] == '\n':
			c.phase = 2
		case c.phase == 2 && !space:
			c.rows = true
		}
	}
}

// Delete deletes task id (DELETE {base}/queue/{id}/, spec §5): a finished
// task is archived and its files removed; a queued or running one is
// cancelled. A task that is already gone gives an error matching
// singletarget.ErrNotFound. Deletes count against the write throttle and
// go through the client-side pacing, as Queue does.
func (c *Client) Delete(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: delete task %d: %w", ServiceName, id, err)
	}
	if err := c.needToken("delete"); err != nil {
		return err
	}
	target := c.TaskURL(id)
	req := &httpclient.Request{Method: http.MethodDelete, URL: target, Header: c.headers(target, "application/json")}
	_, _, err := c.sendWrite(ctx, req, http.StatusNoContent, http.StatusOK, http.StatusAccepted)
	if err == nil || errors.Is(err, singletarget.ErrNotFound) {
		c.etags.drop(target)
	}
	return err
}

// TaskError is a task that finished with an error message and no result
// (spec §4). "No data returned" (nothing measured in the cone and window)
// matches singletarget.ErrNotFound; any other message matches
// singletarget.ErrTaskFailed.
type TaskError struct {
	// ID is the task's id.
	ID int64
	// Message is the server's error_msg.
	Message string
}

// Error implements error.
func (e *TaskError) Error() string {
	if e.Message == NoDataMessage {
		return fmt.Sprintf("%s: task %d: no data for this target and window (%q)", ServiceName, e.ID, e.Message)
	}
	return fmt.Sprintf("%s: task %d failed: %s", ServiceName, e.ID, e.Message)
}

// Is matches ErrNotFound for "No data returned", ErrTaskFailed (and so its
// category ErrRemote) otherwise.
func (e *TaskError) Is(target error) bool {
	if e.Message == NoDataMessage {
		return target == singletarget.ErrNotFound
	}
	return target == singletarget.ErrTaskFailed || target == singletarget.ErrRemote
}
