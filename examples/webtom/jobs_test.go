package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/singletarget"
)

// The job lists come from the executor: with the river backend they are
// all there again after webtom restarts on the same folder.
func TestJobListSurvivesRestart(t *testing.T) {
	cfg := func() *singletarget.Config {
		c, err := singletarget.ParseConfig([]byte(defaultSettings), func(string) (string, bool) { return "", false })
		require.NoError(t, err)
		require.NoError(t, builtintest.Simulate(c, func(f func()) { t.Cleanup(f) }))
		return c
	}
	dir := t.TempDir()
	m := newTOMIn(t, cfg(), "river", dir)
	path := m.addTarget()
	resp, _ := m.post(path+"/query/ATLAS", atlasQuery(m.token()))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	jobPath := resp.Header.Get("Location")
	m.waitJob(jobPath)
	m.stop()

	m = newTOMIn(t, cfg(), "river", dir)
	code, body := m.get(path)
	require.Equal(t, http.StatusOK, code)
	jobs := section(t, body, "jobs")
	assert.Contains(t, jobs, `<a href="`+jobPath+`">ATLAS</a>`, "the target page lists the job after a restart")
	assert.Contains(t, jobs, `<span class="state state-succeeded">succeeded</span>`)
	code, body = m.get("/jobs")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, section(t, body, "jobs"), `<a href="`+jobPath+`">ATLAS</a>`)
	code, _ = m.get(jobPath)
	assert.Equal(t, http.StatusOK, code)
}

// The job list filters by target, service and state, and pages.
func TestJobList(t *testing.T) {
	m := newTOM(t, "immediate")
	path := m.addTarget()
	tok := m.token()
	var paths []string
	for range jobsPerPage + 2 {
		resp, _ := m.post(path+"/query/ATLAS", atlasQuery(tok))
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		paths = append(paths, resp.Header.Get("Location"))
	}
	code, body := m.get("/jobs?service=ATLAS&state=succeeded&target=1")
	require.Equal(t, http.StatusOK, code)
	list := section(t, body, "jobs")
	assert.Equal(t, jobsPerPage, strings.Count(list, `<span class="state state-succeeded">`))
	assert.Contains(t, list, `<a href="`+paths[len(paths)-1]+`">`, "newest first")
	assert.NotContains(t, list, `<a href="`+paths[0]+`">`)
	next := regexpFind(t, body, `<a id="older-jobs" href="([^"]+)">`)
	next = strings.ReplaceAll(next, "&amp;", "&")
	code, body = m.get(next)
	require.Equal(t, http.StatusOK, code)
	list = section(t, body, "jobs")
	assert.Equal(t, 2, strings.Count(list, `<span class="state state-succeeded">`))
	assert.Contains(t, list, `<a href="`+paths[0]+`">`)
	assert.NotContains(t, body, `id="older-jobs"`)

	_, body = m.get("/jobs?state=failed")
	assert.Contains(t, body, `id="no-jobs"`)
	code, body = m.get("/jobs?after=nonsense")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "is not a job list cursor")
	code, _ = m.get("/jobs?target=x")
	assert.Equal(t, http.StatusBadRequest, code)

	_, body = m.get(path)
	assert.Equal(t, recentJobs, strings.Count(section(t, body, "jobs"), `<span class="state state-succeeded">`))
	assert.Contains(t, body, `<a id="all-jobs" href="/jobs?target=1">Older queries</a>`)
}

// A running job's page names its event stream; the stream sends the job's
// statuses until the final one.
func TestJobEvents(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	resp, _ := m.post(path+"/query/ATLAS", atlasQuery(m.token()))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	jobPath := resp.Header.Get("Location")
	_, body := m.get(jobPath)
	if !strings.Contains(body, `data-state="succeeded"`) {
		assert.Contains(t, body, `data-events="`+jobPath+`/events"`)
	}
	assert.Contains(t, body, `<script src="/static/live.js"></script>`)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", m.ts.URL+jobPath+"/events", nil)
	require.NoError(t, err)
	r, err := m.c.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, "text/event-stream", r.Header.Get("Content-Type"))
	assert.Contains(t, r.Header.Get("Content-Security-Policy"), "connect-src 'self'")
	var events []jobEvent
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.Equal(t, "status", name)
			var ev jobEvent
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev))
			events = append(events, ev)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	assert.True(t, last.Done, "the stream ends with the final status")
	assert.Equal(t, singletarget.JobSucceeded, last.State)
	assert.Contains(t, last.HTML, `<dd id="job-counts">`)
	for _, ev := range events[:len(events)-1] {
		assert.False(t, ev.Done)
		assert.Contains(t, ev.HTML, `id="job-state"`)
	}

	code, _ := m.get("/jobs/nope/events")
	assert.Equal(t, http.StatusNotFound, code)
}

// regexpFind returns the first group of re's first match in s.
func regexpFind(t *testing.T, s, re string) string {
	t.Helper()
	sm := regexp.MustCompile(re).FindStringSubmatch(s)
	require.NotNil(t, sm, "no %s", re)
	return sm[1]
}
