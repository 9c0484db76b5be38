package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/singletarget"
)

// recorder records requests instead of sending them, and fails them.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	u.RawQuery = ""
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+u.String())
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request",
		Body: io.NopCloser(strings.NewReader("not sent")), Request: req}, nil
}

// TestLiveWiring runs the -live settings and queries of the quickstart
// against a transport that records instead of sending: each service's
// first requests go to the endpoints its specification documents
// (../shared/services: atlas.md §3, panstarrs.md §1, ztf.md A, alerce.md §3.1).
func TestLiveWiring(t *testing.T) {
	t.Setenv("ATLAS_FORCED_PHOTOMETRY_API_KEY", "not-a-key")
	cfg, err := config(t.TempDir(), true, io.Discard)
	require.NoError(t, err)
	rec := &recorder{}
	app, err := builtin.Open(context.Background(), cfg, &builtin.Options{HTTPClient: &http.Client{Transport: rec}})
	require.NoError(t, err)
	defer app.Close()
	want := map[string][]string{
		"ATLAS": {"POST https://fallingstar-data.com/forcedphot/queue/"},
		// The light-curve flow finds the objects in the cone first (mean
		// table), then asks for their detections by objID.
		"PANSTARRS": {"GET https://catalogs.mast.stsci.edu/api/v0.1/panstarrs/dr2/detection/metadata",
			"GET https://catalogs.mast.stsci.edu/api/v0.1/panstarrs/dr2/mean.csv"},
		"ZTF": {"GET https://irsa.ipac.caltech.edu/cgi-bin/ZTF/nph_light_curves"},
		// ALeRCE finds the object by a ZTF cone search first (alerce.md §3.1).
		"ALERCE": {"GET https://api.alerce.online/ztf/v1/objects/"},
	}
	require.ElementsMatch(t, []string{"ATLAS", "PANSTARRS", "ZTF", "ALERCE"}, app.Manager.Services())
	for _, name := range app.Manager.Services() {
		rec.mu.Lock()
		rec.reqs = nil
		rec.mu.Unlock()
		_, err := app.Manager.Step(context.Background(), singletarget.Request{Service: name, Target: target, Params: queries[name]}, singletarget.Checkpoint{}, nil)
		require.Error(t, err)
		rec.mu.Lock()
		assert.Equal(t, want[name], rec.reqs, name)
		rec.mu.Unlock()
	}
}
