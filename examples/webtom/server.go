package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/examples/internal/plot"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page sizes.
const (
	// recentJobs is how many of a target's jobs its page lists.
	recentJobs = 10
	// latestDatums is how many datums a page of the target's table shows.
	latestDatums = 20
	// maxDatumPages caps the table's pages: it pages through the newest
	// maxDatumPages × latestDatums datums (a deeper page costs the store
	// a walk over every datum it skips).
	maxDatumPages = 500
	// plotPoints is how many photometry points a light curve draws: the
	// newest ones. gonum/plot draws about 10,000 points a second at 10 KB
	// each: a target with a million would cost minutes and gigabytes.
	plotPoints = 5000
	// shownSpectra is how many spectra the target page draws: the newest.
	shownSpectra = 6
	// maxUpload caps an uploaded file.
	maxUpload = 32 << 20
	// sessionCookie holds the browser's session id, to which the CSRF
	// token is bound.
	sessionCookie = "webtom_session"
)

// Plot sizes: 864 × 480 pixels for a light curve, 720 × 360 for a spectrum.
var (
	lightcurveW, lightcurveH = 9 * vg.Inch, 5 * vg.Inch
	spectrumW, spectrumH     = 7.5 * vg.Inch, 3.75 * vg.Inch
)

// serverOptions configure newServer; nil means defaults.
type serverOptions struct {
	// Logger receives request logs and errors. Default: discard.
	Logger *slog.Logger
	// TargetsFile is where the target list is saved; "" keeps it in
	// memory only.
	TargetsFile string
	// JobRefresh is how often (in seconds) a running job's page reloads.
	// Default 1.
	JobRefresh int
	// Auth, when set, is the login every request needs. Default: none.
	Auth *basicAuth
	// LoopbackHosts refuses requests whose Host is not localhost or a
	// loopback address: without a login, a web page whose domain was made
	// to resolve to 127.0.0.1 (DNS rebinding) could otherwise read pages
	// and post forms as if it were the server's own.
	LoopbackHosts bool
}

// server is the web TOM: the target list, each target's page with the
// services' forms, job pages and plots. It is an http.Handler, safe for
// concurrent use.
type server struct {
	app     *builtin.App
	log     *slog.Logger
	targets *targetList
	refresh int
	auth    *basicAuth // nil: no login
	pages   map[string]*template.Template
	handler http.Handler
	// csrfKey signs session ids into CSRF tokens.
	csrfKey []byte

	// loopbackHosts is serverOptions.LoopbackHosts.
	loopbackHosts bool
	// callbacks are the archives' completion-callback endpoints, by path
	// (builtin.App.CallbackHandlers), served without the login.
	callbacks map[string]http.Handler

	mu sync.Mutex
	// plots caches each target's last light curve: drawing thousands of
	// points takes longer than reading them.
	plots map[int64]cachedPlot
	// drawing lets one light curve be drawn at a time, which bounds the
	// memory concurrent views take; the others wait, then find it cached.
	drawing chan struct{}
	draws   atomic.Int64 // light curves drawn, for tests
}

// cachedPlot is a drawn light curve and what it was drawn from.
type cachedPlot struct {
	key plotKey
	png []byte
}

// plotKey identifies the datums a light curve was drawn from.
type plotKey struct {
	count               int
	minID, maxID, sumID int64
}

// newServer returns the web TOM over app (whose executor must be started
// for jobs to run).
func newServer(app *builtin.App, opts *serverOptions) (*server, error) {
	var o serverOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.JobRefresh <= 0 {
		o.JobRefresh = 1
	}
	targets, err := openTargets(o.TargetsFile)
	if err != nil {
		return nil, err
	}
	s := &server{app: app, log: o.Logger, targets: targets, refresh: o.JobRefresh, auth: o.Auth, loopbackHosts: o.LoopbackHosts,
		pages: map[string]*template.Template{}, plots: map[int64]cachedPlot{}, drawing: make(chan struct{}, 1), csrfKey: make([]byte, 32)}
	if _, err := rand.Read(s.csrfKey); err != nil {
		return nil, err
	}
	if s.callbacks, err = app.CallbackHandlers(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"mjd":     func(t time.Time) string { return strconv.FormatFloat(processor.TimeToMJD(t), 'f', 5, 64) },
		"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"seconds": func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) },
		"deg":     func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) },
		"params":  formatParams,
		"states":  func() []singletarget.JobState { return singletarget.JobStates },
	}
	for _, page := range []string{"targets", "target", "job", "jobs", "error"} {
		t, err := template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/form.html", "templates/"+page+".html")
		if err != nil {
			return nil, err
		}
		s.pages[page] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/targets", http.StatusFound) })
	m.HandleFunc("GET /targets", s.handleTargets)
	m.HandleFunc("POST /targets", s.handleCreateTarget)
	m.HandleFunc("GET /targets/{id}", s.handleTarget)
	m.HandleFunc("POST /targets/{id}/query/{service}", s.handleQuery)
	m.HandleFunc("POST /targets/{id}/upload", s.handleUpload)
	m.HandleFunc("GET /targets/{id}/lightcurve.png", s.handleLightcurve)
	m.HandleFunc("GET /targets/{id}/spectra/{file}", s.handleSpectrum)
	m.HandleFunc("GET /jobs", s.handleJobs)
	m.HandleFunc("GET /jobs/{id}", s.handleJob)
	m.HandleFunc("GET /jobs/{id}/events", s.handleJobEvents)
	m.HandleFunc("POST /jobs/{id}/cancel", s.handleCancel)
	// Cross-origin posts are refused from the browser's own headers
	// (Sec-Fetch-Site, Origin) before the token is even looked at.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "Cross-origin request refused.")
	}))
	s.handler = cop.Handler(m)
	return s, nil
}

// contentSecurityPolicy allows the page's own style sheet, scripts, images
// and event streams, and nothing else: no inline script, no framing.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP implements http.Handler: it sets the security headers, asks
// for the login when there is one, and logs each request.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	cb, isCallback := s.callbacks[r.URL.EscapedPath()]
	switch {
	case isCallback:
		// An archive's completion notice: it cannot log in, and comes
		// from elsewhere by name. The endpoint only wakes the job waiting
		// on the task it names (SECURITY.md).
		cb.ServeHTTP(rec, r)
	case s.loopbackHosts && !isLoopbackHost(r.Host):
		s.log.Warn("request for another host refused", "host", r.Host, "remote", r.RemoteAddr)
		http.Error(rec, "This server answers only to localhost (a login, WEBTOM_PASSWORD, lifts this).", http.StatusMisdirectedRequest)
	case s.auth != nil && !s.auth.allows(r):
		if _, _, tried := r.BasicAuth(); tried {
			s.log.Warn("login failed", "remote", r.RemoteAddr, "path", r.URL.Path)
		}
		s.auth.challenge(rec)
	default:
		s.handler.ServeHTTP(rec, r)
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Flush and
// write deadlines for event streams).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// page is what every page template gets.
type page struct {
	Title string
	// Refresh, when positive, reloads the page after that many seconds.
	Refresh int
	// CSRF is the token the page's forms carry.
	CSRF string
}

// render executes a page template into a buffer and then writes it, so a
// template error gives a clean 500.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("template", "page", name, "path", r.URL.Path, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

type errorPage struct {
	page
	Status  int
	Message string
}

// fail renders an error page.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", errorPage{page: page{Title: http.StatusText(status)}, Status: status, Message: msg})
}

// internal logs err and renders a 500 page that does not repeat it.
func (s *server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong; the server's log says what.")
}

// --- CSRF: a token bound to the session cookie (signed double submit) ---

// session returns the browser's session id, setting the cookie when the
// browser has none.
func (s *server) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return id
}

// csrfToken is the token of a session.
func (s *server) csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf:" + sessionID))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether a post carries its session's token. Call it
// after the form is parsed.
func (s *server) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return false
	}
	want := s.csrfToken(c.Value)
	return hmac.Equal([]byte(want), []byte(r.PostFormValue(csrfField)))
}

func (s *server) csrfFailed(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, http.StatusForbidden, "The form's security token is missing or stale (CSRF check). Reload the page and submit again.")
}

// --- targets ---

type targetsPage struct {
	page
	Targets []singletarget.Target
	Input   targetInput
	Errors  map[string][]string
}

func (s *server) handleTargets(w http.ResponseWriter, r *http.Request) {
	csrf := s.csrfToken(s.session(w, r))
	s.render(w, r, http.StatusOK, "targets", targetsPage{page: page{Title: "Targets", CSRF: csrf}, Targets: s.targets.all()})
}

func (s *server) handleCreateTarget(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !s.checkCSRF(r) {
		s.csrfFailed(w, r)
		return
	}
	in := targetInput{Name: r.PostFormValue("name"), RA: r.PostFormValue("ra"), Dec: r.PostFormValue("dec")}
	t, lookAlike, err := s.targets.add(in)
	var fe *singletarget.FormErrors
	switch {
	case errors.As(err, &fe):
		csrf := s.csrfToken(s.session(w, r))
		s.render(w, r, http.StatusUnprocessableEntity, "targets", targetsPage{
			page: page{Title: "Targets", CSRF: csrf}, Targets: s.targets.all(), Input: in, Errors: fe.Fields})
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.log.Info("target created", "id", t.ID, "name", t.Name)
	if lookAlike != "" {
		// Warn: the name looks like another target's (another script's
		// letters, 0 for O, ...).
		http.Redirect(w, r, fmt.Sprintf("/targets/%d?%s", t.ID, url.Values{"looks_like": {lookAlike}}.Encode()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/targets/%d", t.ID), http.StatusSeeOther)
}

// target returns the target named by the path's id, or writes a 404.
func (s *server) target(w http.ResponseWriter, r *http.Request) (singletarget.Target, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	t, ok := s.targets.get(id)
	if err != nil || !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no target %q.", r.PathValue("id")))
		return singletarget.Target{}, false
	}
	return t, true
}

// --- the target page ---

type targetPage struct {
	page
	Target singletarget.Target
	Forms  []formView
	// Jobs are the target's latest jobs, from the executor; MoreJobs says
	// there are older ones.
	Jobs     []singletarget.JobStatus
	MoreJobs bool
	// Total is how many datums the target has.
	Total int
	// LightcurveURL draws the newest plotPoints photometry points; "" when
	// there is no photometry.
	LightcurveURL string
	PlotPoints    int
	// Spectra are the newest shownSpectra of SpectraTotal spectra.
	Spectra      []spectrumView
	SpectraTotal int
	// Datums is one page of the newest-first table.
	Datums []datumRow
	Pager  pager
	// UploadTypes are the data product types a file may be uploaded as.
	UploadTypes  []singletarget.Choice
	UploadType   string
	UploadTime   string
	UploadErrors []string
	// UploadReport says what the processor made of an uploaded file.
	UploadReport []string
	// Notice reports an upload's outcome.
	Notice string
}

// pager is the datum table's position: page Page (from 1) of Pages, rows
// First to Last (from 1, newest first) of Total; Newer and Older link to
// the neighbouring pages ("" at either end).
type pager struct {
	Page, Pages        int
	First, Last, Total int
	Newer, Older       string
	// Reach, when set, is how far back the table goes: it stops before
	// the oldest datums.
	Reach int
}

type spectrumView struct {
	ID        int64
	Source    string
	Timestamp time.Time
	Points    int
	URL       string
}

type datumRow struct {
	Timestamp time.Time
	Source    string
	DataType  string
	Filter    string
	Value     string
}

// formState is a refused post of one service's form, to show again.
type formState struct {
	service string
	posted  url.Values
	errs    *singletarget.FormErrors
}

func (s *server) handleTarget(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	p, err := s.targetPage(w, r, t, nil)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if q := r.URL.Query(); q.Has("added") {
		p.Notice = fmt.Sprintf("Uploaded %s: %s datums added, %s duplicates skipped.", q.Get("file"), q.Get("added"), q.Get("skipped"))
		p.UploadReport = q["report"]
	} else if other := q.Get("looks_like"); other != "" {
		p.Notice = fmt.Sprintf("Warning: the name %q looks like that of the target %q (letters of another script, 0 for O, ...): check that they are not the same object.", t.Name, other)
	}
	s.render(w, r, http.StatusOK, "target", p)
}

// targetPage gathers the target page; refused, when set, is a form to
// show with its submitted values and errors.
func (s *server) targetPage(w http.ResponseWriter, r *http.Request, t singletarget.Target, refused *formState) (targetPage, error) {
	ctx := r.Context()
	p := targetPage{page: page{Title: t.Name, CSRF: s.csrfToken(s.session(w, r))}, Target: t}
	m := s.app.Manager
	for _, name := range m.Services() {
		svc, err := m.Service(name)
		if err != nil {
			return p, err
		}
		info, err := m.Info(name)
		if err != nil {
			return p, err
		}
		var fv formView
		if refused != nil && refused.service == name {
			fv = buildForm(name, info, svc.NewForm(), t, refused.posted, refused.errs)
		} else {
			fv = buildForm(name, info, svc.NewForm(), t, nil, nil)
		}
		fv.CSRF = p.CSRF
		p.Forms = append(p.Forms, fv)
	}
	jobs, err := s.app.Executor.List(ctx, singletarget.JobFilter{TargetID: t.ID, Limit: recentJobs})
	if err != nil {
		return p, err
	}
	p.Jobs, p.MoreJobs = jobs.Jobs, jobs.Next != ""

	if err := s.datumViews(r, t, &p); err != nil {
		return p, err
	}
	for typ, label := range m.DataProductTypes() {
		p.UploadTypes = append(p.UploadTypes, singletarget.Choice{Value: typ, Label: label})
	}
	slices.SortFunc(p.UploadTypes, func(a, b singletarget.Choice) int { return strings.Compare(a.Label, b.Label) })
	p.UploadType = dataproduct.TypePhotometry
	return p, nil
}

// datumViews fills the page's datum parts with a bounded amount of work
// whatever the target holds: one count, the table's page, the newest
// spectra and whether there is photometry, each an indexed query.
func (s *server) datumViews(r *http.Request, t singletarget.Target, p *targetPage) error {
	ctx, st := r.Context(), s.app.Store
	var err error
	if p.Total, err = st.CountDatums(ctx, dataproduct.DatumFilter{TargetID: t.ID}); err != nil {
		return err
	}
	if p.Total == 0 {
		return nil
	}
	last, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: t.ID, DataType: dataproduct.TypePhotometry, Limit: 1, Newest: true})
	if err != nil {
		return err
	}
	if len(last) > 0 {
		// The count in the URL makes the browser fetch a new plot when
		// new data arrive.
		p.LightcurveURL = fmt.Sprintf("/targets/%d/lightcurve.png?n=%d", t.ID, p.Total)
		p.PlotPoints = plotPoints
	}
	sf := dataproduct.DatumFilter{TargetID: t.ID, DataType: dataproduct.TypeSpectroscopy}
	if p.SpectraTotal, err = st.CountDatums(ctx, sf); err != nil {
		return err
	}
	sf.Limit, sf.Newest = shownSpectra, true
	spectra, err := st.ListDatums(ctx, sf)
	if err != nil {
		return err
	}
	for _, d := range slices.Backward(spectra) {
		if v, ok := d.Value.(dataproduct.Spectrum); ok {
			p.Spectra = append(p.Spectra, spectrumView{ID: d.ID, Source: d.Source, Timestamp: d.Timestamp, Points: len(v.Wavelength),
				URL: fmt.Sprintf("/targets/%d/spectra/%d.png", t.ID, d.ID)})
		}
	}

	pg := &p.Pager
	pg.Total = p.Total
	pg.Pages = (p.Total + latestDatums - 1) / latestDatums
	if pg.Pages > maxDatumPages {
		pg.Pages, pg.Reach = maxDatumPages, maxDatumPages*latestDatums
	}
	pg.Page = 1
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 1 {
		pg.Page = min(n, pg.Pages)
	}
	rows, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: t.ID, Limit: latestDatums, Offset: (pg.Page - 1) * latestDatums, Newest: true})
	if err != nil {
		return err
	}
	for _, d := range slices.Backward(rows) {
		p.Datums = append(p.Datums, rowOf(d))
	}
	pg.First = (pg.Page-1)*latestDatums + 1
	pg.Last = pg.First + len(rows) - 1
	link := func(page int) string { return fmt.Sprintf("/targets/%d?page=%d#datums", t.ID, page) }
	if pg.Page > 1 {
		pg.Newer = link(pg.Page - 1)
	}
	if pg.Page < pg.Pages {
		pg.Older = link(pg.Page + 1)
	}
	return nil
}

// rowOf describes a datum for the table.
func rowOf(d dataproduct.Datum) datumRow {
	row := datumRow{Timestamp: d.Timestamp, Source: d.Source, DataType: d.DataType}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
	switch v := d.Value.(type) {
	case dataproduct.Photometry:
		row.Filter = v.Filter
		switch {
		case v.Magnitude != nil && v.Error != nil:
			row.Value = f(*v.Magnitude) + " ± " + f(*v.Error)
		case v.Magnitude != nil:
			row.Value = f(*v.Magnitude)
		case v.Limit != nil:
			row.Value = "> " + f(*v.Limit) + " (limit)"
		}
	case dataproduct.Spectrum:
		row.Value = fmt.Sprintf("spectrum, %d points", len(v.Wavelength))
	default:
		row.Value = "(" + d.DataType + ")"
	}
	return row
}

// --- queries ---

func (s *server) handleQuery(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	name := r.PathValue("service")
	svc, err := s.app.Manager.Service(name)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no service %q.", name))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !s.checkCSRF(r) {
		s.csrfFailed(w, r)
		return
	}
	params := queryParams(r.PostForm, svc.NewForm().Fields(), name, t)
	id, err := s.app.Executor.Submit(r.Context(), singletarget.Request{Service: name, Target: t, Params: params})
	var fe *singletarget.FormErrors
	switch {
	case errors.As(err, &fe):
		p, perr := s.targetPage(w, r, t, &formState{service: name, posted: params, errs: fe})
		if perr != nil {
			s.internal(w, r, perr)
			return
		}
		s.render(w, r, http.StatusUnprocessableEntity, "target", p)
		return
	case errors.Is(err, singletarget.ErrPoolStopped), errors.Is(err, context.Canceled):
		s.fail(w, r, http.StatusServiceUnavailable, "The server is stopping; try again in a moment.")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.log.Info("query submitted", "service", name, "target", t.Name, "job", id)
	http.Redirect(w, r, "/jobs/"+url.PathEscape(string(id)), http.StatusSeeOther)
}

// --- uploads ---

func (s *server) handleUpload(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The upload could not be read: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !s.checkCSRF(r) {
		s.csrfFailed(w, r)
		return
	}
	typ := r.PostFormValue("data_product_type")
	refuse := func(msg string) {
		p, err := s.targetPage(w, r, t, nil)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.UploadType, p.UploadErrors = typ, []string{msg}
		p.UploadTime = r.PostFormValue("observation_time")
		s.render(w, r, http.StatusUnprocessableEntity, "target", p)
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		refuse("Choose a file to upload.")
		return
	}
	defer f.Close()
	if _, err := s.app.Manager.ProcessorFor(typ); err != nil {
		refuse(fmt.Sprintf("Choose a data product type (%q has no processor).", typ))
		return
	}
	var opts []singletarget.UploadOption
	if v := strings.TrimSpace(r.PostFormValue("observation_time")); v != "" {
		at, err := processor.ParseObservationTime(v)
		if err != nil {
			refuse("Observation time: " + err.Error())
			return
		}
		opts = append(opts, singletarget.WithObservationTime(at))
	}
	name := dataproduct.SafeName(hdr.Filename)
	res, err := s.app.Manager.Upload(r.Context(), t.ID, typ, name, f, opts...)
	var pe *dataproduct.ParseError
	switch {
	case errors.As(err, &pe):
		refuse("The file could not be read: " + pe.Error())
		return
	case errors.Is(err, dataproduct.ErrConflict):
		refuse(fmt.Sprintf("This target already has an upload named %s with other content or another type: rename the file.", name))
		return
	case errors.Is(err, dataproduct.ErrInvalidInput):
		// Another mistake of the file's (a datum the store refuses, such
		// as a control character in its text): the user's to fix.
		refuse("The file could not be stored: " + err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	q := url.Values{"file": {name}, "added": {strconv.Itoa(res.Added)}, "skipped": {strconv.Itoa(res.Skipped)}}
	for _, rep := range res.Reports {
		rep.Product = ""
		q.Add("report", rep.String())
	}
	http.Redirect(w, r, fmt.Sprintf("/targets/%d?%s", t.ID, q.Encode()), http.StatusSeeOther)
}

// --- jobs ---

type jobPage struct {
	page
	Status singletarget.JobStatus
	Info   singletarget.Info
	// Target is the job's target as the TOM knows it (zero if unknown).
	Target singletarget.Target
	// LightcurveURL is set once the job succeeded and the target has
	// photometry.
	LightcurveURL string
}

func (s *server) handleJob(w http.ResponseWriter, r *http.Request) {
	id := singletarget.JobID(r.PathValue("id"))
	st, err := s.app.Executor.Status(r.Context(), id)
	if errors.Is(err, singletarget.ErrUnknownJob) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no job %q.", id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := s.jobPage(st)
	p.CSRF = s.csrfToken(s.session(w, r))
	if st.State == singletarget.JobSucceeded {
		id := st.Request.Target.ID
		n, err := s.app.Store.CountDatums(r.Context(), dataproduct.DatumFilter{TargetID: id, DataType: dataproduct.TypePhotometry})
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if n > 0 {
			p.LightcurveURL = fmt.Sprintf("/targets/%d/lightcurve.png?n=%d", id, n)
		}
	}
	s.render(w, r, http.StatusOK, "job", p)
}

func (s *server) handleCancel(w http.ResponseWriter, r *http.Request) {
	id := singletarget.JobID(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !s.checkCSRF(r) {
		s.csrfFailed(w, r)
		return
	}
	err := s.app.Executor.Cancel(r.Context(), id)
	if errors.Is(err, singletarget.ErrUnknownJob) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no job %q.", id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/jobs/"+url.PathEscape(string(id)), http.StatusSeeOther)
}

// --- plots ---

func (s *server) handleLightcurve(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	ds, err := s.app.Store.ListDatums(r.Context(), dataproduct.DatumFilter{TargetID: t.ID, DataType: dataproduct.TypePhotometry,
		Limit: plotPoints, Newest: true})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	key := plotKey{count: len(ds), minID: -1}
	for _, d := range ds {
		key.maxID, key.sumID = max(key.maxID, d.ID), key.sumID+d.ID
		if key.minID < 0 || d.ID < key.minID {
			key.minID = d.ID
		}
	}
	cached := func() bool {
		s.mu.Lock()
		c, ok := s.plots[t.ID]
		s.mu.Unlock()
		if ok && c.key == key {
			writePNG(w, c.png)
		}
		return ok && c.key == key
	}
	if cached() {
		return
	}
	select {
	case s.drawing <- struct{}{}:
		defer func() { <-s.drawing }()
	case <-r.Context().Done():
		return
	}
	if cached() { // drawn by the request this one waited for
		return
	}
	title := t.Name
	if len(ds) == plotPoints {
		title = fmt.Sprintf("%s, newest %d points", t.Name, plotPoints)
	}
	var buf bytes.Buffer
	s.draws.Add(1)
	_, err = plot.Lightcurve(&buf, title, ds, lightcurveW, lightcurveH)
	if errors.Is(err, plot.ErrNoData) {
		s.fail(w, r, http.StatusNotFound, "This target has no photometry yet.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.mu.Lock()
	s.plots[t.ID] = cachedPlot{key: key, png: buf.Bytes()}
	s.mu.Unlock()
	writePNG(w, buf.Bytes())
}

func (s *server) handleSpectrum(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	file := r.PathValue("file")
	id, err := strconv.ParseInt(strings.TrimSuffix(file, ".png"), 10, 64)
	if err != nil || !strings.HasSuffix(file, ".png") {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no spectrum %q.", file))
		return
	}
	// The store has no look-up of one datum: list the target's spectra.
	ds, err := s.app.Store.ListDatums(r.Context(), dataproduct.DatumFilter{TargetID: t.ID, DataType: dataproduct.TypeSpectroscopy})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	i := slices.IndexFunc(ds, func(d dataproduct.Datum) bool { return d.ID == id })
	if i < 0 {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("Target %s has no spectrum %d.", t.Name, id))
		return
	}
	spec, ok := ds[i].Value.(dataproduct.Spectrum)
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("Datum %d is not a spectrum.", id))
		return
	}
	title := fmt.Sprintf("%s, %s, %s", t.Name, ds[i].Source, ds[i].Timestamp.UTC().Format(time.DateOnly))
	var buf bytes.Buffer
	err = plot.Spectrum(&buf, title, spec, spectrumW, spectrumH)
	if errors.Is(err, plot.ErrNoData) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("Spectrum %d has no points.", id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePNG(w, buf.Bytes())
}

// formatParams shows a request's params, without the hidden ones.
func formatParams(v url.Values) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if k == "service" || k == "target_id" {
			continue
		}
		for _, x := range v[k] {
			if x == "" {
				continue
			}
			parts = append(parts, k+"="+x)
		}
	}
	return strings.Join(parts, " ")
}

func writePNG(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
