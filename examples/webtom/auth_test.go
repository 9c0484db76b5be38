package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPassword = "correct horse battery staple"

func TestAuthFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	a, err := authFromEnv(env())
	require.NoError(t, err)
	assert.Nil(t, a, "no login unless asked for")
	a, err = authFromEnv(env(envPassword, testPassword))
	require.NoError(t, err)
	require.NotNil(t, a)
	assert.Equal(t, "tom", a.user, "the default user")
	assert.Equal(t, testPassword, a.password.Reveal())
	a, err = authFromEnv(env(envUser, "astro", envPassword, testPassword))
	require.NoError(t, err)
	assert.Equal(t, "astro", a.user)

	_, err = authFromEnv(env(envUser, "astro"))
	assert.ErrorContains(t, err, "WEBTOM_PASSWORD is empty")
	_, err = authFromEnv(env(envPassword, "short-secret"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WEBTOM_PASSWORD is 12 bytes long; use at least 16")
	assert.NotContains(t, err.Error(), "short-secret", "the password is never shown")
}

func TestCheckExposure(t *testing.T) {
	a := &basicAuth{user: "tom", password: testPassword}
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 8080} }
	for _, ip := range []string{"127.0.0.1", "127.1.2.3", "::1"} {
		assert.NoError(t, checkExposure(tcp(ip), nil, false), ip)
	}
	for _, ip := range []string{"0.0.0.0", "::", "192.168.1.10", "2001:db8::1"} {
		err := checkExposure(tcp(ip), nil, false)
		assert.ErrorIs(t, err, errAnonymous, ip)
		assert.NoError(t, checkExposure(tcp(ip), a, false), "%s with a login", ip)
		assert.NoError(t, checkExposure(tcp(ip), nil, true), "%s with -allow-anonymous", ip)
	}
}

// authClient sends the user and password with every request.
type authClient struct {
	user, password string
	next           http.RoundTripper
}

func (c authClient) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(c.user, c.password)
	return c.next.RoundTrip(r)
}

// With a login, every page, plot, static file and post needs it (401 and
// a Basic challenge otherwise, nothing done); with it the pages work and
// posts still need their CSRF token. The password is never logged.
func TestAuth(t *testing.T) {
	m := newTOM(t, "pool")
	var logs syncBuffer
	srv, err := newServer(m.app, &serverOptions{Auth: &basicAuth{user: "tom", password: testPassword},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := func(user, password string) *http.Client {
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: noRedirect}
		if user != "" || password != "" {
			c.Transport = authClient{user: user, password: password, next: http.DefaultTransport}
		}
		return c
	}
	good := client("tom", testPassword)

	// The logged-in client gets a page and its CSRF token.
	resp, err := good.Get(ts.URL + "/targets")
	require.NoError(t, err)
	page := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sm := tokenRE.FindStringSubmatch(page)
	require.NotNil(t, sm)
	tok := sm[1]

	gets := []string{"/", "/targets", "/targets/1", "/targets/1/lightcurve.png", "/targets/1/spectra/1.png", "/jobs/1", "/static/style.css", "/static/forms.js", "/nowhere"}
	posts := map[string]url.Values{
		"/targets":               {csrfField: {tok}, "name": {"SN 2023ixf"}, "ra": {"210.910674"}, "dec": {"54.311686"}},
		"/targets/1/query/ATLAS": atlasQuery(tok),
		"/targets/1/upload":      {csrfField: {tok}},
		"/jobs/1/cancel":         {csrfField: {tok}},
	}
	for name, c := range map[string]*http.Client{
		"no login":       client("", ""),
		"wrong password": client("tom", testPassword+"!"),
		"wrong user":     client("root", testPassword),
		"empty password": client("tom", ""),
	} {
		for _, p := range gets {
			resp, err := c.Get(ts.URL + p)
			require.NoError(t, err)
			body := readBody(t, resp)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s: GET %s", name, p)
			assert.Equal(t, `Basic realm="webtom", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"), "%s: GET %s", name, p)
			assert.NotContains(t, body, "csrf_token")
		}
		for p, v := range posts {
			resp, err := c.PostForm(ts.URL+p, v)
			require.NoError(t, err)
			readBody(t, resp)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s: POST %s", name, p)
		}
	}
	assert.Empty(t, srv.targets.all(), "no target created without the login")
	assert.Empty(t, m.jobsOf(1))

	// Logged in, a post without its CSRF token is still refused.
	resp, err = good.PostForm(ts.URL+"/targets", url.Values{"name": {"X"}, "ra": {"1"}, "dec": {"1"}})
	require.NoError(t, err)
	readBody(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, err = good.PostForm(ts.URL+"/targets", posts["/targets"])
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	for _, p := range []string{"/targets/1", "/static/style.css"} {
		resp, err := good.Get(ts.URL + p)
		require.NoError(t, err)
		readBody(t, resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
	assert.Contains(t, logs.String(), "login failed")
	assert.NotContains(t, logs.String(), "battery", "no password, right or wrong, is logged")
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestIsLoopbackHost(t *testing.T) {
	for _, h := range []string{"localhost", "localhost:8080", "LocalHost.:80", "tom.localhost:8080", "127.0.0.1", "127.0.0.1:8080", "127.9.9.9:1", "[::1]:8080", "[::1]", "::1"} {
		assert.True(t, isLoopbackHost(h), h)
	}
	for _, h := range []string{"", "evil.example", "evil.example:8080", "localhost.evil.example", "10.0.0.1:8080", "0.0.0.0:8080", "[::]:8080", "127.0.0.1.nip.io"} {
		assert.False(t, isLoopbackHost(h), h)
	}
}

// Without a login, webtom answers only requests addressed to this
// machine's loopback names, so a web page whose domain was rebound to
// 127.0.0.1 can neither read its pages (and their CSRF tokens) nor post.
func TestLoopbackHosts(t *testing.T) {
	m := newTOM(t, "immediate")
	srv, err := newServer(m.app, &serverOptions{LoopbackHosts: true})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	do := func(method, host string) (int, string) {
		req, err := http.NewRequest(method, ts.URL+"/targets", strings.NewReader("name=X&ra=1&dec=1"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp.StatusCode, readBody(t, resp)
	}
	for _, h := range []string{"evil.example:8080", "evil.example"} {
		code, body := do("GET", h)
		assert.Equal(t, http.StatusMisdirectedRequest, code, h)
		assert.NotContains(t, body, "csrf_token")
		code, _ = do("POST", h)
		assert.Equal(t, http.StatusMisdirectedRequest, code, h)
	}
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	for _, h := range []string{u.Host, "localhost:" + u.Port()} {
		code, body := do("GET", h)
		assert.Equal(t, http.StatusOK, code, h)
		assert.Contains(t, body, "csrf_token", h)
	}

	// With a login (or behind a proxy) any Host is served.
	code, _ := do2(t, m, "evil.example")
	assert.Equal(t, http.StatusOK, code)
}

// do2 gets /targets from m's server (no Host check) with the Host.
func do2(t *testing.T, m *tom, host string) (int, string) {
	req, err := http.NewRequest("GET", m.ts.URL+"/targets", nil)
	require.NoError(t, err)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp.StatusCode, readBody(t, resp)
}
