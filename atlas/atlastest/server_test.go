package atlastest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 1, 27, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	sim   *atlastest.Server
	clock *clock
	hc    *http.Client
}

func newEnv(t *testing.T, opts *atlastest.Options) *env {
	t.Helper()
	if opts == nil {
		opts = &atlastest.Options{}
	}
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	sim := atlastest.NewServer(t, opts)
	hc := *sim.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{t: t, sim: sim, clock: c, hc: &hc}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "JSON body: %s", a.body)
	return m
}

// do sends a request; hdr "token" means the default user's token.
func (e *env) do(method, path, body string, hdr ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.sim.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	require.NoError(e.t, err)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := e.hc.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) auth() []string { return []string{"Authorization", "Token " + e.sim.Token.Reveal()} }

func (e *env) queue(body string) answer {
	e.t.Helper()
	return e.do("POST", "/queue/", body, e.auth()...)
}

func (e *env) task(id int64) map[string]any {
	e.t.Helper()
	a := e.do("GET", fmt.Sprintf("/queue/%d/", id), "")
	require.Equal(e.t, 200, a.status, "%s", a.body)
	return a.json(e.t)
}

const radec = "ra=65.00165&dec=-54.93795&mjd_min=60316&mjd_max=60336&send_email=false"

// fakeTB records cleanups, to check NewServer's.
type fakeTB struct {
	testing.TB
	cleanups []func()
	helpers  int
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Helper()           { f.helpers++ }

func TestNewServerRegistersClose(t *testing.T) {
	ftb := &fakeTB{TB: t}
	sim := atlastest.NewServer(ftb, nil)
	assert.Positive(t, ftb.helpers, "NewServer marks itself a helper")
	require.Len(t, ftb.cleanups, 1)
	resp, err := sim.Client().Get(sim.URL + "/queue/1/")
	require.NoError(t, err)
	resp.Body.Close()
	ftb.cleanups[0]()
	_, err = sim.Client().Get(sim.URL + "/queue/1/")
	assert.Error(t, err, "closed by the cleanup")
	sim.Close() // twice is fine

	started := atlastest.Start(nil)
	defer started.Close()
	assert.True(t, strings.HasSuffix(started.URL, "/forcedphot"))
}

func TestMountedUnderABasePath(t *testing.T) {
	e := newEnv(t, nil)
	assert.True(t, strings.HasSuffix(e.sim.URL, "/forcedphot"))
	root := strings.TrimSuffix(e.sim.URL, "/forcedphot")
	assert.Equal(t, 404, e.do("POST", root+"/queue/", radec, e.auth()...).status, "the API is not at the root")
	a := e.do("GET", "/queue", "", e.auth()...)
	assert.Equal(t, 301, a.status, "APPEND_SLASH")
	assert.Equal(t, "/forcedphot/queue/", a.header.Get("Location"))

	custom := newEnv(t, &atlastest.Options{BasePath: "atlas/fp/"})
	assert.True(t, strings.HasSuffix(custom.sim.URL, "/atlas/fp"))
	assert.Equal(t, 201, custom.queue(radec).status)
}

func TestTokenAuth(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do("POST", "/api-token-auth/", "username=tester&password=atlastest-password")
	require.Equal(t, 200, a.status)
	assert.Equal(t, e.sim.Token.Reveal(), a.json(t)["token"])
	assert.Len(t, e.sim.Token.Reveal(), 40)
	assert.Equal(t, e.sim.Token.Reveal(), e.do("POST", "/api-token-auth/", `{"username": "tester", "password": "atlastest-password"}`).json(t)["token"], "JSON too, and stable")

	a = e.do("POST", "/api-token-auth/", "username=tester&password=nope")
	assert.Equal(t, 400, a.status)
	assert.JSONEq(t, `{"non_field_errors": ["Unable to log in with provided credentials."]}`, string(a.body))
	a = e.do("POST", "/api-token-auth/", "username=tester")
	assert.JSONEq(t, `{"password": ["This field is required."]}`, string(a.body))

	other := e.sim.AddUser("other", "pw-other")
	assert.NotEqual(t, e.sim.Token, other)
	assert.Equal(t, other, e.sim.AddUser("other", "new-password"), "the same user keeps its token")
	assert.Equal(t, "tester", e.sim.Username)
	assert.Equal(t, "atlastest-password", e.sim.Password.Reveal())
}

func TestAuthAnswers(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do("POST", "/queue/", radec)
	assert.Equal(t, 401, a.status)
	assert.JSONEq(t, `{"detail": "Authentication credentials were not provided."}`, string(a.body))
	assert.Equal(t, `Basic realm="api"`, a.header.Get("WWW-Authenticate"))

	a = e.do("POST", "/queue/", radec, "Authorization", "Token "+strings.Repeat("f", 40))
	assert.Equal(t, 401, a.status)
	assert.JSONEq(t, `{"detail": "Invalid token."}`, string(a.body))

	a = e.do("GET", "/queue/", "")
	assert.Equal(t, 403, a.status)
	assert.JSONEq(t, `{"detail": "You do not have permission to perform this action."}`, string(a.body))

	require.Equal(t, 201, e.do("POST", "/queue/", radec, "Authorization", "Basic "+basic("tester", "atlastest-password")).status, "HTTP Basic works too")
	assert.Equal(t, 401, e.do("POST", "/queue/", radec, "Authorization", "Basic "+basic("tester", "bad")).status)
	assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status, "task detail is public")

	// A browser asking for HTML gets the login redirect.
	a = e.do("GET", "/queue/", "", "Accept", "text/html")
	assert.Equal(t, 302, a.status)
	assert.Equal(t, "/forcedphot/api-auth/login/?next=/forcedphot/queue/", a.header.Get("Location"))
}

func basic(u, p string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(u, p)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestQueueAnswers(t *testing.T) {
	e := newEnv(t, &atlastest.Options{FirstID: 1851119})
	a := e.queue(radec)
	require.Equal(t, 201, a.status, "%s", a.body)
	m := a.json(t)
	assert.Equal(t, e.sim.URL+"/queue/1851119/", m["url"])
	assert.Equal(t, m["url"], a.header.Get("Location"))
	assert.Equal(t, "application/json", a.header.Get("Content-Type"))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"comment", "dec", "error_msg", "finished", "finishtimestamp", "id", "imagerequest_finished",
		"imagerequest_task_id", "imagerequest_url", "mjd_max", "mjd_min", "mpc_name", "parent_task_id", "parent_task_url",
		"pdfplot_url", "previewimage_url", "propermotion_dec", "propermotion_ra", "queuepos", "ra", "radec_epoch_year",
		"request_type", "result_imagestack_url", "result_imagezip_url", "result_url", "send_email", "starttimestamp",
		"timestamp", "url", "use_reduced", "user_id", "username"}, keys, "the 2024 server's field set")
	assert.Equal(t, "2024-01-27T12:00:00Z", m["timestamp"])
	assert.Nil(t, m["starttimestamp"])
	assert.Nil(t, m["result_url"])
	assert.Equal(t, false, m["finished"])
	assert.Equal(t, false, m["send_email"])
	assert.Equal(t, 0.0, m["queuepos"])
	assert.Equal(t, "FP", m["request_type"])
	assert.Equal(t, "tester", m["username"])

	// JSON bodies, server defaults, the optional fields.
	m = e.queue(`{"ra": 10.5, "dec": 20, "use_reduced": true, "radec_epoch_year": 2016, "propermotion_ra": 1.5, "comment": "hi"}`).json(t)
	assert.Equal(t, true, m["use_reduced"])
	assert.Equal(t, true, m["send_email"], "send_email defaults to true")
	assert.Equal(t, "2016.0", m["radec_epoch_year"], "a DRF decimal, as a string")
	assert.Equal(t, 1.5, m["propermotion_ra"])
	assert.Equal(t, "hi", m["comment"])
	assert.InDelta(t, 60336.5-30, m["mjd_min"], 1e-9, "mjd_min defaults to now − 30 days")
	assert.Nil(t, m["mjd_max"])
	m = e.queue("ra=1&dec=2&mjd_min=").json(t)
	assert.Nil(t, m["mjd_min"], "an explicit empty mjd_min is no lower bound")
	assert.Equal(t, 2.0, m["queuepos"], "two tasks ahead of it")

	for body, want := range map[string]string{
		"ra=abc&dec=2":                         `{"ra": ["A valid number is required."]}`,
		"ra=1":                                 `{"dec": ["ra was set but dec is missing."]}`,
		"dec=1":                                `{"ra": ["dec was set but ra is missing."]}`,
		"mjd_min=60000":                        `{"non_field_errors": ["Either an mpc_name or (ra, dec) must be specified."]}`,
		"ra=1&dec=2&mjd_min=60000&mjd_max=100": `{"mjd_max": ["mjd_max must be greater than mjd_min (60000.0 was applied)."]}`,
		"ra=1&dec=2&use_reduced=maybe":         `{"use_reduced": ["Must be a valid boolean."]}`,
		"ra=1&dec=95":                          `{"dec": ["Ensure this value is between -90 and 90."]}`,
		"ra=1&dec=2&mjd_max=-1":                `{"mjd_max": ["mjd_max must be greater than zero."]}`,
	} {
		a := e.queue(body)
		assert.Equal(t, 400, a.status, body)
		assert.JSONEq(t, want, string(a.body), body)
	}
	assert.Equal(t, 3, e.sim.Stats().TasksCreated, "refused requests create nothing")
}

func TestWriteThrottle(t *testing.T) {
	e := newEnv(t, &atlastest.Options{WriteRate: 3, QueueDelay: time.Hour})
	for range 3 {
		require.Equal(t, 201, e.queue(radec).status)
	}
	a := e.queue(radec)
	assert.Equal(t, 429, a.status)
	assert.JSONEq(t, `{"detail": "Request was throttled. Expected available in 60 seconds."}`, string(a.body))
	assert.Equal(t, "60", a.header.Get("Retry-After"))
	assert.Equal(t, 429, e.do("DELETE", "/queue/1/", "", e.auth()...).status, "DELETE counts against the same throttle")
	assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status, "reads are not throttled")

	e.clock.Add(59*time.Second + 500*time.Millisecond)
	a = e.queue(radec)
	assert.JSONEq(t, `{"detail": "Request was throttled. Expected available in 1 second."}`, string(a.body), "singular")
	assert.Equal(t, "1", a.header.Get("Retry-After"))

	e.clock.Add(time.Second)
	assert.Equal(t, 201, e.queue(radec).status, "a throttled request is not counted")
	assert.Equal(t, 3, e.sim.Stats().Throttled)

	// Another user has a bucket of its own.
	other := e.sim.AddUser("other", "pw")
	assert.Equal(t, 201, e.do("POST", "/queue/", radec, "Authorization", "Token "+other.Reveal()).status)

	// WriteRate -1 switches the throttle off.
	off := newEnv(t, &atlastest.Options{WriteRate: -1})
	for range 100 {
		require.Equal(t, 201, off.queue(radec).status)
	}
}

func TestReadThrottle(t *testing.T) {
	e := newEnv(t, &atlastest.Options{ReadRate: 2})
	require.Equal(t, 201, e.queue(radec).status)
	assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status)
	assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status)
	a := e.do("GET", "/queue/1/", "")
	assert.Equal(t, 429, a.status)
	assert.Equal(t, "60", a.header.Get("Retry-After"))
	assert.Equal(t, 200, e.do("GET", "/queue/1/", "", e.auth()...).status, "the user's bucket is not the address's")
	assert.Equal(t, 201, e.queue(radec).status, "writes have their own bucket")
}

func TestQueuedCap(t *testing.T) {
	e := newEnv(t, &atlastest.Options{MaxQueued: 2, QueueDelay: time.Hour})
	require.Equal(t, 201, e.queue(radec).status)
	require.Equal(t, 201, e.queue(radec).status)
	a := e.queue(radec)
	assert.Equal(t, 400, a.status)
	assert.JSONEq(t, `{"non_field_errors": "ERROR: You have too many queued tasks (2 queued + 1 requested > 2)."}`, string(a.body), "a string, not a list")
	e.sim.SetLegacy(true)
	a = e.queue(radec)
	assert.JSONEq(t, `{"non_field_errors": "ERROR: You have too many queued tasks (2 >= 2)."}`, string(a.body), "the 2025 text")

	// Started tasks do not count.
	e.clock.Add(time.Hour)
	e.sim.SetLegacy(false)
	assert.Equal(t, 201, e.queue(radec).status)
}

func TestActiveTaskLimit(t *testing.T) {
	e := newEnv(t, &atlastest.Options{MaxActivePerToken: 2, QueueDelay: 5 * time.Second, RunTime: 30 * time.Second})
	require.Equal(t, 201, e.queue(radec).status)
	require.Equal(t, 201, e.queue(radec).status)
	a := e.queue(radec)
	assert.Equal(t, 429, a.status)
	assert.JSONEq(t, `{"detail": "Request was throttled. Expected available in 35 seconds."}`, string(a.body))
	e.clock.Add(10 * time.Second) // both running, the first finishes at 35 s
	a = e.queue(radec)
	assert.JSONEq(t, `{"detail": "Request was throttled. Expected available in 25 seconds."}`, string(a.body))
	e.clock.Add(25 * time.Second)
	assert.Equal(t, 201, e.queue(radec).status)
	assert.Equal(t, 2, e.sim.Stats().MaxActive)
	assert.Equal(t, 2, e.sim.Stats().MaxActiveByUser["tester"])
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, &atlastest.Options{QueueDelay: 2 * time.Second, RunTime: 60 * time.Second})
	require.Equal(t, 201, e.queue(radec).status)
	m := e.task(1)
	assert.Nil(t, m["starttimestamp"])
	assert.Equal(t, 0.0, m["queuepos"])

	e.clock.Add(2 * time.Second)
	m = e.task(1)
	assert.Equal(t, "2024-01-27T12:00:02Z", m["starttimestamp"])
	assert.Nil(t, m["finishtimestamp"])
	assert.Equal(t, 0.0, m["queuepos"])

	e.clock.Add(60 * time.Second)
	m = e.task(1)
	assert.Equal(t, "2024-01-27T12:01:02Z", m["finishtimestamp"])
	assert.Equal(t, true, m["finished"])
	assert.Nil(t, m["error_msg"])
	assert.Nil(t, m["queuepos"])
	assert.Equal(t, e.sim.URL+"/static/results/job00001.txt", m["result_url"])

	a := e.do("GET", m["result_url"].(string), "")
	require.Equal(t, 200, a.status)
	assert.Equal(t, "text/plain", a.header.Get("Content-Type"))
	assert.Equal(t, atlastest.GenerateResult(65.00165, -54.93795, 60316, 60336), a.body)
	assert.True(t, bytes.HasPrefix(a.body, []byte(atlastest.Header+"\n")))
	assert.Equal(t, a.body, e.do("GET", "/queue/1/data.txt", "").body, "data.txt is the same file")
	assert.Equal(t, 2, e.sim.Stats().Downloads)

	info := e.sim.Tasks()[0]
	assert.Equal(t, "finished", info.State)
	assert.Equal(t, 1, info.Attempts)
	assert.Equal(t, 3, info.Polls)
	assert.False(t, info.SendEmail)
}

func TestRoundRobinAndSlots(t *testing.T) {
	e := newEnv(t, &atlastest.Options{Slots: 1, QueueDelay: time.Second, RunTime: 10 * time.Second})
	other := e.sim.AddUser("other", "pw")
	for range 3 {
		require.Equal(t, 201, e.queue(radec).status) // tasks 1-3: tester
	}
	require.Equal(t, 201, e.do("POST", "/queue/", radec, "Authorization", "Token "+other.Reveal()).status) // task 4: other
	assert.Equal(t, 0.0, e.task(1)["queuepos"])
	assert.Equal(t, 1.0, e.task(4)["queuepos"], "the other user's task comes second")
	assert.Equal(t, 2.0, e.task(2)["queuepos"])
	assert.Equal(t, 3.0, e.task(3)["queuepos"])

	e.clock.Add(time.Hour)
	starts := map[int64]time.Time{}
	for _, ti := range e.sim.Tasks() {
		starts[ti.ID] = ti.Started
		assert.Equal(t, "finished", ti.State)
	}
	base := time.Date(2024, 1, 27, 12, 0, 1, 0, time.UTC)
	assert.Equal(t, base, starts[1])
	assert.Equal(t, base.Add(10*time.Second), starts[4], "one task per user per turn")
	assert.Equal(t, base.Add(20*time.Second), starts[2])
	assert.Equal(t, base.Add(30*time.Second), starts[3])
	assert.Equal(t, 1, e.sim.Stats().MaxRunning)
}

func TestNoDataAndFailures(t *testing.T) {
	e := newEnv(t, nil)
	require.Equal(t, 201, e.queue("ra=10&dec=-89.5&mjd_min=60316").status)
	require.Equal(t, 201, e.queue("ra=10&dec=20&mjd_min=50000&mjd_max=50010").status)
	e.sim.FailNextTask("Could not parse the result file")
	require.Equal(t, 201, e.queue(radec).status)
	e.clock.Add(time.Second)
	for id, msg := range map[int64]string{1: "No data returned", 2: "No data returned", 3: "Could not parse the result file"} {
		m := e.task(id)
		assert.Equal(t, msg, m["error_msg"])
		assert.Nil(t, m["result_url"], "no result_url when error_msg is set")
		assert.Equal(t, true, m["finished"])
		assert.Equal(t, 404, e.do("GET", fmt.Sprintf("/static/results/job%05d.txt", id), "").status)
	}

	custom := newEnv(t, &atlastest.Options{Empty: func(ra, _ float64) bool { return ra > 100 }})
	require.Equal(t, 201, custom.queue("ra=120&dec=5&mjd_min=60316").status)
	custom.clock.Add(time.Second)
	assert.Equal(t, "No data returned", custom.task(1)["error_msg"])
}

func TestStuckTask(t *testing.T) {
	e := newEnv(t, &atlastest.Options{RunTime: time.Minute})
	e.sim.StickNextTask(1)
	require.Equal(t, 201, e.queue(radec).status)
	e.clock.Add(10 * time.Second)
	first := e.task(1)["starttimestamp"]
	e.clock.Add(10 * time.Hour)
	m := e.task(1)
	assert.Nil(t, m["finishtimestamp"], "never finishes")
	assert.NotEqual(t, first, m["starttimestamp"], "restarts with a new starttimestamp")
	assert.Equal(t, 601, e.sim.Tasks()[0].Attempts)
}

func TestDelete(t *testing.T) {
	e := newEnv(t, &atlastest.Options{QueueDelay: time.Hour})
	require.Equal(t, 201, e.queue(radec).status)
	e.clock.Add(2 * time.Hour)
	require.Equal(t, 201, e.queue(radec).status) // task 2 stays queued

	other := e.sim.AddUser("other", "pw")
	a := e.do("DELETE", "/queue/1/", "", "Authorization", "Token "+other.Reveal())
	assert.Equal(t, 403, a.status)
	assert.JSONEq(t, `{"detail": "You must be the owner of this object."}`, string(a.body))
	assert.Equal(t, 401, e.do("DELETE", "/queue/1/", "").status)

	a = e.do("DELETE", "/queue/1/", "", e.auth()...)
	assert.Equal(t, 204, a.status)
	assert.Empty(t, a.body)
	a = e.do("GET", "/queue/1/", "")
	assert.Equal(t, 404, a.status)
	assert.Equal(t, "Page not found", string(a.body))
	assert.True(t, strings.HasPrefix(a.header.Get("Content-Type"), "text/plain"))
	assert.Equal(t, 404, e.do("GET", "/static/results/job00001.txt", "").status, "the file is removed")
	assert.Equal(t, 404, e.do("DELETE", "/queue/1/", "", e.auth()...).status)

	assert.Equal(t, 204, e.do("DELETE", "/queue/2/", "", e.auth()...).status, "a queued task is cancelled")
	a = e.do("GET", "/queue/2/", "")
	assert.Equal(t, 404, a.status)
	assert.JSONEq(t, `{"detail": "Not found."}`, string(a.body))
	assert.Equal(t, 2, e.sim.Stats().Deletes)
	require.Len(t, e.sim.Tasks(), 1)
	assert.Equal(t, "deleted", e.sim.Tasks()[0].State)

	e.clock.Add(8 * 24 * time.Hour)
	assert.Empty(t, e.sim.Tasks(), "archived tasks are purged after 7 days")
}

func TestRetentionAndList(t *testing.T) {
	e := newEnv(t, nil)
	require.Equal(t, 201, e.queue(radec).status)
	require.Equal(t, 201, e.queue(radec).status)
	e.clock.Add(time.Second)
	list := e.do("GET", "/queue/", "", e.auth()...).json(t)
	assert.Equal(t, 2.0, list["taskcount"])
	results := list["results"].([]any)
	assert.Equal(t, 2.0, results[0].(map[string]any)["id"], "newest first")
	other := e.sim.AddUser("other", "pw")
	assert.Equal(t, 0.0, e.do("GET", "/queue/", "", "Authorization", "Token "+other.Reveal()).json(t)["taskcount"], "only the user's own tasks")

	e.clock.Add(32 * 24 * time.Hour)
	a := e.do("GET", "/queue/1/", "")
	assert.Equal(t, 404, a.status, "purged 31 days after finishing")
	assert.JSONEq(t, `{"detail": "Not found."}`, string(a.body))
}

func TestLegacyServer(t *testing.T) {
	e := newEnv(t, &atlastest.Options{Legacy: true})
	require.Equal(t, 201, e.queue(radec).status, "with Accept: application/json the legacy server speaks JSON")

	a := e.do("GET", "/queue/1/", "", "Accept", "")
	assert.Equal(t, 200, a.status)
	assert.True(t, strings.HasPrefix(a.header.Get("Content-Type"), "text/html"), "without it: HTML")
	assert.Contains(t, string(a.body), "<html>")
	a = e.do("GET", "/queue/1/", "", "Accept", "*/*")
	assert.True(t, strings.HasPrefix(a.header.Get("Content-Type"), "text/html"), "*/* too")

	for _, tc := range []struct{ method, path, auth string }{
		{"POST", "/queue/", "Token " + strings.Repeat("0", 40)},
		{"POST", "/queue/", ""},
		{"GET", "/queue/", ""},
	} {
		a := e.do(tc.method, tc.path, radec, "Authorization", tc.auth)
		assert.Equal(t, 302, a.status, "%s %s %q", tc.method, tc.path, tc.auth)
		assert.Equal(t, "/forcedphot/api-auth/login/?next=/forcedphot/queue/", a.header.Get("Location"))
	}
	login := e.do("GET", "/api-auth/login/?next=/forcedphot/queue/", "", "Accept", "text/html")
	assert.Equal(t, 200, login.status)
	assert.Contains(t, string(login.body), "Log in")

	e.sim.SetLegacy(false)
	a = e.do("GET", "/queue/1/", "", "Accept", "")
	assert.Equal(t, "application/json", a.header.Get("Content-Type"), "the 2026 server answers JSON by default")
	assert.Equal(t, 401, e.do("POST", "/queue/", radec, "Authorization", "Token "+strings.Repeat("0", 40)).status)
}

func TestFaults(t *testing.T) {
	t.Run("status", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointQueue, Times: 2, Status: 502})
		a := e.queue(radec)
		assert.Equal(t, 502, a.status)
		assert.True(t, strings.HasPrefix(a.header.Get("Content-Type"), "text/html"))
		assert.Equal(t, 502, e.queue(radec).status)
		assert.Equal(t, 201, e.queue(radec).status)
		assert.Equal(t, 1, e.sim.Stats().TasksCreated, "a failed request has no effect")
		e.sim.Inject(atlastest.Fault{Status: 503, RetryAfter: 90 * time.Second, Body: "maintenance"})
		a = e.do("GET", "/queue/1/", "")
		assert.Equal(t, 503, a.status, "EndpointAny")
		assert.Equal(t, "90", a.header.Get("Retry-After"))
		assert.Equal(t, "maintenance", string(a.body))
		assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status, "Times 0 means once")
	})
	t.Run("only the matching endpoint", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointDelete, Status: 500})
		require.Equal(t, 201, e.queue(radec).status)
		assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status)
		assert.Equal(t, 500, e.do("DELETE", "/queue/1/", "", e.auth()...).status)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Status: 500})
		e.sim.ClearFaults()
		assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status)
	})
	t.Run("throttle next write", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.ThrottleNext(7 * time.Second)
		assert.Equal(t, 200, e.do("GET", "/queue/", "", e.auth()...).status, "reads are not writes")
		a := e.queue(radec)
		assert.Equal(t, 429, a.status)
		assert.Equal(t, "7", a.header.Get("Retry-After"))
		assert.JSONEq(t, `{"detail": "Request was throttled. Expected available in 7 seconds."}`, string(a.body))
		e.sim.ThrottleNext(1500 * time.Millisecond)
		a = e.do("DELETE", "/queue/5/", "", e.auth()...)
		assert.Equal(t, "2", a.header.Get("Retry-After"), "rounded up to whole seconds")
	})
	t.Run("slow", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointList, Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", e.sim.URL+"/queue/", nil)
		start := time.Now()
		_, err := e.hc.Do(req)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 10*time.Second)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointList, Delay: 5 * time.Millisecond})
		assert.Equal(t, 403, e.do("GET", "/queue/", "").status, "then answers normally")
	})
	t.Run("drop", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointQueue, Reset: true})
		req, _ := http.NewRequest("POST", e.sim.URL+"/queue/", strings.NewReader(radec))
		_, err := e.hc.Do(req)
		assert.Error(t, err)
		assert.Zero(t, e.sim.Stats().TasksCreated)
	})
	t.Run("malformed JSON still creates the task", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointQueue, Truncate: true})
		a := e.queue(radec)
		assert.Equal(t, 201, a.status)
		assert.Error(t, json.Unmarshal(a.body, new(map[string]any)))
		assert.Equal(t, e.sim.URL+"/queue/1/", a.header.Get("Location"))
		assert.Equal(t, 1, e.sim.Stats().TasksCreated)
	})
	t.Run("HTML", func(t *testing.T) {
		e := newEnv(t, nil)
		require.Equal(t, 201, e.queue(radec).status)
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Status: 200})
		a := e.do("GET", "/queue/1/", "")
		assert.Equal(t, 200, a.status)
		assert.True(t, strings.HasPrefix(a.header.Get("Content-Type"), "text/html"))
	})
	t.Run("result files", func(t *testing.T) {
		e := newEnv(t, nil)
		require.Equal(t, 201, e.queue(radec).status)
		e.clock.Add(time.Second)
		full := e.do("GET", "/static/results/job00001.txt", "").body
		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Truncate: true})
		assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status, "a fault waits for its endpoint")
		a := e.do("GET", "/static/results/job00001.txt", "")
		assert.Less(t, len(a.body), len(full))
		assert.Equal(t, strconv.Itoa(len(a.body)), a.header.Get("Content-Length"))
		assert.NotEqual(t, byte('\n'), a.body[len(a.body)-1], "cut inside a row")
		assert.True(t, bytes.HasPrefix(full, a.body))

		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Truncate: true, Reset: true})
		resp, err := e.hc.Get(e.sim.URL + "/static/results/job00001.txt")
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

		e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Status: 404}, atlastest.Fault{Endpoint: atlastest.EndpointTask, Status: 404})
		a = e.do("GET", "/static/results/job00001.txt", "")
		assert.Equal(t, 404, a.status)
		assert.Contains(t, string(a.body), "<h1>Not Found</h1>", "a purged result file's page")
		a = e.do("GET", "/queue/1/", "")
		assert.Equal(t, 404, a.status)
		assert.Equal(t, "Page not found", string(a.body), "an archived task's answer")
		assert.Equal(t, full, e.do("GET", "/static/results/job00001.txt", "").body, "faults are used up")
	})
}

func TestFixture(t *testing.T) {
	fixture := []byte(atlastest.Header + "\n60316.142545  17.349  0.089   417   37 o  0  28.03  65.00165 -54.93795  9674.06  2072.74 2.51 1.85  76.9 -0.504 19.34 20.82 04a60316o0180o\n")
	e := newEnv(t, &atlastest.Options{Fixture: fixture})
	require.Equal(t, 201, e.queue("ra=1&dec=2").status)
	e.clock.Add(time.Second)
	assert.Equal(t, fixture, e.do("GET", "/queue/1/data.txt", "").body)

	headerOnly := newEnv(t, &atlastest.Options{Fixture: []byte(atlastest.Header + "\n")})
	require.Equal(t, 201, headerOnly.queue("ra=1&dec=2").status)
	headerOnly.clock.Add(time.Second)
	assert.Equal(t, "No data returned", headerOnly.task(1)["error_msg"], "the server never serves a header-only file")
}

func TestGenerateResult(t *testing.T) {
	a := atlastest.GenerateResult(65.00165, -54.93795, 60316, 60336)
	assert.Equal(t, a, atlastest.GenerateResult(65.00165, -54.93795, 60316, 60336), "deterministic")
	assert.NotEqual(t, a, atlastest.GenerateResult(65.00166, -54.93795, 60316, 60336), "depends on the coordinates")
	lines := strings.Split(strings.TrimSuffix(string(a), "\n"), "\n")
	assert.Equal(t, atlastest.Header, lines[0])
	require.Greater(t, len(lines), 20)
	prev := 0.0
	var limits, negatives int
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		require.Len(t, f, 19, line)
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(f[i], 64)
			require.NoError(t, err, line)
			return v
		}
		mjd, m, dm, ujy, dujy := num(0), num(1), num(2), num(3), num(4)
		assert.GreaterOrEqual(t, mjd, 60316.0)
		assert.LessOrEqual(t, mjd, 60336.0)
		assert.Greater(t, mjd, prev, "sorted by MJD")
		prev = mjd
		assert.NotContains(t, f[3], ".", "integer µJy")
		assert.Equal(t, ujy < 0, m < 0, "m is negative exactly for negative fluxes: %s", line)
		assert.InDelta(t, dujy/abs(ujy), dm, 0.0006)
		if ujy/dujy <= 3 {
			limits++
		}
		if ujy < 0 {
			negatives++
		}
		assert.Contains(t, []string{"c", "o"}, f[5])
		assert.Regexp(t, `^0[34]a\d{5}o\d{4}[co]$`, f[18], "southern units")
		assert.Equal(t, "65.00165", f[8])
		assert.Equal(t, "-54.93795", f[9])
	}
	assert.Positive(t, limits)
	assert.Positive(t, negatives)
	assert.Regexp(t, `^60317\.\d+ `, lines[1])

	north := atlastest.GenerateResult(230.71552, 41.05028, 60400, 60410)
	assert.Regexp(t, ` 0[12]a\d{5}o\d{4}[co]\n`, string(north), "northern units")
	assert.Equal(t, atlastest.Header+"\n", string(atlastest.GenerateResult(1, 2, 50000, 50010)), "no exposures before ATLAS")
	assert.Equal(t, atlastest.Header+"\n", string(atlastest.GenerateResult(1, 2, 60010, 60000)), "an empty window")
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, &atlastest.Options{Now: time.Now, WriteRate: -1})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.sim.URL+"/queue/", strings.NewReader(fmt.Sprintf("ra=%d&dec=1&mjd_min=60316", i)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Token "+e.sim.Token.Reveal())
			resp, err := e.hc.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 201 {
				errs <- errors.New(resp.Status)
			}
			_ = e.sim.Stats()
			_ = e.sim.Tasks()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, 20, e.sim.Stats().TasksCreated)
	assert.Equal(t, 20, e.sim.Stats().TasksByUser["tester"])
	assert.Equal(t, 20, e.sim.CreatedBy(e.sim.Token))
	assert.Zero(t, e.sim.CreatedBy("nobody"))
}
