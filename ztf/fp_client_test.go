package ztf_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
)

const fpsBase = "https://ztfweb.example.org/prefix"

var testCreds = ztf.Credentials{Email: "observer@example.org", Password: "pa55word"}

func newFPClient(t *testing.T) (*ztf.ForcedPhotometryClient, *httpmock.MockTransport) {
	t.Helper()
	tr := httpmock.NewMockTransport()
	c, err := ztf.NewForcedPhotometryClient(fpsBase, testCreds, &ztf.ForcedPhotometryOptions{
		HTTPClient: &http.Client{Transport: tr}, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond,
	})
	require.NoError(t, err)
	return c, tr
}

// noSecrets checks that no credential appears in text.
func noSecrets(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{"observer@example.org", "pa55word", "dontgocrazy!"} {
		assert.NotContains(t, text, s)
	}
}

const echoPage = `<html><body><p>Your request has been queued.</p>
<table border=1><tr><th>RA</th><th>Dec</th><th>JD start</th><th>JD end</th></tr>
<tr><td> 230.7155157 </td><td>41.0502799</td><td>2458194.5</td><td>2461000.5</td></tr></table></body></html>`

func TestFPSubmit(t *testing.T) {
	c, tr := newFPClient(t)
	var got *http.Request
	tr.RegisterResponder("GET", `=~/prefix/cgi-bin/requestForcedPhotometry\.cgi`, func(r *http.Request) (*http.Response, error) {
		got = r
		return httpmock.NewStringResponse(200, echoPage), nil
	})
	sub, err := c.Submit(context.Background(), ztf.ForcedPhotometryRequest{RA: 230.7155157, Dec: 41.0502799, JDStart: 2458194.5, JDEnd: 2461000.5})
	require.NoError(t, err)
	assert.Equal(t, ztf.Submission{RA: 230.7155157, Dec: 41.0502799, JDStart: 2458194.5, JDEnd: 2461000.5}, *sub)
	user, pass, ok := got.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, ztf.DefaultHTTPUser, user)
	assert.Equal(t, ztf.DefaultHTTPPassword, pass)
	q := got.URL.Query()
	assert.Equal(t, "230.7155157", q.Get("ra"))
	assert.Equal(t, "41.0502799", q.Get("dec"))
	assert.Equal(t, "2458194.5", q.Get("jdstart"))
	assert.Equal(t, "2461000.5", q.Get("jdend"))
	assert.Equal(t, "observer@example.org", q.Get("email"))
	assert.Equal(t, "pa55word", q.Get("userpass"))
}

func TestFPSubmitIsNeverRetried(t *testing.T) {
	for name, responder := range map[string]httpmock.Responder{
		"502":             httpmock.NewStringResponder(502, "bad gateway"),
		"connection lost": httpmock.NewErrorResponder(fmt.Errorf("connection reset by peer")),
	} {
		t.Run(name, func(t *testing.T) {
			c, tr := newFPClient(t)
			tr.RegisterResponder("GET", `=~requestForcedPhotometry`, responder)
			_, err := c.Submit(context.Background(), ztf.ForcedPhotometryRequest{RA: 1, Dec: 2, JDStart: 2459000.5, JDEnd: 2459001.5})
			require.Error(t, err)
			assert.ErrorIs(t, err, singletarget.ErrRemote)
			assert.Equal(t, 1, tr.GetTotalCallCount(), "a submission that may have queued a job is not sent again")
			noSecrets(t, err.Error())
		})
	}
}

func TestFPSubmitErrorPages(t *testing.T) {
	c, tr := newFPClient(t)
	page := `<html><body><p><b>ERROR:</b> the email address observer@example.org and/or userpass pa55word are not valid</p></body></html>`
	tr.RegisterResponder("GET", `=~requestForcedPhotometry`, httpmock.NewStringResponder(200, page))
	_, err := c.Submit(context.Background(), ztf.ForcedPhotometryRequest{RA: 1, Dec: 2, JDStart: 2459000.5, JDEnd: 2459001.5})
	assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
	var ae *ztf.AnswerError
	require.ErrorAs(t, err, &ae)
	assert.True(t, ae.Unauthorized)
	assert.Contains(t, ae.Message, "not valid")
	noSecrets(t, err.Error())
	assert.NotContains(t, err.Error(), "<b>", "tags are removed")

	tr.RegisterResponder("GET", `=~requestForcedPhotometry`, httpmock.NewStringResponder(200, "<html><body>The service is down for maintenance.</body></html>"))
	_, err = c.Submit(context.Background(), ztf.ForcedPhotometryRequest{RA: 1, Dec: 2, JDStart: 2459000.5, JDEnd: 2459001.5})
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.NotErrorIs(t, err, singletarget.ErrUnauthorized)
	tr.RegisterResponder("GET", `=~requestForcedPhotometry`, httpmock.NewStringResponder(401, "Unauthorized"))
	_, err = c.Submit(context.Background(), ztf.ForcedPhotometryRequest{RA: 1, Dec: 2, JDStart: 2459000.5, JDEnd: 2459001.5})
	assert.ErrorIs(t, err, singletarget.ErrUnauthorized)

	for name, r := range map[string]ztf.ForcedPhotometryRequest{
		"JDStart": {RA: 1, Dec: 2, JDStart: 59000, JDEnd: 2459001.5},
		"JDEnd":   {RA: 1, Dec: 2, JDStart: 2459002.5, JDEnd: 2459001.5},
		"RA":      {RA: -1, Dec: 2, JDStart: 2459000.5, JDEnd: 2459001.5},
		"Dec":     {RA: 1, Dec: 95, JDStart: 2459000.5, JDEnd: 2459001.5},
	} {
		_, err := c.Submit(context.Background(), r)
		assert.ErrorContains(t, err, "ForcedPhotometryRequest."+name)
	}
}

const statusPage = `<html><head><title>status</title><style>td { color: red }</style></head><body>
<!-- <table><tr><td>not this</td></tr></table> -->
<table border="1">
<tr><th>reqId</th><th>ra</th><th>dec</th><th>startJD</th><th>endJD</th><th>created</th><th>started</th><th>ended</th><th>machine</th><th>exitcode</th><th>lightcurve</th></tr>
<tr><td>69624</td><td>119.2272461</td><td>34.2621147</td><td>2458194.5</td><td>2459523.5</td><td>2022-01-26 10:30:01</td><td>2022-01-26 10:40:02</td><td>2022-01-26 10:46:57</td><td>ztfops12</td><td>0</td><td><a href="/ztf/ops/srv/ztffps/20220126/forcedphotometry_req00069624_lc.txt">/ztf/ops/srv/ztffps/20220126/forcedphotometry_req00069624_lc.txt</a></td></tr>
<tr><td>69625</td><td>230.7155157</td><td>41.0502799</td><td>2458194.5</td><td>2461000.5</td><td>2022-01-26 11:00:00</td><td></td><td></td><td></td><td></td><td></td>
<tr><td>69626<td>230.7155157<td>41.0502799<td>2458194.5<td>2461000.5<td>2022-01-26 11:00:00<td>2022-01-26 11:01:00<td>2022-01-26 11:02:00<td>ztfops03<td>63<td>
</table></body></html>`

func TestFPJobs(t *testing.T) {
	c, tr := newFPClient(t)
	var got *http.Request
	tr.RegisterResponder("GET", `=~/prefix/cgi-bin/getForcedPhotometryRequests\.cgi`, func(r *http.Request) (*http.Response, error) {
		got = r
		return httpmock.NewStringResponse(200, statusPage), nil
	})
	jobs, err := c.Jobs(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, jobs, 3)
	q := got.URL.Query()
	assert.Equal(t, "All recent jobs", q.Get("option"))
	assert.Equal(t, "Query Database", q.Get("action"))
	assert.Equal(t, "observer@example.org", q.Get("email"))
	assert.Equal(t, "pa55word", q.Get("userpass"))
	_, _, ok := got.BasicAuth()
	assert.True(t, ok)

	j := jobs[0]
	assert.Equal(t, int64(69624), j.ReqID)
	assert.Equal(t, 119.2272461, j.RA)
	assert.Equal(t, 2459523.5, j.JDEnd)
	assert.Equal(t, "ztfops12", j.Machine)
	require.NotNil(t, j.ExitCode)
	assert.Equal(t, 0, *j.ExitCode)
	assert.Equal(t, "/ztf/ops/srv/ztffps/20220126/forcedphotometry_req00069624_lc.txt", j.LightCurve)
	assert.True(t, j.Done())
	assert.Equal(t, "done", j.State())

	assert.Equal(t, "queued", jobs[1].State())
	assert.Nil(t, jobs[1].ExitCode)
	assert.True(t, jobs[1].Matches(230.7155157, 41.0502799, 2458194.5, 2461000.5))
	assert.False(t, jobs[1].Matches(230.7156157, 41.0502799, 2458194.5, 2461000.5))
	assert.False(t, jobs[1].Matches(230.7155157, 41.0502799, 2458194.5, 2461001.5))

	assert.Equal(t, 63, *jobs[2].ExitCode, "rows without end tags")
	assert.Empty(t, jobs[2].LightCurve)

	_, err = c.Jobs(context.Background(), ztf.PendingJobs)
	require.NoError(t, err)
	assert.Equal(t, "Pending jobs", got.URL.Query().Get("option"))
}

func TestFPJobsVariants(t *testing.T) {
	t.Run("zero records", func(t *testing.T) {
		c, tr := newFPClient(t)
		tr.RegisterResponder("GET", `=~getForcedPhotometryRequests`, httpmock.NewStringResponder(400, "Zero records returned"))
		jobs, err := c.Jobs(context.Background(), ztf.AllRecentJobs)
		require.NoError(t, err, "an account with no jobs is not an error")
		assert.Empty(t, jobs)
	})
	t.Run("other columns order and no header", func(t *testing.T) {
		c, tr := newFPClient(t)
		page := `<table><tr><th>lightcurve</th><th>reqId</th><th>ra</th><th>dec</th><th>startJD</th><th>endJD</th><th>exitcode</th></tr>
<tr><td>/ztf/ops/x/batchfp_req0002064117_lc.txt</td><td>2064117</td><td>1</td><td>2</td><td>2459000.5</td><td>2459001.5</td><td>0</td></tr></table>`
		tr.RegisterResponder("GET", `=~getForcedPhotometryRequests`, httpmock.NewStringResponder(200, page))
		jobs, err := c.Jobs(context.Background(), ztf.AllRecentJobs)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		assert.Equal(t, int64(2064117), jobs[0].ReqID)
		assert.Equal(t, "/ztf/ops/x/batchfp_req0002064117_lc.txt", jobs[0].LightCurve)

		page = `<table><tr><td>5</td><td>1</td><td>2</td><td>2459000.5</td><td>2459001.5</td><td>c</td><td>s</td><td>e</td><td>m</td><td>0</td><td>/ztf/ops/a/b_lc.txt</td></tr></table>`
		tr.RegisterResponder("GET", `=~getForcedPhotometryRequests`, httpmock.NewStringResponder(200, page))
		jobs, err = c.Jobs(context.Background(), ztf.AllRecentJobs)
		require.NoError(t, err)
		require.Len(t, jobs, 1, "documented positions without a header row")
		assert.Equal(t, "/ztf/ops/a/b_lc.txt", jobs[0].LightCurve)
		assert.Equal(t, "e", jobs[0].Ended)
	})
	t.Run("bad pages", func(t *testing.T) {
		c, tr := newFPClient(t)
		tr.RegisterResponder("GET", `=~getForcedPhotometryRequests`, httpmock.NewStringResponder(200, "<p>ERROR: userpass not valid</p>"))
		_, err := c.Jobs(context.Background(), ztf.AllRecentJobs)
		assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
		tr.RegisterResponder("GET", `=~getForcedPhotometryRequests`, httpmock.NewStringResponder(200, "<table><tr><th>reqId</th></tr><tr><td>abc</td></tr></table>"))
		_, err = c.Jobs(context.Background(), ztf.AllRecentJobs)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.ErrorContains(t, err, "reqId")
		noSecrets(t, err.Error())
	})
	t.Run("retried", func(t *testing.T) {
		c, tr := newFPClient(t)
		calls := 0
		tr.RegisterResponder("GET", `=~getForcedPhotometryRequests`, func(*http.Request) (*http.Response, error) {
			calls++
			if calls == 1 {
				return httpmock.NewStringResponse(503, "busy"), nil
			}
			return httpmock.NewStringResponse(200, statusPage), nil
		})
		jobs, err := c.Jobs(context.Background(), ztf.AllRecentJobs)
		require.NoError(t, err)
		assert.Len(t, jobs, 3)
		assert.Equal(t, 2, calls)
	})
}

func TestFPDownload(t *testing.T) {
	c, tr := newFPClient(t)
	file := string(readFile(t, "ztf_fps_result.txt"))
	var got *http.Request
	tr.RegisterResponder("GET", "https://ztfweb.example.org/ztf/ops/srv/ztffps/20220126/forcedphotometry_req00069624_lc.txt",
		func(r *http.Request) (*http.Response, error) {
			got = r
			return httpmock.NewStringResponse(200, file), nil
		})
	body, err := c.Download(context.Background(), "/ztf/ops/srv/ztffps/20220126/forcedphotometry_req00069624_lc.txt")
	require.NoError(t, err, "the path is on the site's host, whatever the base path")
	assert.Equal(t, file, string(body))
	_, _, ok := got.BasicAuth()
	assert.True(t, ok)

	tr.RegisterResponder("GET", "https://ztfweb.example.org/ztf/ops/cut_lc.txt", httpmock.NewStringResponder(200, file[:len(file)/2]))
	_, err = c.Download(context.Background(), "/ztf/ops/cut_lc.txt")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.ErrorContains(t, err, "cut short")
	tr.RegisterResponder("GET", "https://ztfweb.example.org/ztf/ops/html_lc.txt", httpmock.NewStringResponder(200, "<html>oops</html>"))
	_, err = c.Download(context.Background(), "/ztf/ops/html_lc.txt")
	assert.ErrorContains(t, err, "not a forced-photometry result file")
	tr.RegisterResponder("GET", "https://ztfweb.example.org/ztf/ops/gone_lc.txt", httpmock.NewStringResponder(404, "not found"))
	_, err = c.Download(context.Background(), "/ztf/ops/gone_lc.txt")
	assert.ErrorIs(t, err, singletarget.ErrNotFound)

	for _, bad := range []string{"https://evil.example.org/x_lc.txt", "//evil.example.org/x_lc.txt", "/ztf/../etc/passwd", "ztf/ops/x", "/x?y=1"} {
		_, err := c.Download(context.Background(), bad)
		assert.ErrorIs(t, err, singletarget.ErrRemote, bad)
	}
	assert.Equal(t, 4, tr.GetTotalCallCount(), "bad paths are not fetched")
}

func TestNewForcedPhotometryClientValidates(t *testing.T) {
	_, err := ztf.NewForcedPhotometryClient(ztf.DefaultForcedPhotometryURL, ztf.Credentials{}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Credentials.Email")
	assert.Contains(t, err.Error(), "Credentials.Password")
	for name, c := range map[string]struct {
		opts *ztf.ForcedPhotometryOptions
		want string
	}{
		"poll":     {&ztf.ForcedPhotometryOptions{PollInterval: time.Hour, MaxPollInterval: time.Minute}, "PollInterval"},
		"deadline": {&ztf.ForcedPhotometryOptions{Deadline: -time.Hour}, "Deadline"},
		"size":     {&ztf.ForcedPhotometryOptions{MaxBodySize: -1}, "MaxBodySize"},
		"retries":  {&ztf.ForcedPhotometryOptions{RetryMax: -3}, "RetryMax"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ztf.NewForcedPhotometryClient(ztf.DefaultForcedPhotometryURL, testCreds, c.opts)
			assert.ErrorContains(t, err, "ForcedPhotometryOptions."+c.want)
		})
	}
	_, err = ztf.NewForcedPhotometryClient("ftp://x", testCreds, nil)
	assert.ErrorContains(t, err, "baseURL")
	_, err = ztf.NewForcedPhotometryClient(ztf.DefaultForcedPhotometryURL, ztf.Credentials{Email: "a@b.c", Password: "pw", HTTPUser: "a:b"}, nil)
	assert.ErrorContains(t, err, "HTTPUser")
}

func TestExitCodeMeaning(t *testing.T) {
	assert.Contains(t, ztf.ExitCodeMeaning(63), "no epochs")
	assert.Contains(t, ztf.ExitCodeMeaning(56), "bad")
	assert.Equal(t, "undocumented code", ztf.ExitCodeMeaning(7))
	assert.True(t, strings.Contains(ztf.ExitCodeMeaning(255), "database"))
}
