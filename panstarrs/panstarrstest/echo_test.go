package panstarrstest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
)

func TestEchoCredentialsNext(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	sim.EchoCredentialsNext(1)
	get := func() (int, string) {
		req, err := http.NewRequest(http.MethodGet, sim.URL+"/dr2/mean/metadata", nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: "mast_token", Value: "tok-12345"})
		resp, err := sim.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get()
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "mast_token=tok-12345")
	status, body = get()
	assert.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, "tok-12345")
}
