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
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultForcedPhotometryURL is the base URL of the ZTF Forced Photometry
// Service (ZFPS).
const DefaultForcedPhotometryURL = "https://ztfweb.ipac.caltech.edu"

// Paths of the ZFPS CGIs under the base URL (spec B.1, B.3).
const (
	SubmitPath = "/cgi-bin/requestForcedPhotometry.cgi"
	StatusPath = "/cgi-bin/getForcedPhotometryRequests.cgi"
)

// The site-wide HTTP Basic credentials of ZFPS, the same for every user
// and printed in its user guide (spec B). They are the defaults of
// Credentials.HTTPUser and HTTPPassword.
const (
	DefaultHTTPUser     = "ztffps"
	DefaultHTTPPassword = "dontgocrazy!"
)

// SurveyStartJD is the Julian Date of the start of the ZTF survey
// (2018-03-17); ZFPS resets an earlier jdstart to it.
const SurveyStartJD = 2458194.5

// Credentials are the two pairs every ZFPS call needs (spec B): the
// personal account (the registered email and the "userpass" IPAC issued)
// and the site-wide HTTP Basic pair. All four are redacted from logs and
// errors.
type Credentials struct {
	// Email is the address registered with ZFPS. Required.
	Email singletarget.Secret
	// Password is the account's "userpass". Required.
	Password singletarget.Secret
	// HTTPUser and HTTPPassword are the site's HTTP Basic credentials.
	// Defaults DefaultHTTPUser and DefaultHTTPPassword.
	HTTPUser, HTTPPassword singletarget.Secret
}

// ForcedPhotometryOptions configure a ForcedPhotometryClient and a
// ForcedPhotometryService. The zero value gives the defaults noted on each
// field; nil means the zero value.
type ForcedPhotometryOptions struct {
	// Name is the service's registry name (the settings key). Default
	// "ZTF_FP".
	Name string
	// PollInterval is the wait before the first look at a submitted job;
	// each later look waits twice as long, up to MaxPollInterval. ZFPS
	// jobs take minutes to hours and its single-job status page was
	// refreshed hourly. Defaults 1 minute and 10 minutes.
	PollInterval, MaxPollInterval time.Duration
	// Deadline is how long after submission Resume gives up on a job that
	// has not finished (an error matching singletarget.ErrDeadline; the job
	// may still finish on the server). Default 24 hours.
	Deadline time.Duration
	// NoAdopt makes Query always submit a new job. By default, when the
	// account's job list already has a job for the same position and JD
	// window (a query repeated after a crash, or simply repeated), Query
	// follows it if unfinished, or uses a finished, successful one's file
	// at once (see ForcedPhotometryService.Query), instead of queueing a
	// duplicate.
	NoAdopt bool
	// MaxBodySize caps an answer or result file, in bytes. Default 256 MiB.
	MaxBodySize int64
	// MaxOutstanding is the most single requests the account may have
	// outstanding, which singletarget batches keep to: ZFPS allows 100 per
	// user (spec B.1). Default 100; -1 for no limit.
	MaxOutstanding int

	// HTTPClient supplies the transport (tests pass a simulator's client or
	// an httpmock transport). Default: a pooled client.
	HTTPClient *http.Client
	// Logger receives debug logs of requests and retries, with secrets
	// redacted. Default: discard.
	Logger *slog.Logger
	// Timeout bounds each HTTP attempt, body included. Default 2 minutes.
	Timeout time.Duration
	// RetryMax is the number of retries of a status query or download
	// after a connection error or a 5xx. Default 3; -1 disables retries. A
	// submission is never retried (it would queue a second job).
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

func (o *ForcedPhotometryOptions) transport() *transport {
	return &transport{HTTPClient: o.HTTPClient, Logger: o.Logger, Timeout: o.Timeout, RetryMax: o.RetryMax,
		RetryWaitMin: o.RetryWaitMin, RetryWaitMax: o.RetryWaitMax, UserAgent: o.UserAgent, Now: o.Now}
}

// ForcedPhotometryClient is a client of the ZTF Forced Photometry Service
// (spec B): submit a single-position request, list the account's jobs,
// download a result file. It is safe for concurrent use.
type ForcedPhotometryClient struct {
	base   *url.URL
	name   string
	opts   ForcedPhotometryOptions
	creds  Credentials
	http   *httpclient.Client // status and downloads: retried
	submit *httpclient.Client // submissions: never retried
	auth   string
}

// NewForcedPhotometryClient returns a client for the ZFPS site at baseURL
// (DefaultForcedPhotometryURL for the real one). opts may be nil. Missing
// credentials and bad options give an error naming the field.
func NewForcedPhotometryClient(baseURL string, creds Credentials, opts *ForcedPhotometryOptions) (*ForcedPhotometryClient, error) {
	var o ForcedPhotometryOptions
	if opts != nil {
		o = *opts
	}
	base, err := checkBaseURL("baseURL", baseURL)
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = ForcedPhotometryServiceName
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Minute
	}
	if o.MaxPollInterval == 0 {
		o.MaxPollInterval = max(10*time.Minute, o.PollInterval)
	}
	if o.Deadline == 0 {
		o.Deadline = 24 * time.Hour
	}
	if o.MaxBodySize == 0 {
		o.MaxBodySize = 256 << 20
	}
	if o.MaxOutstanding == 0 {
		o.MaxOutstanding = DefaultMaxOutstanding
	}
	if creds.HTTPUser.IsZero() {
		creds.HTTPUser = DefaultHTTPUser
	}
	if creds.HTTPPassword.IsZero() {
		creds.HTTPPassword = DefaultHTTPPassword
	}
	t := o.transport()
	t.defaults()
	var errs []error
	if err := t.validate("ztf: ForcedPhotometryOptions."); err != nil {
		errs = append(errs, err)
	}
	if o.PollInterval < 0 || o.MaxPollInterval < o.PollInterval {
		errs = append(errs, fmt.Errorf("ztf: ForcedPhotometryOptions.PollInterval %s and MaxPollInterval %s must be positive and in order", o.PollInterval, o.MaxPollInterval))
	}
	if o.Deadline < 0 {
		errs = append(errs, fmt.Errorf("ztf: ForcedPhotometryOptions.Deadline %s is negative", o.Deadline))
	}
	if o.MaxBodySize < 0 {
		errs = append(errs, fmt.Errorf("ztf: ForcedPhotometryOptions.MaxBodySize %d is negative", o.MaxBodySize))
	}
	if o.MaxOutstanding < -1 {
		errs = append(errs, fmt.Errorf("ztf: ForcedPhotometryOptions.MaxOutstanding %d: use -1 (no limit) or a positive number", o.MaxOutstanding))
	}
	if creds.Email.IsZero() {
		errs = append(errs, errors.New("ztf: Credentials.Email is required (the address registered with ZFPS)"))
	}
	if creds.Password.IsZero() {
		errs = append(errs, errors.New("ztf: Credentials.Password is required (the ZFPS userpass)"))
	}
	if strings.Contains(creds.HTTPUser.Reveal(), ":") {
		errs = append(errs, errors.New("ztf: Credentials.HTTPUser must not contain ':'"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o.Logger, o.Timeout, o.RetryMax, o.RetryWaitMin, o.RetryWaitMax, o.Now = t.Logger, t.Timeout, t.RetryMax, t.RetryWaitMin, t.RetryWaitMax, t.Now
	secrets := []singletarget.Secret{creds.Email, creds.Password, creds.HTTPUser, creds.HTTPPassword,
		singletarget.BasicSecret(creds.HTTPUser, creds.HTTPPassword)}
	redact := append(slices.Clone(httpclient.DefaultRedactParams), "userpass")
	h := t.httpOptions(o.Name, secrets, redact, true)
	h.MaxBodySize = o.MaxBodySize
	hs := t.httpOptions(o.Name, secrets, redact, false)
	hs.MaxBodySize = 1 << 20
	hs.HTTPClient = freshConnections(o.HTTPClient)
	u, _ := url.Parse(base)
	return &ForcedPhotometryClient{
		base: u, name: o.Name, opts: o, creds: creds,
		http: httpclient.New(h), submit: httpclient.New(hs),
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(creds.HTTPUser.Reveal()+":"+creds.HTTPPassword.Reveal())),
	}, nil
}

// freshConnections returns a copy of c (nil: the default client) whose
// transport opens a new connection for every request. net/http's
// Transport silently re-sends a GET when a reused keep-alive connection
// fails, and the ZFPS submission is a GET that queues a job: on a fresh
// connection that replay cannot happen. Transports other than
// *http.Transport (test mocks) are used as they are.
func freshConnections(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	var base *http.Transport
	switch tr := cp.Transport.(type) {
	case nil:
		base = http.DefaultTransport.(*http.Transport)
	case *http.Transport:
		base = tr
	default:
		return &cp
	}
	tr := base.Clone()
	tr.DisableKeepAlives = true
	cp.Transport = tr
	return &cp
}

// ForcedPhotometryRequest is one single-position request (spec B.1).
type ForcedPhotometryRequest struct {
	// RA and Dec are the position (ICRS, degrees).
	RA, Dec float64
	// JDStart and JDEnd bound the epochs (Julian Dates, not MJD).
	JDStart, JDEnd float64
}

// check validates the request, errors naming the field.
func (r ForcedPhotometryRequest) check() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("ztf: ForcedPhotometryRequest."+format, a...))
	}
	if math.IsNaN(r.RA) || r.RA < 0 || r.RA >= 360 {
		bad("RA %v is not in [0, 360)", r.RA)
	}
	if math.IsNaN(r.Dec) || r.Dec < -90 || r.Dec > 90 {
		bad("Dec %v is not in [-90, 90]", r.Dec)
	}
	for _, j := range []struct {
		name string
		v    float64
	}{{"JDStart", r.JDStart}, {"JDEnd", r.JDEnd}} {
		if math.IsNaN(j.v) || j.v < 2400000 || j.v > 2500000 {
			bad("%s %v is not a Julian Date (JD = MJD + 2400000.5)", j.name, j.v)
		}
	}
	if r.JDEnd <= r.JDStart {
		bad("JDEnd %v is not after JDStart %v", r.JDEnd, r.JDStart)
	}
	return errors.Join(errs...)
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Submission is what ZFPS echoed for a submitted request: the position
// and window as it recorded them, which identify the job in the job list.
type Submission struct {
	// RA, Dec, JDStart and JDEnd are the request as echoed.
	RA, Dec, JDStart, JDEnd float64
}

// Submit queues a forced-photometry job for one position (spec B.1:
// GET requestForcedPhotometry.cgi with the account credentials in the
// query string). It is never retried: a retry could queue a second job.
// A page without the echo table gives an *AnswerError (matching
// singletarget.ErrUnauthorized when it is about the account).
func (c *ForcedPhotometryClient) Submit(ctx context.Context, r ForcedPhotometryRequest) (*Submission, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	v := url.Values{}
	v.Set("ra", fmtNum(r.RA))
	v.Set("dec", fmtNum(r.Dec))
	v.Set("jdstart", fmtNum(r.JDStart))
	v.Set("jdend", fmtNum(r.JDEnd))
	v.Set("email", c.creds.Email.Reveal())
	v.Set("userpass", c.creds.Password.Reveal())
	u := c.url(SubmitPath, v)
	resp, err := c.submit.Do(ctx, &httpclient.Request{Method: http.MethodGet, URL: u, Header: c.header()})
	if err != nil {
		return nil, err
	}
	for _, table := range htmlTables(string(resp.Body)) {
		for _, row := range table {
			if len(row) < 4 || row[0].Header {
				continue
			}
			var vals [4]float64
			ok := true
			for i := range vals {
				x, err := strconv.ParseFloat(row[i].Text, 64)
				if err != nil {
					ok = false
					break
				}
				vals[i] = x
			}
			if ok {
				return &Submission{RA: vals[0], Dec: vals[1], JDStart: vals[2], JDEnd: vals[3]}, nil
			}
		}
	}
	return nil, c.answerError(u, resp.Body)
}

func (c *ForcedPhotometryClient) answerError(u string, body []byte) error {
	text := c.http.Redact(snippet(body))
	return &AnswerError{Service: c.name, URL: c.http.RedactURL(u), Message: text, Unauthorized: looksUnauthorized(text)}
}

func (c *ForcedPhotometryClient) header() http.Header {
	return http.Header{"Authorization": {c.auth}}
}

// url builds a URL on the site's host: base path + p, with query v.
func (c *ForcedPhotometryClient) url(p string, v url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + p
	u.RawPath = ""
	if v != nil {
		u.RawQuery = strings.ReplaceAll(v.Encode(), "+", "%20")
	}
	return u.String()
}

// Job is one row of the account's job list (spec B.3).
type Job struct {
	// ReqID is the request id.
	ReqID int64 `json:"reqid"`
	// RA, Dec, JDStart and JDEnd are the request as the service recorded it.
	RA      float64 `json:"ra"`
	Dec     float64 `json:"dec"`
	JDStart float64 `json:"jdstart"`
	JDEnd   float64 `json:"jdend"`
	// Created, Started and Ended are the service's timestamps as written
	// (their format is not documented); Started and Ended are empty until
	// then.
	Created string `json:"created,omitempty"`
	Started string `json:"started,omitempty"`
	Ended   string `json:"ended,omitempty"`
	// Machine is the worker host.
	Machine string `json:"machine,omitempty"`
	// ExitCode is the job's exit code once set (see ExitCodeMeaning).
	ExitCode *int `json:"exitcode,omitempty"`
	// LightCurve is the server path of the result file once done, e.g.
	// /ztf/ops/srv/ztffps/.../forcedphotometry_req00069624_lc.txt.
	LightCurve string `json:"lightcurve,omitempty"`
}

// Done reports whether the job has finished (successfully or not).
func (j Job) Done() bool { return j.Ended != "" || j.LightCurve != "" || j.ExitCode != nil }

// State is "queued", "running" or "done".
func (j Job) State() string {
	switch {
	case j.Done():
		return "done"
	case j.Started != "":
		return "running"
	}
	return "queued"
}

// Matches reports whether the job is for position (ra, dec) and window
// [jdStart, jdEnd], within the rounding of the service's echo (1e-5° and
// 1e-4 d).
func (j Job) Matches(ra, dec, jdStart, jdEnd float64) bool {
	dra := math.Abs(j.RA - ra)
	if dra > 180 {
		dra = 360 - dra
	}
	return dra*math.Cos(dec*math.Pi/180) < 1e-5 && math.Abs(j.Dec-dec) < 1e-5 &&
		math.Abs(j.JDStart-jdStart) < 1e-4 && math.Abs(j.JDEnd-jdEnd) < 1e-4
}

// exitCodes are the ZFPS exit and procstatus codes (spec B.6).
var exitCodes = map[int]string{
	0:   "success, no warnings",
	56:  "photometry may be affected by bad (incl. NaN'd) pixels",
	57:  "no reference-catalog source within 5 arcsec",
	58:  "reference PSF catalog missing from the archive",
	59:  "suspect uncertainties (difference image made early in production)",
	60:  "up-sampled difference PSF dimensions not odd",
	61:  "difference-image cut-out off the image or too close to an edge",
	62:  "requested start JD before the survey start; reset",
	63:  "no epochs returned by the database query",
	64:  "catastrophic error",
	65:  "requested end JD before the survey start",
	255: "database connection or query error",
}

// ExitCodeMeaning describes a ZFPS exit or procstatus code (spec B.6).
func ExitCodeMeaning(code int) string {
	if m, ok := exitCodes[code]; ok {
		return m
	}
	return "undocumented code"
}

// JobFilter selects the jobs Jobs lists: the values of the status page's
// "option" parameter.
type JobFilter string

// Job filters.
const (
	AllRecentJobs JobFilter = "All recent jobs"
	PendingJobs   JobFilter = "Pending jobs"
)

var lightCurvePath = regexp.MustCompile(`/[^\s"'<>]*?lc\.txt`)

// Jobs lists the account's jobs of the last 30 days (spec B.3:
// getForcedPhotometryRequests.cgi). No job at all (HTTP 400 "Zero records
// returned") is an empty list, not an error. Columns are found by their
// header names (positions as documented when there is no header row).
func (c *ForcedPhotometryClient) Jobs(ctx context.Context, filter JobFilter) ([]Job, error) {
	if filter == "" {
		filter = AllRecentJobs
	}
	v := url.Values{}
	v.Set("email", c.creds.Email.Reveal())
	v.Set("userpass", c.creds.Password.Reveal())
	v.Set("option", string(filter))
	v.Set("action", "Query Database")
	u := c.url(StatusPath, v)
	resp, err := c.http.Do(ctx, &httpclient.Request{Method: http.MethodGet, URL: u, Header: c.header()})
	if resp != nil && bytes.Contains(resp.Body, []byte("Zero records returned")) && (err == nil || resp.Status == http.StatusBadRequest) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	tables := htmlTables(string(resp.Body))
	if len(tables) == 0 {
		return nil, c.answerError(u, resp.Body)
	}
	table := tables[0]
	for _, t := range tables {
		if len(t) > 0 && len(t[0]) > 0 && strings.EqualFold(t[0][0].Text, "reqid") {
			table = t
			break
		}
	}
	cols := map[string]int{"reqid": 0, "ra": 1, "dec": 2, "startjd": 3, "endjd": 4, "created": 5,
		"started": 6, "ended": 7, "machine": 8, "exitcode": 9, "lightcurve": 10}
	var jobs []Job
	for ri, row := range table {
		if ri == 0 && len(row) > 0 && row[0].Header {
			found := map[string]int{}
			for i, cell := range row {
				found[strings.ToLower(strings.TrimSpace(cell.Text))] = i
			}
			if _, ok := found["reqid"]; ok {
				for k := range cols {
					if i, ok := found[k]; ok {
						cols[k] = i
					} else {
						cols[k] = -1
					}
				}
			}
			continue
		}
		if len(row) == 0 || row[0].Header {
			continue
		}
		cell := func(k string) htmlCell {
			if i := cols[k]; i >= 0 && i < len(row) {
				return row[i]
			}
			return htmlCell{}
		}
		bad := func(k string) error {
			return &AnswerError{Service: c.name, URL: c.http.RedactURL(u),
				Message: c.http.Redact(fmt.Sprintf("job table row %d: %s %q is not a number", ri, k, cell(k).Text))}
		}
		var j Job
		if j.ReqID, err = strconv.ParseInt(cell("reqid").Text, 10, 64); err != nil {
			return nil, bad("reqId")
		}
		for _, f := range []struct {
			k string
			p *float64
		}{{"ra", &j.RA}, {"dec", &j.Dec}, {"startjd", &j.JDStart}, {"endjd", &j.JDEnd}} {
			if *f.p, err = strconv.ParseFloat(cell(f.k).Text, 64); err != nil {
				return nil, bad(f.k)
			}
		}
		j.Created, j.Started, j.Ended, j.Machine = cell("created").Text, cell("started").Text, cell("ended").Text, cell("machine").Text
		if s := cell("exitcode").Text; s != "" {
			code, err := strconv.Atoi(s)
			if err != nil {
				return nil, bad("exitcode")
			}
			j.ExitCode = &code
		}
		lc := cell("lightcurve")
		if m := lightCurvePath.FindString(lc.Text); m != "" {
			j.LightCurve = m
		} else if m := lightCurvePath.FindString(lc.Raw); m != "" {
			j.LightCurve = m
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// Download fetches a job's result file by its server path (Job.LightCurve;
// spec B.4) into memory, checked as DownloadTo checks it. Prefer
// DownloadTo for anything but small files.
func (c *ForcedPhotometryClient) Download(ctx context.Context, lightCurve string) ([]byte, error) {
	var buf bytes.Buffer
	err := c.DownloadTo(ctx, lightCurve, func(r io.Reader) error {
		buf.Reset() // a body that broke off is fetched again
		_, err := buf.ReadFrom(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DownloadTo streams a job's result file, fetched by its server path
// (Job.LightCurve; spec B.4) from the site's host with the site-wide Basic
// auth, to consume (typically a ProductSink's PutProduct), so that a file
// of any size costs the same small memory. The reader consume gets fails
// at its end, and DownloadTo returns an error matching
// singletarget.ErrRemote, for a file without the forcediffimflux column
// line or without the END trailer of spec B.5 (cut short); over
// MaxBodySize it fails at the cap. A body that breaks off is fetched again
// and consume called afresh (PutProduct stores nothing from a reader that
// fails).
func (c *ForcedPhotometryClient) DownloadTo(ctx context.Context, lightCurve string, consume func(io.Reader) error) error {
	if !strings.HasPrefix(lightCurve, "/") || strings.HasPrefix(lightCurve, "//") || strings.ContainsAny(lightCurve, "?#\\") ||
		slices.Contains(strings.Split(lightCurve, "/"), "..") {
		return fmt.Errorf("%s: %w: result path %q is not a path on the site", c.name, singletarget.ErrRemote, c.http.Redact(lightCurve))
	}
	u := *c.base
	u.Path, u.RawPath, u.RawQuery = lightCurve, "", ""
	return c.http.Fetch(ctx, &httpclient.Request{Method: http.MethodGet, URL: u.String(), Header: c.header()}, func(_ *httpclient.Response, body io.Reader) error {
		chk := &resultFileCheck{r: body}
		err := consume(chk)
		if chk.err != nil {
			return fmt.Errorf("%s: GET %s: %w: %s", c.name, c.http.RedactURL(u.String()), singletarget.ErrRemote, c.http.Redact(chk.err.Error()))
		}
		return err
	})
}

// resultFileCheck passes a result file through and, at its end, fails
// unless the file is one (spec B.5): a column line naming
// forcediffimflux, and the END trailer as the last line that is not
// blank.
type resultFileCheck struct {
	r        io.Reader
	head     []byte // the first 4 KiB, for the error's snippet
	tail     []byte // the last bytes read, to find the column name across reads
	found    bool   // forcediffimflux seen
	line     []byte // the start of the current line (at most maxTrailer bytes)
	lastLine []byte // the last line that is not blank, as line keeps it
	err      error
}

const (
	fluxColumn = "forcediffimflux"
	// maxTrailer is the most of a line resultFileCheck keeps.
	maxTrailer = 256
)

func (c *resultFileCheck) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	b := p[:n]
	if len(c.head) < 4096 {
		c.head = append(c.head, b[:min(len(b), 4096-len(c.head))]...)
	}
	if !c.found {
		// The name may straddle two reads: look at the end of the last one
		// joined to the start of this one, then at this one.
		keep := len(fluxColumn) - 1
		joined := append(c.tail, b[:min(len(b), keep)]...)
		c.found = bytes.Contains(joined, []byte(fluxColumn)) || bytes.Contains(b, []byte(fluxColumn))
		if len(joined) > keep {
			joined = joined[len(joined)-keep:]
		}
		if len(b) >= keep {
			joined = b[len(b)-keep:]
		}
		c.tail = append(c.tail[:0:0], joined...)
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.addToLine(b)
			break
		}
		c.addToLine(b[:i])
		c.endLine()
		b = b[i+1:]
	}
	if err == io.EOF {
		c.endLine()
		switch {
		case !c.found:
			c.err = fmt.Errorf("not a forced-photometry result file: %s", snippet(c.head))
		case !bytes.HasPrefix(c.lastLine, []byte("#")) || !bytes.Contains(c.lastLine, []byte("END")):
			c.err = errors.New("the result file is cut short (no END line)")
		}
		if c.err != nil {
			return n, c.err
		}
	}
	return n, err
}

func (c *resultFileCheck) addToLine(b []byte) {
	if room := maxTrailer - len(c.line); room > 0 {
		c.line = append(c.line, b[:min(len(b), room)]...)
	}
}

func (c *resultFileCheck) endLine() {
	if l := bytes.TrimRight(c.line, " \t\r\v\f"); len(l) > 0 {
		c.lastLine = append(c.lastLine[:0], l...)
	}
	c.line = c.line[:0]
}

// fileName returns the base name of a result path.
func fileName(p string) string { return path.Base(p) }
