package atlas_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/singletarget"
)

const (
	mockBase  = "https://atlas.example.org/forcedphot"
	mockToken = singletarget.Secret("0123456789abcdef0123456789abcdef01234567")
)

// queuedJSON is the spec's constructed 201 body (§3.1), on the mock host.
const queuedJSON = `{
  "url": "https://atlas.example.org/forcedphot/queue/1851119/", "id": 1851119, "user_id": 4321, "username": "jdoe",
  "timestamp": "2024-01-26T10:15:02Z", "mpc_name": null, "ra": 65.00165, "dec": -54.93795, "mjd_min": 60316.0,
  "mjd_max": 60336.0, "radec_epoch_year": null, "propermotion_ra": null, "propermotion_dec": null, "use_reduced": false,
  "finished": false, "result_url": null, "comment": null, "send_email": false, "starttimestamp": null,
  "finishtimestamp": null, "error_msg": null, "previewimage_url": null, "parent_task_id": null, "parent_task_url": null,
  "request_type": "FP", "pdfplot_url": null, "queuepos": 12, "imagerequest_task_id": null, "imagerequest_url": null,
  "imagerequest_finished": null, "result_imagestack_url": null, "result_imagezip_url": null}`

// finishedJSON is the spec's constructed finished task (§4).
const finishedJSON = `{"url": "https://atlas.example.org/forcedphot/queue/1851119/", "id": 1851119, "user_id": 4321,
 "username": "jdoe", "timestamp": "2024-01-26T10:15:02Z", "mpc_name": null, "ra": 65.00165,
 "dec": -54.93795, "mjd_min": 60316.0, "mjd_max": 60336.0, "radec_epoch_year": null,
 "propermotion_ra": null, "propermotion_dec": null, "use_reduced": false, "finished": true,
 "result_url": "https://atlas.example.org/forcedphot/static/results/job1851119.txt",
 "comment": null, "send_email": false, "starttimestamp": "2024-01-26T10:16:40Z",
 "finishtimestamp": "2024-01-26T10:17:31Z", "error_msg": null,
 "previewimage_url": "https://atlas.example.org/forcedphot/static/results/job1851119.jpg",
 "parent_task_id": null, "parent_task_url": null, "request_type": "FP",
 "pdfplot_url": "https://atlas.example.org/forcedphot/queue/1851119/plot.pdf", "queuepos": null,
 "imagerequest_task_id": null, "imagerequest_url": null, "imagerequest_finished": null,
 "result_imagestack_url": null, "result_imagezip_url": null}`

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2024, 1, 26, 10, 15, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type mockEnv struct {
	client *atlas.Client
	tr     *httpmock.MockTransport
	logs   *bytes.Buffer
	clock  *fakeClock
}

func newMock(t *testing.T, mutate func(*atlas.Options)) *mockEnv {
	t.Helper()
	env := &mockEnv{tr: httpmock.NewMockTransport(), logs: &bytes.Buffer{}, clock: newFakeClock()}
	opts := &atlas.Options{
		HTTPClient:   &http.Client{Transport: env.tr},
		Logger:       slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 2 * time.Millisecond,
		Now:          env.clock.Now,
	}
	if mutate != nil {
		mutate(opts)
	}
	c, err := atlas.New(mockBase+"/", mockToken, opts)
	require.NoError(t, err)
	env.client = c
	t.Cleanup(func() {
		assert.NotContains(t, env.logs.String(), mockToken.Reveal(), "the token never appears in the logs")
	})
	return env
}

func jsonResponse(status int, body string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		r.Header.Set("Content-Type", "application/json")
		return r, nil
	}
}

func f64(v float64) *float64 { return &v }

var ctx = context.Background()

func TestQueueSendsTheRequest(t *testing.T) {
	env := newMock(t, nil)
	var got *http.Request
	var form url.Values
	env.tr.RegisterResponder("POST", mockBase+"/queue/", func(r *http.Request) (*http.Response, error) {
		got = r
		body, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(body))
		resp, _ := jsonResponse(201, queuedJSON)(r)
		resp.Header.Set("Location", mockBase+"/queue/1851119/")
		return resp, nil
	})
	task, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 65.00165, Dec: -54.93795, MJDMin: f64(60316), MJDMax: f64(60336.5),
		RadecEpochYear: f64(2016), PropermotionRA: f64(1.5), PropermotionDec: f64(-2)})
	require.NoError(t, err)
	assert.Equal(t, "Token "+mockToken.Reveal(), got.Header.Get("Authorization"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Equal(t, "application/x-www-form-urlencoded", got.Header.Get("Content-Type"))
	assert.Contains(t, got.Header.Get("User-Agent"), "targetdata/")
	assert.Equal(t, url.Values{
		"ra": {"65.00165"}, "dec": {"-54.93795"}, "mjd_min": {"60316"}, "mjd_max": {"60336.5"}, "use_reduced": {"false"},
		"send_email": {"false"}, "radec_epoch_year": {"2016.0"}, "propermotion_ra": {"1.5"}, "propermotion_dec": {"-2"},
	}, form)

	assert.Equal(t, int64(1851119), task.ID)
	assert.Equal(t, mockBase+"/queue/1851119/", task.URL)
	assert.Equal(t, atlas.StateQueued, task.State())
	assert.Equal(t, time.Date(2024, 1, 26, 10, 15, 2, 0, time.UTC), task.Timestamp)
	require.NotNil(t, task.QueuePos)
	assert.Equal(t, 12, *task.QueuePos)
	assert.Equal(t, 60336.0, *task.MJDMax)
	assert.NoError(t, task.Err())
}

func TestQueueIsNeverRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp httpmock.Responder
		want error
	}{
		{"500", httpmock.NewStringResponder(500, "<h1>Server Error (500)</h1>"), singletarget.ErrRemote},
		{"502", httpmock.NewStringResponder(502, "bad gateway"), singletarget.ErrRemote},
		{"503 with Retry-After", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(503, "down for maintenance")
			r.Header.Set("Retry-After", "1")
			return r, nil
		}, singletarget.ErrRemote},
		{"connection reset", httpmock.NewErrorResponder(errors.New("connection reset by peer")), singletarget.ErrRemote},
		{"429", jsonResponse(429, `{"detail": "Request was throttled. Expected available in 3 seconds."}`), singletarget.ErrThrottled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newMock(t, nil)
			env.tr.RegisterResponder("POST", mockBase+"/queue/", tc.resp)
			_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2, MJDMin: f64(60000)})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, 1, env.tr.GetTotalCallCount(), "the queue POST is sent exactly once: %v", err)
			assert.NotContains(t, err.Error(), mockToken.Reveal())
		})
	}
}

func TestThrottling(t *testing.T) {
	env := newMock(t, nil)
	posts := 0
	env.tr.RegisterResponder("POST", mockBase+"/queue/", func(r *http.Request) (*http.Response, error) {
		posts++
		if posts == 1 {
			return jsonResponse(429, `{"detail": "Request was throttled. Expected available in 1 second."}`)(r)
		}
		return jsonResponse(201, queuedJSON)(r)
	})
	env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", jsonResponse(200, queuedJSON))
	env.tr.RegisterResponder("DELETE", mockBase+"/queue/1851119/", httpmock.NewStringResponder(204, ""))

	_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, time.Second, te.RetryAfter, `the singular "1 second" the TOM's regex misses`)
	assert.Equal(t, "ATLAS", te.Service)
	assert.Equal(t, "Request was throttled. Expected available in 1 second.", te.Detail)

	// Until the wait is over, writes fail fast without reaching the server;
	// reads (not throttled by the server) go on.
	assert.Equal(t, time.Second, env.client.WriteBlockedFor())
	_, err = env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
	assert.ErrorIs(t, err, singletarget.ErrThrottled)
	assert.ErrorIs(t, env.client.Delete(ctx, 1851119), singletarget.ErrThrottled)
	assert.Equal(t, 1, posts)
	_, err = env.client.Task(ctx, 1851119)
	assert.NoError(t, err, "reads are not blocked by the write throttle")

	env.clock.Add(time.Second)
	_, err = env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, posts)
}

func TestThrottleWaits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		body   string
		want   time.Duration
	}{
		{"seconds", "", `{"detail": "Request was throttled. Expected available in 37 seconds."}`, 37 * time.Second},
		{"header wins", "12", `{"detail": "Request was throttled. Expected available in 37 seconds."}`, 12 * time.Second},
		{"minutes", "", `{"detail": "Request was throttled. Expected available in 2 minutes."}`, 2 * time.Minute},
		{"no wait given", "", `{"detail": "Request was throttled."}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newMock(t, nil)
			env.tr.RegisterResponder("POST", mockBase+"/queue/", func(r *http.Request) (*http.Response, error) {
				resp, _ := jsonResponse(429, tc.body)(r)
				if tc.header != "" {
					resp.Header.Set("Retry-After", tc.header)
				}
				return resp, nil
			})
			_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
			var te *singletarget.ThrottledError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.want, te.RetryAfter)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	for body, want := range map[string]time.Duration{
		"Request was throttled. Expected available in 1 second.":   time.Second,
		"Request was throttled. Expected available in 59 seconds.": 59 * time.Second,
		"Expected available in 3 minutes.":                         3 * time.Minute,
	} {
		got, ok := atlas.ParseRetryAfter([]byte(body))
		assert.True(t, ok, body)
		assert.Equal(t, want, got, body)
	}
	for _, body := range []string{"", "Request was throttled.", "available in many seconds", "available in 99999999999 seconds"} {
		_, ok := atlas.ParseRetryAfter([]byte(body))
		assert.False(t, ok, body)
	}
}

func TestQueueErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resp   httpmock.Responder
		is     []error
		check  func(t *testing.T, err error)
		reason string
	}{
		{name: "field errors", resp: jsonResponse(400, `{"dec": ["ra was set but dec is missing."], "mjd_max": ["mjd_max must be greater than mjd_min (60000.0 was applied)."]}`),
			is: []error{singletarget.ErrInvalidForm}, check: func(t *testing.T, err error) {
				var ve *atlas.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, []string{"ra was set but dec is missing."}, ve.Fields["dec"])
				assert.Contains(t, err.Error(), "mjd_max: mjd_max must be greater than mjd_min")
				assert.False(t, singletarget.Retryable(err))
			}},
		{name: "non-field errors", resp: jsonResponse(400, `{"non_field_errors": ["Either an mpc_name or (ra, dec) must be specified."]}`),
			is: []error{singletarget.ErrInvalidForm}},
		{name: "queue full (2025 text)", resp: jsonResponse(400, `{"non_field_errors": "ERROR: You have too many queued tasks (500 >= 500)."}`),
			is: []error{singletarget.ErrThrottled, atlas.ErrQueueFull}, check: func(t *testing.T, err error) {
				var te *singletarget.ThrottledError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, 90*time.Second, te.RetryAfter, "Options.QueueFullWait")
				assert.Contains(t, te.Detail, "too many queued tasks")
			}},
		{name: "queue full (2026 text)", resp: jsonResponse(400, `{"non_field_errors": "ERROR: You have too many queued tasks (498 queued + 5 requested > 500)."}`),
			is: []error{singletarget.ErrThrottled, atlas.ErrQueueFull}},
		{name: "400 not JSON", resp: httpmock.NewStringResponder(400, "<h1>Bad Request (400)</h1>"), is: []error{singletarget.ErrRemote}},
		{name: "invalid token", resp: jsonResponse(401, `{"detail": "Invalid token."}`), is: []error{singletarget.ErrUnauthorized}, check: func(t *testing.T, err error) {
			var re *singletarget.RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 401, re.Status)
			assert.Contains(t, err.Error(), "Invalid token.")
		}},
		{name: "forbidden", resp: jsonResponse(403, `{"detail": "You do not have permission to perform this action."}`), is: []error{singletarget.ErrUnauthorized}},
		{name: "legacy login redirect", resp: func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(302, "")
			r.Header.Set("Location", "/forcedphot/api-auth/login/?next=/forcedphot/queue/")
			return r, nil
		}, is: []error{singletarget.ErrUnauthorized}, check: func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "login page")
		}},
		{name: "other redirect", resp: func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(301, "")
			r.Header.Set("Location", "https://elsewhere.example.org/queue/")
			return r, nil
		}, is: []error{singletarget.ErrRemote}},
		{name: "404", resp: httpmock.NewStringResponder(404, "<h1>Not Found</h1>"), is: []error{singletarget.ErrNotFound}},
		{name: "unexpected 200", resp: jsonResponse(200, queuedJSON), is: []error{singletarget.ErrRemote}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newMock(t, func(o *atlas.Options) { o.QueueFullWait = 90 * time.Second })
			env.tr.RegisterResponder("POST", mockBase+"/queue/", tc.resp)
			_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
			require.Error(t, err)
			for _, want := range tc.is {
				assert.ErrorIs(t, err, want, "%v", err)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			assert.Equal(t, 1, env.tr.GetTotalCallCount(), "no redirect is followed, no POST repeated")
		})
	}
}

func TestQueueUnreadableAnswers(t *testing.T) {
	t.Run("HTML with a Location header", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("POST", mockBase+"/queue/", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(201, "<html><body>Task created</body></html>")
			r.Header.Set("Content-Type", "text/html; charset=utf-8")
			r.Header.Set("Location", mockBase+"/queue/77/")
			return r, nil
		})
		task, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
		require.NoError(t, err, "the task exists: its id comes from Location")
		assert.Equal(t, int64(77), task.ID)
		assert.Equal(t, mockBase+"/queue/77/", task.URL)
		assert.Contains(t, env.logs.String(), "Location")
	})
	t.Run("malformed JSON without Location", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("POST", mockBase+"/queue/", jsonResponse(201, queuedJSON[:200]))
		_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
		require.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Contains(t, err.Error(), "malformed JSON")
		assert.Contains(t, err.Error(), "a remote task may have been created")
	})
}

func TestQueueRequestValidation(t *testing.T) {
	env := newMock(t, nil)
	_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 400, Dec: -95, MJDMin: f64(60010), MJDMax: f64(60000), Comment: strings.Repeat("x", 301)})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	for _, k := range []string{"ra", "dec", "mjd_max", "comment"} {
		assert.NotEmpty(t, fe.Fields[k], k)
	}
	assert.Zero(t, env.tr.GetTotalCallCount(), "nothing is sent")

	noToken, err := atlas.New(mockBase, "", &atlas.Options{HTTPClient: &http.Client{Transport: env.tr}})
	require.NoError(t, err)
	_, err = noToken.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2})
	assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
	assert.ErrorIs(t, noToken.Delete(ctx, 1), singletarget.ErrUnauthorized)
	assert.Zero(t, env.tr.GetTotalCallCount())

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = env.client.Queue(cctx, atlas.QueueRequest{RA: 1, Dec: 2})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTaskStates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		json  string
		state string
		is    error
	}{
		{"queued", queuedJSON, atlas.StateQueued, nil},
		{"running", strings.Replace(queuedJSON, `"starttimestamp": null`, `"starttimestamp": "2024-01-26T10:16:40Z"`, 1), atlas.StateRunning, nil},
		{"finished", finishedJSON, atlas.StateFinished, nil},
		{"no data", strings.NewReplacer(`"result_url": "https://atlas.example.org/forcedphot/static/results/job1851119.txt"`, `"result_url": null`,
			`"error_msg": null`, `"error_msg": "No data returned"`).Replace(finishedJSON), atlas.StateFailed, singletarget.ErrNotFound},
		{"other failure", strings.NewReplacer(`"result_url": "https://atlas.example.org/forcedphot/static/results/job1851119.txt"`, `"result_url": null`,
			`"error_msg": null`, `"error_msg": "Could not parse the result file"`).Replace(finishedJSON), atlas.StateFailed, singletarget.ErrTaskFailed},
		{"fractional timestamps without zone", strings.Replace(finishedJSON, `"2024-01-26T10:17:31Z"`, `"2024-01-26T10:17:31.250000"`, 1), atlas.StateFinished, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newMock(t, nil)
			env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", jsonResponse(200, tc.json))
			task, err := env.client.Task(ctx, 1851119)
			require.NoError(t, err)
			assert.Equal(t, tc.state, task.State())
			if tc.is == nil {
				assert.NoError(t, task.Err())
			} else {
				assert.ErrorIs(t, task.Err(), tc.is)
				var te *atlas.TaskError
				require.ErrorAs(t, task.Err(), &te)
				assert.Equal(t, int64(1851119), te.ID)
			}
		})
	}
}

func TestTaskReads(t *testing.T) {
	t.Run("5xx is retried", func(t *testing.T) {
		env := newMock(t, nil)
		calls := 0
		env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", func(r *http.Request) (*http.Response, error) {
			calls++
			if calls < 3 {
				return httpmock.NewStringResponse(502, "bad gateway"), nil
			}
			return jsonResponse(200, finishedJSON)(r)
		})
		task, err := env.client.Task(ctx, 1851119)
		require.NoError(t, err)
		assert.Equal(t, 3, calls)
		assert.Equal(t, time.Date(2024, 1, 26, 10, 17, 31, 0, time.UTC), task.FinishTimestamp)
	})
	t.Run("5xx to the end", func(t *testing.T) {
		env := newMock(t, func(o *atlas.Options) { o.RetryMax = 2 })
		env.tr.RegisterResponder("GET", mockBase+"/queue/1/", httpmock.NewStringResponder(500, "<h1>Server Error</h1>"))
		_, err := env.client.Task(ctx, 1)
		require.ErrorIs(t, err, singletarget.ErrRemote)
		assert.True(t, singletarget.Retryable(err))
		assert.Equal(t, 3, env.tr.GetTotalCallCount())
	})
	t.Run("a deleted task: 404 Page not found", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("GET", mockBase+"/queue/1/", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(404, "Page not found")
			r.Header.Set("Content-Type", "text/plain")
			return r, nil
		})
		_, err := env.client.Task(ctx, 1)
		assert.ErrorIs(t, err, singletarget.ErrNotFound)
		assert.Contains(t, err.Error(), "Page not found")
	})
	t.Run("HTML instead of JSON", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(200, "<!DOCTYPE html><html><body>Task 1851119</body></html>")
			r.Header.Set("Content-Type", "text/html; charset=utf-8")
			return r, nil
		})
		_, err := env.client.Task(ctx, 1851119)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Contains(t, err.Error(), "HTML where JSON was expected")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", jsonResponse(200, finishedJSON[:100]))
		_, err := env.client.Task(ctx, 1851119)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
	})
	t.Run("another task's answer", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("GET", mockBase+"/queue/5/", jsonResponse(200, finishedJSON))
		_, err := env.client.Task(ctx, 5)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
	})
	t.Run("legacy login redirect", func(t *testing.T) {
		env := newMock(t, nil)
		env.tr.RegisterResponder("GET", mockBase+"/queue/5/", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(302, "")
			r.Header.Set("Location", "/forcedphot/api-auth/login/?next=/forcedphot/queue/5/")
			return r, nil
		})
		_, err := env.client.Task(ctx, 5)
		assert.ErrorIs(t, err, singletarget.ErrUnauthorized)
	})
}

const resultFile = "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs\n" +
	"60316.142545  17.349  0.089   417   37 o  0  28.03  65.00165 -54.93795  9674.06  2072.74 2.51 1.85  76.9 -0.504 19.34 20.82 04a60316o0180o\n"

func TestDownload(t *testing.T) {
	result := mockBase + "/static/results/job1851119.txt"
	for _, tc := range []struct {
		name, body, ctype string
		status            int
		is                error
		msg               string
	}{
		{"ok", resultFile, "text/plain", 200, nil, ""},
		{"HTML page", "<!DOCTYPE html><html><body>Log in</body></html>\n", "text/html", 200, singletarget.ErrRemote, "HTML page"},
		{"HTML without its content type", "<html><body>oops</body></html>\n", "text/plain", 200, singletarget.ErrRemote, "HTML page"},
		{"empty", "", "text/plain", 200, singletarget.ErrRemote, "empty"},
		{"cut short", resultFile[:len(resultFile)-20], "text/plain", 200, singletarget.ErrRemote, "cut short"},
		{"not a result file", "hello\nworld\n", "text/plain", 200, singletarget.ErrRemote, "not an ATLAS result file"},
		{"header only", resultFile[:strings.Index(resultFile, "\n")+1], "text/plain", 200, singletarget.ErrNotFound, "no rows"},
		{"purged", "<h1>Not Found</h1>", "text/html", 404, singletarget.ErrNotFound, "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newMock(t, nil)
			var auth string
			env.tr.RegisterResponder("GET", result, func(r *http.Request) (*http.Response, error) {
				auth = r.Header.Get("Authorization")
				resp := httpmock.NewStringResponse(tc.status, tc.body)
				resp.Header.Set("Content-Type", tc.ctype)
				return resp, nil
			})
			body, err := env.client.Download(ctx, result)
			if tc.is == nil {
				require.NoError(t, err)
				assert.Equal(t, resultFile, string(body))
				assert.Equal(t, "Token "+mockToken.Reveal(), auth, "the token goes to the configured host")
				return
			}
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Nil(t, body)
		})
	}
	t.Run("the token never goes to another host", func(t *testing.T) {
		env := newMock(t, nil)
		other := "https://cdn.example.net/results/job1.txt"
		var auth []string
		env.tr.RegisterResponder("GET", other, func(r *http.Request) (*http.Response, error) {
			auth = r.Header.Values("Authorization")
			return httpmock.NewStringResponse(200, resultFile), nil
		})
		_, err := env.client.Download(ctx, other)
		require.NoError(t, err)
		assert.Empty(t, auth)
	})
	t.Run("a bad result URL", func(t *testing.T) {
		env := newMock(t, nil)
		_, err := env.client.Download(ctx, "/static/results/job1.txt")
		assert.ErrorIs(t, err, singletarget.ErrRemote)
	})
	t.Run("a file over the cap", func(t *testing.T) {
		env := newMock(t, func(o *atlas.Options) { o.MaxResultSize = 100 })
		env.tr.RegisterResponder("GET", result, httpmock.NewStringResponder(200, resultFile))
		_, err := env.client.Download(ctx, result)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
	})
}

func TestDelete(t *testing.T) {
	env := newMock(t, nil)
	var method, auth string
	env.tr.RegisterResponder("DELETE", mockBase+"/queue/1851119/", func(r *http.Request) (*http.Response, error) {
		method, auth = r.Method, r.Header.Get("Authorization")
		return httpmock.NewStringResponse(204, ""), nil
	})
	require.NoError(t, env.client.Delete(ctx, 1851119))
	assert.Equal(t, "DELETE", method)
	assert.Equal(t, "Token "+mockToken.Reveal(), auth)

	env.tr.RegisterResponder("DELETE", mockBase+"/queue/2/", httpmock.NewStringResponder(404, "Page not found"))
	assert.ErrorIs(t, env.client.Delete(ctx, 2), singletarget.ErrNotFound)
	env.tr.RegisterResponder("DELETE", mockBase+"/queue/3/", jsonResponse(403, `{"detail": "You must be the owner of this object."}`))
	assert.ErrorIs(t, env.client.Delete(ctx, 3), singletarget.ErrUnauthorized)
}

func TestObtainToken(t *testing.T) {
	const password = singletarget.Secret("s3cret-passw0rd")
	env := newMock(t, nil)
	env.tr.RegisterResponder("POST", mockBase+"/api-token-auth/", func(r *http.Request) (*http.Response, error) {
		_ = r.ParseForm()
		if r.PostForm.Get("username") == "jdoe" && r.PostForm.Get("password") == password.Reveal() {
			return jsonResponse(200, `{"token": "9f1c0123456789abcdef0123456789abcdef0123"}`)(r)
		}
		return jsonResponse(400, `{"non_field_errors": ["Unable to log in with provided credentials."]}`)(r)
	})
	noToken, err := atlas.New(mockBase, "", &atlas.Options{HTTPClient: &http.Client{Transport: env.tr}, Logger: slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	tok, err := noToken.ObtainToken(ctx, "jdoe", password)
	require.NoError(t, err)
	assert.Equal(t, "9f1c0123456789abcdef0123456789abcdef0123", tok.Reveal())
	assert.Equal(t, singletarget.Redacted, tok.String())

	_, err = noToken.ObtainToken(ctx, "jdoe", "wrong-password")
	require.ErrorIs(t, err, singletarget.ErrUnauthorized)
	assert.Contains(t, err.Error(), "Unable to log in")
	assert.NotContains(t, err.Error(), "wrong-password")
	assert.NotContains(t, env.logs.String(), password.Reveal())
	assert.NotContains(t, env.logs.String(), "wrong-password")

	_, err = noToken.ObtainToken(ctx, "", password)
	assert.ErrorIs(t, err, singletarget.ErrUnauthorized)

	with := noToken.WithToken(tok)
	env.tr.RegisterResponder("DELETE", mockBase+"/queue/9/", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Token "+tok.Reveal(), r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(204, ""), nil
	})
	assert.NoError(t, with.Delete(ctx, 9))
	assert.Equal(t, mockBase, with.BaseURL())
}

func TestNewChecksItsArguments(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts *atlas.Options
		tok  singletarget.Secret
		msg  string
	}{
		{"fallingstar-data.com/forcedphot", nil, mockToken, "absolute http(s) URL"},
		{"ftp://example.org", nil, mockToken, "absolute http(s) URL"},
		{"https://user:pw@example.org", nil, mockToken, "without credentials"},
		{mockBase, nil, "abc def", "white space"},
		{mockBase, &atlas.Options{PollQueued: -time.Second}, mockToken, "Options.PollQueued"},
		{mockBase, &atlas.Options{Deadline: -1}, mockToken, "Options.Deadline"},
		{mockBase, &atlas.Options{PollGrowth: 0.5}, mockToken, "Options.PollGrowth"},
		{mockBase, &atlas.Options{RetryMax: -2}, mockToken, "Options.RetryMax"},
		{mockBase, &atlas.Options{MaxResultSize: -2}, mockToken, "Options.MaxResultSize"},
		{mockBase, &atlas.Options{PollQueued: time.Hour, PollMax: time.Minute}, mockToken, "Options.PollMax"},
	} {
		_, err := atlas.New(tc.url, tc.tok, tc.opts)
		require.Error(t, err, tc.msg)
		assert.Contains(t, err.Error(), tc.msg)
		assert.NotContains(t, err.Error(), mockToken.Reveal())
	}
	c, err := atlas.New(mockBase+"/", mockToken, nil)
	require.NoError(t, err)
	assert.Equal(t, mockBase, c.BaseURL())
	assert.Equal(t, mockBase+"/queue/42/", c.TaskURL(42))
}

func TestPollDelay(t *testing.T) {
	c, err := atlas.New(mockBase, mockToken, nil)
	require.NoError(t, err)
	assert.Equal(t, 4*time.Second, c.PollDelay(atlas.StateQueued, 0), "the API guide's cadence while queued")
	assert.Equal(t, 2*time.Second, c.PollDelay(atlas.StateRunning, 0), "and while running")
	assert.Equal(t, 5*time.Second, c.PollDelay(atlas.StateQueued, 1))
	prev := time.Duration(0)
	for n := range 40 {
		d := c.PollDelay(atlas.StateQueued, n)
		assert.GreaterOrEqual(t, d, prev, "never shrinks")
		assert.LessOrEqual(t, d, time.Minute, "capped")
		prev = d
	}
	assert.Equal(t, time.Minute, c.PollDelay(atlas.StateQueued, 1000))
	fixed, err := atlas.New(mockBase, mockToken, &atlas.Options{PollGrowth: 1, PollQueued: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, fixed.PollDelay(atlas.StateQueued, 30))
}

func TestConditionalReads(t *testing.T) {
	env := newMock(t, nil)
	var inm []string
	env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", func(r *http.Request) (*http.Response, error) {
		inm = append(inm, r.Header.Get("If-None-Match"))
		if r.Header.Get("If-None-Match") == `"v1"` {
			resp := httpmock.NewStringResponse(304, "")
			resp.Header.Set("ETag", `"v1"`)
			return resp, nil
		}
		resp, _ := jsonResponse(200, finishedJSON)(r)
		resp.Header.Set("ETag", `"v1"`)
		return resp, nil
	})
	first, err := env.client.Task(ctx, 1851119)
	require.NoError(t, err)
	second, err := env.client.Task(ctx, 1851119)
	require.NoError(t, err)
	assert.Equal(t, first, second, "a 304 gives the last answer again")
	assert.Equal(t, []string{"", `"v1"`}, inm)

	// A 304 the client did not ask for is an error, not an empty task.
	env.tr.RegisterResponder("GET", mockBase+"/queue/7/", httpmock.NewStringResponder(304, ""))
	_, err = env.client.Task(ctx, 7)
	assert.ErrorIs(t, err, singletarget.ErrRemote)

	// The list asks for full pages and sends each page's ETag.
	var listINM []string
	env.tr.RegisterResponder("GET", mockBase+"/queue/?pagesize=100", func(r *http.Request) (*http.Response, error) {
		listINM = append(listINM, r.Header.Get("If-None-Match"))
		if r.Header.Get("If-None-Match") == `"L"` {
			return httpmock.NewStringResponse(304, ""), nil
		}
		resp, _ := jsonResponse(200, `{"next": null, "previous": null, "taskcount": 1, "results": [`+finishedJSON+`]}`)(r)
		resp.Header.Set("ETag", `"L"`)
		return resp, nil
	})
	for range 2 {
		tasks, err := env.client.Tasks(ctx, nil)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		assert.Equal(t, int64(1851119), tasks[0].ID)
	}
	assert.Equal(t, []string{"", `"L"`}, listINM)
}

func TestReadPacing(t *testing.T) {
	env := newMock(t, func(o *atlas.Options) { o.ReadRate, o.ReadWindow = 2, time.Minute })
	env.tr.RegisterResponder("GET", mockBase+"/queue/1851119/", jsonResponse(200, finishedJSON))
	for range 2 {
		_, err := env.client.Task(ctx, 1851119)
		require.NoError(t, err)
	}
	_, err := env.client.Task(ctx, 1851119)
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, time.Minute, te.RetryAfter)
	assert.Contains(t, te.Detail, "reads are kept to 2 reads per 1m0s")
	assert.Equal(t, 2, env.tr.GetTotalCallCount(), "the third read was not sent")
	assert.Equal(t, time.Minute, env.client.ReadBlockedFor())
	assert.Zero(t, env.client.WriteBlockedFor(), "writes have their own pacing")
	env.clock.Add(time.Minute)
	_, err = env.client.Task(ctx, 1851119)
	require.NoError(t, err)

	// Result files are static files: not paced.
	env.tr.RegisterResponder("GET", mockBase+"/static/results/job1851119.txt", httpmock.NewStringResponder(200, resultFile))
	for range 3 {
		_, err := env.client.Download(ctx, mockBase+"/static/results/job1851119.txt")
		require.NoError(t, err)
	}
}

func TestQueuePositionsRead(t *testing.T) {
	env := newMock(t, nil)
	env.tr.RegisterResponder("GET", mockBase+"/queuepositions.json",
		jsonResponse(200, `{"queuepositions": {"11": 0, "12": 7, "x": 3}, "queuedtypes": {"11": "FP", "12": "FP"}, "queueoffset": 2}`))
	pos, err := env.client.QueuePositions(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[int64]int{11: 0, 12: 7}, pos)

	old := newMock(t, nil)
	old.tr.RegisterResponder("GET", mockBase+"/queuepositions.json", httpmock.NewStringResponder(404, "<h1>Not Found</h1>"))
	_, err = old.client.QueuePositions(ctx)
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "a server without the endpoint")
}

func TestQueueSendsTheCallbackURL(t *testing.T) {
	env := newMock(t, nil)
	var form url.Values
	env.tr.RegisterResponder("POST", mockBase+"/queue/", func(r *http.Request) (*http.Response, error) {
		require.NoError(t, r.ParseForm())
		form = r.PostForm
		return jsonResponse(201, finishedJSON)(r)
	})
	_, err := env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2, CallbackURL: "https://tom.example.org/cb"})
	require.NoError(t, err)
	assert.Equal(t, "https://tom.example.org/cb", form.Get("callback_url"))
	_, err = env.client.Queue(ctx, atlas.QueueRequest{RA: 1, Dec: 2, CallbackURL: "http://tom.example.org/cb"})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, err.Error(), "callback_url")
}
