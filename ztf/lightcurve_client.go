package ztf

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/internal/textscan"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultLightCurveURL is the base URL of IRSA, which serves the ZTF
// light-curve API under LightCurvePath.
const DefaultLightCurveURL = "https://irsa.ipac.caltech.edu"

// LightCurvePath is the path of the light-curve API under the base URL
// (spec A.1).
const LightCurvePath = "/cgi-bin/ZTF/nph_light_curves"

// MaxRadius is the largest cone radius IRSA accepts, in degrees (10′;
// spec A.2).
const MaxRadius = 0.1667

// SurveyStartMJD is the MJD of the start of the ZTF survey (2018-03-17,
// JD 2458194.5).
const SurveyStartMJD = 58194.0

// Format is an output format of the light-curve API.
type Format string

// The formats the Processor reads. IRSA also serves VOTABLE (its default),
// HTML and TSV; the client always sends FORMAT.
const (
	FormatCSV  Format = "csv"
	FormatIPAC Format = "ipac_table"
)

// Options configure a Client and a Service. The zero value gives the
// defaults noted on each field; nil means the zero value.
type Options struct {
	// Name is the service's registry name (the settings key). Default "ZTF".
	Name string
	// Username and Password, when both are set, are sent with HTTP Basic
	// auth: an IRSA account with ZTF partnership rights (spec A.2). Public
	// data releases need none.
	Username, Password singletarget.Secret
	// RequestInterval is the least time between two requests of one client
	// (IRSA documents no limit; a public client keeps ≥ 0.45 s). Default
	// 500 ms; a negative value disables pacing.
	RequestInterval time.Duration
	// MaxBodySize caps an answer, in bytes. Default 256 MiB.
	MaxBodySize int64

	// HTTPClient supplies the transport (tests pass a simulator's client or
	// an httpmock transport). Default: a pooled client.
	HTTPClient *http.Client
	// Logger receives debug logs of requests and retries, with secrets
	// redacted. Default: discard.
	Logger *slog.Logger
	// Timeout bounds each HTTP attempt, body included. Default 2 minutes.
	Timeout time.Duration
	// RetryMax is the number of retries of a request after a connection
	// error or a 5xx. Default 3; -1 disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff between retries.
	// Defaults 1 s and 10 s. A server's Retry-After longer than 1 s is not
	// waited inside a request: it comes back as a
	// *singletarget.ThrottledError.
	RetryWaitMin, RetryWaitMax time.Duration
	// UserAgent is sent with every request. Default: the library's.
	UserAgent string
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

func (o *Options) transport() *transport {
	return &transport{HTTPClient: o.HTTPClient, Logger: o.Logger, Timeout: o.Timeout, RetryMax: o.RetryMax,
		RetryWaitMin: o.RetryWaitMin, RetryWaitMax: o.RetryWaitMax, UserAgent: o.UserAgent, Now: o.Now}
}

// Client is a client of IRSA's ZTF light-curve API (spec A). It is safe
// for concurrent use.
type Client struct {
	base string
	name string
	opts Options
	http *httpclient.Client
	auth string
}

// New returns a Client for the IRSA site at baseURL (DefaultLightCurveURL
// for the real one; the API is at baseURL + LightCurvePath). opts may be
// nil. Bad options give an error naming the field.
func New(baseURL string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	base, err := checkBaseURL("baseURL", baseURL)
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = ServiceName
	}
	if o.RequestInterval == 0 {
		o.RequestInterval = 500 * time.Millisecond
	}
	if o.MaxBodySize == 0 {
		o.MaxBodySize = 256 << 20
	}
	t := o.transport()
	t.defaults()
	var errs []error
	if err := t.validate("ztf: Options."); err != nil {
		errs = append(errs, err)
	}
	if o.MaxBodySize < 0 {
		errs = append(errs, fmt.Errorf("ztf: Options.MaxBodySize %d is negative", o.MaxBodySize))
	}
	if o.Username.IsZero() != o.Password.IsZero() {
		errs = append(errs, errors.New("ztf: Options.Username and Options.Password go together"))
	}
	if strings.ContainsAny(o.Username.Reveal(), ":") {
		errs = append(errs, errors.New("ztf: Options.Username must not contain ':'"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o.Logger, o.Timeout, o.RetryMax, o.RetryWaitMin, o.RetryWaitMax, o.Now = t.Logger, t.Timeout, t.RetryMax, t.RetryWaitMin, t.RetryWaitMax, t.Now
	h := t.httpOptions(o.Name, []singletarget.Secret{o.Username, o.Password, singletarget.BasicSecret(o.Username, o.Password)}, httpclient.DefaultRedactParams, true)
	h.MaxBodySize = o.MaxBodySize
	if o.RequestInterval > 0 {
		h.Limiter = rate.NewLimiter(rate.Every(o.RequestInterval), 1)
	}
	c := &Client{base: base, name: o.Name, opts: o, http: httpclient.New(h)}
	if !o.Username.IsZero() {
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.Username.Reveal()+":"+o.Password.Reveal()))
	}
	return c, nil
}

// LightCurveQuery is one request to the light-curve API (spec A.2). Select
// objects either by a cone (RA, Dec, Radius) or by IDs.
type LightCurveQuery struct {
	// RA and Dec are the cone's centre (ICRS, degrees).
	RA, Dec float64
	// Radius is the cone's radius in degrees, in (0, MaxRadius].
	Radius float64
	// IDs select objects by ZTF object id (oid) instead of a cone; they
	// cannot be combined with Bands or NObsMin.
	IDs []int64
	// Bands restricts the objects to these filters ("g", "r", "i"); empty
	// means all (BANDNAME).
	Bands []string
	// MJDMin and MJDMax restrict the points by MJD (TIME); nil leaves that
	// side open.
	MJDMin, MJDMax *float64
	// BadCatflagsMask drops points with catflags & mask != 0
	// (BAD_CATFLAGS_MASK); 0 sends nothing.
	BadCatflagsMask int
	// NObsMin keeps objects with at least this many epochs (NOBS_MIN); 0
	// sends nothing.
	NObsMin int
	// Collection is the data release, "ztf_dr<N>"; empty means IRSA's
	// latest public release.
	Collection string
	// Format is FormatCSV (default) or FormatIPAC.
	Format Format
}

// Params checks the query and returns its parameters, errors naming the
// field.
func (q LightCurveQuery) Params() (url.Values, error) {
	v := url.Values{}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("ztf: LightCurveQuery."+format, a...)) }
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	if len(q.IDs) > 0 {
		ids := make([]string, len(q.IDs))
		for i, id := range q.IDs {
			if id <= 0 {
				bad("IDs: %d is not an object id", id)
			}
			ids[i] = strconv.FormatInt(id, 10)
		}
		v.Set("ID", strings.Join(ids, ","))
		if len(q.Bands) > 0 {
			bad("Bands: IRSA does not combine ID with BANDNAME")
		}
		if q.NObsMin > 0 {
			bad("NObsMin: IRSA does not combine ID with NOBS_MIN")
		}
	} else {
		if math.IsNaN(q.RA) || q.RA < 0 || q.RA >= 360 {
			bad("RA %v is not in [0, 360)", q.RA)
		}
		if math.IsNaN(q.Dec) || q.Dec < -90 || q.Dec > 90 {
			bad("Dec %v is not in [-90, 90]", q.Dec)
		}
		if !(q.Radius > 0) || q.Radius > MaxRadius {
			bad("Radius %v is not in (0, %v] degrees", q.Radius, MaxRadius)
		}
		v.Set("POS", "CIRCLE "+num(q.RA)+" "+num(q.Dec)+" "+num(q.Radius))
	}
	if len(q.Bands) > 0 {
		var bands []string
		for _, b := range q.Bands {
			switch b {
			case "g", "r", "i":
				if !slices.Contains(bands, b) {
					bands = append(bands, b)
				}
			default:
				bad("Bands: %q is not g, r or i", b)
			}
		}
		v.Set("BANDNAME", strings.Join(bands, ","))
	}
	if q.MJDMin != nil || q.MJDMax != nil {
		lo, hi := "-Inf", "Inf"
		if q.MJDMin != nil {
			lo = num(*q.MJDMin)
		}
		if q.MJDMax != nil {
			hi = num(*q.MJDMax)
		}
		if q.MJDMin != nil && q.MJDMax != nil && *q.MJDMin > *q.MJDMax {
			bad("MJDMin %v is after MJDMax %v", *q.MJDMin, *q.MJDMax)
		}
		for _, p := range []*float64{q.MJDMin, q.MJDMax} {
			if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
				bad("MJD bound %v is not finite (leave it nil for an open side)", *p)
			}
		}
		v.Set("TIME", lo+" "+hi)
	}
	if q.BadCatflagsMask < 0 || q.BadCatflagsMask > 65535 {
		bad("BadCatflagsMask %d is not in [0, 65535]", q.BadCatflagsMask)
	} else if q.BadCatflagsMask > 0 {
		v.Set("BAD_CATFLAGS_MASK", strconv.Itoa(q.BadCatflagsMask))
	}
	if q.NObsMin < 0 {
		bad("NObsMin %d is negative", q.NObsMin)
	} else if q.NObsMin > 0 {
		v.Set("NOBS_MIN", strconv.Itoa(q.NObsMin))
	}
	if q.Collection != "" {
		if !validCollection(q.Collection) {
			bad("Collection %q is not ztf_dr<N>", q.Collection)
		}
		v.Set("COLLECTION", q.Collection)
	}
	switch q.Format {
	case "", FormatCSV:
		v.Set("FORMAT", string(FormatCSV))
	case FormatIPAC:
		v.Set("FORMAT", string(FormatIPAC))
	default:
		bad("Format %q is not csv or ipac_table", q.Format)
	}
	return v, errors.Join(errs...)
}

func validCollection(s string) bool {
	n, ok := strings.CutPrefix(s, "ztf_dr")
	if !ok || n == "" || len(n) > 4 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// LightCurves is an answer of the light-curve API.
type LightCurves struct {
	// Body is the table as IRSA sent it.
	Body []byte
	// Format is the table's format.
	Format Format
	// Rows is the number of data rows; 0 for an empty match.
	Rows int
	// URL is the request URL (credentials redacted).
	URL string
}

// LightCurves asks for the light curves of q (spec A.1–A.4). An empty
// match is not an error: Rows is 0. An answer that is not a table with
// an oid column (IRSA may report bad parameters with HTTP 200 and a
// message) gives an error matching singletarget.ErrRemote that quotes
// the message; so does a table cut short. HTTP errors come back as
// *singletarget.RemoteError, a 429 with a long wait as
// *singletarget.ThrottledError.
func (c *Client) LightCurves(ctx context.Context, q LightCurveQuery) (*LightCurves, error) {
	req, err := c.request(q)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	lc, err := c.lightCurvesTo(ctx, req, q.Format, func() (io.Writer, error) { buf.Reset(); return &buf, nil })
	if err != nil {
		return nil, err
	}
	lc.Body = buf.Bytes()
	return lc, nil
}

// lightCurvesTo sends the request and streams the answer into the writer
// sink gives (called afresh if the answer breaks off and is asked for
// again), checking it on the way. The LightCurves it returns has no Body.
func (c *Client) lightCurvesTo(ctx context.Context, req *httpclient.Request, format Format, sink func() (io.Writer, error)) (*LightCurves, error) {
	if format == "" {
		format = FormatCSV
	}
	var chk *tableCheck
	err := c.http.Fetch(ctx, req, func(_ *httpclient.Response, body io.Reader) error {
		w, err := sink()
		if err != nil {
			return err
		}
		chk = &tableCheck{format: format}
		_, err = io.Copy(io.MultiWriter(w, chk), body)
		return err
	})
	if err != nil {
		return nil, err
	}
	rows, err := chk.finish()
	if err != nil {
		return nil, &AnswerError{Service: c.name, URL: c.http.RedactURL(req.URL), Message: c.http.Redact(err.Error())}
	}
	return &LightCurves{Format: format, Rows: rows, URL: c.http.RedactURL(req.URL)}, nil
}

// request builds the request of q.
func (c *Client) request(q LightCurveQuery) (*httpclient.Request, error) {
	params, err := q.Params()
	if err != nil {
		return nil, err
	}
	u := c.base + LightCurvePath + "?" + encodeParams(params)
	req := &httpclient.Request{Method: http.MethodGet, URL: u, Header: http.Header{"Accept": {"text/csv, text/plain, */*"}}}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return req, nil
}

// encodeParams encodes parameters with %20 for spaces (IRSA's own
// examples), keys sorted.
func encodeParams(v url.Values) string {
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

// tableCheck reads a light-curve answer line by line as it is written to
// it, keeping only the header, the last row and the first 4 KiB: finish
// then says whether it was a light-curve table in format (an oid column,
// a whole last row) and how many data rows it had.
type tableCheck struct {
	format Format
	head   []byte // the first 4 KiB, for the error's snippet
	cur    []byte // the line being written
	header []byte // CSV: the header line
	last   []byte // the last data row
	rows   int
	ipac   ipacHeader
	done   bool // IPAC: data before any '|' line ended the scan
	err    error
}

// Write implements io.Writer; it never fails (finish reports).
func (c *tableCheck) Write(p []byte) (int, error) {
	if len(c.head) < 4096 {
		c.head = append(c.head, p[:min(len(p), 4096-len(c.head))]...)
	}
	b := p
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.cur = append(c.cur, b...)
			break
		}
		if len(c.cur) > 0 {
			c.cur = append(c.cur, b[:i]...)
			c.line(c.cur)
			c.cur = c.cur[:0]
		} else {
			c.line(b[:i])
		}
		b = b[i+1:]
	}
	return len(p), nil
}

// line takes one line, without its newline.
func (c *tableCheck) line(l []byte) {
	if c.done || c.err != nil {
		return
	}
	l = bytes.TrimRight(l, "\r")
	if len(textscan.TrimSpace(l)) == 0 {
		return
	}
	if c.format == FormatIPAC {
		switch {
		case l[0] == '\\':
			return
		case l[0] == '|':
			if c.rows > 0 {
				c.err = errors.New("a '|' header line after data rows")
				return
			}
			_ = c.ipac.add(l)
			return
		}
		if c.ipac.lines == 0 {
			c.done = true
			return
		}
	} else if c.header == nil {
		c.header = append([]byte{}, l...)
		return
	}
	c.rows++
	c.last = append(c.last[:0], l...)
}

// finish ends the answer and returns its data rows, or why it is not a
// light-curve table.
func (c *tableCheck) finish() (int, error) {
	if len(c.cur) > 0 {
		c.line(c.cur)
		c.cur = c.cur[:0]
	}
	if c.err != nil {
		return 0, c.err
	}
	var names []string
	if c.format == FormatIPAC {
		names = c.ipac.names
	} else if c.header != nil {
		names = strings.Split(string(c.header), ",")
	}
	hasOID := slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(strings.TrimSpace(n), "oid") })
	if !hasOID {
		return 0, fmt.Errorf("the answer is not a light-curve table (no oid column): %s", snippet(c.head))
	}
	if c.rows > 0 {
		switch c.format {
		case FormatIPAC:
			// A complete row has a value under the last column.
			if n := len(c.ipac.pipes); n >= 2 && len(bytes.TrimRight(c.last, " ")) <= c.ipac.pipes[n-2] {
				return 0, fmt.Errorf("the table is cut short (last row %q)", short(c.last))
			}
		default:
			if got, want := bytes.Count(c.last, []byte(",")), len(names)-1; got != want {
				return 0, fmt.Errorf("the table is cut short (last row has %d fields, the header %d)", got+1, want+1)
			}
		}
	}
	return c.rows, nil
}

func short(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// snippet returns the start of a non-table answer as one line of text
// (HTML tags removed).
func snippet(body []byte) string {
	s := string(body)
	if len(s) > 4096 {
		s = s[:4096]
	}
	s = htmlText(s)
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(empty answer)"
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strconv.Quote(s)
}
