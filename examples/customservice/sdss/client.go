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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/httpclient"
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
	// HTTPClient sends the requests; default a pooled client. Tests pass
	// a simulator's client here.
	HTTPClient *http.Client
	// Logger receives debug logs of requests and retries; default none.
	Logger *slog.Logger
	// MaxRetries is how many times a failed GET (connection error, 5xx
	// without a Retry-After) is retried; default DefaultMaxRetries;
	// negative means none.
	MaxRetries int
	// MaxRetryWait caps each wait between retries; default
	// DefaultMaxRetryWait. A wait the server announces (429, or 503 with
	// Retry-After) is never slept inside a request: it is reported as a
	// *singletarget.ThrottledError for the Manager or executor to wait out.
	MaxRetryWait time.Duration
	// MaxFileBytes caps a downloaded file; default DefaultMaxFileBytes.
	MaxFileBytes int64
}

// Client speaks SkyServer's SQL search and downloads SAS files. It is safe
// for concurrent use.
type Client struct {
	base, sas string
	http      *httpclient.Client // SkyServer searches
	files     *httpclient.Client // SAS downloads, with the file cap
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
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = -1 // httpclient: none
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = DefaultMaxRetryWait
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	// The library's HTTP client for services: both requests are
	// idempotent GETs, so failures are retried; a 429, or a 503 announcing
	// a wait, comes back at once as a *singletarget.ThrottledError (never
	// slept inside Query); answers are size-capped; logs go to the
	// service's slog.Logger; requests carry a User-Agent.
	hopts := httpclient.Options{
		Service:       ServiceName,
		HTTPClient:    o.HTTPClient,
		RetryMax:      o.MaxRetries,
		RetryWaitMin:  min(500*time.Millisecond, o.MaxRetryWait),
		RetryWaitMax:  o.MaxRetryWait,
		MaxRetryAfter: -1,
		ThrottleOn503: true,
		MaxBodySize:   maxSearchBytes,
		UserAgent:     UserAgent,
		Logger:        o.Logger,
		// The search's SQL is long and says nothing useful in an error.
		RedactParams: append(slices.Clone(httpclient.DefaultRedactParams), "cmd"),
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), sas: strings.TrimRight(o.SASURL, "/")}
	c.http = httpclient.New(hopts)
	hopts.MaxBodySize = o.MaxFileBytes
	c.files = httpclient.New(hopts)
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
	// The SQL is left out of errors: RedactParams names the cmd parameter.
	resp, err := c.http.Do(ctx, &httpclient.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, err
	}
	body := resp.Body
	rows, err := parseSearch(body)
	if err != nil {
		return nil, fmt.Errorf("%s: search answer: %w: %v", ServiceName, singletarget.ErrRemote, err)
	}
	if len(rows) == 0 {
		what := "spectrum"
		if class != "" {
			what = class + " spectrum"
		}
		return nil, fmt.Errorf("%s: no SDSS %s within %g arcsec of (%g, %g): %w", ServiceName, what, radiusArcsec, ra, dec, singletarget.ErrNotFound)
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

// Open downloads a file and returns its body; reading fails past
// Options.MaxFileBytes (an error matching httpclient.ErrBodyTooLarge) and
// when the download breaks off (singletarget.ErrRemote). The caller
// closes it.
func (c *Client) Open(ctx context.Context, fileURL string) (io.ReadCloser, error) {
	resp, err := c.files.Stream(ctx, &httpclient.Request{Method: http.MethodGet, URL: fileURL})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
