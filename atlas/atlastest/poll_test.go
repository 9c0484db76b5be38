package atlastest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
)

func TestListPagination(t *testing.T) {
	e := newEnv(t, &atlastest.Options{PageSize: 3, WriteRate: -1})
	for range 7 {
		require.Equal(t, 201, e.queue(radec+"&comment=tag").status)
	}
	// Default page size, then the pages the "next" links give.
	var ids []float64
	next := e.sim.URL + "/queue/"
	pages := 0
	for next != "" {
		m := e.do("GET", next, "", e.auth()...).json(t)
		pages++
		assert.Equal(t, 7.0, m["taskcount"])
		assert.Equal(t, float64(len(ids)), m["pagefirsttaskposition"])
		for _, r := range m["results"].([]any) {
			task := r.(map[string]any)
			ids = append(ids, task["id"].(float64))
			assert.Equal(t, "tag", task["comment"], "the list carries each task's comment")
		}
		next, _ = m["next"].(string)
		if pages > 1 {
			assert.NotNil(t, m["previous"])
		}
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, []float64{7, 6, 5, 4, 3, 2, 1}, ids, "newest first, each task once")

	// ?pagesize= asks for bigger pages, up to 100.
	m := e.do("GET", "/queue/?pagesize=5", "", e.auth()...).json(t)
	assert.Len(t, m["results"], 5)
	nextURL, err := url.Parse(m["next"].(string))
	require.NoError(t, err)
	assert.Equal(t, "5", nextURL.Query().Get("pagesize"), "the next link keeps the page size")
	assert.Len(t, e.do("GET", m["next"].(string), "", e.auth()...).json(t)["results"], 2)
	assert.Equal(t, 404, e.do("GET", "/queue/?cursor=%21%21", "", e.auth()...).status, "a bad cursor")
	st := e.sim.Stats()
	assert.Equal(t, 5, st.Lists)
	assert.Equal(t, 6, st.ByEndpoint[atlastest.EndpointList], "the bad cursor arrived too")
}

func TestConditionalGets(t *testing.T) {
	e := newEnv(t, &atlastest.Options{QueueDelay: time.Minute})
	require.Equal(t, 201, e.queue(radec).status)

	a := e.do("GET", "/queue/1/", "")
	require.Equal(t, 200, a.status)
	etag := a.header.Get("ETag")
	require.NotEmpty(t, etag)
	b := e.do("GET", "/queue/1/", "", "If-None-Match", etag)
	assert.Equal(t, 304, b.status, "no change")
	assert.Empty(t, b.body)
	assert.Equal(t, etag, b.header.Get("ETag"))
	assert.Equal(t, 304, e.do("GET", "/queue/1/", "", "If-None-Match", `"x", W/`+etag).status, "weak comparison, in a list")

	list := e.do("GET", "/queue/", "", e.auth()...)
	require.Equal(t, 200, list.status)
	ltag := list.header.Get("ETag")
	require.NotEmpty(t, ltag)
	assert.Equal(t, 304, e.do("GET", "/queue/", "", append(e.auth(), "If-None-Match", ltag)...).status)

	// The task starts: both change.
	e.clock.Add(2 * time.Minute)
	c := e.do("GET", "/queue/1/", "", "If-None-Match", etag)
	assert.Equal(t, 200, c.status)
	assert.NotEqual(t, etag, c.header.Get("ETag"))
	assert.Equal(t, 200, e.do("GET", "/queue/", "", append(e.auth(), "If-None-Match", ltag)...).status)

	st := e.sim.Stats()
	assert.Equal(t, 3, st.NotModified)
	assert.Equal(t, 7, st.Reads)
	assert.Equal(t, 1, st.Writes)
	assert.Equal(t, 4, st.Polls)

	// The legacy server has no ETags.
	e.sim.SetLegacy(true)
	l := e.do("GET", "/queue/1/", "", "If-None-Match", c.header.Get("ETag"))
	assert.Equal(t, 200, l.status)
	assert.Empty(t, l.header.Get("ETag"))
}

func TestQueuePositions(t *testing.T) {
	e := newEnv(t, &atlastest.Options{Slots: 1, QueueDelay: time.Second, RunTime: time.Hour, WriteRate: -1})
	other := e.sim.AddUser("other", "pw")
	for range 3 {
		require.Equal(t, 201, e.queue(radec).status)
	}
	require.Equal(t, 201, e.do("POST", "/queue/", radec, "Authorization", "Token "+other.Reveal()).status)
	e.clock.Add(2 * time.Second) // task 1 starts

	a := e.do("GET", "/queuepositions.json", "", e.auth()...)
	require.Equal(t, 200, a.status, "%s", a.body)
	var qp struct {
		Positions map[string]int    `json:"queuepositions"`
		Types     map[string]string `json:"queuedtypes"`
		Offset    *int              `json:"queueoffset"`
	}
	require.NoError(t, json.Unmarshal(a.body, &qp))
	// Round robin: the other user's task comes between this user's.
	assert.Equal(t, map[string]int{"1": 0, "2": 1, "3": 2}, qp.Positions)
	assert.Equal(t, "FP", qp.Types["2"])
	require.NotNil(t, qp.Offset)
	for id, pos := range qp.Positions {
		if id == "1" {
			continue
		}
		assert.Equal(t, float64(pos), e.task(int64(mustAtoi(t, id)))["queuepos"], "the task's own queuepos agrees (task %s)", id)
	}
	assert.Equal(t, 403, e.do("GET", "/queuepositions.json", "").status, "anonymous")
	assert.Equal(t, 2, e.sim.Stats().ByEndpoint[atlastest.EndpointQueuePositions])

	e.sim.SetLegacy(true)
	assert.Equal(t, 404, e.do("GET", "/queuepositions.json", "", e.auth()...).status, "not on the legacy server")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// receiver records the callbacks it gets.
type receiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	agents []string
	got    chan struct{}
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		r.mu.Lock()
		r.bodies = append(r.bodies, m)
		r.agents = append(r.agents, req.Header.Get("User-Agent")+" "+req.Method+" "+req.Header.Get("Content-Type"))
		r.mu.Unlock()
		w.WriteHeader(status)
		r.got <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no callback came")
	}
}

func TestCallbackValidation(t *testing.T) {
	strict := newEnv(t, nil)
	for cb, msg := range map[string]string{
		"http://198.51.100.7/cb":                      "callback_url must use https",
		"https://127.0.0.1/cb":                        "callback_url must resolve to a public address",
		"https://10.1.2.3/cb":                         "callback_url must resolve to a public address",
		"https://[::1]/cb":                            "callback_url must resolve to a public address",
		"https://u:p@8.8.8.8/cb":                      "callback_url must not contain credentials",
		"https://8.8.8.8:99999/cb":                    "callback_url has an invalid port: Port out of range 0-65535",
		"https://8.8.8.8/" + strings.Repeat("x", 500): "callback_url must be at most 500 characters",
	} {
		a := strict.queue(radec + "&callback_url=" + url.QueryEscape(cb))
		assert.Equal(t, 400, a.status, cb)
		assert.JSONEq(t, fmt.Sprintf(`{"callback_url": [%q]}`, msg), string(a.body), cb)
	}
	a := strict.queue(radec + "&callback_url=" + url.QueryEscape("https://8.8.8.8/cb"))
	require.Equal(t, 201, a.status, "a public https address: %s", a.body)
	assert.Equal(t, "https://8.8.8.8/cb", a.json(t)["callback_url"])

	loose := newEnv(t, &atlastest.Options{AllowHTTPCallbacks: true})
	assert.Equal(t, 201, loose.queue(radec+"&callback_url="+url.QueryEscape("http://127.0.0.1:1/cb")).status)
	assert.Equal(t, 400, loose.queue(radec+"&callback_url="+url.QueryEscape("ftp://127.0.0.1/cb")).status)

	legacy := newEnv(t, &atlastest.Options{Legacy: true})
	m := legacy.queue(radec + "&callback_url=" + url.QueryEscape("http://127.0.0.1/cb")).json(t)
	assert.Nil(t, m["callback_url"], "the legacy server ignores the field")
}

func TestCallbackDelivery(t *testing.T) {
	rcv := newReceiver(t, http.StatusNoContent)
	sim := atlastest.NewServer(t, &atlastest.Options{AllowHTTPCallbacks: true, QueueDelay: 30 * time.Millisecond, RunTime: 30 * time.Millisecond})
	queue := func(dec float64) int64 {
		t.Helper()
		v := url.Values{"ra": {"10"}, "dec": {fmt.Sprint(dec)}, "mjd_min": {"60000"}, "mjd_max": {"60030"}, "callback_url": {rcv.srv.URL + "/cb?x=1"}}
		req, _ := http.NewRequest("POST", sim.URL+"/queue/", strings.NewReader(v.Encode()))
		req.Header.Set("Authorization", "Token "+sim.Token.Reveal())
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 201, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return int64(m["id"].(float64))
	}
	// Nobody polls: the callback comes anyway.
	id := queue(20)
	rcv.wait(t)
	empty := queue(-89.5) // finishes with "No data returned"
	rcv.wait(t)
	rcv.mu.Lock()
	require.Len(t, rcv.bodies, 2)
	ok, failed := rcv.bodies[0], rcv.bodies[1]
	assert.Equal(t, "atlasserver-forcedphot-callback POST application/json", rcv.agents[0])
	rcv.mu.Unlock()
	assert.Equal(t, float64(id), ok["task_id"])
	assert.Equal(t, fmt.Sprintf("%s/queue/%d/", sim.URL, id), ok["task_url"])
	assert.Equal(t, true, ok["success"])
	assert.Nil(t, ok["error_msg"])
	assert.Equal(t, "FP", ok["request_type"])
	assert.NotEmpty(t, ok["finishtimestamp"])
	assert.Equal(t, float64(empty), failed["task_id"])
	assert.Equal(t, false, failed["success"])
	assert.Equal(t, "No data returned", failed["error_msg"])

	// A dropped callback is never sent again.
	sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointCallback, Reset: true})
	queue(21)
	require.Eventually(t, func() bool { return sim.Stats().CallbacksDropped == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	select {
	case <-rcv.got:
		t.Fatal("a dropped callback came")
	default:
	}
	st := sim.Stats()
	assert.Equal(t, 2, st.CallbacksSent)
	assert.Equal(t, 0, st.CallbacksFailed)
	assert.Zero(t, st.Reads, "nobody polled")

	// A receiver that answers an error counts as failed, and is not retried.
	bad := newReceiver(t, http.StatusInternalServerError)
	v := url.Values{"ra": {"10"}, "dec": {"20"}, "callback_url": {bad.srv.URL}}
	req, _ := http.NewRequest("POST", sim.URL+"/queue/", strings.NewReader(v.Encode()))
	req.Header.Set("Authorization", "Token "+sim.Token.Reveal())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	bad.wait(t)
	require.Eventually(t, func() bool { return sim.Stats().CallbacksFailed == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	bad.mu.Lock()
	assert.Len(t, bad.bodies, 1, "sent once")
	bad.mu.Unlock()
}

func TestStatsByKindAndReadFaults(t *testing.T) {
	e := newEnv(t, nil)
	require.Equal(t, 201, e.queue(radec).status)
	e.sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointRead, Status: 503, Times: 2})
	assert.Equal(t, 503, e.do("GET", "/queue/", "", e.auth()...).status)
	assert.Equal(t, 503, e.do("GET", "/queue/1/", "").status)
	assert.Equal(t, 200, e.do("GET", "/queue/1/", "").status)
	e.clock.Add(time.Minute)
	task := e.task(1)
	res, err := http.Get(task["result_url"].(string))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 204, e.do("DELETE", "/queue/1/", "", e.auth()...).status)
	st := e.sim.Stats()
	assert.Equal(t, 4, st.Reads, "faulted reads count as they arrive")
	assert.Equal(t, 2, st.Writes)
	assert.Equal(t, 1, st.ByEndpoint[atlastest.EndpointList])
	assert.Equal(t, 3, st.ByEndpoint[atlastest.EndpointTask])
	assert.Equal(t, 1, st.ByEndpoint[atlastest.EndpointResult])
	assert.Equal(t, 1, st.Downloads)
	assert.Equal(t, 1, st.Deletes)
	assert.Equal(t, "reads 4 (list 1, detail 3, queue positions 0; 304 0), writes 2 (queue 1, delete 1), downloads 1, tasks created 1, callbacks sent 0", st.Summary())
}
