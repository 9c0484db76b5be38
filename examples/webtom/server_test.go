package main

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// tom is a webtom under test: the app on the simulators and the server
// behind httptest.
type tom struct {
	t   *testing.T
	app *builtin.App
	srv *server
	ts  *httptest.Server
	// c keeps the session cookie and does not follow redirects.
	c *http.Client
	// stop stops the server and the app (at cleanup, or earlier).
	stop func()
}

// newTOM starts webtom with the default settings on the simulators, a
// SQLite store in a temporary folder and the given tasks backend.
func newTOM(t *testing.T, backend string) *tom {
	t.Helper()
	cfg, err := singletarget.ParseConfig([]byte(defaultSettings), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.NoError(t, builtintest.Simulate(cfg, func(f func()) { t.Cleanup(f) }))
	return newTOMWith(t, cfg, backend)
}

// newTOMWith starts webtom with cfg (whose services must be reachable).
func newTOMWith(t *testing.T, cfg *singletarget.Config, backend string) *tom {
	t.Helper()
	return newTOMIn(t, cfg, backend, t.TempDir())
}

// newTOMIn starts webtom with cfg, its targets, database and files in dir.
func newTOMIn(t *testing.T, cfg *singletarget.Config, backend, dir string) *tom {
	t.Helper()
	cfg.Database = "sqlite://" + filepath.Join(dir, "targetdata.db")
	cfg.Storage = "file://" + filepath.Join(dir, "files")
	cfg.Tasks = singletarget.TasksConfig{Backend: backend, Workers: 2}
	ctx := context.Background()
	app, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true})
	require.NoError(t, err)
	require.NoError(t, app.Start(ctx))
	srv, err := newServer(app, &serverOptions{TargetsFile: filepath.Join(dir, "targets.json")})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ts.Close()
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, app.Stop(sctx))
			assert.NoError(t, app.Close())
		})
	}
	t.Cleanup(stop)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &tom{t: t, app: app, srv: srv, ts: ts, c: c, stop: stop}
}

// jobsOf lists a target's jobs from the executor, newest first.
func (m *tom) jobsOf(target int64) []singletarget.JobID {
	m.t.Helper()
	page, err := m.app.Executor.List(context.Background(), singletarget.JobFilter{TargetID: target})
	require.NoError(m.t, err)
	ids := make([]singletarget.JobID, len(page.Jobs))
	for i, st := range page.Jobs {
		ids[i] = st.ID
	}
	return ids
}

// get fetches path and returns the status and body.
func (m *tom) get(path string) (int, string) {
	m.t.Helper()
	resp, err := m.c.Get(m.ts.URL + path)
	require.NoError(m.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(m.t, err)
	return resp.StatusCode, string(b)
}

// post posts a form to path and returns the response (body read).
func (m *tom) post(path string, v url.Values) (*http.Response, string) {
	m.t.Helper()
	resp, err := m.c.PostForm(m.ts.URL+path, v)
	require.NoError(m.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(m.t, err)
	return resp, string(b)
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([0-9a-f]+)"`)

// token loads a page and returns the CSRF token of its forms.
func (m *tom) token() string {
	m.t.Helper()
	code, body := m.get("/targets")
	require.Equal(m.t, http.StatusOK, code)
	sm := tokenRE.FindStringSubmatch(body)
	require.NotNil(m.t, sm, "the page's forms carry a CSRF token")
	return sm[1]
}

// addTarget creates SN 2023ixf and returns its id path.
func (m *tom) addTarget() string {
	m.t.Helper()
	resp, _ := m.post("/targets", url.Values{csrfField: {m.token()}, "name": {"SN 2023ixf"}, "ra": {"210.910674"}, "dec": {"54.311686"}})
	require.Equal(m.t, http.StatusSeeOther, resp.StatusCode)
	return resp.Header.Get("Location")
}

// atlasQuery is a valid ATLAS query as the browser posts it.
func atlasQuery(token string) url.Values {
	return url.Values{csrfField: {token}, "service": {"ATLAS"}, "target_id": {"1"}, "min_date": {""}, "min_date_mjd": {"60080"},
		"max_date": {""}, "max_date_mjd": {"60180"}, "use_reduced_data": {"false"}}
}

// waitJob follows a job page until the job is done and returns the page.
func (m *tom) waitJob(path string) string {
	m.t.Helper()
	var body string
	require.Eventually(m.t, func() bool {
		var code int
		code, body = m.get(path)
		require.Equal(m.t, http.StatusOK, code)
		return !strings.Contains(body, `http-equiv="refresh"`)
	}, 45*time.Second, 50*time.Millisecond)
	return body
}

// errorsOf returns the inline error list of a field element id.
func errorsOf(body, id string) string {
	re := regexp.MustCompile(`(?s)<ul class="errorlist" id="` + regexp.QuoteMeta(id) + `-errors">(.*?)</ul>`)
	if sm := re.FindStringSubmatch(body); sm != nil {
		return sm[1]
	}
	return ""
}

// inputValue returns the value attribute of the element with the id.
func inputValue(body, id string) (string, bool) {
	re := regexp.MustCompile(`<input [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*value="([^"]*)"`)
	if sm := re.FindStringSubmatch(body); sm != nil {
		return sm[1], true
	}
	return "", false
}

func decodePNG(t *testing.T, m *tom, path string) image.Image {
	t.Helper()
	resp, err := m.c.Get(m.ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	img, format, err := image.Decode(resp.Body)
	require.NoError(t, err, path)
	assert.Equal(t, "png", format)
	return img
}

func TestTargets(t *testing.T) {
	m := newTOM(t, "pool")
	code, body := m.get("/targets")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "No targets yet")
	tok := m.token()

	// Wrong input: every field's error next to it, the input kept.
	resp, body := m.post("/targets", url.Values{csrfField: {tok}, "name": {"  "}, "ra": {"12h30m"}, "dec": {"95"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, errorsOf(body, "t-name"), "This field is required.")
	assert.Contains(t, errorsOf(body, "t-ra"), "Enter a number of degrees, not &#34;12h30m&#34;.")
	assert.Contains(t, errorsOf(body, "t-dec"), "Must be in [-90, 90] degrees, not 95.")
	v, _ := inputValue(body, "t-ra")
	assert.Equal(t, "12h30m", v, "the submitted value is kept")
	resp, body = m.post("/targets", url.Values{csrfField: {tok}, "name": {"x"}, "ra": {"360"}, "dec": {"0"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, errorsOf(body, "t-ra"), "[0, 360)")

	assert.Equal(t, "/targets/1", m.addTarget())
	resp, body = m.post("/targets", url.Values{csrfField: {tok}, "name": {"sn 2023IXF"}, "ra": {"1"}, "dec": {"2"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, errorsOf(body, "t-name"), "There is already a target named &#34;SN 2023ixf&#34;.")
	code, body = m.get("/targets")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<a href="/targets/1">SN 2023ixf</a>`)
	assert.Contains(t, body, "210.910674")

	// The list survives a restart of the server (targets.json).
	srv2, err := newServer(m.app, &serverOptions{TargetsFile: m.srv.targets.path})
	require.NoError(t, err)
	tgt, ok := srv2.targets.get(1)
	require.True(t, ok)
	assert.Equal(t, "SN 2023ixf", tgt.Name)
}

// The target page lists every service with its Info and draws each form
// from Fields and Layout.
func TestTargetPage(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	code, body := m.get(path)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "<h1>SN 2023ixf</h1>")
	assert.Contains(t, body, `id="no-photometry"`, "no light curve before data")
	assert.NotContains(t, body, `id="lightcurve"`)
	require.Equal(t, []string{"ATLAS", "PANSTARRS", "ZTF", "ZTF_FP", "ALERCE"}, m.app.Manager.Services())
	for _, name := range m.app.Manager.Services() {
		info, err := m.app.Manager.Info(name)
		require.NoError(t, err)
		sec := section(t, body, "svc-"+name)
		assert.Contains(t, sec, htmlEscape(info.Label), name)
		assert.Contains(t, sec, htmlEscape(info.Kind), name)
		assert.Contains(t, sec, `action="/targets/1/query/`+name+`"`)
		assert.Contains(t, sec, `<input type="hidden" name="service" value="`+name+`">`)
		assert.Contains(t, sec, `<input type="hidden" name="target_id" value="1">`)
		svc, err := m.app.Manager.Service(name)
		require.NoError(t, err)
		f := svc.NewForm()
		for _, fd := range f.Fields() {
			assert.Contains(t, sec, `name="`+fd.Name+`"`, "%s field %s", name, fd.Name)
			if fd.Help != "" {
				assert.Contains(t, sec, htmlEscape(fd.Help), "%s help of %s", name, fd.Name)
			}
		}
		// Each layout row is one .row, in order.
		rows := strings.Split(sec, `<div class="row">`)[1:]
		require.Len(t, rows, len(f.Layout().Rows), name)
		for i, row := range f.Layout().Rows {
			for _, fname := range row {
				assert.Contains(t, rows[i], `id="`+elementID("f", name, fname)+`"`, "%s row %d holds %s", name, i, fname)
			}
		}
	}
	atlas := section(t, body, "svc-ATLAS")
	assert.Regexp(t, `<input type="datetime-local" id="f-ATLAS-min_date" name="min_date" value="\d{4}-\d\d-\d\dT00:00:00" step="1">`, atlas, "initial value")
	assert.Contains(t, atlas, `<input type="number" id="f-ATLAS-min_date_mjd" name="min_date_mjd" value="" step="any" min="0" max="100000">`)
	assert.Regexp(t, `(?s)<input type="hidden" name="use_reduced_data" value="false">\s*<label class="check"><input type="checkbox" id="f-ATLAS-use_reduced_data" name="use_reduced_data" value="true">`, atlas,
		"a hidden false before the checkbox, so that unticking works")
	ps := section(t, body, "svc-PANSTARRS")
	assert.Contains(t, ps, `<select id="f-PANSTARRS-catalog" name="catalog" required data-depends-on="f-PANSTARRS-data_release" data-choices-for="{&#34;dr1&#34;:`)
	assert.Contains(t, ps, `<option value="detection">`, "DR2 (the initial release) has the detection table")
	assert.Contains(t, ps, `<abbr class="req" title="required">*</abbr>`)
	assert.Contains(t, ps, `<input type="number" id="f-PANSTARRS-min_detections" name="min_detections" value="2" step="1" min="0" max="100000">`)
	assert.Contains(t, body, `<option value="photometry" selected>`, "the upload form offers the data product types")

	code, _ = m.get("/")
	assert.Equal(t, http.StatusFound, code)
	r, err := m.c.Get(m.ts.URL + path)
	require.NoError(t, err)
	r.Body.Close()
	assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	code, body = m.get("/static/forms.js")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "data-depends-on")
}

// htmlEscape escapes s as html/template does in text.
func htmlEscape(s string) string {
	return strings.NewReplacer("+", "&#43;", "'", "&#39;", `"`, "&#34;", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// section returns the <section id="id"> of a page.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	require.GreaterOrEqual(t, i, 0, "section %s", id)
	j := strings.Index(body[i:], "</section>")
	require.GreaterOrEqual(t, j, 0)
	return body[i : i+j]
}

func TestQueryFormErrors(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	tok := m.token()
	q := atlasQuery(tok)
	q.Set("min_date", "2023-05-01T00:00:00")
	resp, body := m.post(path+"/query/ATLAS", q)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, errorsOf(body, "f-ATLAS-min_date_mjd"), "Give the minimum date either as a date (min_date) or as an MJD, not both.")
	assert.Contains(t, section(t, body, "svc-ATLAS"), `aria-invalid="true" aria-describedby="f-ATLAS-min_date_mjd-errors"`)
	assert.Contains(t, body, `class="service invalid" id="svc-ATLAS"`)
	for id, want := range map[string]string{"f-ATLAS-min_date": "2023-05-01T00:00:00", "f-ATLAS-min_date_mjd": "60080", "f-ATLAS-max_date_mjd": "60180"} {
		v, ok := inputValue(body, id)
		assert.True(t, ok, id)
		assert.Equal(t, want, v, "%s keeps the submitted value", id)
	}
	assert.Empty(t, errorsOf(body, "f-PANSTARRS-catalog"), "other forms are fresh")
	assert.Empty(t, m.jobsOf(1), "no job for a refused form")

	// A window in the wrong order; a value that is not a number, kept as typed.
	q = atlasQuery(tok)
	q.Set("max_date_mjd", "60000")
	_, body = m.post(path+"/query/ATLAS", q)
	assert.Contains(t, errorsOf(body, "f-ATLAS-max_date_mjd"), "The maximum date must be after the minimum date.")
	q = atlasQuery(tok)
	q.Set("min_date_mjd", "sixty thousand")
	_, body = m.post(path+"/query/ATLAS", q)
	assert.Contains(t, errorsOf(body, "f-ATLAS-min_date_mjd"), "Enter a number, not &#34;sixty thousand&#34;.")
	v, _ := inputValue(body, "f-ATLAS-min_date_mjd")
	assert.Equal(t, "sixty thousand", v)

	// An unknown field is a form-wide error, on top.
	q = atlasQuery(tok)
	q.Set("radius", "5")
	_, body = m.post(path+"/query/ATLAS", q)
	assert.Regexp(t, `<ul class="errorlist nonfield"><li>radius: Unknown field`, section(t, body, "svc-ATLAS"))

	// PanSTARRS: a catalog the release lacks; the choices drawn are the
	// release's.
	_, body = m.post(path+"/query/PANSTARRS", url.Values{csrfField: {tok}, "data_release": {"dr1"}, "catalog": {"detection"},
		"radius_arcsec": {"30"}, "min_detections": {"2"}})
	ps := section(t, body, "svc-PANSTARRS")
	assert.Contains(t, errorsOf(ps, "f-PANSTARRS-catalog"), "Data release dr1 has no &#34;detection&#34; catalog")
	assert.Contains(t, ps, `<option value="dr1" selected>`)
	assert.NotContains(t, ps, `<option value="detection"`, "DR1's catalogs only")
	assert.Contains(t, ps, `<option value="stack">`)
	_, body = m.post(path+"/query/PANSTARRS", url.Values{csrfField: {tok}, "radius_arcsec": {"0"}})
	assert.Contains(t, errorsOf(body, "f-PANSTARRS-radius_arcsec"), "Ensure this value is greater than 0.")
}

// A valid submission goes through the configured executor, redirects to
// the job page, which refreshes until the job is done; then the target
// page shows the light curve, whose PNG decodes.
func TestQuerySubmit(t *testing.T) {
	for _, backend := range []string{"immediate", "pool", "river"} {
		t.Run(backend, func(t *testing.T) {
			m := newTOM(t, backend)
			path := m.addTarget()
			tok := m.token()
			q := atlasQuery(tok)
			q["use_reduced_data"] = []string{"false", "true"} // ticked: the hidden false, then the box
			resp, _ := m.post(path+"/query/ATLAS", q)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			jobPath := resp.Header.Get("Location")
			require.Regexp(t, `^/jobs/([0-9]+-)?[0-9a-f]{24}$`, jobPath, "an unguessable id")
			ids := m.jobsOf(1)
			require.Len(t, ids, 1)
			st, err := m.app.Executor.Status(context.Background(), ids[0])
			require.NoError(t, err)
			assert.Equal(t, "true", st.Request.Params.Get("use_reduced_data"))
			assert.NotContains(t, st.Request.Params, csrfField)
			if backend != "immediate" {
				code, body := m.get(jobPath)
				require.Equal(t, http.StatusOK, code)
				if !st.State.Done() && !strings.Contains(body, `data-state="succeeded"`) {
					assert.Contains(t, body, `<meta http-equiv="refresh" content="1">`, "a running job's page refreshes")
				}
			}
			body := m.waitJob(jobPath)
			assert.Contains(t, body, `data-state="succeeded"`)
			assert.Regexp(t, `<dd id="job-counts">[1-9]\d* added, 0 already there</dd>`, body)
			assert.Contains(t, body, "atlas_2023_05_16-2023_08_24_")
			assert.Contains(t, body, "min_date_mjd=60080")
			assert.Contains(t, body, `<img id="lightcurve" src="/targets/1/lightcurve.png?n=`)
			assert.NotContains(t, body, "Cancel this query")

			code, body := m.get(path)
			require.Equal(t, http.StatusOK, code)
			assert.Regexp(t, `<img id="lightcurve" src="/targets/1/lightcurve.png\?n=\d+"`, body)
			assert.Regexp(t, `<p class="summary" id="datum-total">[1-9]\d* datums stored for this target; the light curve draws the newest 5000 photometry points.</p>`, body)
			assert.Contains(t, section(t, body, "jobs"), `<span class="state state-succeeded">succeeded</span>`)
			assert.Contains(t, section(t, body, "datums"), "<td>ATLAS</td>")
			img := decodePNG(t, m, "/targets/1/lightcurve.png")
			assert.Equal(t, image.Rect(0, 0, 864, 480), img.Bounds())
		})
	}
}

func TestJobPageProgress(t *testing.T) {
	// An ATLAS server that throttles the next submission for two minutes:
	// the job waits, its page says so and refreshes; cancelling ends it.
	sim := atlastest.Start(nil)
	t.Cleanup(sim.Close)
	sim.ThrottleNext(2 * time.Minute)
	cfg := &singletarget.Config{
		Services:     map[string]singletarget.ServiceConfig{"ATLAS": {Class: "atlas.ForcedPhotometryService", URL: sim.URL, APIKey: sim.Token}},
		ServiceOrder: []string{"ATLAS"},
	}
	m := newTOMWith(t, cfg, "pool")
	path := m.addTarget()
	tok := m.token()
	resp, _ := m.post(path+"/query/ATLAS", atlasQuery(tok))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	jobPath := resp.Header.Get("Location")
	var body string
	require.Eventually(t, func() bool {
		_, body = m.get(jobPath)
		return strings.Contains(body, `<dd id="job-progress">throttled`)
	}, 20*time.Second, 20*time.Millisecond)
	assert.Contains(t, body, `<meta http-equiv="refresh" content="1">`)
	assert.Contains(t, body, `data-state="running"`)
	assert.Regexp(t, `<dd id="job-progress">throttled: throttled for 120 s \(next attempt at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)</dd>`, body)
	assert.Contains(t, body, "Cancel this query")

	id := strings.TrimPrefix(jobPath, "/jobs/")
	resp, _ = m.post(jobPath+"/cancel", url.Values{csrfField: {tok}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	body = m.waitJob(jobPath)
	assert.Contains(t, body, `data-state="cancelled"`)
	assert.NotContains(t, body, "Cancel this query")
	st, err := m.app.Executor.Status(context.Background(), singletarget.JobID(id))
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobCancelled, st.State)
}

// The job template's parts that a simulator run does not reach quickly:
// a remote task still running, a retry wait, an error.
func TestJobTemplate(t *testing.T) {
	m := newTOM(t, "pool")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	render := func(st singletarget.JobStatus) string {
		var buf bytes.Buffer
		p := jobPage{page: page{Title: "job", Refresh: 1}, Status: st}
		require.NoError(t, m.srv.pages["job"].ExecuteTemplate(&buf, "layout", p))
		return buf.String()
	}
	body := render(singletarget.JobStatus{ID: "j1", State: singletarget.JobRunning, Created: now, Updated: now,
		Request:  singletarget.Request{Service: "ATLAS", Target: singletarget.Target{ID: 1, Name: "SN X"}},
		Progress: singletarget.Progress{Stage: singletarget.StageRunning, Message: "task 1851119 running", Time: now},
		Remote:   &singletarget.RemoteTask{ID: "1851119", State: "running", Submitted: now, Polls: 3}})
	assert.Contains(t, body, `<dd id="job-progress">running: task 1851119 running <small>(since 2026-03-01 12:00:00 UTC)</small></dd>`)
	assert.Contains(t, body, `<dd id="job-remote">1851119 (running), submitted 2026-03-01 12:00:00 UTC, 3 polls</dd>`)
	body = render(singletarget.JobStatus{ID: "j2", State: singletarget.JobRunning, Created: now, Updated: now,
		Progress: singletarget.Progress{Stage: singletarget.StageRetrying, RetryAfter: 4 * time.Second, Time: now}})
	assert.Contains(t, body, `<dd id="job-progress">retrying: waiting 4 s (next attempt at 2026-03-01 12:00:04 UTC)</dd>`)
	body = render(singletarget.JobStatus{ID: "j3", State: singletarget.JobFailed, Created: now, Updated: now, Attempts: 3,
		Error: "ATLAS: HTTP 500 Internal Server Error"})
	assert.Contains(t, body, `<dd class="error" id="job-error">ATLAS: HTTP 500 Internal Server Error</dd>`)
	assert.Contains(t, body, "3 attempts")
	assert.NotContains(t, body, "job-progress", "a finished job shows no progress")
}

func TestSpectrum(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	ctx := context.Background()
	ts := time.Date(2023, 5, 20, 3, 0, 0, 0, time.UTC)
	spec := dataproduct.Spectrum{Wavelength: []float64{4000, 5000, 6000, 7000, 8000}, Flux: []float64{3e-15, 2.5e-15, 4e-15, 1.8e-15, 1.2e-15},
		WavelengthUnits: "Angstrom", FluxUnits: "erg / (Angstrom s cm2)"}
	res, err := m.app.Store.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{
		{TargetID: 1, DataType: dataproduct.TypeSpectroscopy, Timestamp: ts, Source: "upload", Value: spec},
		{TargetID: 1, DataType: dataproduct.TypePhotometry, Timestamp: ts, Source: "upload",
			Value: dataproduct.Photometry{Magnitude: dataproduct.Float(13.1), Error: dataproduct.Float(0.05), Filter: "g"}},
	}))
	require.NoError(t, err)
	require.Equal(t, 2, res.Added)
	ds, err := m.app.Store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypeSpectroscopy})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	specPath := path + "/spectra/" + itoa(ds[0].ID) + ".png"

	code, body := m.get(path)
	require.Equal(t, http.StatusOK, code)
	sec := section(t, body, "spectra")
	assert.Contains(t, sec, `<img id="spectrum-`+itoa(ds[0].ID)+`" src="`+specPath+`"`)
	assert.Contains(t, sec, "upload, 2023-05-20 03:00:00 UTC, 5 points")
	assert.Contains(t, section(t, body, "datums"), "spectrum, 5 points")
	assert.Contains(t, section(t, body, "datums"), "13.100 ± 0.050")
	img := decodePNG(t, m, specPath)
	assert.Equal(t, image.Rect(0, 0, 720, 360), img.Bounds())

	// Not spectra of this target: 404.
	phot, err := m.app.Store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1, DataType: dataproduct.TypePhotometry})
	require.NoError(t, err)
	for _, p := range []string{path + "/spectra/" + itoa(phot[0].ID) + ".png", path + "/spectra/999.png", path + "/spectra/abc.png",
		path + "/spectra/" + itoa(ds[0].ID), "/targets/2/spectra/" + itoa(ds[0].ID) + ".png"} {
		code, _ := m.get(p)
		assert.Equal(t, http.StatusNotFound, code, p)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestNotFound(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	tok := m.token()
	for _, p := range []string{"/targets/2", "/targets/abc", "/targets/0", "/targets/2/lightcurve.png", "/jobs/nope", "/jobs/123",
		path + "/lightcurve.png" /* no photometry yet */, "/nowhere"} {
		code, body := m.get(p)
		assert.Equal(t, http.StatusNotFound, code, p)
		if p != "/nowhere" {
			assert.Contains(t, body, `id="error-message"`, p)
		}
	}
	for _, p := range []string{path + "/query/NOPE", "/targets/9/query/ATLAS", "/jobs/nope/cancel"} {
		resp, _ := m.post(p, url.Values{csrfField: {tok}})
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
	resp, _ := m.post(path+"/lightcurve.png", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestCSRF(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	tok := m.token()
	other := newTOM(t, "immediate").token() // another session's (and server's) token
	for name, v := range map[string]url.Values{
		"missing":       atlasQuery(""),
		"wrong":         atlasQuery(strings.Repeat("0", 64)),
		"other session": atlasQuery(other),
	} {
		resp, body := m.post(path+"/query/ATLAS", v)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
		assert.Contains(t, body, "CSRF", name)
	}
	resp, _ := m.post("/targets", url.Values{"name": {"X"}, "ra": {"1"}, "dec": {"1"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	_, ok := m.srv.targets.get(2)
	assert.False(t, ok, "no target created")

	// A client without the session cookie is refused even with a token.
	bare := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := bare.PostForm(m.ts.URL+path+"/query/ATLAS", atlasQuery(tok))
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	assert.Empty(t, m.jobsOf(1))

	// A browser's cross-site post is refused from its headers alone.
	for h, v := range map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"} {
		req, err := http.NewRequest("POST", m.ts.URL+path+"/query/ATLAS", strings.NewReader(atlasQuery(tok).Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h, v)
		r, err := m.c.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		assert.Equal(t, http.StatusForbidden, r.StatusCode, h)
		assert.Contains(t, string(b), "Cross-origin request refused.", h)
	}
	assert.Empty(t, m.jobsOf(1))

	resp, _ = m.post(path+"/query/ATLAS", atlasQuery(tok))
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "the session's own token works")
	resp, _ = m.post(resp.Header.Get("Location")+"/cancel", url.Values{})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestUpload(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	tok := m.token()
	upload := func(typ, name, content string) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField(csrfField, tok))
		require.NoError(t, mw.WriteField("data_product_type", typ))
		fw, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = io.WriteString(fw, content)
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		resp, err := m.c.Post(m.ts.URL+path+"/upload", mw.FormDataContentType(), &buf)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, body := upload("photometry", "bad.csv", "time,filter,magnitude\n60000.5,g,17\n60001,g,bright\n")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Regexp(t, `<ul class="errorlist nonfield"><li>The file could not be read: [^<]*line 3`, section(t, body, "upload"))
	resp, body = upload("nope", "x.csv", "a")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, section(t, body, "upload"), "has no processor")

	resp, _ = upload("photometry", "my phot.csv", "time,filter,magnitude,error,limit\n60000.5,g,17,0.1,\n60001.25,r,,,19.5\n")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, body := m.get(resp.Header.Get("Location"))
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<p class="notice">Uploaded my_phot.csv: 2 datums added, 0 duplicates skipped.</p>`)
	assert.Contains(t, body, "2 datums stored for this target")
	assert.Contains(t, body, "1–2 of 2, newest first (page 1 of 1)")
	assert.Contains(t, section(t, body, "datums"), "&gt; 19.500 (limit)")
	decodePNG(t, m, "/targets/1/lightcurve.png")
	first := pngBytes(t, m, "/targets/1/lightcurve.png")

	// The same name with other content is refused; the upload stays.
	resp, body = upload("photometry", "my phot.csv", "time,filter,magnitude,error\n60003.5,g,15,0.1\n")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, section(t, body, "upload"), "already has an upload named my_phot.csv")

	// New data give a new plot (the drawn one is cached until then).
	resp, _ = upload("photometry", "more.csv", "time,filter,magnitude,error\n60002.5,i,16.5,0.1\n")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	second := pngBytes(t, m, "/targets/1/lightcurve.png")
	assert.NotEqual(t, first, second)
	assert.Equal(t, second, pngBytes(t, m, "/targets/1/lightcurve.png"))
	_, body = m.get("/targets/1")
	assert.Contains(t, body, `src="/targets/1/lightcurve.png?n=3"`)
}

func pngBytes(t *testing.T, m *tom, path string) []byte {
	t.Helper()
	resp, err := m.c.Get(m.ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func TestBuildForm(t *testing.T) {
	m := newTOM(t, "immediate")
	svc, err := m.app.Manager.Service("ATLAS")
	require.NoError(t, err)
	tgt := singletarget.Target{ID: 7, Name: "T", RA: 1, Dec: 2}
	errs := &singletarget.FormErrors{}
	errs.Add(singletarget.NonFieldErrors, "The service is closed today.")
	errs.Add("min_date", "Bad date.")
	errs.Add("service", "Hidden trouble.")
	fv := buildForm("ATLAS", singletarget.Info{Label: "ATLAS"}, svc.NewForm(), tgt, url.Values{"min_date": {"x"}, "use_reduced_data": {"true"}}, errs)
	assert.True(t, fv.Invalid)
	assert.Equal(t, []string{"The service is closed today.", "Service: Hidden trouble."}, fv.Errors)
	require.Len(t, fv.Rows, 3)
	assert.Equal(t, "x", fv.Rows[0][0].Value)
	assert.Equal(t, []string{"Bad date."}, fv.Rows[0][0].Errors)
	assert.True(t, fv.Rows[0][0].Autofocus)
	assert.True(t, fv.Rows[2][0].Checked)
	assert.Equal(t, "/targets/7/query/ATLAS", fv.Action)
	require.Len(t, fv.Hidden, 2)
	assert.Equal(t, "ATLAS", fv.Hidden[0].Value)
	assert.Equal(t, "7", fv.Hidden[1].Value)

	fields := []singletarget.Field{{Name: "on", Kind: singletarget.KindBool}, {Name: "service", Kind: singletarget.KindHidden}, {Name: "target_id", Kind: singletarget.KindHidden}}
	for _, c := range []struct {
		in   []string
		want string
	}{{[]string{"false"}, "false"}, {[]string{"false", "true"}, "true"}, {[]string{"true", "false"}, "true"}, {[]string{"on"}, "true"}} {
		p := queryParams(url.Values{"on": c.in, csrfField: {"t"}, "service": {"EVIL"}}, fields, "ATLAS", tgt)
		assert.Equal(t, c.want, p.Get("on"), "%v", c.in)
		assert.Equal(t, []string{c.want}, p["on"])
		assert.NotContains(t, p, csrfField)
		assert.Equal(t, "ATLAS", p.Get("service"))
		assert.Equal(t, "7", p.Get("target_id"))
	}
	assert.NotContains(t, queryParams(url.Values{}, fields, "ATLAS", tgt), "on", "an absent checkbox stays absent")
}

// kindsForm has a field of every kind the page draws.
type kindsForm struct {
	singletarget.FormBase
	Name   string     `form:"name" label:"Name" validate:"required" help:"Who."`
	Note   string     `form:"note" kind:"textarea"`
	Day    *time.Time `form:"day" kind:"date"`
	When   *time.Time `form:"when"`
	Secret string     `form:"secret" kind:"password"`
	Token  string     `form:"token" kind:"hidden"`
	N      int        `form:"n" validate:"gte=1,lte=9"`
	X      float64    `form:"x"`
	On     bool       `form:"on"`
	Pick   string     `form:"pick" choices:"a=Ay|b=Bee"`
}

// Layout leaves most fields out: they get a row each after its rows.
func (f *kindsForm) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{{"name", "pick", "nope"}, {"token"}}}
}

func TestFormKinds(t *testing.T) {
	m := newTOM(t, "immediate")
	day := time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)
	when := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	f := &kindsForm{Day: &day, When: &when, Secret: "hunter2", Token: "tk", N: 3, X: 1.5, On: true}
	f.Bind(f)
	tgt := singletarget.Target{ID: 4, Name: "T"}
	render := func(fv formView) string {
		var buf bytes.Buffer
		fv.CSRF = "tok"
		require.NoError(t, m.srv.pages["target"].ExecuteTemplate(&buf, "queryform", fv))
		return buf.String()
	}
	body := render(buildForm("KINDS", singletarget.Info{Label: "Kinds", Kind: "Test"}, f, tgt, nil, nil))
	for _, want := range []string{
		`<input type="hidden" name="csrf_token" value="tok">`,
		`<input type="hidden" name="token" value="tk">`,
		`<input type="text" id="f-KINDS-name" name="name" value="" required>`,
		`<small class="help">Who.</small>`,
		`<textarea id="f-KINDS-note" name="note" rows="3"></textarea>`,
		`<input type="date" id="f-KINDS-day" name="day" value="2024-02-03">`,
		`<input type="datetime-local" id="f-KINDS-when" name="when" value="2024-02-03T04:05:06" step="1">`,
		`<input type="password" id="f-KINDS-secret" name="secret" value="" autocomplete="off">`,
		`<input type="number" id="f-KINDS-n" name="n" value="3" step="1" min="1" max="9">`,
		`<input type="number" id="f-KINDS-x" name="x" value="1.5" step="any">`,
		`<input type="checkbox" id="f-KINDS-on" name="on" value="true" checked>`,
		`<option value="" selected>---------</option>`,
		`<option value="a">Ay</option>`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "hunter2", "a password is never sent back")
	rows := strings.Split(body, `<div class="row">`)[1:]
	require.Len(t, rows, 8, "the layout's row, then one row per field it left out")
	assert.Contains(t, rows[0], `id="f-KINDS-name"`)
	assert.Contains(t, rows[0], `id="f-KINDS-pick"`)
	assert.Contains(t, rows[1], `id="f-KINDS-note"`)

	// After a refused post: the values as typed, the errors inline, the
	// first field in error focused.
	errs := &singletarget.FormErrors{}
	errs.Add("n", "Too big.")
	errs.Add("name", "This field is required.")
	body = render(buildForm("KINDS", singletarget.Info{}, f, tgt,
		url.Values{"n": {"12"}, "pick": {"b"}, "secret": {"typed"}, "note": {"<b>hi</b>"}, "on": {"false"}}, errs))
	assert.Contains(t, body, `<input type="text" id="f-KINDS-name" name="name" value="" required autofocus aria-invalid="true" aria-describedby="f-KINDS-name-errors">`)
	assert.Contains(t, body, `<input type="number" id="f-KINDS-n" name="n" value="12" step="1" min="1" max="9" aria-invalid="true" aria-describedby="f-KINDS-n-errors">`)
	assert.Contains(t, body, `<ul class="errorlist" id="f-KINDS-n-errors"><li>Too big.</li></ul>`)
	assert.Contains(t, body, `<option value="b" selected>Bee</option>`)
	assert.Contains(t, body, `&lt;b&gt;hi&lt;/b&gt;</textarea>`, "values are escaped")
	assert.Contains(t, body, `<input type="checkbox" id="f-KINDS-on" name="on" value="true">`, "unticked")
	assert.NotContains(t, body, "typed")
	assert.Equal(t, 1, strings.Count(body, "autofocus"))
}
