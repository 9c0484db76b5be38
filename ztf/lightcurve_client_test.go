package ztf_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
)

const irsaBase = "https://irsa.example.org/base"

var lcURL = `=~^` + irsaBase + `/cgi-bin/ZTF/nph_light_curves\?`

func newLCClient(t *testing.T, opts *ztf.Options) (*ztf.Client, *httpmock.MockTransport) {
	t.Helper()
	tr := httpmock.NewMockTransport()
	o := ztf.Options{}
	if opts != nil {
		o = *opts
	}
	o.HTTPClient = &http.Client{Transport: tr}
	o.RequestInterval = -1
	o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 2*time.Millisecond
	c, err := ztf.New(irsaBase, &o)
	require.NoError(t, err)
	return c, tr
}

func f64(v float64) *float64 { return &v }

func TestLightCurveQueryParams(t *testing.T) {
	q := ztf.LightCurveQuery{RA: 230.7155, Dec: 41.0503, Radius: 0.0014, Bands: []string{"g", "r", "g"},
		MJDMin: f64(58200), BadCatflagsMask: 32768, Collection: "ztf_dr23", NObsMin: 5, Format: ztf.FormatIPAC}
	v, err := q.Params()
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"POS": {"CIRCLE 230.7155 41.0503 0.0014"}, "BANDNAME": {"g,r"}, "TIME": {"58200 Inf"},
		"BAD_CATFLAGS_MASK": {"32768"}, "COLLECTION": {"ztf_dr23"}, "NOBS_MIN": {"5"}, "FORMAT": {"ipac_table"},
	}, v)

	v, err = ztf.LightCurveQuery{IDs: []int64{717213200011874, 717113200012345}, MJDMax: f64(59000)}.Params()
	require.NoError(t, err)
	assert.Equal(t, url.Values{"ID": {"717213200011874,717113200012345"}, "TIME": {"-Inf 59000"}, "FORMAT": {"csv"}}, v)

	for name, c := range map[string]struct {
		q    ztf.LightCurveQuery
		want string
	}{
		"radius":     {ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.2}, "Radius"},
		"no radius":  {ztf.LightCurveQuery{RA: 1, Dec: 2}, "Radius"},
		"ra":         {ztf.LightCurveQuery{RA: 360, Dec: 2, Radius: 0.001}, "RA"},
		"dec":        {ztf.LightCurveQuery{RA: 1, Dec: -91, Radius: 0.001}, "Dec"},
		"band":       {ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001, Bands: []string{"z"}}, "Bands"},
		"ids+band":   {ztf.LightCurveQuery{IDs: []int64{1}, Bands: []string{"g"}}, "Bands"},
		"ids+nobs":   {ztf.LightCurveQuery{IDs: []int64{1}, NObsMin: 2}, "NObsMin"},
		"bad id":     {ztf.LightCurveQuery{IDs: []int64{-1}}, "IDs"},
		"window":     {ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001, MJDMin: f64(59000), MJDMax: f64(58000)}, "MJDMin"},
		"mask":       {ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001, BadCatflagsMask: 70000}, "BadCatflagsMask"},
		"collection": {ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001, Collection: "dr23"}, "Collection"},
		"format":     {ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001, Format: "votable"}, "Format"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.q.Params()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "LightCurveQuery."+c.want)
		})
	}
}

func TestClientLightCurves(t *testing.T) {
	c, tr := newLCClient(t, nil)
	var got *http.Request
	body := string(readFile(t, "ztf_irsa_lightcurve.csv"))
	tr.RegisterResponder("GET", lcURL, func(r *http.Request) (*http.Response, error) {
		got = r
		return httpmock.NewStringResponse(200, body), nil
	})
	lc, err := c.LightCurves(context.Background(), ztf.LightCurveQuery{RA: 230.7155, Dec: 41.0503, Radius: 0.0014, BadCatflagsMask: 32768})
	require.NoError(t, err)
	assert.Equal(t, 88, lc.Rows)
	assert.Equal(t, ztf.FormatCSV, lc.Format)
	assert.Equal(t, body, string(lc.Body))
	assert.Equal(t, "/base/cgi-bin/ZTF/nph_light_curves", got.URL.Path)
	assert.Equal(t, "BAD_CATFLAGS_MASK=32768&FORMAT=csv&POS=CIRCLE%20230.7155%2041.0503%200.0014", got.URL.RawQuery,
		"spaces as %20, as in IRSA's examples")
	assert.Empty(t, got.Header.Get("Authorization"), "public data: no credentials")
	assert.Contains(t, got.Header.Get("User-Agent"), "targetdata/")
}

func TestClientLightCurvesIPACAndEmpty(t *testing.T) {
	c, tr := newLCClient(t, nil)
	tbl := string(readFile(t, "ztf_irsa_lightcurve.tbl"))
	tr.RegisterResponder("GET", lcURL, func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("FORMAT") == "ipac_table" {
			return httpmock.NewStringResponse(200, tbl), nil
		}
		return httpmock.NewStringResponse(200, "oid,expid,hjd,mjd,mag,magerr,catflags,filtercode\n"), nil
	})
	lc, err := c.LightCurves(context.Background(), ztf.LightCurveQuery{IDs: []int64{717113200012345}, Format: ztf.FormatIPAC})
	require.NoError(t, err)
	assert.Equal(t, 16, lc.Rows)
	lc, err = c.LightCurves(context.Background(), ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001})
	require.NoError(t, err, "an empty match is not an error")
	assert.Zero(t, lc.Rows)
}

func TestClientLightCurvesBadAnswers(t *testing.T) {
	q := ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001}
	for name, c := range map[string]struct {
		status  int
		body    string
		target  error
		message string
	}{
		"message with 200": {200, "ERROR: POS: radius 0.5 is not in (0, 0.1667] degrees\n", singletarget.ErrRemote, "radius 0.5"},
		"html with 200":    {200, "<html><body><h1>Service unavailable</h1><p>Try &amp; wait</p></body></html>", singletarget.ErrRemote, "Service unavailable Try & wait"},
		"empty 200":        {200, "", singletarget.ErrRemote, "empty answer"},
		"cut short":        {200, "oid,mjd,mag,magerr,filtercode\n1,60000.5,17,0.1,zg\n2,60000.6,17", singletarget.ErrRemote, "cut short"},
		"bad request":      {400, "ERROR: COLLECTION ztf_dr1 is not available", singletarget.ErrRemote, "ztf_dr1"},
		"forbidden":        {403, "login required", singletarget.ErrUnauthorized, "login required"},
		"gone":             {404, "no such page", singletarget.ErrNotFound, "404"},
	} {
		t.Run(name, func(t *testing.T) {
			cl, tr := newLCClient(t, nil)
			tr.RegisterResponder("GET", lcURL, httpmock.NewStringResponder(c.status, c.body))
			_, err := cl.LightCurves(context.Background(), q)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.target)
			assert.Contains(t, err.Error(), c.message)
			assert.Contains(t, err.Error(), "ZTF")
		})
	}
}

func TestClientLightCurvesRetriesAndThrottling(t *testing.T) {
	c, tr := newLCClient(t, nil)
	calls := 0
	tr.RegisterResponder("GET", lcURL, func(*http.Request) (*http.Response, error) {
		calls++
		if calls < 3 {
			return httpmock.NewStringResponse(502, "bad gateway"), nil
		}
		return httpmock.NewStringResponse(200, csvHeader), nil
	})
	_, err := c.LightCurves(context.Background(), ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001})
	require.NoError(t, err)
	assert.Equal(t, 3, calls, "5xx answers are retried")

	c, tr = newLCClient(t, nil)
	tr.RegisterResponder("GET", lcURL, func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(429, "slow down")
		r.Header.Set("Retry-After", "120")
		return r, nil
	})
	start := time.Now()
	_, err = c.LightCurves(context.Background(), ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001})
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 120*time.Second, te.RetryAfter)
	assert.Equal(t, "ZTF", te.Service)
	assert.Less(t, time.Since(start), 5*time.Second, "a long wait is not slept inside the call")
}

func TestClientCredentialsAndCancel(t *testing.T) {
	c, tr := newLCClient(t, &ztf.Options{Username: "me@example.org", Password: "hunter22"})
	var auth string
	tr.RegisterResponder("GET", lcURL, func(r *http.Request) (*http.Response, error) {
		auth = r.Header.Get("Authorization")
		return httpmock.NewStringResponse(401, "bad password hunter22 for me@example.org"), nil
	})
	_, err := c.LightCurves(context.Background(), ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001})
	assert.Equal(t, "Basic bWVAZXhhbXBsZS5vcmc6aHVudGVyMjI=", auth)
	assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "hunter22")
	assert.NotContains(t, err.Error(), "me@example.org")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.LightCurves(ctx, ztf.LightCurveQuery{RA: 1, Dec: 2, Radius: 0.001})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNewValidates(t *testing.T) {
	for name, c := range map[string]struct {
		url  string
		opts *ztf.Options
		want string
	}{
		"url":           {"irsa.ipac.caltech.edu", nil, "baseURL"},
		"url query":     {"https://irsa.example.org/?a=b", nil, "baseURL"},
		"url userinfo":  {"https://u:p@irsa.example.org", nil, "credentials"},
		"username only": {irsaBase, &ztf.Options{Username: "me"}, "Options.Username"},
		"body size":     {irsaBase, &ztf.Options{MaxBodySize: -1}, "Options.MaxBodySize"},
		"retries":       {irsaBase, &ztf.Options{RetryMax: -2}, "Options.RetryMax"},
		"waits":         {irsaBase, &ztf.Options{RetryWaitMin: time.Minute, RetryWaitMax: time.Second}, "Options.RetryWaitMin"},
		"timeout":       {irsaBase, &ztf.Options{Timeout: -time.Second}, "Options.Timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ztf.New(c.url, c.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	s, err := ztf.NewService(ztf.DefaultLightCurveURL+"/", nil)
	require.NoError(t, err)
	assert.Equal(t, "ZTF", s.Name())
	s, err = ztf.NewService(ztf.DefaultLightCurveURL, &ztf.Options{Name: "ZTF_DR23"})
	require.NoError(t, err)
	assert.Equal(t, "ZTF_DR23", s.Name())
	assert.NotNil(t, s.Client())
	assert.False(t, errors.Is(err, singletarget.ErrConfig))
	assert.True(t, strings.HasPrefix(s.Info().InfoURL, "https://irsa.ipac.caltech.edu/"))
}
