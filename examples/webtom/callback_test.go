package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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

// With callback_url set, webtom serves the ATLAS completion callback at
// its path, outside the login and the loopback Host check (the archive
// can do neither), and a job whose next poll is an hour away finishes as
// soon as its task does. Every other page still needs the login.
func TestCallbackEndpoint(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 300 * time.Millisecond, RunTime: 200 * time.Millisecond, AllowHTTPCallbacks: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cbURL := "http://" + ln.Addr().String() + "/targetdata/atlas/callback"
	dir := t.TempDir()
	cfg, err := singletarget.ParseConfig([]byte(fmt.Sprintf(`
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: %s
    api_key: %s
    poll_queued: 1h
    poll_running: 1h
    poll_max: 1h
    callback_url: %s
tasks:
  backend: pool
database: sqlite://%s
storage: file://%s
`, sim.URL, sim.Token.Reveal(), cbURL, filepath.Join(dir, "td.db"), filepath.Join(dir, "files"))), nil)
	require.NoError(t, err)
	ctx := context.Background()
	app, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = app.Close() })
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() { _ = app.Stop(ctx) })
	srv, err := newServer(app, &serverOptions{Auth: &basicAuth{user: "tom", password: testPassword}, LoopbackHosts: true})
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)

	post := func(host, body string) int {
		req, err := http.NewRequest("POST", cbURL, strings.NewReader(body))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusNotFound, post("tom.example.org", `{"task_id": 99999}`), "no login, any Host: the endpoint answers (no job waits on that task)")
	req, err := http.NewRequest("GET", ts.URL+"/targets", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the pages still need the login")

	id, err := app.Executor.Submit(ctx, singletarget.Request{Service: "ATLAS",
		Target: singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params: map[string][]string{"min_date_mjd": {"60000"}, "max_date_mjd": {"60030"}}})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := app.Executor.Wait(wctx, id)
	require.NoError(t, err, "the callback did not wake the job: %+v", st)
	assert.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	assert.Equal(t, 1, sim.Stats().CallbacksSent)
}
