package panstarrs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/internal/redact"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultURL is the base URL of the MAST PanSTARRS catalogs API.
const DefaultURL = "https://catalogs.mast.stsci.edu/api/v0.1/panstarrs"

// InfoURL is MAST's documentation of the API.
const InfoURL = "https://catalogs.mast.stsci.edu/docs/panstarrs.html"

// MaxRadius is the largest cone radius MAST serves, in degrees (the PS1
// API notebook documents radius ≤ 0.5°). Larger radii are capped.
const MaxRadius = 0.5

// Defaults of Options.
const (
	// DefaultRequestRate is the request rate of the per-Client limiter
	// used when Options.Limiter is nil: 5 requests per second with bursts
	// of 5. MAST documents no limit; this keeps a detection query (one
	// request per object) polite.
	DefaultRequestRate = 5
	// DefaultPageSize is the pagesize sent when a query needs paging.
	DefaultPageSize = 50000
	// DefaultMaxPages caps the pages one SearchAll fetches.
	DefaultMaxPages = 100
	// DefaultMaxObjects caps the objects whose detections one detection
	// query fetches (the nearest first).
	DefaultMaxObjects = 25
)

// ErrInvalidQuery is returned (wrapped) for a query the client refuses to
// send: an unknown release or table, a table the release lacks, a bad
// column name, a bad cone. It matches singletarget.ErrInvalidInput.
var ErrInvalidQuery = fmt.Errorf("panstarrs: invalid query: %w", singletarget.ErrInvalidInput)

// ErrTooManyRows is returned (wrapped) when a result needs more pages than
// Options.MaxPages allows. It matches singletarget.ErrInvalidInput: the
// same query gives the same answer; narrow it.
var ErrTooManyRows = fmt.Errorf("panstarrs: result larger than the page cap: %w", singletarget.ErrInvalidInput)

// Options configure a Client or a Service. A nil *Options means the
// defaults given on each field.
type Options struct {
	// HTTPClient supplies the transport (tests pass a simulator's client
	// or an httpmock transport). Default: a pooled client.
	HTTPClient *http.Client
	// Logger receives debug logs of requests. Default: discard.
	Logger *slog.Logger
	// Timeout bounds each HTTP attempt, body included. Default 10 minutes
	// (the PS1 API notebook uses 600 s).
	Timeout time.Duration
	// RetryMax is the number of retries after a connection error or a
	// 5xx (every MAST request is a search, so every one is retried).
	// Default 3; negative disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff between retries.
	// Defaults 1 s and 30 s.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest server-requested wait (a 429's
	// Retry-After) waited out inside a request; a longer one returns a
	// *singletarget.ThrottledError at once, for the Manager to wait.
	// Default 1 s.
	MaxRetryAfter time.Duration
	// Limiter is waited on before every request. Share one Limiter between
	// Clients to cap a whole TOM's request rate. Default: a per-Client
	// limiter of DefaultRequestRate requests per second; use
	// rate.NewLimiter(rate.Inf, 0) for none.
	Limiter *rate.Limiter
	// MaxBodySize caps one response body. Default 256 MiB.
	MaxBodySize int64
	// PageSize is the pagesize of paged searches (SearchAll). Default
	// DefaultPageSize.
	PageSize int
	// MaxPages caps the pages of one SearchAll. Default DefaultMaxPages.
	MaxPages int
	// MaxObjects caps the objects of one detection query (Service only).
	// Default DefaultMaxObjects.
	MaxObjects int
	// Method is "GET" (default: parameters in the query string, as the
	// notebook and the TOM send them) or "POST" (a JSON body, as
	// astroquery sends since 2023).
	Method string
	// UserAgent is sent with every request. Default: the library's.
	UserAgent string
}

func (o *Options) resolve() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	var errs []error
	bad := func(field, msg string) { errs = append(errs, fmt.Errorf("panstarrs: Options.%s %s", field, msg)) }
	if out.Timeout < 0 {
		bad("Timeout", "must not be negative")
	} else if out.Timeout == 0 {
		out.Timeout = 10 * time.Minute
	}
	if out.RetryMax == 0 {
		out.RetryMax = 3
	}
	if out.RetryWaitMin < 0 || out.RetryWaitMax < 0 {
		bad("RetryWaitMin/RetryWaitMax", "must not be negative")
	}
	if out.RetryWaitMin > 0 && out.RetryWaitMax > 0 && out.RetryWaitMin > out.RetryWaitMax {
		bad("RetryWaitMin", "must not exceed RetryWaitMax")
	}
	if out.MaxRetryAfter < 0 {
		bad("MaxRetryAfter", "must not be negative")
	} else if out.MaxRetryAfter == 0 {
		out.MaxRetryAfter = time.Second
	}
	if out.MaxBodySize < 0 {
		bad("MaxBodySize", "must not be negative")
	} else if out.MaxBodySize == 0 {
		out.MaxBodySize = 256 << 20
	}
	if out.PageSize < 0 {
		bad("PageSize", "must not be negative")
	} else if out.PageSize == 0 {
		out.PageSize = DefaultPageSize
	}
	if out.MaxPages < 0 {
		bad("MaxPages", "must not be negative")
	} else if out.MaxPages == 0 {
		out.MaxPages = DefaultMaxPages
	}
	if out.MaxObjects < 0 {
		bad("MaxObjects", "must not be negative")
	} else if out.MaxObjects == 0 {
		out.MaxObjects = DefaultMaxObjects
	}
	switch strings.ToUpper(out.Method) {
	case "", http.MethodGet:
		out.Method = http.MethodGet
	case http.MethodPost:
		out.Method = http.MethodPost
	default:
		bad("Method", fmt.Sprintf("is %q; use GET or POST", out.Method))
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Limiter == nil {
		out.Limiter = rate.NewLimiter(DefaultRequestRate, DefaultRequestRate)
	}
	return out, errors.Join(errs...)
}

// Client speaks the MAST PanSTARRS catalogs API
// (shared/services/panstarrs.md; https://catalogs.mast.stsci.edu/docs/panstarrs.html).
// It is safe for concurrent use.
type Client struct {
	base  string
	token singletarget.Secret
	opts  Options
	http  *httpclient.Client
	log   *slog.Logger

	mu   sync.Mutex
	meta map[string][]Column
}

// New returns a Client for baseURL (e.g. DefaultURL; empty means
// DefaultURL). MAST needs no key for public PS1 data: token may be empty;
// a token is sent as the mast_token cookie (as astroquery does) and never
// logged.
func New(baseURL string, token singletarget.Secret, opts *Options) (*Client, error) {
	o, err := opts.resolve()
	if baseURL == "" {
		baseURL = DefaultURL
	}
	u, perr := url.Parse(baseURL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		err = errors.Join(err, fmt.Errorf("panstarrs: baseURL %q is not an absolute http(s) URL", redact.BaseURL(baseURL)))
	} else if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		err = errors.Join(err, fmt.Errorf("panstarrs: baseURL %q must not have credentials, a query or a fragment", redact.BaseURL(baseURL)))
	}
	for _, b := range []byte(token.Reveal()) {
		if b <= 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' || b == ',' {
			err = errors.Join(err, errors.New("panstarrs: the token holds a character a cookie cannot carry"))
			break
		}
	}
	if err != nil {
		return nil, err
	}
	var secrets []singletarget.Secret
	if !token.IsZero() {
		secrets = append(secrets, token)
	}
	hc := httpclient.New(httpclient.Options{
		Service:       ServiceName,
		HTTPClient:    o.HTTPClient,
		Timeout:       o.Timeout,
		RetryMax:      o.RetryMax,
		RetryWaitMin:  o.RetryWaitMin,
		RetryWaitMax:  o.RetryWaitMax,
		MaxRetryAfter: o.MaxRetryAfter,
		MaxBodySize:   o.MaxBodySize,
		UserAgent:     o.UserAgent,
		Logger:        o.Logger,
		Secrets:       secrets,
		Limiter:       o.Limiter,
	})
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, opts: o, http: hc, log: o.Logger,
		meta: map[string][]Column{}}, nil
}

// BaseURL returns the client's base URL.
func (c *Client) BaseURL() string { return c.base }

// Op is a constraint operator: OpEq, or a range operator whose name MAST
// appends to the column (nDetections.min).
type Op string

// Constraint operators (spec §2).
const (
	OpEq  Op = ""
	OpMin Op = "min"
	OpMax Op = "max"
	OpGT  Op = "gt"
	OpGTE Op = "gte"
	OpLT  Op = "lt"
	OpLTE Op = "lte"
)

// Constraint restricts a column: Column=Value, or Column.Op=Value. With
// OpEq, several values mean "any of".
type Constraint struct {
	Column string
	Op     Op
	Values []string
}

// Eq is the constraint column = one of values.
func Eq(column string, values ...string) Constraint {
	return Constraint{Column: column, Values: values}
}

// Range is the constraint column.op = v (op is OpMin, OpMax, OpGT, ...).
func Range(column string, op Op, v float64) Constraint {
	return Constraint{Column: column, Op: op, Values: []string{formatFloat(v)}}
}

// param is the request parameter name of the constraint.
func (k Constraint) param() string {
	if k.Op == OpEq {
		return k.Column
	}
	return k.Column + "." + string(k.Op)
}

// Cone is a cone search: centre and radius in degrees (ICRS).
type Cone struct {
	RA, Dec, Radius float64
}

// Query is one catalog search.
type Query struct {
	// Release and Table select the catalog ("dr2", "detection").
	Release, Table string
	// Cone, when set, restricts rows to a cone; a query without a cone
	// needs a constraint (e.g. objID=...).
	Cone *Cone
	// Columns selects the columns, in order; nil means all of the view's
	// (plus "distance" in a cone search).
	Columns []string
	// Where holds equality and range constraints.
	Where []Constraint
	// SortBy holds "column", "column.asc" or "column.desc" terms.
	SortBy []string
	// PageSize and Page select one page (Search); SearchAll pages by
	// itself and ignores Page. Zero means not sent.
	PageSize, Page int
}

// validName reports whether s can be a column name: letters, digits and
// underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

var knownOps = []Op{OpEq, OpMin, OpMax, OpGT, OpGTE, OpLT, OpLTE}

// check validates the query and caps the radius.
func (c *Client) check(q *Query) error {
	if err := CheckTable(q.Release, q.Table); err != nil {
		return err
	}
	if q.Cone != nil {
		k := *q.Cone
		switch {
		case math.IsNaN(k.RA) || k.RA < 0 || k.RA >= 360:
			return fmt.Errorf("%w: cone RA %v is not in [0, 360) degrees", ErrInvalidQuery, k.RA)
		case math.IsNaN(k.Dec) || k.Dec < -90 || k.Dec > 90:
			return fmt.Errorf("%w: cone Dec %v is not in [-90, 90] degrees", ErrInvalidQuery, k.Dec)
		case !(k.Radius > 0):
			return fmt.Errorf("%w: cone radius %v is not positive", ErrInvalidQuery, k.Radius)
		case k.Radius > MaxRadius:
			c.log.Warn("cone radius capped at the service's maximum", "service", ServiceName, "radius_deg", k.Radius, "max_deg", MaxRadius)
			k.Radius = MaxRadius
			q.Cone = &k
		}
	} else if len(q.Where) == 0 {
		return fmt.Errorf("%w: a query needs a cone or a constraint", ErrInvalidQuery)
	}
	for _, col := range q.Columns {
		if !validName(col) {
			return fmt.Errorf("%w: column name %q", ErrInvalidQuery, col)
		}
	}
	for _, k := range q.Where {
		if !validName(k.Column) || !slices.Contains(knownOps, k.Op) {
			return fmt.Errorf("%w: constraint %q", ErrInvalidQuery, k.param())
		}
		if len(k.Values) == 0 || (k.Op != OpEq && len(k.Values) != 1) {
			return fmt.Errorf("%w: constraint %s needs one value (several only for equality)", ErrInvalidQuery, k.param())
		}
	}
	for _, s := range q.SortBy {
		col, dir, _ := strings.Cut(s, ".")
		if !validName(col) || (dir != "" && dir != "asc" && dir != "desc") {
			return fmt.Errorf("%w: sort_by %q", ErrInvalidQuery, s)
		}
	}
	if q.PageSize < 0 || q.Page < 0 {
		return fmt.Errorf("%w: negative pagesize or page", ErrInvalidQuery)
	}
	return nil
}

// values encodes the query as MAST's GET parameters: columns as one
// bracketed list (columns=[a,b]), constraints as column[.op]=value
// (repeated for "any of").
func (q *Query) values() url.Values {
	v := url.Values{}
	if q.Cone != nil {
		v.Set("ra", formatFloat(q.Cone.RA))
		v.Set("dec", formatFloat(q.Cone.Dec))
		v.Set("radius", formatFloat(q.Cone.Radius))
	}
	if len(q.Columns) > 0 {
		v.Set("columns", "["+strings.Join(q.Columns, ",")+"]")
	}
	for _, k := range q.Where {
		for _, val := range k.Values {
			v.Add(k.param(), val)
		}
	}
	for _, s := range q.SortBy {
		v.Add("sort_by", s)
	}
	if q.PageSize > 0 {
		v.Set("pagesize", strconv.Itoa(q.PageSize))
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// jsonBody encodes the query as the JSON body astroquery posts.
func (q *Query) jsonBody() ([]byte, error) {
	m := map[string]any{}
	if q.Cone != nil {
		m["ra"], m["dec"], m["radius"] = q.Cone.RA, q.Cone.Dec, q.Cone.Radius
	}
	if len(q.Columns) > 0 {
		m["columns"] = q.Columns
	}
	scalar := func(s string) any {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return json.Number(s)
		}
		return s
	}
	for _, k := range q.Where {
		if len(k.Values) == 1 {
			m[k.param()] = scalar(k.Values[0])
			continue
		}
		vals := make([]any, len(k.Values))
		for i, s := range k.Values {
			vals[i] = scalar(s)
		}
		m[k.param()] = vals
	}
	if len(q.SortBy) > 0 {
		m["sort_by"] = q.SortBy
	}
	if q.PageSize > 0 {
		m["pagesize"] = q.PageSize
	}
	if q.Page > 0 {
		m["page"] = q.Page
	}
	return json.Marshal(m)
}

// request builds the HTTP request of a query.
func (c *Client) request(q *Query, format string) (*httpclient.Request, error) {
	u := c.base + "/" + q.Release + "/" + q.Table + "." + format
	req := &httpclient.Request{Method: c.opts.Method, URL: u, Header: http.Header{}, Idempotent: true}
	if c.opts.Method == http.MethodPost {
		body, err := q.jsonBody()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidQuery, err)
		}
		req.Body = body
		req.Header.Set("Content-Type", "application/json")
	} else if v := q.values(); len(v) > 0 {
		req.URL += "?" + v.Encode()
	}
	c.authorize(req)
	return req, nil
}

func (c *Client) authorize(req *httpclient.Request) {
	if !c.token.IsZero() {
		req.Header.Set("Cookie", (&http.Cookie{Name: "mast_token", Value: c.token.Reveal()}).String())
	}
}

// raw sends one search and returns the body, which may be empty.
func (c *Client) raw(ctx context.Context, q *Query, format string) ([]byte, error) {
	req, err := c.request(q, format)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.IsHTML() {
		return nil, fmt.Errorf("%s: %s: %w: an HTML page instead of %s", ServiceName, c.http.RedactURL(req.URL), singletarget.ErrRemote, format)
	}
	return resp.Body, nil
}

// Search sends one search (one page, when Query.PageSize is set) and
// returns the body in the given format (FormatCSV or FormatJSON). An empty
// result (MAST answers 200 with an empty body, or JSON with no data rows)
// is an error matching singletarget.ErrNotFound; an HTTP error is a
// *singletarget.RemoteError or *singletarget.ThrottledError.
//
// API docs: shared/services/panstarrs.md §2–3.
func (c *Client) Search(ctx context.Context, q Query, format string) ([]byte, error) {
	if format != FormatCSV && format != FormatJSON {
		return nil, fmt.Errorf("%w: format %q (use csv or json)", ErrInvalidQuery, format)
	}
	if err := c.check(&q); err != nil {
		return nil, err
	}
	body, err := c.raw(ctx, &q, format)
	if err != nil {
		return nil, err
	}
	empty := len(bytes.TrimSpace(body)) == 0
	if !empty && format == FormatJSON {
		var probe struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, fmt.Errorf("%s: %s/%s.json: %w: %v", ServiceName, q.Release, q.Table, singletarget.ErrRemote, err)
		}
		empty = len(probe.Data) == 0
	}
	if empty {
		return nil, c.notFound(&q)
	}
	return body, nil
}

func (c *Client) notFound(q *Query) error {
	where := ""
	if q.Cone != nil {
		where = fmt.Sprintf(" in the cone RA %s Dec %s radius %s arcsec", formatFloat(q.Cone.RA), formatFloat(q.Cone.Dec),
			strconv.FormatFloat(q.Cone.Radius*3600, 'g', 6, 64))
	}
	return fmt.Errorf("%s: %w: %s/%s has no rows%s (%w)", ServiceName, singletarget.ErrNotFound, q.Release, q.Table, where, errNoRows)
}

// Table is a CSV result: the header and the data lines as MAST sent them
// (without line breaks). It is not safe for concurrent modification.
type Table struct {
	Header []string
	Rows   []string
}

// Column returns the index of the named column, or -1.
func (t *Table) Column(name string) int { return slices.Index(t.Header, name) }

// Len returns the number of rows.
func (t *Table) Len() int { return len(t.Rows) }

// Bytes returns the table as a CSV file: the header line, then each row,
// each ending in "\n".
func (t *Table) Bytes() []byte {
	var b bytes.Buffer
	_, _ = t.WriteTo(&b)
	return b.Bytes()
}

// WriteTo writes the table as Bytes gives it, row by row, without a
// second copy of the table in memory.
func (t *Table) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int64
	for i, h := range t.Header {
		if i > 0 {
			bw.WriteByte(',')
			n++
		}
		m, _ := bw.WriteString(quoteCSV(h))
		n += int64(m)
	}
	bw.WriteByte('\n')
	n++
	for _, r := range t.Rows {
		m, _ := bw.WriteString(r)
		bw.WriteByte('\n')
		n += int64(m) + 1
	}
	return n, bw.Flush()
}

// parseCSVPage checks a CSV page (header, then rows with as many fields
// as the header: a short row means a truncated answer) and returns it.
func parseCSVPage(body []byte) (*Table, error) {
	text := string(body)
	text = strings.TrimPrefix(text, "\ufeff")
	var t Table
	var fields []string
	line := 0
	for len(text) > 0 {
		var l string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			l, text = text, ""
		}
		line++
		l = trimLine(l)
		if l == "" {
			continue
		}
		var err error
		fields, err = splitCSV(l, fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if t.Header == nil {
			t.Header = make([]string, len(fields))
			for i, f := range fields {
				t.Header[i] = strings.TrimSpace(f)
			}
			continue
		}
		if len(fields) != len(t.Header) {
			return nil, fmt.Errorf("line %d has %d fields, the header %d (a truncated answer?)", line, len(fields), len(t.Header))
		}
		t.Rows = append(t.Rows, l)
	}
	return &t, nil
}

// SearchAll runs a CSV search page by page (Options.PageSize rows per page
// unless Query.PageSize is set) and returns every row in one Table. Each
// page is checked (same header, whole rows), so a truncated answer is an
// error matching singletarget.ErrRemote (after asking once more). An
// empty result is an error matching singletarget.ErrNotFound.
//
// MAST's page numbering is unconfirmed (spec §8): the first request sends
// no page; only when it comes back full does SearchAll ask for page=1 and
// compare, to learn whether pages count from 0 or 1.
func (c *Client) SearchAll(ctx context.Context, q Query) (*Table, error) {
	if err := c.check(&q); err != nil {
		return nil, err
	}
	if q.PageSize == 0 {
		q.PageSize = c.opts.PageSize
	}
	q.Page = 0
	var all *Table
	var prev []byte
	next := 0 // page number of the next request; 0 = none sent
	for pages := 0; ; pages++ {
		if pages >= c.opts.MaxPages {
			return nil, fmt.Errorf("%s: %s/%s: %w: more than %d pages of %d rows; narrow the query", ServiceName, q.Release, q.Table, ErrTooManyRows, c.opts.MaxPages, q.PageSize)
		}
		q.Page = next
		body, page, err := c.page(ctx, &q)
		if err != nil {
			return nil, err
		}
		if page == nil {
			break // an empty body: no (more) rows
		}
		if next == 1 && bytes.Equal(body, prev) {
			// Pages count from 1: page 1 is the page already read.
			next = 2
			pages--
			continue
		}
		if prev != nil && bytes.Equal(body, prev) {
			return nil, fmt.Errorf("%s: %s/%s: %w: page %d repeats the previous page (the server ignores paging)", ServiceName, q.Release, q.Table, singletarget.ErrRemote, q.Page)
		}
		if all == nil {
			all = page
		} else {
			if !slices.Equal(all.Header, page.Header) {
				return nil, fmt.Errorf("%s: %s/%s: %w: page %d has another header", ServiceName, q.Release, q.Table, singletarget.ErrRemote, q.Page)
			}
			all.Rows = append(all.Rows, page.Rows...)
		}
		if page.Len() < q.PageSize {
			break
		}
		prev = body
		next++
	}
	if all == nil || all.Len() == 0 {
		return nil, c.notFound(&q)
	}
	return all, nil
}

// page fetches and checks one CSV page; a nil *Table means an empty
// body. A broken answer (the connection cut mid-body, or a short last
// row) is asked for once more before it becomes an error matching
// singletarget.ErrRemote.
func (c *Client) page(ctx context.Context, q *Query) ([]byte, *Table, error) {
	for attempt := 1; ; attempt++ {
		body, err := c.raw(ctx, q, FormatCSV)
		var page *Table
		if err == nil && len(bytes.TrimSpace(body)) > 0 {
			var perr error
			if page, perr = parseCSVPage(body); perr != nil {
				err = fmt.Errorf("%s: %s/%s.csv page %d: %w: %v", ServiceName, q.Release, q.Table, max(q.Page, 1), singletarget.ErrRemote, perr)
			}
		}
		if err != nil && attempt == 1 && ctx.Err() == nil && brokenAnswer(err) {
			c.log.Warn("broken answer; asking once more", "service", ServiceName, "table", q.Release+"/"+q.Table, "error", err)
			continue
		}
		return body, page, err
	}
}

// brokenAnswer reports a transport failure or a malformed body, as
// opposed to an HTTP status, a throttle or an oversized answer.
func brokenAnswer(err error) bool {
	var re *singletarget.RemoteError
	return errors.Is(err, singletarget.ErrRemote) && !errors.As(err, &re) &&
		!errors.Is(err, singletarget.ErrThrottled) && !errors.Is(err, httpclient.ErrBodyTooLarge)
}

// Column describes one column of a table, from the metadata endpoint.
type Column struct {
	// Name is the column's name as queries use it.
	Name string `json:"name"`
	// Type is the VOTable data type: char, long, int, short,
	// unsignedByte, float, double.
	Type string `json:"type"`
	// DBType is the database type, e.g. "DOUBLE".
	DBType string `json:"db_type,omitempty"`
	// Unit is the unit, "" when none.
	Unit string `json:"unit,omitempty"`
	// UCD is the IVOA unified content descriptor.
	UCD string `json:"ucd,omitempty"`
	// Description says what the column holds.
	Description string `json:"description,omitempty"`
	// Default is the value of a missing entry ("-999" for most numbers).
	Default string `json:"default_value,omitempty"`
}

// Metadata returns the columns of a table from MAST's metadata endpoint
// (GET {base}/{release}/{table}/metadata, spec §1). Successful answers are
// cached for the Client's lifetime. Entries lacking "name" fall back to
// "column_name"; "NULL" units become "".
func (c *Client) Metadata(ctx context.Context, release, table string) ([]Column, error) {
	if err := CheckTable(release, table); err != nil {
		return nil, err
	}
	key := release + "/" + table
	c.mu.Lock()
	cached, ok := c.meta[key]
	c.mu.Unlock()
	if ok {
		return slices.Clone(cached), nil
	}
	req := &httpclient.Request{Method: http.MethodGet, URL: c.base + "/" + key + "/metadata", Header: http.Header{}}
	c.authorize(req)
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	var raw []map[string]any
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		return nil, fmt.Errorf("%s: metadata of %s: %w: not a JSON array of columns: %v", ServiceName, key, singletarget.ErrRemote, err)
	}
	str := func(m map[string]any, k string) string {
		switch v := m[k].(type) {
		case string:
			if v == "NULL" {
				return ""
			}
			return v
		case float64:
			return formatFloat(v)
		case nil:
			return ""
		default:
			return fmt.Sprint(v)
		}
	}
	cols := make([]Column, 0, len(raw))
	for _, m := range raw {
		col := Column{Name: str(m, "name"), Type: str(m, "type"), DBType: str(m, "db_type"), Unit: str(m, "unit"),
			UCD: str(m, "ucd"), Description: str(m, "description"), Default: str(m, "default_value")}
		if col.Name == "" {
			col.Name = str(m, "column_name")
		}
		if col.Type == "" {
			col.Type = str(m, "datatype")
		}
		if col.Name == "" {
			continue
		}
		cols = append(cols, col)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%s: metadata of %s: %w: no columns", ServiceName, key, singletarget.ErrRemote)
	}
	c.mu.Lock()
	c.meta[key] = cols
	c.mu.Unlock()
	return slices.Clone(cols), nil
}

// ObjectRef is an object found by a cone search.
type ObjectRef struct {
	// ObjID is the 64-bit object id, as text (it exceeds float64
	// precision).
	ObjID string
	// RA and Dec are the mean position in degrees (-999 when unknown).
	RA, Dec float64
	// NDetections is the number of single-epoch detections.
	NDetections int
	// Separation is the distance from the cone centre in arcseconds
	// (+Inf when the position is unknown).
	Separation float64
}

// Objects returns the objects of release's mean table within the cone that
// have at least minDetections detections (0: no constraint), nearest
// first: the first step of a light-curve query (the PS1 API notebook's
// recipe: cone on the mean table, then detections by objID).
func (c *Client) Objects(ctx context.Context, release string, cone Cone, minDetections int) ([]ObjectRef, error) {
	q := Query{Release: release, Table: TableMean, Cone: &cone, Columns: []string{"objID", "raMean", "decMean", "nDetections"}}
	if minDetections > 0 {
		q.Where = append(q.Where, Range("nDetections", OpMin, float64(minDetections)))
	}
	t, err := c.SearchAll(ctx, q)
	if err != nil {
		return nil, err
	}
	iID, iRA, iDec, iN := t.Column("objID"), t.Column("raMean"), t.Column("decMean"), t.Column("nDetections")
	if iID < 0 || iRA < 0 || iDec < 0 {
		return nil, fmt.Errorf("%s: %s/mean: %w: the answer lacks objID, raMean or decMean (header %s)", ServiceName, release, singletarget.ErrRemote, strings.Join(t.Header, ","))
	}
	var fields []string
	out := make([]ObjectRef, 0, t.Len())
	for i, row := range t.Rows {
		fields, err = splitCSV(row, fields)
		if err != nil {
			return nil, fmt.Errorf("%s: %s/mean row %d: %w: %v", ServiceName, release, i+1, singletarget.ErrRemote, err)
		}
		o := ObjectRef{ObjID: strings.TrimSpace(fields[iID]), Separation: math.Inf(1)}
		if !validID(o.ObjID) {
			return nil, fmt.Errorf("%s: %s/mean row %d: %w: objID %q is not an integer", ServiceName, release, i+1, singletarget.ErrRemote, o.ObjID)
		}
		ra, err1 := strconv.ParseFloat(strings.TrimSpace(fields[iRA]), 64)
		dec, err2 := strconv.ParseFloat(strings.TrimSpace(fields[iDec]), 64)
		o.RA, o.Dec = -999, -999
		if err1 == nil && err2 == nil && ra > -999 && dec > -999 {
			o.RA, o.Dec = ra, dec
			o.Separation = Separation(cone.RA, cone.Dec, ra, dec) * 3600
		}
		if iN >= 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(fields[iN])); err == nil {
				o.NDetections = n
			}
		}
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b ObjectRef) int {
		if a.Separation != b.Separation {
			if a.Separation < b.Separation {
				return -1
			}
			return 1
		}
		return compareIDs(a.ObjID, b.ObjID)
	})
	return out, nil
}

// validID reports whether s is a decimal integer.
func validID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// compareIDs orders non-negative decimal ids numerically.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// Separation returns the angle between two positions, all in degrees
// (haversine formula, accurate at small separations).
func Separation(ra1, dec1, ra2, dec2 float64) float64 {
	const rad = math.Pi / 180
	d1, d2 := dec1*rad, dec2*rad
	sdd := math.Sin((d2 - d1) / 2)
	sda := math.Sin((ra2 - ra1) * rad / 2)
	h := sdd*sdd + math.Cos(d1)*math.Cos(d2)*sda*sda
	return 2 * math.Asin(math.Min(1, math.Sqrt(h))) / rad
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
