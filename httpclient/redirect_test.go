package httpclient_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/singletarget"
)

// Redirects are followed only within the request's origin (scheme, host
// and port); one to another origin is not followed, so the credentials of
// the request (headers, cookies, query parameters) never go there
// (issue 20 item 9).
func TestRedirectsStayOnTheOrigin(t *testing.T) {
	secret := singletarget.Secret("Cr3d-5ecret-9Zz")
	c, tr, logs := newClient(t, func(o *httpclient.Options) { o.Secrets = []singletarget.Secret{secret} })
	var got []string
	record := func(name string) httpmock.Responder {
		return func(r *http.Request) (*http.Response, error) {
			got = append(got, name+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Cookie")+" "+r.URL.RawQuery)
			return httpmock.NewStringResponse(200, "ok from "+name), nil
		}
	}
	tr.RegisterResponder("GET", "https://archive.example.org/api/final", record("same origin"))
	for _, other := range []string{
		"http://archive.example.org/api/final",       // scheme (a downgrade)
		"https://archive.example.org:8443/api/final", // port
		"https://evil.example.net/api/final",         // host
		"https://sub.archive.example.org/api/final",  // a subdomain
	} {
		tr.RegisterResponder("GET", other, record(other))
	}
	redirect := func(to string) httpmock.Responder {
		return func(r *http.Request) (*http.Response, error) {
			resp := httpmock.NewStringResponse(302, "")
			resp.Header.Set("Location", to)
			return resp, nil
		}
	}
	query := "?userpass=" + secret.Reveal() + "&email=me@example.org"
	req := func(path string) *httpclient.Request {
		return &httpclient.Request{Method: "GET", URL: base + path + query, Header: http.Header{
			"Authorization": {"Basic " + secret.Reveal()}, "Cookie": {"mast_token=" + secret.Reveal()}}}
	}

	// Within the origin: followed, credentials and all.
	tr.RegisterResponder("GET", base+"/moved", redirect("/api/final"+query))
	resp, err := c.Do(context.Background(), req("/moved"))
	require.NoError(t, err)
	assert.Equal(t, "ok from same origin", string(resp.Body))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "Basic "+secret.Reveal(), "the same origin gets the credentials")

	for i, to := range []string{
		"http://archive.example.org/api/final" + query,
		"https://archive.example.org:8443/api/final" + query,
		"https://evil.example.net/api/final" + query,
		"//evil.example.net/api/final" + query,
		"https://sub.archive.example.org/api/final" + query,
	} {
		got = nil
		path := "/r" + string(rune('a'+i))
		tr.RegisterResponder("GET", base+path, redirect(to))
		_, err := c.Do(context.Background(), req(path))
		require.Error(t, err, "a redirect to %s", to)
		assert.True(t, errors.Is(err, singletarget.ErrRemote), "%v", err)
		assert.Contains(t, err.Error(), "redirect")
		assert.NotContains(t, err.Error(), secret.Reveal())
		assert.Empty(t, got, "nothing was sent to %s", to)
		// Stream refuses it the same way.
		_, err = c.Stream(context.Background(), req(path))
		require.Error(t, err)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Empty(t, got, "nothing was sent to %s", to)
	}
	assert.NotContains(t, logs.String(), secret.Reveal())

	// A redirect loop within the origin ends.
	tr.RegisterResponder("GET", base+"/loop", redirect("/api/loop"))
	_, err = c.Do(context.Background(), req("/loop"))
	assert.ErrorIs(t, err, singletarget.ErrRemote)

	// NoRedirects still hands back the redirect itself (ATLAS).
	c2, tr2, _ := newClient(t, func(o *httpclient.Options) { o.NoRedirects = true })
	tr2.RegisterResponder("GET", base+"/x", redirect("https://evil.example.net/"))
	resp, err = c2.Do(context.Background(), &httpclient.Request{Method: "GET", URL: base + "/x"})
	require.NoError(t, err)
	assert.Equal(t, 302, resp.Status)
	assert.Equal(t, 1, tr2.GetTotalCallCount())
}
