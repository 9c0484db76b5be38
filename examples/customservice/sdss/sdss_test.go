package sdss_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/examples/customservice/sdss"
	"github.com/tomgo/targetdata/examples/customservice/sdss/sdsstest"
	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/processor/processortest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
)

// galaxy is the target of the simulator's bundled spectrum.
var galaxy = singletarget.Target{ID: 1, Name: "SDSS J140338.56+541842.1", RA: 210.910674, Dec: 54.311686}

// newService returns a service talking to a fresh simulator, with short
// retry waits.
func newService(t *testing.T, log *slog.Logger) (*sdss.Service, *sdsstest.Server) {
	t.Helper()
	sim := sdsstest.NewServer(t, nil)
	svc, err := sdss.NewService(sim.URL, &sdss.Options{SASURL: sim.SASURL, HTTPClient: sim.Client(), Logger: log,
		MaxRetryWait: 10 * time.Millisecond})
	require.NoError(t, err)
	return svc, sim
}

// The service passes the conformance suite every service runs.
func TestServiceConformance(t *testing.T) {
	servicetest.Run(t, servicetest.Harness{
		New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
			svc, sim := newService(t, log)
			return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext}
		},
		Target:       galaxy,
		Valid:        url.Values{"radius": {"5"}},
		Invalid:      url.Values{"radius": {"-1"}},
		InvalidField: "radius",
		Processor:    sdss.Processor{},
	})
}

// The processor passes the processor conformance suite.
func TestProcessorConformance(t *testing.T) {
	file := sdsstest.SpecLite()
	processortest.Run(t, processortest.Harness{
		Processor:  sdss.Processor{},
		Input:      file,
		WantDatums: 1,
		Bad:        file[:len(file)/2], // a download cut halfway
	})
}

func TestProcessor(t *testing.T) {
	ds, err := sdss.Processor{}.Process(context.Background(), bytes.NewReader(sdsstest.SpecLite()))
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, time.Date(2010, 12, 25, 5, 43, 21, 0, time.UTC), d.Timestamp, "DATE-OBS")
	assert.Equal(t, sdss.ServiceName, d.Source)
	assert.Equal(t, dataproduct.TypeSpectroscopy, d.DataType)
	s := d.Value.(dataproduct.Spectrum)
	assert.Equal(t, 3839, len(s.Wavelength), "3850 pixels, 11 with ivar = 0")
	assert.InDelta(t, 3805.397163, s.Wavelength[0], 1e-6, "10^loglam of the first pixel with ivar > 0")
	assert.InDelta(t, 1.42242327e-16, s.Flux[0], 1e-24, "flux × 1e-17")
	assert.Equal(t, 3839, len(s.Error))
	assert.Equal(t, "erg/cm^2/s/Ang", s.FluxUnits)
	assert.Equal(t, "Angstrom", s.WavelengthUnits)
}

func TestQuery(t *testing.T) {
	svc, sim := newService(t, nil)
	store := dataproduct.NewMemoryStore(nil)
	ctx := context.Background()
	f := svc.NewForm()
	require.NoError(t, f.Decode(url.Values{"radius": {"20"}, "class": {"STAR"}}))
	require.NoError(t, f.Validate())
	out, err := svc.Query(ctx, galaxy, f, store)
	require.NoError(t, err)
	require.Len(t, out.Products, 1)
	p := out.Products[0]
	assert.Equal(t, "sdss_SDSS_J140338.56_541842.1_spec-1324-52797-0007.fits", p.Name)
	assert.Equal(t, sdss.DataProductType, p.DataProductType)
	assert.Equal(t, "STAR", p.Extra["class"])
	assert.Equal(t, "1152921504606846976", p.Extra["specobjid"], "64-bit ids kept exactly")
	assert.Equal(t, sim.SASURL+"/sdss/spectro/redux/26/spectra/lite/1324/spec-1324-52797-0007.fits", p.Extra["url"],
		"SDSS-I/II spectra are under sdss/")

	reqs := sim.Requests()
	require.Len(t, reqs, 2)
	u, err := url.Parse(reqs[0])
	require.NoError(t, err)
	assert.Equal(t, "/sim/dr17/SkyServerWS/SearchTools/SqlSearch", u.Path)
	assert.Equal(t, "json", u.Query().Get("format"))
	assert.Equal(t, sdss.NearestSQL(galaxy.RA, galaxy.Dec, 20, "STAR"), u.Query().Get("cmd"))
	assert.Contains(t, u.Query().Get("cmd"), "dbo.fGetNearbySpecObjEq(210.910674, 54.311686, 0.3333333333333333)")
	assert.Contains(t, u.Query().Get("cmd"), "WHERE s.class = 'STAR'")
}

func TestNearest(t *testing.T) {
	svc, sim := newService(t, nil)
	c := svc.Client()
	ctx := context.Background()

	o, err := c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	require.NoError(t, err)
	assert.Equal(t, sdss.SpecObj{SpecObjID: "4776035489613422592", Plate: 4242, MJD: 55555, FiberID: 123, Run2D: "v5_13_2",
		Survey: "boss", RA: galaxy.RA, Dec: galaxy.Dec, Z: 0.1, Class: "GALAXY"}, *o)
	assert.Equal(t, sim.SASURL+"/eboss/spectro/redux/v5_13_2/spectra/lite/4242/spec-4242-55555-0123.fits", c.SpecLiteURL(*o))

	// Nothing near: ErrNotFound, naming the radius.
	_, err = c.Nearest(ctx, 10, -10, 3, "")
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.Contains(t, err.Error(), "no SDSS spectrum within 3 arcsec of (10, -10)")
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "QSO")
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.Contains(t, err.Error(), "no SDSS QSO spectrum")

	// SkyServer's HTML error page is not JSON.
	sim.Inject(sdsstest.Fault{Status: http.StatusOK, Body: "<!doctype html><html><title>SQL Search - SkyserverSDSS</title></html>"})
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.Contains(t, err.Error(), "HTML instead of JSON")

	// A 500 is retried (GETs are idempotent).
	before := len(sim.Requests())
	sim.Inject(sdsstest.Fault{Status: http.StatusInternalServerError, Body: "busy"})
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	require.NoError(t, err)
	assert.Len(t, sim.Requests(), before+2)

	// Every attempt failing: a RemoteError with the status and body.
	sim.Inject(sdsstest.Fault{Times: 4, Status: http.StatusBadGateway, Body: "upstream down"})
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	var re *singletarget.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusBadGateway, re.Status)
	assert.Equal(t, "upstream down", re.Body)
	assert.NotContains(t, re.URL, "SELECT", "the SQL is left out of errors")

	// 429: not retried, not waited out; the wait comes back.
	sim.ThrottleNext(90 * time.Second)
	start := time.Now()
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 90*time.Second, te.RetryAfter)
	assert.Less(t, time.Since(start), 5*time.Second)
	// Until the wait is over, the client does not ask again.
	n := len(sim.Requests())
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	require.ErrorAs(t, err, &te)
	assert.InDelta(t, 90, te.RetryAfter.Seconds(), 5)
	assert.Len(t, sim.Requests(), n, "no request while the server's wait runs")

	// 503 with a Retry-After: throttling too (on a fresh client: the one
	// above is still waiting out the 429).
	svc, sim = newService(t, nil)
	c = svc.Client()
	sim.Inject(sdsstest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Hour})
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	require.ErrorAs(t, err, &te)
	assert.Equal(t, time.Hour, te.RetryAfter)
	assert.Equal(t, "down for maintenance", te.Detail)
	// A plain 503 is retried.
	sim.Inject(sdsstest.Fault{Status: http.StatusServiceUnavailable, Body: "restarting"})
	_, err = c.Nearest(ctx, galaxy.RA, galaxy.Dec, 3, "")
	assert.NoError(t, err)
}

func TestDownloadFailures(t *testing.T) {
	ctx := context.Background()
	// A file missing on the SAS: ErrNotFound.
	sim := sdsstest.NewServer(t, &sdsstest.Options{Objects: []sdsstest.Object{{SpecObj: sdss.SpecObj{
		SpecObjID: "1", Plate: 99, MJD: 51000, FiberID: 1, Run2D: "v5_13_2", RA: 1, Dec: 1}}}})
	svc, err := sdss.NewService(sim.URL, &sdss.Options{SASURL: sim.SASURL + "/elsewhere", HTTPClient: sim.Client(), MaxRetryWait: time.Millisecond})
	require.NoError(t, err)
	store := dataproduct.NewMemoryStore(nil)
	_, err = svc.Query(ctx, singletarget.Target{ID: 1, Name: "x", RA: 1, Dec: 1}, svc.NewForm(), store)
	assert.ErrorIs(t, err, singletarget.ErrNotFound)

	// A download cut halfway stores nothing.
	svc3, sim3 := newService(t, nil)
	sim3.Inject(sdsstest.Fault{Endpoint: sdsstest.EndpointFile, Truncate: true})
	store3 := dataproduct.NewMemoryStore(nil)
	_, err = svc3.Query(ctx, galaxy, svc3.NewForm(), store3)
	require.Error(t, err)
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	ps, err := store3.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, ps, "nothing stored from a cut download")
	_, err = svc3.Query(ctx, galaxy, svc3.NewForm(), store3)
	require.NoError(t, err, "the next try succeeds")

	// A file over the cap.
	small, err := sdss.NewService(sim3.URL, &sdss.Options{SASURL: sim3.SASURL, HTTPClient: sim3.Client(), MaxFileBytes: 1000})
	require.NoError(t, err)
	_, err = small.Query(ctx, galaxy, small.NewForm(), dataproduct.NewMemoryStore(nil))
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.ErrorIs(t, err, httpclient.ErrBodyTooLarge)
	assert.Contains(t, err.Error(), "cap 1000 bytes")
}

func TestOptions(t *testing.T) {
	_, err := sdss.New("ftp://example.org", nil)
	assert.ErrorContains(t, err, "baseURL")
	_, err = sdss.New("", &sdss.Options{SASURL: "not a url"})
	assert.ErrorContains(t, err, "Options.SASURL")
	c, err := sdss.New("", nil)
	require.NoError(t, err)
	o := sdss.SpecObj{Plate: 266, MJD: 51630, FiberID: 4, Run2D: "26"}
	assert.Equal(t, "https://data.sdss.org/sas/dr17/sdss/spectro/redux/26/spectra/lite/0266/spec-0266-51630-0004.fits", c.SpecLiteURL(o))
	o = sdss.SpecObj{Plate: 10000, MJD: 57346, FiberID: 998, Run2D: "v5_13_2"}
	assert.Equal(t, "https://data.sdss.org/sas/dr17/eboss/spectro/redux/v5_13_2/spectra/lite/10000/spec-10000-57346-0998.fits", c.SpecLiteURL(o))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Nearest(ctx, 1, 1, 1, "")
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestRegister(t *testing.T) {
	sim := sdsstest.NewServer(t, nil)
	env := map[string]string{"SDSS_URL": sim.URL, "SDSS_SAS_URL": sim.SASURL}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	reg := singletarget.NewRegistry()
	require.NoError(t, sdss.Register(reg))
	assert.Error(t, sdss.Register(reg), "registering twice is refused")

	cfg, err := singletarget.ParseConfig([]byte(settingsYAML), lookup)
	require.NoError(t, err)
	m, err := reg.Load(cfg, dataproduct.NewMemoryStore(nil), &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	require.NoError(t, err)
	res, err := m.Run(context.Background(), singletarget.Request{Service: sdss.ServiceName, Target: galaxy})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)

	for _, c := range []struct{ yaml, key string }{
		{strings.Replace(settingsYAML, "sas_url:", "sas_ulr:", 1), "single_target_data_services.SDSS_SPECTRA.sas_ulr"},
		{strings.Replace(settingsYAML, "max_retries: 2", "max_retries: many", 1), "single_target_data_services.SDSS_SPECTRA.max_retries"},
		{strings.Replace(settingsYAML, "  SDSS_SPECTRA:", "  SDSS:", 1), "single_target_data_services.SDSS"},
		{strings.Replace(settingsYAML, "url: ${SDSS_URL}", "url: ftp://x", 1), "single_target_data_services.SDSS_SPECTRA.url"},
	} {
		cfg, err := singletarget.ParseConfig([]byte(c.yaml), lookup)
		if err == nil {
			_, err = reg.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
		}
		require.Error(t, err, c.key)
		assert.ErrorIs(t, err, singletarget.ErrConfig)
		assert.Contains(t, err.Error(), c.key)
	}
}

const settingsYAML = `
single_target_data_services:
  SDSS_SPECTRA:
    class: sdss.Service
    url: ${SDSS_URL}
    sas_url: ${SDSS_SAS_URL}
    max_retries: 2
data_product_types:
  sdss_spectrum: SDSS Spectrum
data_processors:
  sdss_spectrum: sdss.Processor
`
