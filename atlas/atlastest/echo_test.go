package atlastest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
)

func TestEchoCredentialsNext(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	sim.EchoCredentialsNext(1)
	post := func() (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, sim.URL+"/queue/", strings.NewReader(url.Values{"ra": {"1"}, "dec": {"2"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Token "+sim.Token.Reveal())
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := sim.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, `"ra":`, "a field error")
	assert.Contains(t, body, sim.Token.Reveal(), "that repeats the token")
	assert.Equal(t, 0, sim.Stats().TasksCreated)
	resp, body = post()
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "only the next n requests echo: %s", body)
	assert.NotContains(t, body, sim.Token.Reveal())
}
