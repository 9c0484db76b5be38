// Package httpclient is the HTTP client of the built-in services, public
// so that a third party's service (see examples/customservice) behaves the
// same way: what the conformance suite (singletarget/servicetest) and the
// executors expect of a service's HTTP layer comes with it.
//
// It is hashicorp/go-retryablehttp configured deliberately:
//
//   - Retries of idempotent requests only. GET, HEAD, OPTIONS, PUT and
//     DELETE are retried after a connection error, a 5xx or a short 429,
//     with exponential backoff and jitter (Options.RetryMax,
//     RetryWaitMin, RetryWaitMax); a POST is sent exactly once unless
//     Request.Idempotent says it is safe (a search), so a POST that queues
//     remote work is never repeated. A body that breaks off while being
//     read is asked for again the same way.
//   - Retry-After, in seconds or as an HTTP date (or read from the body by
//     Options.RetryAfterFromBody, for servers that write "available in N
//     seconds"), sets the wait before a retry. A wait longer than
//     Options.MaxRetryAfter is not slept inside the request: it comes back
//     at once, so that a service's Query returns and the Manager or the
//     executor waits (and reports the wait as progress).
//   - A final 429 is a *singletarget.ThrottledError with the server's
//     wait; the Client remembers the wait, and requests sent before it is
//     over fail fast with a ThrottledError without reaching the server.
//     With Options.ThrottleOn503, a final 503 that announces a wait is a
//     ThrottledError too. Any other status of 400 or more is a
//     *singletarget.RemoteError (matching singletarget.ErrUnauthorized,
//     ErrNotFound or ErrRemote by status); a connection failure or a
//     broken body matches singletarget.ErrRemote; a done context gives an
//     error wrapping ctx.Err().
//   - Size caps: Do reads at most Options.MaxBodySize bytes and Stream's
//     body fails past it (ErrBodyTooLarge, matching ErrRemote) instead of
//     being cut short silently. Fetch hands a body to a consumer (a
//     ProductSink's PutProduct) as a stream, capped while it flows, and
//     asks again when it breaks off: a result file of any size is never
//     held in memory.
//   - Redirects are followed only within the origin of the request (the
//     same scheme, host and port): one to another origin fails with
//     ErrRedirect and sends nothing there, so no credential crosses it
//     (Options.NoRedirects hands redirects back instead; SameOrigin is
//     the test).
//   - Redaction: Options.Secrets, the userinfo of URLs and the values of
//     credential parameters (Options.RedactParams) never appear in logs
//     or errors; Redact and RedactURL do the same for the caller's own
//     messages.
//   - A User-Agent naming the library, per-attempt timeouts, an optional
//     client-side request rate (Options.Limiter), and debug logs through
//     the caller's slog.Logger (nothing on stderr).
//
// The package imports singletarget for its error types; singletarget does
// not import it, so a service package may import both.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	targetdata "github.com/tomgo/targetdata"
	"github.com/tomgo/targetdata/internal/redact"
	"github.com/tomgo/targetdata/singletarget"
)

// UserAgent is the default User-Agent: the library's name, version and
// address.
var UserAgent = "targetdata/" + targetdata.Version + " (+https://github.com/tomgo/targetdata)"

// DefaultRedactParams are query-string and form parameter names whose
// values never appear in logs or errors (compared without regard to case).
// Options.RedactParams replaces the list: to extend it, append to a copy
// (slices.Clone).
var DefaultRedactParams = redact.SecretParams()

// ErrRedirect is matched (with singletarget.ErrRemote) by the error of a
// request the server redirected to another origin, or around in circles
// (see Options.NoRedirects).
var ErrRedirect = errors.New("redirect not followed")

// maxRedirects is how many redirects in a row are followed.
const maxRedirects = 10

// sameOriginRedirects is the http.Client CheckRedirect policy: follow
// a redirect only to the origin of the first request.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects", ErrRedirect, maxRedirects)
	}
	from := via[0].URL
	if !SameOrigin(req.URL, from) {
		return fmt.Errorf("%w: the server redirected to another origin (%s://%s); credentials are never sent there",
			ErrRedirect, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// SameOrigin reports whether a and b have the same scheme, host and port
// (an absent port is the scheme's default): where a service's credentials
// may go.
func SameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		switch strings.ToLower(u.Scheme) {
		case "http":
			return "80"
		case "https":
			return "443"
		}
		return ""
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// ErrBodyTooLarge is returned (wrapped, with singletarget.ErrRemote) when
// a response is larger than Options.MaxBodySize: by Do, and by the body of
// a Stream response once it passes the cap.
var ErrBodyTooLarge = errors.New("response body larger than the cap")

// Options configure a Client. The zero value gives the defaults noted on
// each field.
type Options struct {
	// Service names the service in errors and logs, e.g. "ATLAS".
	Service string
	// HTTPClient supplies the transport (tests pass a simulator's client or
	// an httpmock transport). Default: a pooled client from go-cleanhttp.
	// Its Timeout is replaced by Timeout.
	HTTPClient *http.Client
	// Timeout bounds each attempt, body included. Default 2 minutes.
	Timeout time.Duration
	// RetryMax is the number of retries of an idempotent request after a
	// connection error, a 5xx or a short 429. Default 4; -1 disables.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff. Defaults 1 s, 30 s.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest server-requested wait that is waited out
	// inside a retry; a longer one ends the request with a ThrottledError.
	// Default RetryWaitMax; negative: never wait (every 429 comes back).
	MaxRetryAfter time.Duration
	// MaxBodySize caps a response body read by Do. Default 64 MiB.
	MaxBodySize int64
	// UserAgent is sent with every request. Default UserAgent.
	UserAgent string
	// NoRedirects makes redirects come back as responses instead of being
	// followed (ATLAS's legacy login redirect must be seen, not followed).
	// Otherwise a redirect is followed only within the origin of the
	// request (the same scheme, host and port; at most 10 in a row), so
	// that the request's credentials (an Authorization header, a cookie, a
	// password in the query string) are never sent anywhere else: one to
	// another origin (http instead of https, another port, another host or
	// subdomain) fails the request with an error matching
	// singletarget.ErrRemote and ErrRedirect, sending nothing there.
	NoRedirects bool
	// Logger receives debug logs of requests and retries. Default: discard.
	Logger *slog.Logger
	// Secrets are redacted from every log line and error.
	Secrets []singletarget.Secret
	// RedactParams are parameter names whose values are redacted from
	// logged and reported URLs. Default DefaultRedactParams.
	RedactParams []string
	// RetryAfterFromBody reads a wait from a 429 or 503 body when the
	// answer has no Retry-After header (ATLAS writes "Expected available
	// in N seconds."). Optional.
	RetryAfterFromBody func(body []byte) (time.Duration, bool)
	// Limiter, when set, is waited on before every attempt (a client-side
	// request rate, e.g. for MAST or IRSA).
	Limiter *rate.Limiter
	// ThrottleOn503 makes a final 503 that announces a wait (Retry-After,
	// or RetryAfterFromBody) a *singletarget.ThrottledError instead of a
	// *singletarget.RemoteError, for servers that answer 503 when they are
	// overloaded. Unlike a 429, the wait is not remembered.
	ThrottleOn503 bool
	// Now returns the current time (for HTTP-date Retry-After and the
	// remembered throttle). Default time.Now.
	Now func() time.Time
}

// Client sends requests. It is safe for concurrent use; share one per
// service (or per credential), so that a remembered 429 holds back every
// request of that service.
type Client struct {
	opts Options
	rc   *retryablehttp.Client

	mu           sync.Mutex
	blockedUntil time.Time
	blockDetail  string
}

type ctxKey int

const (
	keyNoRetry ctxKey = iota
)

// New returns a Client configured by opts (see Options for the defaults).
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	switch {
	case opts.RetryMax == 0:
		opts.RetryMax = 4
	case opts.RetryMax < 0:
		opts.RetryMax = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = time.Second
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = 30 * time.Second
	}
	switch {
	case opts.MaxRetryAfter == 0:
		opts.MaxRetryAfter = opts.RetryWaitMax
	case opts.MaxRetryAfter < 0:
		opts.MaxRetryAfter = 0 // never wait out a server-requested pause inside a request
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = 64 << 20
	}
	if opts.UserAgent == "" {
		opts.UserAgent = UserAgent
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RedactParams == nil {
		opts.RedactParams = DefaultRedactParams
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	base := cleanhttp.DefaultPooledClient()
	if opts.HTTPClient != nil {
		cp := *opts.HTTPClient
		base = &cp
	}
	base.Timeout = opts.Timeout
	if opts.NoRedirects {
		base.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	} else {
		base.CheckRedirect = sameOriginRedirects
	}
	c := &Client{opts: opts}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = base
	rc.RetryMax = opts.RetryMax
	rc.RetryWaitMin = opts.RetryWaitMin
	rc.RetryWaitMax = opts.RetryWaitMax
	rc.Logger = &leveled{c: c}
	rc.CheckRetry = c.checkRetry
	rc.Backoff = c.backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	if opts.Limiter != nil {
		// The first attempt waits in send; each retry waits here, and a
		// wait that cannot finish before the deadline ends the request.
		rc.PrepareRetry = func(req *http.Request) error { return c.pace(req.Context()) }
	}
	c.rc = rc
	return c
}

// Request is one request. Body is kept in memory so that retries can
// resend it; set the Content-Type in Header.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Idempotent allows retries. GET, HEAD, OPTIONS, PUT and DELETE are
	// idempotent whatever this says; set it for a POST that is (a search).
	// A POST that creates something remotely must leave it false.
	Idempotent bool
}

func (r *Request) idempotent() bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return r.Idempotent
}

// Response is a response whose body has been read (Do).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// URL is the final URL (after redirects), redacted.
	URL string
}

// IsHTML reports whether the response claims to be HTML (an error or login
// page where JSON was expected).
func (r *Response) IsHTML() bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "text/html")
}

// Do sends the request and reads the whole body (capped by MaxBodySize).
// A status of 400 or more gives both the response and a typed error:
// *singletarget.ThrottledError for 429, *singletarget.RemoteError
// otherwise. Redirects not followed (NoRedirects) come back without error.
// When ctx is done the error wraps ctx.Err().
//
// A body that breaks off while being read (a reset connection, a truncated
// chunked answer) is asked for again, for idempotent requests, up to
// RetryMax times with the same backoff.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	var resp *http.Response
	var body []byte
	for attempt := 0; ; attempt++ {
		var err error
		resp, err = c.send(ctx, req)
		if err != nil {
			return nil, err
		}
		body, err = readCapped(resp.Body, c.opts.MaxBodySize)
		resp.Body.Close()
		if err == nil {
			break
		}
		if ctx.Err() != nil || errors.Is(err, ErrBodyTooLarge) || !req.idempotent() || attempt >= c.opts.RetryMax {
			return nil, c.wrapReadErr(ctx, req, err)
		}
		if err := c.pauseBeforeAgain(ctx, req, attempt, err); err != nil {
			return nil, err
		}
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, URL: c.finalURL(req, resp)}
	return out, c.statusError(req, out)
}

// finalURL is the URL, redacted, that resp came from (after redirects).
func (c *Client) finalURL(req *Request, resp *http.Response) string {
	if resp.Request != nil && resp.Request.URL != nil {
		return c.RedactURL(resp.Request.URL.String())
	}
	return c.RedactURL(req.URL)
}

// pauseBeforeAgain waits the backoff after attempt before a body that
// broke off (cause) is asked for again; when ctx ends first it returns
// the error Do and Fetch return then.
func (c *Client) pauseBeforeAgain(ctx context.Context, req *Request, attempt int, cause error) error {
	wait := c.backoff(c.opts.RetryWaitMin, c.opts.RetryWaitMax, attempt, nil)
	c.opts.Logger.DebugContext(ctx, "body broke off, asking again", "service", c.opts.Service,
		"url", c.RedactURL(req.URL), "error", c.Redact(cause.Error()), "wait", wait)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return c.wrapReadErr(ctx, req, ctx.Err())
	case <-t.C:
		return nil
	}
}

// errorAnswer reads the start of the body of an answer with a status of
// 400 or more, closes it, and returns the status's typed error.
func (c *Client) errorAnswer(req *Request, resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := readCapped(resp.Body, 64<<10)
	return c.statusError(req, &Response{Status: resp.StatusCode, Header: resp.Header, Body: body})
}

// Stream sends the request and returns the response with its body still
// open (for large downloads); the caller closes it. The body fails with
// ErrBodyTooLarge past MaxBodySize instead of being cut short silently; a
// body that breaks off fails with an error matching singletarget.ErrRemote
// (or wrapping ctx.Err() when ctx is done). Nothing is retried once the
// response is returned. A status of 400 or more gives a typed error as Do
// does (the body is then read and closed).
func (c *Client) Stream(ctx context.Context, req *Request) (*http.Response, error) {
	resp, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		return nil, c.errorAnswer(req, resp)
	}
	resp.Body = &cappedBody{body: trackedBody{r: resp.Body, left: c.opts.MaxBodySize}, rc: resp.Body, ctx: ctx, c: c, url: c.RedactURL(req.URL)}
	return resp, nil
}

// Fetch sends the request and hands the response's body to consume as a
// stream, so that a large result file goes where it belongs (a
// ProductSink) without being held in memory. The cap (MaxBodySize) is
// checked while the body flows: past it, a Read fails with an error
// matching ErrBodyTooLarge, and Fetch returns one that also matches
// singletarget.ErrRemote. The Response given to consume has no Body. A
// status of 400 or more gives a typed error as Do does, and consume is not
// called. When the body breaks off while consume reads it (a reset
// connection, an answer shorter than its Content-Length), an idempotent
// request is sent again, after the backoff, up to RetryMax times, and
// consume is called afresh with the new body: it must not keep anything
// from a failed call (PutProduct stores nothing from a reader that
// fails). Any other error of consume is returned as it is.
func (c *Client) Fetch(ctx context.Context, req *Request, consume func(resp *Response, body io.Reader) error) error {
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, req)
		if err != nil {
			return err
		}
		if resp.StatusCode >= 400 {
			return c.errorAnswer(req, resp)
		}
		tb := &trackedBody{r: resp.Body, left: c.opts.MaxBodySize}
		err = consume(&Response{Status: resp.StatusCode, Header: resp.Header, URL: c.finalURL(req, resp)}, tb)
		resp.Body.Close()
		switch {
		case err == nil:
			return nil
		case tb.tooLarge:
			return c.wrapReadErr(ctx, req, ErrBodyTooLarge)
		case tb.err == nil:
			return err // the consumer's own
		case ctx.Err() != nil || !req.idempotent() || attempt >= c.opts.RetryMax:
			return c.wrapReadErr(ctx, req, tb.err)
		}
		if err := c.pauseBeforeAgain(ctx, req, attempt, tb.err); err != nil {
			return err
		}
	}
}

// trackedBody caps a body and remembers why it failed: over the cap, or
// broken off (any read error but io.EOF).
type trackedBody struct {
	r        io.Reader
	left     int64
	tooLarge bool
	err      error
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.tooLarge {
		return 0, fmt.Errorf("%w: %w", singletarget.ErrRemote, ErrBodyTooLarge)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.tooLarge = true
		return n - 1, fmt.Errorf("%w: %w", singletarget.ErrRemote, ErrBodyTooLarge)
	}
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

func (c *Client) send(ctx context.Context, req *Request) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.checkBlocked(); err != nil {
		return nil, err
	}
	if err := c.pace(ctx); err != nil {
		return nil, err
	}
	if !req.idempotent() {
		ctx = context.WithValue(ctx, keyNoRetry, true)
	}
	var body any
	if req.Body != nil {
		body = req.Body
	}
	rreq, err := retryablehttp.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%s: bad request %s %s: %w", c.opts.Service, req.Method, c.RedactURL(req.URL), err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			rreq.Header.Add(k, v)
		}
	}
	if rreq.Header.Get("User-Agent") == "" {
		rreq.Header.Set("User-Agent", c.opts.UserAgent)
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.opts.Service, req.Method, c.RedactURL(req.URL), ctxErr)
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) && errors.Is(ue.Err, ErrRedirect) {
			return nil, fmt.Errorf("%s: %s %s: %w: %w", c.opts.Service, req.Method, c.RedactURL(req.URL), singletarget.ErrRemote, ue.Err)
		}
		return nil, fmt.Errorf("%s: %s %s: %w: %s", c.opts.Service, req.Method, c.RedactURL(req.URL),
			singletarget.ErrRemote, c.Redact(c.cleanErr(err).Error()))
	}
	return resp, nil
}

// pace waits on the client-side rate limit. A wait that would pass the
// context's deadline fails at once, as rate.Limiter.Wait does.
func (c *Client) pace(ctx context.Context) error {
	if c.opts.Limiter == nil {
		return nil
	}
	if err := c.opts.Limiter.Wait(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: waiting for the request rate: %w", c.opts.Service, ctxErr)
		}
		return fmt.Errorf("%s: waiting for the request rate: %w: %v", c.opts.Service, context.DeadlineExceeded, err)
	}
	return nil
}

// cleanErr replaces the URL inside a *url.Error by its redacted form.
func (c *Client) cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: c.RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}

func (c *Client) wrapReadErr(ctx context.Context, req *Request, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: reading %s: %w", c.opts.Service, c.RedactURL(req.URL), ctxErr)
	}
	if errors.Is(err, ErrBodyTooLarge) {
		return fmt.Errorf("%s: %s: %w: %w (cap %d bytes)", c.opts.Service, c.RedactURL(req.URL), singletarget.ErrRemote, ErrBodyTooLarge, c.opts.MaxBodySize)
	}
	return fmt.Errorf("%s: reading %s: %w: %s", c.opts.Service, c.RedactURL(req.URL), singletarget.ErrRemote, c.Redact(err.Error()))
}

// statusError maps a status of 400 or more to a typed error.
func (c *Client) statusError(req *Request, resp *Response) error {
	if resp.Status < 400 {
		return nil
	}
	body := c.Redact(string(resp.Body))
	if resp.Status == http.StatusTooManyRequests {
		wait, _ := c.retryAfter(resp.Header, resp.Body)
		detail := detailOf(body)
		c.block(wait, detail)
		return &singletarget.ThrottledError{Service: c.opts.Service, RetryAfter: wait, Detail: detail}
	}
	if resp.Status == http.StatusServiceUnavailable && c.opts.ThrottleOn503 {
		if wait, ok := c.retryAfter(resp.Header, resp.Body); ok {
			return &singletarget.ThrottledError{Service: c.opts.Service, RetryAfter: wait, Detail: detailOf(body)}
		}
	}
	return singletarget.NewRemoteError(c.opts.Service, req.Method, c.RedactURL(req.URL), resp.Status, []byte(body))
}

// detailOf extracts a JSON "detail" text, or returns a short body.
func detailOf(body string) string {
	if i := strings.Index(body, `"detail"`); i >= 0 {
		rest := body[i+len(`"detail"`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			rest = rest[j+1:]
			if k := strings.IndexByte(rest, '"'); k >= 0 {
				return rest[:k]
			}
		}
	}
	body = strings.TrimSpace(body)
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return body
}

// block remembers a server-imposed wait.
func (c *Client) block(wait time.Duration, detail string) {
	if wait <= 0 {
		return
	}
	until := c.opts.Now().Add(wait)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.blockedUntil) {
		c.blockedUntil, c.blockDetail = until, detail
	}
}

// checkBlocked fails fast while a remembered wait is running.
func (c *Client) checkBlocked() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if left := c.blockedUntil.Sub(c.opts.Now()); left > 0 {
		return &singletarget.ThrottledError{Service: c.opts.Service, RetryAfter: left.Round(time.Millisecond),
			Detail: "still waiting out the server's earlier answer: " + c.blockDetail}
	}
	return nil
}

// BlockedFor reports how long requests will still fail fast because of an
// earlier 429 (0 when not blocked). A service may check it before starting
// work that needs several requests.
func (c *Client) BlockedFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(0, c.blockedUntil.Sub(c.opts.Now()))
}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if noRetry, _ := ctx.Value(keyNoRetry).(bool); noRetry {
		return false, nil
	}
	if errors.Is(err, ErrRedirect) {
		return false, nil // the same request gets the same redirect
	}
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		// Keep the body readable for the caller and for the backoff.
		body, _ := readCapped(resp.Body, 64<<10)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		wait, ok := c.retryAfter(resp.Header, body)
		if ok && resp.Header.Get("Retry-After") == "" {
			resp.Header.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		if ok && wait > c.opts.MaxRetryAfter {
			return false, nil // too long to wait inside one request: the caller decides
		}
		return true, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if wait, ok := c.retryAfter(resp.Header, nil); ok {
			return wait
		}
	}
	d := float64(minWait) * math.Pow(2, float64(attempt))
	d = d * (0.75 + 0.5*rand.Float64())
	return min(time.Duration(d), maxWait)
}

// retryAfter reads the Retry-After header (seconds or an HTTP date), or the
// body through RetryAfterFromBody.
func (c *Client) retryAfter(h http.Header, body []byte) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, t.Sub(c.opts.Now())), true
		}
	}
	if body != nil && c.opts.RetryAfterFromBody != nil {
		return c.opts.RetryAfterFromBody(body)
	}
	return 0, false
}

// readCapped reads r to the end, failing with ErrBodyTooLarge past limit.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// cappedBody is the body Stream returns: a trackedBody whose errors name
// the service and the URL.
type cappedBody struct {
	body trackedBody
	rc   io.Closer
	ctx  context.Context
	c    *Client
	url  string // redacted
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if b.body.tooLarge {
		return n, b.tooLarge()
	}
	if err != nil && err != io.EOF {
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			return n, fmt.Errorf("%s: reading %s: %w", b.c.opts.Service, b.url, ctxErr)
		}
		return n, fmt.Errorf("%s: reading %s: %w: %s", b.c.opts.Service, b.url, singletarget.ErrRemote, b.c.Redact(err.Error()))
	}
	return n, err
}

func (b *cappedBody) tooLarge() error {
	return fmt.Errorf("%s: %s: %w: %w (cap %d bytes)", b.c.opts.Service, b.url, singletarget.ErrRemote, ErrBodyTooLarge, b.c.opts.MaxBodySize)
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// Redact removes the configured secrets from text.
func (c *Client) Redact(text string) string {
	return singletarget.Redact(text, c.opts.Secrets...)
}

// RedactURL returns u with userinfo, the values of RedactParams and every
// configured secret redacted.
func (c *Client) RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return c.Redact(u)
	}
	if parsed.User != nil {
		parsed.User = url.User(singletarget.Redacted)
	}
	if parsed.RawQuery != "" {
		q := parsed.Query()
		changed := false
		for k := range q {
			for _, p := range c.opts.RedactParams {
				if strings.EqualFold(k, p) {
					for i := range q[k] {
						q[k][i] = singletarget.Redacted
					}
					changed = true
				}
			}
		}
		if changed {
			parsed.RawQuery = q.Encode()
		}
	}
	return c.Redact(parsed.String())
}

// leveled adapts slog to retryablehttp's LeveledLogger, redacting.
type leveled struct{ c *Client }

func (l *leveled) log(level slog.Level, msg string, kv ...any) {
	attrs := make([]any, 0, len(kv)+2)
	attrs = append(attrs, "service", l.c.opts.Service)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, kv[i], l.c.Redact(fmt.Sprint(l.clean(kv[i+1]))))
	}
	l.c.opts.Logger.Log(context.Background(), level, msg, attrs...)
}

func (l *leveled) clean(v any) any {
	switch v := v.(type) {
	case error:
		return l.c.cleanErr(v)
	case *url.URL:
		return l.c.RedactURL(v.String())
	case string:
		if strings.Contains(v, "://") {
			// "GET https://..." descriptions and plain URLs.
			parts := strings.Fields(v)
			for i, p := range parts {
				if strings.Contains(p, "://") {
					parts[i] = l.c.RedactURL(p)
				}
			}
			return strings.Join(parts, " ")
		}
	}
	return v
}

func (l *leveled) Error(msg string, kv ...any) { l.log(slog.LevelError, msg, kv...) }
func (l *leveled) Info(msg string, kv ...any)  { l.log(slog.LevelInfo, msg, kv...) }
func (l *leveled) Debug(msg string, kv ...any) { l.log(slog.LevelDebug, msg, kv...) }
func (l *leveled) Warn(msg string, kv ...any)  { l.log(slog.LevelWarn, msg, kv...) }
