package sdss

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/tomgo/targetdata/singletarget"
)

// Defaults of Options and the settings.
const (
	// DefaultURL is SkyServer of SDSS Data Release 17.
	DefaultURL = "https://skyserver.sdss.org/dr17"
	// DefaultSASURL is the Science Archive Server tree of DR17.
	DefaultSASURL = "https://data.sdss.org/sas/dr17"
	// DefaultMaxRetries is how many times a failed GET is retried.
	DefaultMaxRetries = 3
	// DefaultMaxRetryWait caps one wait between retries.
	DefaultMaxRetryWait = 30 * time.Second
	// DefaultMaxFileBytes caps a downloaded spectrum file (spec-lite files
	// are about 200 kB, full spec files a few MB).
	DefaultMaxFileBytes = 64 << 20
	// UserAgent identifies the example's requests.
	UserAgent = "targetdata-sdss-example/1.0 (+https://github.com/tomgo/targetdata)"
)

// maxSearchBytes caps a SkyServer answer (one row is a few hundred bytes).
const maxSearchBytes = 1 << 20

// Options configure a Client or a Service. A nil *Options means the
// defaults; every field's zero value means its default.
type Options struct {
	// SASURL is the base of the SAS data tree; default DefaultSASURL.
	SASURL string
	// HTTPClient sends the requests; default a pooled client from
	// go-cleanhttp. Tests pass a simulator's client here.
	HTTPClient *http.Client
	// Logger receives debug logs of requests and retries; default none.
	Logger *slog.Logger
	// MaxRetries is how many times a failed GET (connection error, 5xx) is
	// retried; default DefaultMaxRetries; negative means none.
	MaxRetries int
	// MaxRetryWait caps each wait between retries, and a server's
	// Retry-After beyond it is reported as throttling instead of waited
	// out; default DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// MaxFileBytes caps a downloaded file; default DefaultMaxFileBytes.
	MaxFileBytes int64
}

// Client speaks SkyServer's SQL search and downloads SAS files. It is safe
// for concurrent use.
type Client struct {
	base, sas string
	http      *retryablehttp.Client
	logger    *slog.Logger
	maxFile   int64
	maxWait   time.Duration
}

// New returns a client of the SkyServer at baseURL (e.g. DefaultURL).
// Errors name the bad option.
func New(baseURL string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if baseURL == "" {
		baseURL = DefaultURL
	}
	if o.SASURL == "" {
		o.SASURL = DefaultSASURL
	}
	for name, u := range map[string]string{"baseURL": baseURL, "Options.SASURL": o.SASURL} {
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf("sdss: %s: %w", name, err)
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = cleanhttp.DefaultPooledClient()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = DefaultMaxRetryWait
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), sas: strings.TrimRight(o.SASURL, "/"),
		logger: o.Logger, maxFile: o.MaxFileBytes, maxWait: o.MaxRetryWait}

	// go-retryablehttp, configured deliberately: its defaults log to
	// stderr, wait out any Retry-After, and replace the last answer by a
	// "giving up" error.
	rc := retryablehttp.NewClient()
	rc.HTTPClient = o.HTTPClient
	rc.Logger = slogAdapter{o.Logger}
	rc.RetryMax = o.MaxRetries
	rc.RetryWaitMin = min(500*time.Millisecond, o.MaxRetryWait)
	rc.RetryWaitMax = o.MaxRetryWait
	rc.CheckRetry = c.checkRetry
	rc.Backoff = retryablehttp.DefaultBackoff // honours Retry-After on 429/503
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.http = rc
	return c, nil
}

func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", u)
	}
	return nil
}

// checkRetry retries what is safe to retry: every request here is an
// idempotent GET. Throttling is not waited out here (the Manager does it),
// except a short 503 Retry-After.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			return false, nil
		case http.StatusServiceUnavailable:
			if wait, ok := retryAfter(resp.Header); ok && wait > c.maxWait {
				return false, nil
			}
		}
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t)), true
	}
	return 0, false
}

// get sends a GET and returns the open answer when it is 200 OK, else an
// error: *singletarget.ThrottledError for 429 (and 503 with a long
// Retry-After), *singletarget.RemoteError for other statuses.
func (c *Client) get(ctx context.Context, u string) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	c.logger.DebugContext(ctx, "sdss request", "url", u)
	resp, err := c.http.Do(req)
	if err != nil && resp != nil {
		resp.Body.Close() // PassthroughErrorHandler may return both
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: GET %s: %w", Name, shortURL(u), ctx.Err())
		}
		return nil, fmt.Errorf("%s: GET %s: %w: %v", Name, shortURL(u), singletarget.ErrRemote, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	wait, hasWait := retryAfter(resp.Header)
	if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode == http.StatusServiceUnavailable && hasWait) {
		return nil, &singletarget.ThrottledError{Service: Name, RetryAfter: wait, Detail: strings.TrimSpace(string(body))}
	}
	return nil, singletarget.NewRemoteError(Name, http.MethodGet, shortURL(u), resp.StatusCode, body)
}

// shortURL drops the query (the whole SQL) from URLs in errors.
func shortURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// SpecObj is one row of SkyServer's SpecObj table, as the search returns it.
type SpecObj struct {
	// SpecObjID is the spectrum's 64-bit id, kept as text (it does not
	// fit a float64).
	SpecObjID string
	// Plate, MJD and FiberID identify the spectrum.
	Plate, MJD, FiberID int
	// Run2D is the reduction (26, 103, 104 for SDSS-I/II; v5_13_2 for BOSS
	// and eBOSS in DR17).
	Run2D string
	// Survey is "sdss", "segue1", "segue2", "boss", "eboss", ….
	Survey string
	// RA and Dec are the fibre's position (degrees).
	RA, Dec float64
	// Z is the redshift and Class the pipeline's class (GALAXY, QSO, STAR).
	Z     float64
	Class string
	// Distance is the distance from the searched position, in arcmin.
	Distance float64
}

// NearestSQL returns the SQL of a search for the nearest primary spectrum
// within radiusArcsec of (ra, dec), of class class ("" for any).
func NearestSQL(ra, dec, radiusArcsec float64, class string) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	var b strings.Builder
	b.WriteString("SELECT TOP 1 s.specObjID, s.plate, s.mjd, s.fiberID, s.run2d, s.survey, s.ra, s.dec, s.z, s.class, n.distance ")
	fmt.Fprintf(&b, "FROM dbo.fGetNearbySpecObjEq(%s, %s, %s) AS n ", f(ra), f(dec), f(radiusArcsec/60))
	b.WriteString("JOIN SpecObj AS s ON s.specObjID = n.specObjID ")
	if class != "" {
		// class comes from a validated choice (GALAXY, QSO, STAR): no quoting issue.
		fmt.Fprintf(&b, "WHERE s.class = '%s' ", class)
	}
	b.WriteString("ORDER BY n.distance")
	return b.String()
}

// Nearest returns the nearest primary SDSS spectrum within radiusArcsec of
// (ra, dec), of class class ("" for any), or an error matching
// singletarget.ErrNotFound when there is none. See the package doc,
// # Protocol, step 1.
func (c *Client) Nearest(ctx context.Context, ra, dec, radiusArcsec float64, class string) (*SpecObj, error) {
	q := url.Values{"cmd": {NearestSQL(ra, dec, radiusArcsec, class)}, "format": {"json"}}
	u := c.base + "/SkyServerWS/SearchTools/SqlSearch?" + q.Encode()
	resp, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSearchBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: reading the search answer: %w", Name, ctx.Err())
		}
		return nil, fmt.Errorf("%s: reading the search answer: %w: %v", Name, singletarget.ErrRemote, err)
	}
	if len(body) > maxSearchBytes {
		return nil, fmt.Errorf("%s: the search answer is over %d bytes: %w", Name, maxSearchBytes, singletarget.ErrRemote)
	}
	rows, err := parseSearch(body)
	if err != nil {
		return nil, fmt.Errorf("%s: search answer: %w: %v", Name, singletarget.ErrRemote, err)
	}
	if len(rows) == 0 {
		what := "spectrum"
		if class != "" {
			what = class + " spectrum"
		}
		return nil, fmt.Errorf("%s: no SDSS %s within %g arcsec of (%g, %g): %w", Name, what, radiusArcsec, ra, dec, singletarget.ErrNotFound)
	}
	return &rows[0], nil
}

// parseSearch reads SkyServer's JSON answer.
func parseSearch(body []byte) ([]SpecObj, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return nil, errors.New("HTML instead of JSON (SkyServer's error page)")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber() // specObjID does not fit a float64
	var tables []struct {
		TableName string                       `json:"TableName"`
		Rows      []map[string]json.RawMessage `json:"Rows"`
	}
	if err := dec.Decode(&tables); err != nil {
		return nil, fmt.Errorf("not SkyServer's JSON: %w", err)
	}
	if len(tables) == 0 {
		return nil, errors.New("no table in the answer")
	}
	var out []SpecObj
	for i, row := range tables[0].Rows {
		var o SpecObj
		// SkyServer's column names keep the SQL's case; match any case.
		get := func(name string) json.RawMessage {
			for k, v := range row {
				if strings.EqualFold(k, name) {
					return v
				}
			}
			return nil
		}
		var errs []error
		str := func(name string) string {
			raw := get(name)
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				return strings.TrimSpace(s)
			}
			var n json.Number
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&n); err == nil {
				return n.String()
			}
			errs = append(errs, fmt.Errorf("row %d: %s: %s is not a value", i+1, name, raw))
			return ""
		}
		num := func(name string) float64 {
			s := str(name)
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("row %d: %s: %q is not a number", i+1, name, s))
			}
			return v
		}
		integer := func(name string) int {
			s := str(name)
			v, err := strconv.Atoi(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("row %d: %s: %q is not an integer", i+1, name, s))
			}
			return v
		}
		o.SpecObjID = str("specObjID")
		o.Plate, o.MJD, o.FiberID = integer("plate"), integer("mjd"), integer("fiberID")
		o.Run2D, o.Survey, o.Class = str("run2d"), str("survey"), str("class")
		o.RA, o.Dec, o.Z, o.Distance = num("ra"), num("dec"), num("z"), num("distance")
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		if o.Run2D == "" || o.Plate <= 0 || o.FiberID <= 0 {
			return nil, fmt.Errorf("row %d: plate %d, fiber %d, run2d %q do not name a spectrum file", i+1, o.Plate, o.FiberID, o.Run2D)
		}
		out = append(out, o)
	}
	return out, nil
}

// FileName is the spec-lite file name of o: spec-PLATE-MJD-FIBER.fits.
func (o SpecObj) FileName() string {
	return fmt.Sprintf("spec-%04d-%d-%04d.fits", o.Plate, o.MJD, o.FiberID)
}

// SpecLiteURL returns the SAS URL of o's spec-lite file. See the package
// doc, # Protocol, step 2.
func (c *Client) SpecLiteURL(o SpecObj) string {
	tree := "eboss" // BOSS and eBOSS reductions (v5_*)
	switch o.Run2D {
	case "26", "103", "104":
		tree = "sdss" // SDSS-I/II reductions
	}
	return fmt.Sprintf("%s/%s/spectro/redux/%s/spectra/lite/%04d/%s", c.sas, tree, url.PathEscape(o.Run2D), o.Plate, o.FileName())
}

// Open downloads a file and returns its body, capped at
// Options.MaxFileBytes (reading past the cap fails). The caller closes it.
func (c *Client) Open(ctx context.Context, fileURL string) (io.ReadCloser, error) {
	resp, err := c.get(ctx, fileURL)
	if err != nil {
		return nil, err
	}
	return &cappedBody{rc: resp.Body, left: c.maxFile, url: fileURL, ctx: ctx}, nil
}

// cappedBody fails reads past a size cap, and reports a cancelled context
// as such.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	url  string
	ctx  context.Context
}

func (b *cappedBody) Read(p []byte) (int, error) {
	// Read one byte past the cap, to tell a file of exactly the cap from a
	// longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		return 0, fmt.Errorf("%s: %s is larger than Options.MaxFileBytes: %w", Name, b.url, singletarget.ErrRemote)
	}
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		if b.ctx.Err() != nil {
			return n, fmt.Errorf("%s: downloading %s: %w", Name, b.url, b.ctx.Err())
		}
		return n, fmt.Errorf("%s: downloading %s: %w: %v", Name, b.url, singletarget.ErrRemote, err)
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// slogAdapter lets go-retryablehttp log through slog (its
// LeveledLogger interface).
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Error(msg string, kv ...any) { a.l.Error(msg, kv...) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.l.Info(msg, kv...) }
func (a slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a slogAdapter) Warn(msg string, kv ...any)  { a.l.Warn(msg, kv...) }
