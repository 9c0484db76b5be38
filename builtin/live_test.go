package builtin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/singletarget"
)

// recorder is a transport that sends nothing: it records each request and
// answers it with HTTP 400 "Zero records returned" (ZFPS's answer for "no
// jobs", so that its flow goes on to the submit request; every other
// service takes it for a failure and stops).
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request",
		Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("Zero records returned")), Request: req}, nil
}

// take returns the requests recorded since the last take.
func (r *recorder) take() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// endpoint is a request a live service may send, as its specification in
// ../shared/services documents it.
type endpoint struct {
	method, url string // the URL without its query
	// spec is the specification file and doc the text in it that
	// documents the endpoint.
	spec, doc string
}

// liveService is a built-in service class with the settings it needs
// besides its class (credentials), and its documented endpoints.
type liveService struct {
	name      string
	settings  string
	endpoints []endpoint
}

// liveServices are the built-in service classes. A new class must be added
// here, with the endpoints its specification documents.
var liveServices = map[string]liveService{
	"atlas.ForcedPhotometryService": {"ATLAS", "api_key: not-a-key", []endpoint{
		{"POST", "https://fallingstar-data.com/forcedphot/queue/", "atlas.md", "## 3. Queueing a task — `POST {base}/queue/`"},
	}},
	"panstarrs.Service": {"PANSTARRS", "", []endpoint{
		{"GET", "https://catalogs.mast.stsci.edu/api/v0.1/panstarrs/dr2/mean/metadata", "panstarrs.md", "Metadata (column list): `GET {base}/{release}/{table}/metadata`"},
		{"GET", "https://catalogs.mast.stsci.edu/api/v0.1/panstarrs/dr2/mean.csv", "panstarrs.md", "e.g. `https://catalogs.mast.stsci.edu/api/v0.1/panstarrs/dr2/mean.csv`"},
	}},
	"ztf.Service": {"ZTF", "", []endpoint{
		{"GET", "https://irsa.ipac.caltech.edu/cgi-bin/ZTF/nph_light_curves", "ztf.md", "`GET https://irsa.ipac.caltech.edu/cgi-bin/ZTF/nph_light_curves?<params>`"},
	}},
	"alerce.Service": {"ALERCE", "", []endpoint{
		{"GET", "https://api.alerce.online/ztf/v1/objects/", "alerce.md", "### 3.1 ZTF — v1 `GET {v1}/objects/`"},
	}},
	"ztf.ForcedPhotometryService": {"ZTF_FP", "email: someone@example.org\n    userpass: not-a-password", []endpoint{
		{"GET", "https://ztfweb.ipac.caltech.edu/cgi-bin/getForcedPhotometryRequests.cgi", "ztf.md", "`GET /cgi-bin/getForcedPhotometryRequests.cgi` (single jobs)"},
		{"GET", "https://ztfweb.ipac.caltech.edu/cgi-bin/requestForcedPhotometry.cgi", "ztf.md", "`GET /cgi-bin/requestForcedPhotometry.cgi?ra=<deg>&dec=<deg>&jdstart=<JD>&jdend=<JD>&email=<e>&userpass=<p>`"},
	}},
}

// specDir is ../shared/services from the module root, when it is there.
const specDir = "../../shared/services"

// TestLiveEndpoints builds every built-in service from its default settings
// (no url: the real service's) and runs a query against a transport that
// records the requests instead of sending them: every request must go to
// an endpoint its specification documents, in the documented order.
func TestLiveEndpoints(t *testing.T) {
	reg := singletarget.NewRegistry()
	require.NoError(t, builtin.Register(reg))
	var yaml strings.Builder
	yaml.WriteString("single_target_data_services:\n")
	for _, class := range reg.Classes() {
		s, ok := liveServices[class]
		require.True(t, ok, "service class %s has no documented endpoints in liveServices: add them from its ../shared/services specification", class)
		fmt.Fprintf(&yaml, "  %s:\n    class: %s\n", s.name, class)
		if s.settings != "" {
			fmt.Fprintf(&yaml, "    %s\n", s.settings)
		}
	}
	cfg, err := singletarget.ParseConfig([]byte(yaml.String()), nil)
	require.NoError(t, err, yaml.String())
	rec := &recorder{}
	app, err := builtin.Open(context.Background(), cfg, &builtin.Options{Registry: reg, HTTPClient: &http.Client{Transport: rec}})
	require.NoError(t, err)
	defer app.Close()

	target := singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}
	for _, class := range reg.Classes() {
		s := liveServices[class]
		t.Run(s.name, func(t *testing.T) {
			_, err := app.Manager.Step(context.Background(), singletarget.Request{Service: s.name, Target: target}, singletarget.Checkpoint{}, nil)
			require.Error(t, err, "nothing was sent, so the query fails")
			checkRequests(t, rec.take(), s.endpoints)
		})
	}
}

// checkRequests checks that reqs went to want's endpoints, in order.
func checkRequests(t *testing.T, reqs []*http.Request, want []endpoint) {
	t.Helper()
	var got, expected []string
	for _, r := range reqs {
		u := *r.URL
		u.RawQuery, u.Fragment = "", ""
		got = append(got, r.Method+" "+u.String())
	}
	for _, e := range want {
		expected = append(expected, e.method+" "+e.url)
	}
	assert.Equal(t, expected, got, "the requests go to the documented endpoints")
	for _, e := range want {
		checkDocumented(t, e)
	}
}

// checkDocumented checks that the endpoint's specification names it (when
// the specifications are there: they live beside the project, not in it).
func checkDocumented(t *testing.T, e endpoint) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(specDir, e.spec))
	if os.IsNotExist(err) {
		t.Logf("%s not found: the endpoint %s %s is checked against this test's table only", filepath.Join(specDir, e.spec), e.method, e.url)
		return
	}
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(b), e.doc), "%s documents %q", e.spec, e.doc)
}

// TestLiveEndpointsTable keeps the table honest: every class it lists is
// a built-in one.
func TestLiveEndpointsTable(t *testing.T) {
	reg := singletarget.NewRegistry()
	require.NoError(t, builtin.Register(reg))
	for class := range liveServices {
		assert.True(t, slices.Contains(reg.Classes(), class), "liveServices lists %s, which is not registered", class)
	}
}
