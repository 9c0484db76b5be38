package httpclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/singletarget"
)

const base = "https://archive.example.org/api"

func newClient(t *testing.T, mutate func(*httpclient.Options)) (*httpclient.Client, *httpmock.MockTransport, *bytes.Buffer) {
	t.Helper()
	tr := httpmock.NewMockTransport()
	logs := &bytes.Buffer{}
	opts := httpclient.Options{
		Service:      "TEST",
		HTTPClient:   &http.Client{Transport: tr},
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&opts)
	}
	return httpclient.New(opts), tr, logs
}

func TestRetriesIdempotentOnly(t *testing.T) {
	c, tr, _ := newClient(t, nil)
	calls := 0
	tr.RegisterResponder("GET", base+"/thing", func(*http.Request) (*http.Response, error) {
		calls++
		if calls < 3 {
			return httpmock.NewStringResponse(502, "bad gateway"), nil
		}
		return httpmock.NewStringResponse(200, "ok"), nil
	})
	resp, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/thing"})
	require.NoError(t, err)
	assert.Equal(t, "ok", string(resp.Body))
	assert.Equal(t, 3, calls, "a GET is retried after 5xx")

	posts := 0
	tr.RegisterResponder("POST", base+"/queue/", func(*http.Request) (*http.Response, error) {
		posts++
		return httpmock.NewStringResponse(500, "<html>oops</html>"), nil
	})
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/queue/", Body: []byte("ra=1")})
	require.Error(t, err)
	assert.Equal(t, 1, posts, "a POST that creates something is never retried")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	var re *singletarget.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 500, re.Status)
	assert.Contains(t, err.Error(), "oops")

	tr.RegisterResponder("POST", base+"/search", func(*http.Request) (*http.Response, error) {
		posts++
		return nil, errors.New("connection reset by peer")
	})
	posts = 0
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/search"})
	require.Error(t, err)
	assert.Equal(t, 1, posts)
	posts = 0
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/search", Idempotent: true})
	require.Error(t, err)
	assert.Equal(t, 5, posts, "an idempotent POST is retried RetryMax times")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.Contains(t, err.Error(), "connection reset")
}

func TestStatusErrors(t *testing.T) {
	c, tr, _ := newClient(t, nil)
	for status, want := range map[int]error{401: singletarget.ErrUnauthorized, 403: singletarget.ErrUnauthorized,
		404: singletarget.ErrNotFound, 400: singletarget.ErrRemote, 501: singletarget.ErrRemote} {
		tr.RegisterResponder("GET", base+"/s"+strconv.Itoa(status), httpmock.NewStringResponder(status, `{"detail":"x"}`))
		resp, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/s" + strconv.Itoa(status)})
		assert.ErrorIs(t, err, want, "status %d", status)
		require.NotNil(t, resp, "the response comes back with the error")
		assert.Equal(t, `{"detail":"x"}`, string(resp.Body))
	}
}

func TestThrottling(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	atlasText := regexp.MustCompile(`available in (\d+) second`)
	c, tr, _ := newClient(t, func(o *httpclient.Options) {
		o.MaxRetryAfter = time.Second
		o.Now = func() time.Time { return now }
		o.RetryAfterFromBody = func(b []byte) (time.Duration, bool) {
			m := atlasText.FindSubmatch(b)
			if m == nil {
				return 0, false
			}
			n, _ := strconv.Atoi(string(m[1]))
			return time.Duration(n) * time.Second, true
		}
	})
	// A short wait is waited out inside the request.
	n := 0
	tr.RegisterResponder("GET", base+"/short", func(*http.Request) (*http.Response, error) {
		n++
		if n == 1 {
			r := httpmock.NewStringResponse(429, `{"detail":"slow down"}`)
			r.Header.Set("Retry-After", "0")
			return r, nil
		}
		return httpmock.NewStringResponse(200, "ok"), nil
	})
	_, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/short"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// A long one comes back as a ThrottledError, from the body's text.
	posts := 0
	tr.RegisterResponder("POST", base+"/queue/", func(*http.Request) (*http.Response, error) {
		posts++
		return httpmock.NewStringResponse(429, `{"detail": "Request was throttled. Expected available in 37 seconds."}`), nil
	})
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/queue/"})
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, singletarget.ErrThrottled)
	assert.Equal(t, 37*time.Second, te.RetryAfter)
	assert.Equal(t, "TEST", te.Service)
	assert.Equal(t, "Request was throttled. Expected available in 37 seconds.", te.Detail)
	assert.Equal(t, 37*time.Second, c.BlockedFor())

	// Until the wait is over, requests fail fast without reaching the server.
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/queue/"})
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, posts, "no request while blocked")
	now = now.Add(38 * time.Second)
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/queue/"})
	require.Error(t, err)
	assert.Equal(t, 2, posts, "requests go out again after the wait")
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.Now = func() time.Time { return now } })
	tr.RegisterResponder("GET", base+"/d", func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(429, "")
		r.Header.Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		return r, nil
	})
	_, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/d"})
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 90*time.Second, te.RetryAfter)
}

func TestBodyCap(t *testing.T) {
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.MaxBodySize = 10 })
	tr.RegisterResponder("GET", base+"/big", httpmock.NewStringResponder(200, "0123456789ABCDEF"))
	tr.RegisterResponder("GET", base+"/fits", httpmock.NewStringResponder(200, "0123456789"))
	_, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/big"})
	assert.ErrorIs(t, err, httpclient.ErrBodyTooLarge)
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	resp, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/fits"})
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(resp.Body), "exactly the cap is fine")

	sr, err := c.Stream(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/big"})
	require.NoError(t, err)
	got, err := io.ReadAll(sr.Body)
	sr.Body.Close()
	assert.ErrorIs(t, err, httpclient.ErrBodyTooLarge, "a streamed body over the cap fails, never silently short")
	assert.LessOrEqual(t, len(got), 10, "no byte past the cap reaches the reader")
}

func TestHeadersAndRedirects(t *testing.T) {
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.NoRedirects = true })
	var ua string
	tr.RegisterResponder("GET", base+"/login", func(r *http.Request) (*http.Response, error) {
		ua = r.Header.Get("User-Agent")
		resp := httpmock.NewStringResponse(302, "")
		resp.Header.Set("Location", "/forcedphot/api-auth/login/?next=/queue/")
		return resp, nil
	})
	resp, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/login"})
	require.NoError(t, err)
	assert.Equal(t, 302, resp.Status, "redirects come back when NoRedirects is set")
	assert.Regexp(t, `^targetdata/\d+\.\d+\.\d+ `, ua)
}

func TestSecretsRedacted(t *testing.T) {
	secret := singletarget.Secret("s3cr3t-pa55word")
	c, tr, logs := newClient(t, func(o *httpclient.Options) { o.Secrets = []singletarget.Secret{secret} })
	u := base + "/fp?email=me@example.org&userpass=" + secret.Reveal() + "&ra=1"
	tr.RegisterResponder("GET", base+"/fp", httpmock.NewStringResponder(500, "error for s3cr3t-pa55word"))
	_, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: u})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret.Reveal())
	assert.NotContains(t, err.Error(), "me@example.org", "email is a redacted parameter")
	assert.Contains(t, err.Error(), "ra=1", "other parameters stay")
	// A transport error carries the URL: it is redacted too.
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/unregistered?password=" + secret.Reveal()})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret.Reveal())
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), secret.Reveal(), "logs are redacted")
	assert.Equal(t, "https://%5BREDACTED%5D@h/x?token=%5BREDACTED%5D", c.RedactURL("https://u:pw@h/x?token=abc"))
}

func TestContextCancel(t *testing.T) {
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.RetryWaitMin, o.RetryWaitMax = time.Hour, time.Hour })
	tr.RegisterResponder("GET", base+"/slow", httpmock.NewStringResponder(503, "busy"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &httpclient.Request{Method: "GET", URL: base + "/slow"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	_, err = c.Do(cctx, &httpclient.Request{Method: "GET", URL: base + "/slow"})
	assert.ErrorIs(t, err, context.Canceled)
}

// brokenBody fails half-way through.
type brokenBody struct{ n int }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, errors.New("unexpected EOF: connection reset")
	}
	b.n--
	p[0] = 'x'
	return 1, nil
}
func (b *brokenBody) Close() error { return nil }

func TestTruncatedBodyRetried(t *testing.T) {
	c, tr, _ := newClient(t, nil)
	calls := 0
	tr.RegisterResponder("GET", base+"/lc", func(*http.Request) (*http.Response, error) {
		calls++
		if calls < 3 {
			return &http.Response{StatusCode: 200, Body: &brokenBody{n: 5}, Header: http.Header{}}, nil
		}
		return httpmock.NewStringResponse(200, "whole"), nil
	})
	resp, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/lc"})
	require.NoError(t, err)
	assert.Equal(t, "whole", string(resp.Body))
	assert.Equal(t, 3, calls)

	posts := 0
	tr.RegisterResponder("POST", base+"/queue/", func(*http.Request) (*http.Response, error) {
		posts++
		return &http.Response{StatusCode: 201, Body: &brokenBody{n: 5}, Header: http.Header{}}, nil
	})
	_, err = c.Do(context.Background(), &httpclient.Request{Method: "POST", URL: base + "/queue/"})
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.Equal(t, 1, posts, "a non-idempotent request is never sent twice")
}

func TestLimiter(t *testing.T) {
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.Limiter = lim })
	calls := 0
	tr.RegisterResponder("GET", base+"/x", func(*http.Request) (*http.Response, error) {
		calls++
		return httpmock.NewStringResponse(200, "ok"), nil
	})
	_, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/x"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.Do(ctx, &httpclient.Request{Method: "GET", URL: base + "/x"})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a wait past the deadline fails at once, never unpaced")
	assert.Equal(t, 1, calls)
}

// A streamed body that breaks off is a remote failure, not a bare read
// error, and a done context is reported as such.
func TestStreamBrokenBody(t *testing.T) {
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.Secrets = []singletarget.Secret{"s3cr3t-value"} })
	tr.RegisterResponder("GET", base+"/file", func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: &brokenBody{n: 3}, Header: http.Header{}}, nil
	})
	sr, err := c.Stream(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/file?token=s3cr3t-value"})
	require.NoError(t, err)
	b, err := io.ReadAll(sr.Body)
	sr.Body.Close()
	assert.Equal(t, "xxx", string(b))
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.NotContains(t, err.Error(), "s3cr3t-value")
	assert.Contains(t, err.Error(), "TEST: reading")

	ctx, cancel := context.WithCancel(context.Background())
	sr, err = c.Stream(ctx, &httpclient.Request{Method: "GET", URL: base + "/file"})
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(sr.Body)
	sr.Body.Close()
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, singletarget.ErrRemote)
}

// ThrottleOn503 turns a final 503 announcing a wait into a ThrottledError;
// without it (and without a wait) a 503 is a RemoteError.
func TestThrottleOn503(t *testing.T) {
	for _, on := range []bool{false, true} {
		c, tr, _ := newClient(t, func(o *httpclient.Options) { o.ThrottleOn503 = on; o.MaxRetryAfter = time.Second })
		tr.RegisterResponder("GET", base+"/wait", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(503, "down for maintenance")
			r.Header.Set("Retry-After", "3600")
			return r, nil
		})
		tr.RegisterResponder("GET", base+"/plain", httpmock.NewStringResponder(503, "restarting"))
		_, err := c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/wait"})
		var te *singletarget.ThrottledError
		if on {
			require.ErrorAs(t, err, &te)
			assert.Equal(t, time.Hour, te.RetryAfter)
			assert.Equal(t, "down for maintenance", te.Detail)
			assert.NotErrorIs(t, err, singletarget.ErrRemote)
			assert.Zero(t, c.BlockedFor(), "a 503's wait is not remembered")
		} else {
			var re *singletarget.RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 503, re.Status)
			assert.NotErrorIs(t, err, singletarget.ErrThrottled)
		}
		assert.Equal(t, 1, tr.GetCallCountInfo()["GET "+base+"/wait"], "a wait over MaxRetryAfter is not waited out")
		_, err = c.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/plain"})
		assert.ErrorIs(t, err, singletarget.ErrRemote, "a 503 without a wait is a remote failure (on=%v)", on)
		assert.False(t, errors.As(err, &te))
	}
}
