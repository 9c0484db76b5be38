package alerce_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Base URLs with trailing slashes, as the official client's settings
// write them: the client must not make "//" of them.
var mockURLs = alerce.URLs{
	ZTF:         "https://api.example.org/ztf/v1/",
	LightCurve:  "https://api.example.org/v2/lightcurve/",
	Multisurvey: "https://lsst.example.org/base/",
}

// recorder answers every request with fn and records the request URLs.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.urls...)
}

func newMockClient(t *testing.T, opts *alerce.Options, fn func(*http.Request) (*http.Response, error)) (*alerce.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	tr := httpmock.NewMockTransport()
	tr.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		rec.mu.Lock()
		rec.urls = append(rec.urls, req.URL.String())
		rec.mu.Unlock()
		return fn(req)
	})
	o := alerce.Options{}
	if opts != nil {
		o = *opts
	}
	o.HTTPClient, o.RequestInterval = &http.Client{Transport: tr}, -1
	o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 2*time.Millisecond
	c, err := alerce.New(mockURLs, &o)
	require.NoError(t, err)
	return c, rec
}

func jsonResponse(status int, body string) (*http.Response, error) {
	resp := httpmock.NewStringResponse(status, body)
	resp.Header.Set("Content-Type", "application/json")
	return resp, nil
}

func TestClientRequests(t *testing.T) {
	ctx := context.Background()
	c, rec := newMockClient(t, nil, func(req *http.Request) (*http.Response, error) {
		switch {
		case strings.HasSuffix(req.URL.Path, "/lightcurve"):
			return jsonResponse(200, `{"detections": [], "non_detections": []}`)
		case strings.HasSuffix(req.URL.Path, "/objects/"):
			return jsonResponse(200, `{"total": null, "items": []}`)
		}
		return jsonResponse(200, `[]`)
	})
	_, err := c.ZTFConeSearch(ctx, 0, 15.5, 2)
	require.NoError(t, err)
	_, err = c.ZTFConeSearch(ctx, 185.5, 0, 2)
	require.NoError(t, err)
	_, err = c.ZTFLightCurve(ctx, "ZTF20aaelulu")
	require.NoError(t, err)
	_, err = c.ZTFForcedPhotometry(ctx, "ZTF20aaelulu")
	require.NoError(t, err)
	_, err = c.MultisurveyConeSearch(ctx, 10.5, -20.25, 3.6, 10)
	require.NoError(t, err)
	_, err = c.LSSTDetections(ctx, "169298433191444991")
	require.NoError(t, err)
	_, err = c.LSSTForcedPhotometry(ctx, "169298433191444991")
	require.NoError(t, err)
	assert.Equal(t, []string{
		// RA exactly 0 is sent as 1e-9: the v1 server drops a cone with a 0.
		"https://api.example.org/ztf/v1/objects/?count=false&dec=15.5&page=1&page_size=20&ra=0.000000001&radius=2",
		"https://api.example.org/ztf/v1/objects/?count=false&dec=0.000000001&page=1&page_size=20&ra=185.5&radius=2",
		"https://api.example.org/ztf/v1/objects/ZTF20aaelulu/lightcurve",
		"https://api.example.org/v2/lightcurve/forced-photometry/ZTF20aaelulu?survey_id=ztf",
		// The multisurvey radius is in degrees (3.6″ = 0.001°).
		"https://lsst.example.org/base/lightcurve_api/conesearch/objects_by_coordinates?dec=-20.25&neighbors=10&ra=10.5&radius=0.001",
		// The oid twice: the multi-oid path, without the LIMIT 10 bug.
		"https://lsst.example.org/base/lightcurve_api/detections?oid=169298433191444991&oid=169298433191444991&survey_id=lsst",
		"https://lsst.example.org/base/lightcurve_api/forced-photometry?oid=169298433191444991&oid=169298433191444991&survey_id=lsst",
	}, rec.seen())
	for _, u := range rec.seen() {
		p, err := url.Parse(u)
		require.NoError(t, err)
		assert.NotContains(t, p.Path, "//", "no double slash, whatever the base URLs end with")
	}
	assert.Equal(t, "https://api.example.org/ztf/v1", c.URLs().ZTF)

	def, err := alerce.New(alerce.URLs{}, nil)
	require.NoError(t, err)
	assert.Equal(t, alerce.URLs{ZTF: alerce.DefaultZTFURL, LightCurve: alerce.DefaultLightCurveURL, Multisurvey: alerce.DefaultMultisurveyURL}, def.URLs())
}

func TestClientConeSearchPagesAndChecksDistances(t *testing.T) {
	// A server that ignores the cone (as v1 does for a coordinate of 0):
	// three full pages of objects everywhere, then a short one. Only the
	// object inside the cone is kept, nearest first.
	pages := map[string]string{
		"1": `{"items": [{"oid": "ZTF20aaaaaab", "meanra": 100.0, "meandec": 10.0}, {"oid": "ZTF20aaaaaac", "meanra": 50.0005, "meandec": 20.0}]}`,
		"2": `{"items": [{"oid": "ZTF20aaaaaad", "meanra": 50.0, "meandec": 20.0001}, {"oid": "ZTF20aaaaaae", "meanra": 5.0, "meandec": 2.0}]}`,
		"3": `{"items": [{"oid": "not an oid", "meanra": 50.0, "meandec": 20.0}]}`,
	}
	c, rec := newMockClient(t, &alerce.Options{PageSize: 2}, func(req *http.Request) (*http.Response, error) {
		assert.Equal(t, "2", req.URL.Query().Get("page_size"))
		return jsonResponse(200, pages[req.URL.Query().Get("page")])
	})
	objs, err := c.ZTFConeSearch(context.Background(), 50, 20, 2)
	require.NoError(t, err)
	require.Len(t, objs, 2)
	assert.Equal(t, "ZTF20aaaaaad", objs[0].OID, "nearest first (0.36″)")
	assert.InDelta(t, 0.36, objs[0].Separation, 1e-3)
	assert.Equal(t, "ZTF20aaaaaac", objs[1].OID)
	assert.InDelta(t, 1.69, objs[1].Separation, 1e-2)
	assert.Len(t, rec.seen(), 3, "pages until a short page")
}

func TestClientMultisurveyIDsStayExact(t *testing.T) {
	// objectId above 2^53, as a string and (defensively) as a number.
	c, _ := newMockClient(t, nil, func(*http.Request) (*http.Response, error) {
		return jsonResponse(200, `[{"objectId": "169298433191444991", "survey_id": "lsst", "ra": 10.5, "dec": -20.25},
			{"objectId": 169298433191444993, "survey_id": "lsst", "ra": 10.5001, "dec": -20.25},
			{"objectId": "ZTF25abcdefg", "survey_id": "ztf", "ra": 10.5, "dec": -20.2501},
			{"objectId": "169298433191444995", "survey_id": "lsst", "ra": 11.5, "dec": -20.25},
			{"objectId": null, "survey_id": "lsst", "ra": 10.5, "dec": -20.25},
			{"objectId": 1.6929843319144499e17, "survey_id": "lsst", "ra": 10.5, "dec": -20.25}]`)
	})
	objs, err := c.MultisurveyConeSearch(context.Background(), 10.5, -20.25, 2, 10)
	require.NoError(t, err)
	require.Len(t, objs, 3, "the object 3° away is outside the 2″ cone; a null id and a float id are no objects")
	assert.Equal(t, alerce.Object{OID: "169298433191444991", Survey: alerce.SurveyLSST, RA: 10.5, Dec: -20.25}, objs[0])
	assert.Equal(t, "169298433191444993", objs[1].OID, "0.34″, a number kept as its digits")
	assert.Equal(t, alerce.SurveyZTF, objs[2].Survey)
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	status := 404
	body := `{"message": "Object ZTF20aaaaaaa not found"}`
	ct := "application/json"
	c, rec := newMockClient(t, nil, func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		resp.Header.Set("Content-Type", ct)
		return resp, nil
	})
	_, err := c.ZTFLightCurve(ctx, "ZTF20aaaaaaa")
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "v1 answers 404 for an unknown object")
	var re *singletarget.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 404, re.Status)

	status, body = 503, "<html><body>503 Service Unavailable</body></html>"
	n := len(rec.seen())
	_, err = c.ZTFForcedPhotometry(ctx, "ZTF20aaaaaaa")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.Equal(t, 4, len(rec.seen())-n, "a 5xx is retried (RetryMax 3)")

	status, body, ct = 200, "<html><body>maintenance</body></html>", "text/html"
	_, err = c.LSSTDetections(ctx, "169298433191444991")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.Contains(t, err.Error(), "HTML")

	ct = "application/json"
	for _, b := range []string{`{"detections": [`, `{"detail": "oops"}`, `[1, 2]`} {
		body = b
		_, err = c.ZTFLightCurve(ctx, "ZTF20aaaaaaa")
		assert.ErrorIs(t, err, singletarget.ErrRemote, b)
	}
	body = `{"items": null}`
	_, err = c.ZTFConeSearch(ctx, 1, 1, 2)
	assert.ErrorIs(t, err, singletarget.ErrRemote)

	for name, call := range map[string]func() error{
		"LSST id to ZTF":   func() error { _, err := c.ZTFLightCurve(ctx, "169298433191444991"); return err },
		"ZTF id to LSST":   func() error { _, err := c.LSSTForcedPhotometry(ctx, "ZTF20aaelulu"); return err },
		"radius":           func() error { _, err := c.ZTFConeSearch(ctx, 1, 1, 31); return err },
		"dec":              func() error { _, err := c.MultisurveyConeSearch(ctx, 1, 91, 2, 10); return err },
		"neighbors":        func() error { _, err := c.MultisurveyConeSearch(ctx, 1, 1, 2, 0); return err },
		"id over int64":    func() error { _, err := c.LSSTDetections(ctx, "9223372036854775808"); return err },
		"upper-case oid":   func() error { _, err := c.ZTFForcedPhotometry(ctx, "ZTF20AAELULU"); return err },
		"path in the oid":  func() error { _, err := c.ZTFLightCurve(ctx, "../objects"); return err },
		"negative LSST id": func() error { _, err := c.LSSTDetections(ctx, "-5"); return err },
	} {
		err := call()
		assert.ErrorIs(t, err, alerce.ErrInvalidQuery, name)
	}
}

func TestNewChecksOptions(t *testing.T) {
	_, err := alerce.New(alerce.URLs{ZTF: "ftp://x", Multisurvey: "https://u:p@x"}, &alerce.Options{PageSize: -1, Timeout: -time.Second})
	require.Error(t, err)
	for _, want := range []string{"URLs.ZTF", "URLs.Multisurvey", "PageSize", "Timeout"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.False(t, errors.Is(err, singletarget.ErrRemote))
}

// A base URL that carries credentials or a key is refused without
// quoting them.
func TestNewKeepsSecretsOfBadURLsOutOfErrors(t *testing.T) {
	_, err := alerce.New(alerce.URLs{ZTF: "https://user:hunter22@api.example/ztf/v1", LightCurve: "https://api.example/v2?token=tok3n-s3cret",
		Multisurvey: "https://api.example/#frag-s3cret"}, nil)
	require.Error(t, err)
	for _, secret := range []string{"hunter22", "tok3n-s3cret", "frag-s3cret"} {
		assert.NotContains(t, err.Error(), secret)
	}
	for _, field := range []string{"URLs.ZTF", "URLs.LightCurve", "URLs.Multisurvey"} {
		assert.Contains(t, err.Error(), field)
	}
	_, err = alerce.NewService(alerce.URLs{ZTF: "ftp://user:hunter22@api.example"}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter22")
}

func TestIDs(t *testing.T) {
	for id, want := range map[string]alerce.Survey{
		"ZTF20aaelulu": alerce.SurveyZTF, "169298433191444990": alerce.SurveyLSST, "1": alerce.SurveyLSST,
		"9223372036854775807": alerce.SurveyLSST, "9223372036854775808": "", "0": "", "ZTF20aaelulux": "",
		"ZTF2aaelulu": "", "ztf20aaelulu": "", "": "", "1.5e17": "", " 12": "",
	} {
		got, ok := alerce.SurveyOf(id)
		assert.Equal(t, want, got, id)
		assert.Equal(t, want != "", ok, id)
	}
}

// The service built from its default settings (no url) asks the real
// hosts, at the paths shared/services/alerce.md documents.
func TestDefaultSettingsAskTheDocumentedEndpoints(t *testing.T) {
	var mu sync.Mutex
	var got []string
	tr := httpmock.NewMockTransport()
	tr.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		got = append(got, req.Method+" "+req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
		mu.Unlock()
		switch p := req.URL.Path; {
		case strings.HasSuffix(p, "/objects/"):
			return jsonResponse(200, `{"items": [{"oid": "ZTF23aaklqou", "meanra": 210.910674, "meandec": 54.311686}]}`)
		case strings.HasSuffix(p, "/lightcurve"):
			return jsonResponse(200, `{"detections": [{"mjd": 60083.3, "fid": 1, "magpsf": 14.1, "sigmapsf": 0.02, "isdiffpos": 1}], "non_detections": []}`)
		case strings.HasSuffix(p, "/objects_by_coordinates"):
			return jsonResponse(200, `[{"objectId": "169298433191444991", "survey_id": "lsst", "ra": 210.910674, "dec": 54.311686}]`)
		}
		return jsonResponse(200, `[]`)
	})
	r := singletarget.NewRegistry()
	require.NoError(t, alerce.Register(r))
	cfg, err := singletarget.ParseConfig([]byte("single_target_data_services:\n  ALERCE:\n    class: alerce.Service\n    request_interval: -1s\ndata_processors:\n  alerce_photometry: alerce.Processor\n"), nil)
	require.NoError(t, err)
	m, err := r.Load(cfg, dataproduct.NewMemoryStore(nil), &singletarget.ManagerOptions{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	tg := singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}
	for _, survey := range []string{"ztf", "lsst"} {
		_, err := m.Run(context.Background(), singletarget.Request{Service: "ALERCE", Target: tg, Params: url.Values{"survey": {survey}}})
		if survey == "ztf" {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, singletarget.ErrNotFound, "an LSST object with no rows")
		}
	}
	assert.Equal(t, []string{
		"GET https://api.alerce.online/ztf/v1/objects/",                                       // §3.1
		"GET https://api.alerce.online/ztf/v1/objects/ZTF23aaklqou/lightcurve",                // §4.1
		"GET https://api.alerce.online/v2/lightcurve/forced-photometry/ZTF23aaklqou",          // §4.2
		"GET https://api-lsst.alerce.online/lightcurve_api/conesearch/objects_by_coordinates", // §3.2
		"GET https://api-lsst.alerce.online/lightcurve_api/detections",                        // §5
		"GET https://api-lsst.alerce.online/lightcurve_api/forced-photometry",                 // §5
	}, got)
}
