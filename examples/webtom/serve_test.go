package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/singletarget"
)

// startRun runs webtom with o until the test ends and returns its URL.
func startRun(t *testing.T, o options, logger *slog.Logger) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, logger, func(u string) { urls <- u }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		close(done) // the clean-up receives nil
		t.Fatalf("run ended: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the server did not start")
	}
	return ""
}

// On an address other machines reach, webtom refuses to start without a
// login (before opening anything), and starts with one or with
// -allow-anonymous.
func TestRunExposure(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	err := run(context.Background(), options{addr: "0.0.0.0:0", dir: dir}, logger, nil)
	require.ErrorIs(t, err, errAnonymous)
	assert.Contains(t, err.Error(), "WEBTOM_PASSWORD")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing opened")

	var logs syncBuffer
	base := startRun(t, options{addr: "0.0.0.0:0", dir: t.TempDir(), grace: 5 * time.Second,
		auth: &basicAuth{user: "tom", password: testPassword}}, slog.New(slog.NewTextHandler(&logs, nil)))
	resp, err := http.Get(base + "/targets")
	require.NoError(t, err)
	readBody(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the login is asked for")
	assert.Contains(t, logs.String(), "put a TLS proxy in front")
	assert.Contains(t, logs.String(), "login=true")

	base = startRun(t, options{addr: "0.0.0.0:0", dir: t.TempDir(), grace: 5 * time.Second, allowAnonymous: true}, logger)
	resp, err = http.Get(base + "/targets")
	require.NoError(t, err)
	readBody(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// The HTTP server has every timeout and a header cap.
func TestHTTPServerLimits(t *testing.T) {
	hs := newHTTPServer(http.NotFoundHandler(), httpTimeouts{}, slog.New(slog.DiscardHandler))
	assert.Equal(t, 10*time.Second, hs.ReadHeaderTimeout)
	assert.Equal(t, 2*time.Minute, hs.ReadTimeout)
	assert.Equal(t, 2*time.Minute, hs.WriteTimeout)
	assert.Equal(t, 2*time.Minute, hs.IdleTimeout)
	assert.Equal(t, 64<<10, hs.MaxHeaderBytes)
	hs = newHTTPServer(http.NotFoundHandler(), httpTimeouts{Read: time.Second}, slog.New(slog.DiscardHandler))
	assert.Equal(t, time.Second, hs.ReadTimeout)
	assert.Equal(t, 2*time.Minute, hs.IdleTimeout, "zero fields take the defaults")
}

// A client that sends a post's body a byte at a time, and one that sends
// headers forever, are cut off at the read timeout; an idle kept-alive
// connection at the idle timeout; oversized headers are refused.
func TestRunSlowClients(t *testing.T) {
	const read = time.Second
	base := startRun(t, options{addr: "127.0.0.1:0", dir: t.TempDir(), grace: 5 * time.Second,
		timeouts: httpTimeouts{ReadHeader: read / 2, Read: read, Idle: read}}, slog.New(slog.DiscardHandler))
	u, err := url.Parse(base)
	require.NoError(t, err)

	// open dials and sends the start of a request; trickle then sends
	// one byte every 100 ms until the server closes the connection or
	// the test's patience (10 × the read timeout) runs out.
	open := func(head string) net.Conn {
		c, err := net.Dial("tcp", u.Host)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		_, err = io.WriteString(c, head)
		require.NoError(t, err)
		return c
	}
	closedWithin := func(c net.Conn, b byte) time.Duration {
		start := time.Now()
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			_ = c.SetReadDeadline(time.Now().Add(10 * read))
			_, _ = io.Copy(io.Discard, c) // the server's answer (if any), then EOF
		}()
		for {
			select {
			case <-gone:
				return time.Since(start)
			case <-time.After(100 * time.Millisecond):
				if _, err := c.Write([]byte{b}); err != nil {
					<-gone
					return time.Since(start)
				}
			}
		}
	}
	slowBody := open(fmt.Sprintf("POST /targets HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nname=", u.Host))
	slowHeaders := open(fmt.Sprintf("GET /targets HTTP/1.1\r\nHost: %s\r\nX-Slow: ", u.Host))
	for name, c := range map[string]net.Conn{"slow body": slowBody, "slow headers": slowHeaders} {
		d := closedWithin(c, 'a')
		assert.Less(t, d, 5*read, "%s: the connection is closed at the read timeout, not held", name)
	}

	// An idle kept-alive connection is closed.
	idle := open(fmt.Sprintf("GET /targets HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host))
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	start := time.Now()
	_ = idle.SetReadDeadline(time.Now().Add(10 * read))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the server closed the idle connection")
	assert.Less(t, time.Since(start), 5*read)

	// Headers over the cap get 431.
	req, err := http.NewRequest("GET", base+"/targets", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("x", 2*maxHeaderBytes))
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	readBody(t, r)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, r.StatusCode)
}

// -insert-only with the river backend (the documented web + worker
// split): webtom starts, inserts the query as a job and runs nothing; a
// worker process on the same settings runs it, and webtom's job and
// target pages show the result. Without river, -insert-only is refused.
func TestRunInsertOnly(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	err := run(context.Background(), options{addr: "127.0.0.1:0", dir: t.TempDir(), insertOnly: true}, logger, nil)
	assert.ErrorContains(t, err, "-insert-only needs the river backend")

	sim := atlastest.NewServer(t, nil)
	t.Setenv("WEBTOM_TEST_ATLAS_KEY", sim.Token.Reveal())
	dir := t.TempDir()
	settingsFile := filepath.Join(dir, "settings.yaml")
	require.NoError(t, os.WriteFile(settingsFile, fmt.Appendf(nil, `single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: %q
    api_key: ${WEBTOM_TEST_ATLAS_KEY}
database: sqlite://%s
storage: file://%s
tasks:
  backend: river
  workers: 2
`, sim.URL, filepath.Join(dir, "td.db"), filepath.Join(dir, "files")), 0o600))
	base := startRun(t, options{config: settingsFile, addr: "127.0.0.1:0", dir: dir, live: true, insertOnly: true, grace: 5 * time.Second}, logger)

	jar, err := newJar()
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		resp, err := c.Get(base + path)
		require.NoError(t, err)
		body := readBody(t, resp)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		return body
	}
	sm := tokenRE.FindStringSubmatch(get("/targets"))
	require.NotNil(t, sm)
	tok := sm[1]
	resp, err := c.PostForm(base+"/targets", url.Values{csrfField: {tok}, "name": {"SN 2023ixf"}, "ra": {"210.910674"}, "dec": {"54.311686"}})
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = c.PostForm(base+"/targets/1/query/ATLAS", atlasQuery(tok))
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	jobPath := resp.Header.Get("Location")
	time.Sleep(500 * time.Millisecond)
	assert.Contains(t, get(jobPath), `data-state="queued"`, "webtom itself runs no job")

	cfg, err := singletarget.LoadConfig(settingsFile)
	require.NoError(t, err)
	ctx := context.Background()
	worker, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true})
	require.NoError(t, err)
	defer worker.Close()
	require.NoError(t, worker.Start(ctx))
	defer func() { assert.NoError(t, worker.Stop(ctx)) }()
	var body string
	require.Eventually(t, func() bool {
		body = get(jobPath)
		return strings.Contains(body, `data-state="succeeded"`) || strings.Contains(body, `data-state="failed"`)
	}, 45*time.Second, 50*time.Millisecond)
	assert.Contains(t, body, `data-state="succeeded"`)
	assert.Regexp(t, `<dd id="job-counts">[1-9]\d* added`, body)
	assert.Contains(t, get("/targets/1"), `<img id="lightcurve"`)
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }
