package ztftest_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

func get(t *testing.T, c *http.Client, u string, auth bool) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if auth {
		req.SetBasicAuth(ztf.DefaultHTTPUser, ztf.DefaultHTTPPassword)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func lcURL(s *ztftest.Server, params string) string {
	return s.LightCurveURL + ztf.LightCurvePath + "?" + params
}

func csvRows(t *testing.T, body string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err, body)
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, n := range recs[0] {
			m[n] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestLightCurveGrammar(t *testing.T) {
	s := ztftest.NewServer(t, nil)
	c := s.Client()
	cone := "POS=CIRCLE%20230.7155%2041.0503%200.0014"
	status, h, body := get(t, c, lcURL(s, cone+"&FORMAT=csv"), false)
	require.Equal(t, 200, status)
	assert.Contains(t, h.Get("Content-Type"), "text/csv")
	rows := csvRows(t, body)
	require.Len(t, rows, 90, "g, r (30) + i (10) + the overlapping field's g, r (10 each)")
	assert.True(t, strings.HasPrefix(body, "oid,expid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec,chi,sharp,filefracday,field,ccdid,qid,limitmag,magzp,magzprms,clrcoeff,clrcounc,exptime,airmass,programid\n"))
	oids := map[string]string{}
	flags := map[string]int{}
	for _, r := range rows {
		oids[r["oid"]] = r["filtercode"]
		flags[r["catflags"]]++
	}
	assert.Len(t, oids, 5, "one light curve per field and filter")
	assert.Positive(t, flags["4"])
	assert.Positive(t, flags["32768"])
	assert.Equal(t, 90, flags["0"]+flags["4"]+flags["32768"])

	_, _, same := get(t, c, lcURL(s, "CIRCLE=230.7155+41.0503+0.0014&FORMAT=CSV"), false)
	assert.Equal(t, body, same, "CIRCLE, '+' for spaces and upper-case FORMAT mean the same; answers are deterministic")

	for params, want := range map[string]int{
		cone + "&FORMAT=csv&BAD_CATFLAGS_MASK=32768":                90 - flags["32768"],
		cone + "&FORMAT=csv&BAD_CATFLAGS_MASK=32772":                flags["0"],
		cone + "&FORMAT=csv&BANDNAME=g":                             40,
		cone + "&FORMAT=csv&BANDNAME=3":                             10,
		cone + "&FORMAT=csv&BANDNAME=g,r":                           80,
		cone + "&FORMAT=csv&BAND=5.6e-7%206.9e-7":                   40,
		cone + "&FORMAT=csv&BAND=8e-7":                              10,
		cone + "&FORMAT=csv&NOBS_MIN=20":                            60,
		cone + "&FORMAT=csv&TIME=-Inf%2058500":                      -1,
		cone + "&FORMAT=csv&MAG=0%205":                              0,
		"POS=CIRCLE%20230.7155%20-41.0503%200.0014&FORMAT=csv":      0,
		cone + "&FORMAT=csv&COLLECTION=ztf_dr22&TIME=60490%20Inf":   0,
		cone + "&FORMAT=csv&COLLECTION=ztf_dr23&TIME=60000%2060600": -1,
	} {
		status, _, body := get(t, c, lcURL(s, params), false)
		require.Equal(t, 200, status, params)
		n := len(csvRows(t, body))
		if want < 0 {
			assert.Positive(t, n, params)
			continue
		}
		assert.Equal(t, want, n, params)
	}
}

func TestLightCurveIDsAndFormats(t *testing.T) {
	s := ztftest.NewServer(t, nil)
	c := s.Client()
	ids := s.ObjectIDs(230.7155, 41.0503)
	require.Len(t, ids, 5)
	assert.Nil(t, s.ObjectIDs(10, -60), "no data south of -31")
	_, _, body := get(t, c, lcURL(s, "ID="+fmtID(ids[0])+"&ID="+fmtID(ids[2])+"&FORMAT=csv"), false)
	rows := csvRows(t, body)
	assert.Len(t, rows, 40)
	_, _, body = get(t, c, lcURL(s, "ID=123456789012345&FORMAT=csv"), false)
	assert.Empty(t, csvRows(t, body), "an unknown id matches nothing")

	_, _, tbl := get(t, c, lcURL(s, "ID="+fmtID(ids[0])+"&FORMAT=ipac_table"), false)
	lines := strings.Split(strings.TrimSpace(tbl), "\n")
	assert.Equal(t, `\fixlen = T`, lines[0])
	assert.Equal(t, `\RowsRetrieved = 30`, lines[1])
	for i := 2; i < 6; i++ {
		assert.True(t, strings.HasPrefix(lines[i], "|"), lines[i])
		assert.Equal(t, len(lines[2]), len(lines[i]), "header lines align")
	}
	assert.Len(t, lines, 36)
	assert.Equal(t, len(lines[2]), len(lines[6]), "rows align with the header")

	_, h, vot := get(t, c, lcURL(s, "ID="+fmtID(ids[0])), false)
	assert.Contains(t, h.Get("Content-Type"), "xml")
	assert.Contains(t, vot, "<VOTABLE", "VOTable is the default format")
	assert.Equal(t, 30, strings.Count(vot, "<TR>"))
	_, _, tsv := get(t, c, lcURL(s, "ID="+fmtID(ids[0])+"&FORMAT=tsv"), false)
	assert.True(t, strings.HasPrefix(tsv, "oid\texpid\t"))
}

func fmtID(id int64) string { return strconv.FormatInt(id, 10) }

func TestLightCurveErrors(t *testing.T) {
	s := ztftest.NewServer(t, nil)
	c := s.Client()
	for params, want := range map[string]string{
		"FORMAT=csv":                                      "give ID or POS",
		"POS=CIRCLE%201%202%200.2&FORMAT=csv":             "radius 0.2",
		"POS=BOX%201%202%200.01&FORMAT=csv":               "only the CIRCLE shape",
		"POS=CIRCLE%201%202&FORMAT=csv":                   "expected 3 to 3 numbers",
		"POS=CIRCLE%20400%202%200.01":                     "ra 400",
		"POS=CIRCLE%201%202%200.01&CIRCLE=1%202%200.01":   "not both",
		"ID=1&POS=CIRCLE%201%202%200.01":                  "ID cannot be combined with POS",
		"ID=1&BANDNAME=g":                                 "ID cannot be combined with BANDNAME",
		"ID=abc":                                          "not an object id",
		"POS=CIRCLE%201%202%200.01&BANDNAME=z":            "BANDNAME",
		"POS=CIRCLE%201%202%200.01&TIME=2%201":            "TIME",
		"POS=CIRCLE%201%202%200.01&BAD_CATFLAGS_MASK=-1":  "BAD_CATFLAGS_MASK",
		"POS=CIRCLE%201%202%200.01&NOBS_MIN=x":            "NOBS_MIN",
		"POS=CIRCLE%201%202%200.01&COLLECTION=ztf_dr5":    "not available",
		"POS=CIRCLE%201%202%200.01&FORMAT=fits":           "FORMAT",
		"POS=CIRCLE%201%202%200.01&FORMAT=html":           "HTML",
		"POS=CIRCLE%201%202%200.01&RADIUS=3":              "unknown parameter",
		"pos=CIRCLE%201%202%200.01":                       "unknown parameter",
		"POS=CIRCLE%201%202%200.01&FORMAT=csv&FORMAT=csv": "given 2 times",
	} {
		status, _, body := get(t, c, lcURL(s, params), false)
		assert.Equal(t, 200, status, "bad parameters: HTTP 200 with a message by default")
		assert.True(t, strings.HasPrefix(body, "ERROR: "), body)
		assert.Contains(t, body, want, params)
		assert.NotContains(t, body, "oid")
	}
	s400 := ztftest.NewServer(t, &ztftest.Options{InvalidStatus: 400})
	status, _, _ := get(t, s400.Client(), lcURL(s400, "FORMAT=csv"), false)
	assert.Equal(t, 400, status)
	req, _ := http.NewRequest(http.MethodPost, lcURL(s, "FORMAT=csv"), nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestFaults(t *testing.T) {
	s := ztftest.NewServer(t, nil)
	c := s.Client()
	ok := lcURL(s, "POS=CIRCLE%201%202%200.01&FORMAT=csv")
	s.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 503, Body: "maintenance", RetryAfter: 1500 * time.Millisecond})
	status, h, body := get(t, c, ok, false)
	assert.Equal(t, 503, status)
	assert.Equal(t, "2", h.Get("Retry-After"), "whole seconds, rounded up")
	assert.Equal(t, "maintenance", body)

	s.ThrottleNext(7 * time.Second)
	status, h, _ = get(t, c, ok, false)
	assert.Equal(t, 429, status)
	assert.Equal(t, "7", h.Get("Retry-After"))

	status, _, full := get(t, c, ok, false)
	assert.Equal(t, 200, status, "faults are used once")

	s.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true})
	_, _, cut := get(t, c, ok, false)
	assert.True(t, strings.HasPrefix(full, cut) && len(cut) <= len(full)/2 && len(cut) > len(full)/2-200, "about the first half")
	assert.NotEqual(t, byte('\n'), cut[len(cut)-1], "cut inside a line")

	s.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true, Reset: true})
	resp, err := c.Get(ok)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the connection ends before Content-Length")

	s.Inject(ztftest.Fault{Reset: true})
	_, err = (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(ok)
	assert.Error(t, err, "a dropped connection")

	s.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Delay: time.Hour})
	// The client gives up once the server holds the request (a fixed
	// 50 ms timeout could end it before a loaded server had counted it).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		for s.Requests(ztftest.EndpointLightCurves) < 7 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ok, nil)
	start := time.Now()
	_, err = c.Do(req)
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "a delayed answer ends with the client")

	assert.Equal(t, 7, s.Requests(ztftest.EndpointLightCurves))
	assert.Equal(t, 7, s.Requests(ztftest.EndpointAny))
}

func fpsURL(s *ztftest.Server, path string, v url.Values) string {
	return s.ForcedPhotometryURL + path + "?" + v.Encode()
}

func account() url.Values {
	return url.Values{"email": {ztftest.DefaultEmail}, "userpass": {ztftest.DefaultUserpass}}
}

func TestForcedPhotometryCycle(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := ztftest.NewServer(t, &ztftest.Options{Now: clock, QueueTime: time.Minute, RunTime: time.Minute, StatusLag: 30 * time.Second})
	c := s.Client()
	status := fpsURL(s, ztf.StatusPath, func() url.Values {
		v := account()
		v.Set("option", "All recent jobs")
		v.Set("action", "Query Database")
		return v
	}())

	code, _, body := get(t, c, status, true)
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "Zero records returned")

	code, h, _ := get(t, c, status, false)
	assert.Equal(t, 401, code, "the site-wide Basic auth is required")
	assert.Contains(t, h.Get("WWW-Authenticate"), "Basic")

	sub := account()
	sub.Set("ra", "230.7155157")
	sub.Set("dec", "41.0502799")
	sub.Set("jdstart", "2459300.5")
	sub.Set("jdend", "2459500.5")
	code, _, page := get(t, c, fpsURL(s, ztf.SubmitPath, sub), true)
	require.Equal(t, 200, code)
	assert.Contains(t, page, "<td>230.7155157</td><td>41.0502799</td><td>2459300.5</td><td>2459500.5</td>")
	assert.Equal(t, 1, s.Submissions(ztftest.DefaultEmail))

	code, _, _ = get(t, c, status, true)
	assert.Equal(t, 400, code, "not listed before StatusLag")
	advance(40 * time.Second)
	_, _, page = get(t, c, status, true)
	assert.Contains(t, page, "<th>reqId</th><th>ra</th><th>dec</th><th>startJD</th><th>endJD</th><th>created</th><th>started</th><th>ended</th><th>machine</th><th>exitcode</th><th>lightcurve</th>")
	assert.Contains(t, page, "<td>69601</td>")
	assert.Contains(t, page, "<td></td><td></td><td></td><td></td><td></td></tr>", "queued: started, ended, machine, exitcode, lightcurve empty")
	jobs := s.Jobs(ztftest.DefaultEmail)
	require.Len(t, jobs, 1)
	assert.Equal(t, "queued", jobs[0].State)

	advance(time.Minute)
	assert.Equal(t, "running", s.Jobs("")[0].State)
	advance(time.Minute)
	j := s.Jobs("")[0]
	assert.Equal(t, "done", j.State)
	assert.Equal(t, "/zfps/ztf/ops/srv/ztffps/20261124/forcedphotometry_req00069601_lc.txt", j.Path)
	_, _, page = get(t, c, status, true)
	assert.Contains(t, page, "<td>0</td><td>"+j.Path+"</td>")
	pending := account()
	pending.Set("option", "Pending jobs")
	pending.Set("action", "Query Database")
	code, _, _ = get(t, c, fpsURL(s, ztf.StatusPath, pending), true)
	assert.Equal(t, 400, code, "no pending jobs")

	code, h, file := get(t, c, s.URL+j.Path, true)
	require.Equal(t, 200, code)
	assert.Equal(t, "text/plain", h.Get("Content-Type"))
	checkResultFile(t, file)
	code, _, _ = get(t, c, s.URL+j.Path, false)
	assert.Equal(t, 401, code)
	code, _, _ = get(t, c, s.URL+"/zfps/ztf/ops/srv/ztffps/x/forcedphotometry_req00000001_lc.txt", true)
	assert.Equal(t, 404, code)

	advance(31 * 24 * time.Hour)
	code, _, _ = get(t, c, status, true)
	assert.Equal(t, 400, code, "jobs expire after 30 days")
	code, _, _ = get(t, c, s.URL+j.Path, true)
	assert.Equal(t, 404, code, "and so do their files")
}

// checkResultFile checks the layout of spec B.5 and the mix of epochs.
func checkResultFile(t *testing.T, file string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(file, "\n"), "\n")
	assert.True(t, strings.HasPrefix(lines[0], "# ----"))
	assert.Contains(t, file, "# Requested input R.A. = 230.7155157 degrees\n")
	assert.Contains(t, file, "# Requested JD start = 2459300.5 days\n")
	assert.Contains(t, file, "# Order of columns below:\n index, field, ccdid, qid, filter, pid,")
	assert.Equal(t, "# ------------------------------END---------------------------------", lines[len(lines)-1])
	var names []string
	procs := map[string]int{}
	nulls, cloudy, low, neg := 0, 0, 0, 0
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if names == nil {
			names = strings.Fields(strings.ReplaceAll(l, ",", " "))
			require.Len(t, names, 40)
			continue
		}
		f := strings.Fields(l)
		require.Len(t, f, 40, l)
		row := map[string]string{}
		for i, n := range names {
			row[n] = f[i]
		}
		procs[row["procstatus"]]++
		if row["forcediffimflux"] == "null" {
			nulls++
			continue
		}
		if row["infobitssci"] != "0" {
			cloudy++
		}
		if strings.HasPrefix(row["forcediffimflux"], "-") {
			neg++
		}
		if snr := row["forcediffimsnr"]; snr < "3" || strings.HasPrefix(snr, "-") {
			low++
		}
	}
	assert.Positive(t, procs["0"])
	assert.Positive(t, procs["56"])
	assert.Positive(t, procs["57"])
	assert.Positive(t, procs["61"])
	assert.Equal(t, procs["61"], nulls)
	assert.Positive(t, cloudy)
	assert.Positive(t, neg)
	assert.Positive(t, low)
}

func TestForcedPhotometrySubmissionErrors(t *testing.T) {
	s := ztftest.NewServer(t, &ztftest.Options{MaxPending: 2, QueueTime: time.Hour})
	c := s.Client()
	bad := url.Values{"email": {"who@example.org"}, "userpass": {"x"}, "ra": {"1"}, "dec": {"2"}}
	_, _, page := get(t, c, fpsURL(s, ztf.SubmitPath, bad), true)
	assert.Contains(t, page, "ERROR")
	assert.Contains(t, page, "userpass")
	assert.NotContains(t, page, "<table")
	for params, want := range map[string]string{"ra": "invalid position", "jdstart": "jdstart", "jdend": "jdend"} {
		v := account()
		v.Set("ra", "1")
		v.Set("dec", "2")
		v.Set(params, "x")
		_, _, page := get(t, c, fpsURL(s, ztf.SubmitPath, v), true)
		assert.Contains(t, page, want)
	}
	v := account()
	v.Set("ra", "1")
	v.Set("dec", "2")
	for range 2 {
		_, _, page := get(t, c, fpsURL(s, ztf.SubmitPath, v), true)
		assert.Contains(t, page, "<table")
	}
	_, _, page = get(t, c, fpsURL(s, ztf.SubmitPath, v), true)
	assert.Contains(t, page, "already have 2 requests")
	assert.Equal(t, 2, s.Submissions(ztftest.DefaultEmail))
	assert.Equal(t, 7, s.Requests(ztftest.EndpointSubmit), "every submission request is counted, refused ones too")

	st := account()
	st.Set("option", "everything")
	_, _, page = get(t, c, fpsURL(s, ztf.StatusPath, st), true)
	assert.Contains(t, page, "ERROR")
}

func TestForcedPhotometryExitCodesAndBatch(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := ztftest.NewServer(t, &ztftest.Options{Now: clock, QueueTime: time.Minute, RunTime: time.Minute})
	c := s.Client()
	s.FailNextJob(255)
	v := account()
	v.Set("ra", "1")
	v.Set("dec", "2")
	get(t, c, fpsURL(s, ztf.SubmitPath, v), true)
	v.Set("jdend", "2458000.5")
	v.Set("jdstart", "2457000.5")
	get(t, c, fpsURL(s, ztf.SubmitPath, v), true)
	v.Set("jdstart", "2458000.5")
	v.Set("jdend", "2458300.5")
	get(t, c, fpsURL(s, ztf.SubmitPath, v), true)
	advance(3 * time.Minute)
	jobs := s.Jobs("")
	require.Len(t, jobs, 3)
	assert.Equal(t, 255, jobs[0].ExitCode)
	assert.Empty(t, jobs[0].Path)
	assert.Equal(t, 65, jobs[1].ExitCode, "end before the survey start")
	assert.Equal(t, 62, jobs[2].ExitCode, "start reset to the survey start")
	assert.NotEmpty(t, jobs[2].Path)
	_, _, file := get(t, c, s.URL+jobs[2].Path, true)
	assert.Contains(t, file, " 62\n")

	form := account()
	form.Set("ra", "[1.5, 2.5, 3.5]")
	form.Set("dec", "[10, 20, 30]")
	form.Set("jdstart", "2459000.5")
	req, _ := http.NewRequest(http.MethodPost, s.ForcedPhotometryURL+"/cgi-bin/batchfp.py/submit", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(ztf.DefaultHTTPUser, ztf.DefaultHTTPPassword)
	resp, err := c.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(b), "Submitted 3 positions")
	assert.Equal(t, 6, s.Submissions(ztftest.DefaultEmail))
	advance(3 * time.Minute)
	bs := account()
	bs.Set("option", "All recent jobs")
	bs.Set("action", "Query Database")
	_, _, page := get(t, c, fpsURL(s, "/cgi-bin/getBatchForcedPhotometryRequests.cgi", bs), true)
	assert.Equal(t, 3, strings.Count(page, "batchfp_req"), "the batch page lists batch jobs only")
	_, _, page = get(t, c, fpsURL(s, ztf.StatusPath, bs), true)
	assert.NotContains(t, page, "batchfp_req")

	form.Set("dec", "[10]")
	req, _ = http.NewRequest(http.MethodPost, s.ForcedPhotometryURL+"/cgi-bin/batchfp.py/submit", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(ztf.DefaultHTTPUser, ztf.DefaultHTTPPassword)
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
}

func TestServerLifecycle(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		s := ztftest.NewServer(t, nil)
		url = s.URL
		resp, err := s.Client().Get(lcURL(s, "ID=1&FORMAT=csv"))
		require.NoError(t, err)
		resp.Body.Close()
		creds := s.Credentials()
		assert.Equal(t, ztftest.DefaultEmail, creds.Email.Reveal())
		assert.Equal(t, s.URL+"/irsa", s.LightCurveURL)
		assert.Equal(t, s.URL+"/zfps", s.ForcedPhotometryURL)
	})
	_, err := http.Get(url + "/irsa")
	assert.Error(t, err, "the server is closed when its test ends")

	s := ztftest.NewServer(t, &ztftest.Options{Accounts: map[string]string{"a@b.org": "pw"}, HTTPUser: "u", HTTPPassword: "p"})
	creds := s.Credentials()
	assert.Equal(t, "a@b.org", creds.Email.Reveal())
	assert.Equal(t, "u", creds.HTTPUser.Reveal())
	s.Close()
}

func TestClearFaults(t *testing.T) {
	s := ztftest.NewServer(t, nil)
	s.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 500}, ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 500})
	s.ClearFaults()
	resp, err := http.Get(s.LightCurveURL + ztf.LightCurvePath + "?POS=CIRCLE+210.9+54.3+0.001&FORMAT=csv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d after ClearFaults, want 200", resp.StatusCode)
	}
}
