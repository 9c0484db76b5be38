package ztftest_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/ztf/ztftest"
)

func TestEchoCredentialsNext(t *testing.T) {
	sim := ztftest.NewServer(t, nil)
	creds := sim.Credentials()
	sim.EchoCredentialsNext(1)
	get := func() (int, string) {
		t.Helper()
		q := url.Values{"email": {creds.Email.Reveal()}, "userpass": {creds.Password.Reveal()}, "action": {"Query Database"}, "option": {"All recent jobs"}}
		req, err := http.NewRequest(http.MethodGet, sim.ForcedPhotometryURL+"/cgi-bin/getForcedPhotometryRequests.cgi?"+q.Encode(), nil)
		require.NoError(t, err)
		req.SetBasicAuth(creds.HTTPUser.Reveal(), creds.HTTPPassword.Reveal())
		resp, err := sim.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get()
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, creds.Password.Reveal())
	assert.Contains(t, body, url.QueryEscape(creds.Email.Reveal()))
	assert.Contains(t, body, "Basic ")
	_, body = get()
	assert.Contains(t, body, "Zero records returned", "the next request gets the normal answer")
	assert.NotContains(t, body, creds.Password.Reveal())
}
