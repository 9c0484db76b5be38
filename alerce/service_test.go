package alerce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
)

// target is in both ZTF's and Rubin's sky.
var target = singletarget.Target{ID: 7, Name: "SN 2025xyz", RA: 150.1234567, Dec: 2.2345678}

// fast are options for tests against the simulator.
func fast(sim *alercetest.Server, log *slog.Logger) *alerce.Options {
	return &alerce.Options{HTTPClient: sim.Client(), Logger: log, RequestInterval: -1,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
}

func newService(t *testing.T, simOpts *alercetest.Options, opts *alerce.Options) (*alerce.Service, *alercetest.Server) {
	t.Helper()
	sim := alercetest.NewServer(t, simOpts)
	o := fast(sim, nil)
	if opts != nil {
		o = opts
		o.HTTPClient = sim.Client()
	}
	svc, err := alerce.NewService(sim.URLs(), o)
	require.NoError(t, err)
	return svc, sim
}

func newManager(t *testing.T, svc *alerce.Service) (*singletarget.Manager, dataproduct.Store) {
	t.Helper()
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(alerce.DataProductType, alerce.Processor{}))
	require.NoError(t, m.AddService(svc))
	return m, store
}

func run(t *testing.T, m *singletarget.Manager, tg singletarget.Target, params url.Values) *singletarget.Result {
	t.Helper()
	res, err := m.Run(context.Background(), singletarget.Request{Service: alerce.ServiceName, Target: tg, Params: params})
	require.NoError(t, err)
	return res
}

// datums returns the datums of a product as JSON lines (their identity).
func datums(t *testing.T, store dataproduct.Store, productID int64) []string {
	t.Helper()
	ds, err := store.ListDatums(context.Background(), dataproduct.DatumFilter{ProductID: productID})
	require.NoError(t, err)
	out := make([]string, len(ds))
	for i, d := range ds {
		v, err := dataproduct.CanonicalValue(d.Value)
		require.NoError(t, err)
		out[i] = d.Timestamp.Format(time.RFC3339Nano) + " " + d.Source + " " + string(v)
	}
	return out
}

func TestServiceConformance(t *testing.T) {
	for _, survey := range []string{"ztf", "lsst"} {
		t.Run(survey, func(t *testing.T) {
			servicetest.Run(t, servicetest.Harness{
				New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
					sim := alercetest.NewServer(t, nil)
					svc, err := alerce.NewService(sim.URLs(), fast(sim, log))
					require.NoError(t, err)
					return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext}
				},
				Target:       target,
				Valid:        url.Values{"survey": {survey}},
				Invalid:      url.Values{"radius": {"31"}},
				InvalidField: "radius",
				Processor:    alerce.Processor{},
			})
		})
	}
}

// The real sample through the whole flow: object id → v1 light curve →
// product → 5 detections and 3 limits.
func TestServiceRealSampleByID(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	m, store := newManager(t, svc)
	res := run(t, m, target, url.Values{"object_id": {alercetest.SampleOID}})
	require.Len(t, res.Products, 1)
	p := res.Products[0]
	assert.Equal(t, "alerce-SN_2025xyz-ZTF20aaelulu-dnf-start-end.json", p.Name)
	assert.Equal(t, map[string]string{"survey": "ztf", "oid": "ZTF20aaelulu", "detections": "6", "non_detections": "3", "forced_photometry": "0"}, p.Extra)
	assert.Equal(t, 8, res.Added)
	det, lim := 0, 0
	for _, line := range datums(t, store, p.ID) {
		if strings.Contains(line, `"magnitude"`) {
			det++
		} else {
			lim++
		}
	}
	assert.Equal(t, 5, det)
	assert.Equal(t, 3, lim)

	// The stored file holds the server's rows byte for byte.
	rc, err := store.OpenProduct(context.Background(), p.ID)
	require.NoError(t, err)
	stored, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	var lc alerce.LightCurve
	require.NoError(t, json.Unmarshal(stored, &lc))
	assert.Equal(t, &alerce.Processing{MagnitudeKind: "difference", SNRDetect: 3, LimitSigma: 5}, lc.Processing)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, sample(t)))
	assert.Contains(t, compact.String(), string(lc.Detections[3]), "row 4 of the sample, unchanged")

	// The target's own name, when it is a ZTF oid, needs no object_id.
	byName := run(t, m, singletarget.Target{ID: 8, Name: "ZTF20aaelulu", RA: 185.7, Dec: 15.8}, nil)
	assert.Equal(t, 8, byName.Added)
	assert.Zero(t, sim.Requests(alercetest.EndpointObjects), "no cone search for an id")
	assert.Zero(t, sim.DoubleSlashes())
}

func TestServiceConeSearchZTF(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	m, store := newManager(t, svc)
	res := run(t, m, target, nil)
	p := res.Products[0]
	obj, ok := sim.ObjectAt(alerce.SurveyZTF, target.RA, target.Dec)
	require.True(t, ok)
	assert.Equal(t, obj.OID, p.Extra["oid"])
	assert.Equal(t, "0.269", p.Extra["separation_arcsec"])
	assert.NotContains(t, p.Extra, "other_objects", "the neighbour 8″ away is outside 2″")
	lines := datums(t, store, p.ID)
	var alerts, forced, negative, limits int
	for _, l := range lines {
		switch {
		case strings.Contains(l, " ALERCE_FP "):
			forced++
		case strings.Contains(l, `"isdiffpos":-1`):
			negative++
		case strings.Contains(l, `"limit"`):
			limits++
		default:
			alerts++
		}
		assert.NotContains(t, l, `"magnitude":null`)
	}
	// 12 epochs × 2 bands, one listed twice, one isdiffpos −1; 12
	// non-detections (one twice, one without diffmaglim); 36 forced points
	// less a procstatus-56 epoch and an e_mag sentinel.
	assert.Equal(t, 23, alerts)
	assert.Equal(t, 1, negative)
	assert.Equal(t, 11, limits)
	assert.Equal(t, 34, forced)
	assert.Equal(t, len(lines), res.Added)

	// A wider cone finds the neighbour too: the nearest is taken and the
	// other reported.
	res = run(t, m, target, url.Values{"radius": {"10"}})
	assert.Equal(t, obj.OID, res.Products[0].Extra["oid"])
	assert.Len(t, strings.Split(res.Products[0].Extra["other_objects"], ","), 1)
	assert.Equal(t, "alerce-SN_2025xyz-"+obj.OID+"-dnf-start-end.json", res.Products[0].Name, "the radius does not name the product: the object does")
	assert.Zero(t, res.Added, "the same object again adds nothing")
}

func TestServiceLSST(t *testing.T) {
	ctx := context.Background()
	svc, sim := newService(t, nil, nil) // the LIMIT 10 bug is on
	m, store := newManager(t, svc)
	res := run(t, m, target, url.Values{"survey": {"lsst"}})
	p := res.Products[0]
	obj, ok := sim.ObjectAt(alerce.SurveyLSST, target.RA, target.Dec)
	require.True(t, ok)
	assert.Equal(t, obj.OID, p.Extra["oid"], "the LSST object, not the ZTF one the multisurvey cone also finds")
	assert.Equal(t, "64", p.Extra["forced_photometry"], "every forced source, not 10")

	// What a single-oid request gets from the server: the bug.
	fixed := alercetest.NewServer(t, &alercetest.Options{FixLimitBug: true})
	c, err := alerce.New(fixed.URLs(), fast(fixed, nil))
	require.NoError(t, err)
	fixed.ObjectAt(alerce.SurveyLSST, target.RA, target.Dec)
	all, err := c.LSSTForcedPhotometry(ctx, obj.OID)
	require.NoError(t, err)
	assert.Len(t, all, 64)
	single := httpGet(t, sim, sim.URLs().Multisurvey+"/lightcurve_api/forced-photometry?survey_id=lsst&oid="+obj.OID)
	var rows []json.RawMessage
	require.NoError(t, json.Unmarshal(single, &rows))
	assert.Len(t, rows, 10)

	lines := datums(t, store, p.ID)
	assert.Equal(t, res.Added, len(lines))
	var neg, missing int
	for _, l := range lines {
		assert.Contains(t, l, `"telescope":"Rubin"`)
		if strings.Contains(l, `"flux_ujy":-`) && strings.Contains(l, " ALERCE ") {
			neg++
			assert.NotContains(t, l, `"magnitude"`)
		}
		if strings.Contains(l, `"flux_ujy":0,`) {
			missing++
		}
	}
	assert.Equal(t, 1, neg, "the negative diaSource is a limit")
	assert.Zero(t, missing, "a 0.0 ± 0.0 row gives no datum")
	assert.Equal(t, 64-1+52, len(lines))

	// By id (the target's name is a diaObjectId).
	res = run(t, m, singletarget.Target{ID: 9, Name: obj.OID, RA: 1, Dec: 1}, url.Values{"detections": {"false"}})
	assert.Equal(t, "alerce-"+obj.OID+"-"+obj.OID+"-nf-start-end.json", res.Products[0].Name)
	assert.Equal(t, 63, res.Added)
}

func httpGet(t *testing.T, sim *alercetest.Server, u string) []byte {
	t.Helper()
	resp, err := sim.Client().Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// Without an id, auto takes the nearest ZTF object, else the nearest LSST
// one (south of ZTF's sky).
func TestServiceAutoFallsBackToLSST(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	m, _ := newManager(t, svc)
	south := singletarget.Target{ID: 3, Name: "SN 2026south", RA: 80.5, Dec: -45.25}
	res := run(t, m, south, nil)
	obj, ok := sim.ObjectAt(alerce.SurveyLSST, south.RA, south.Dec)
	require.True(t, ok)
	assert.Equal(t, obj.OID, res.Products[0].Extra["oid"])
	assert.Equal(t, "lsst", res.Products[0].Extra["survey"])
	assert.Equal(t, 1, sim.Requests(alercetest.EndpointObjects), "ZTF first")
}

// A target at RA 0 (or Dec 0): the v1 server would ignore the cone; the
// client sends 1e-9 and checks every distance.
func TestServiceZeroCoordinates(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	m, _ := newManager(t, svc)
	for _, tg := range []singletarget.Target{{ID: 1, Name: "at RA 0", RA: 0, Dec: 12.5}, {ID: 2, Name: "at Dec 0", RA: 33.3, Dec: 0}} {
		res := run(t, m, tg, url.Values{"forced_photometry": {"false"}})
		obj, ok := sim.ObjectAt(alerce.SurveyZTF, tg.RA, tg.Dec)
		require.True(t, ok)
		assert.Equal(t, obj.OID, res.Products[0].Extra["oid"], tg.Name)
	}
	// What the server does with a 0: every object, not the cone.
	var ans struct {
		Items []struct{ OID string }
	}
	require.NoError(t, json.Unmarshal(httpGet(t, sim, sim.URLs().ZTF+"/objects/?ra=0&dec=12.5&radius=2"), &ans))
	var oids []string
	for _, it := range ans.Items {
		oids = append(oids, it.OID)
	}
	assert.Contains(t, oids, alercetest.SampleOID, "the quirk: a cone at RA 0 lists ZTF20aaelulu, 185° away")
}

func TestServiceWindow(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	m, store := newManager(t, svc)
	obj, _ := sim.ObjectAt(alerce.SurveyZTF, target.RA, target.Dec)
	full := run(t, m, target, nil)
	// The window of an incremental refresh: everything from an MJD on.
	ds, err := store.ListDatums(context.Background(), dataproduct.DatumFilter{ProductID: full.Products[0].ID})
	require.NoError(t, err)
	cut := *ds[len(ds)/2].Value.(dataproduct.Photometry).MJD
	from := fmt.Sprint(cut)
	res := run(t, m, target, url.Values{"min_date_mjd": {from}})
	p := res.Products[0]
	assert.Equal(t, "alerce-SN_2025xyz-"+obj.OID+"-dnf-"+from+"-end.json", p.Name)
	assert.Zero(t, res.Added, "the window's datums are already stored")
	assert.Empty(t, datums(t, store, p.ID), "datums belong to the product that first stored them")
	rc, err := store.OpenProduct(context.Background(), p.ID)
	require.NoError(t, err)
	var lc alerce.LightCurve
	require.NoError(t, json.NewDecoder(rc).Decode(&lc))
	rc.Close()
	for _, rows := range [][]json.RawMessage{lc.Detections, lc.NonDetections, lc.ForcedPhotometry} {
		for _, r := range rows {
			var v struct{ MJD float64 }
			require.NoError(t, json.Unmarshal(r, &v))
			assert.GreaterOrEqual(t, v.MJD, cut)
		}
	}
	assert.Less(t, lc.Rows(), 74)

	// A window with nothing in it: not found, nothing stored.
	before, _ := store.ListProducts(context.Background(), dataproduct.ProductFilter{})
	_, err = m.Run(context.Background(), singletarget.Request{Service: alerce.ServiceName, Target: target,
		Params: url.Values{"max_date_mjd": {"58300"}}})
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.Contains(t, err.Error(), "between MJD start and 58300")
	after, _ := store.ListProducts(context.Background(), dataproduct.ProductFilter{})
	assert.Equal(t, len(before), len(after))
}

func TestServiceNotFound(t *testing.T) {
	// No ZTF object beyond Dec +80 either, so that there is sky with
	// nothing.
	svc, sim := newService(t, &alercetest.Options{HasZTF: func(_, dec float64) bool { return dec >= -31 && dec < 80 }}, nil)
	m, store := newManager(t, svc)
	ctx := context.Background()
	for name, c := range map[string]struct {
		target singletarget.Target
		params url.Values
		want   string
	}{
		"no ZTF object south of −31°": {singletarget.Target{ID: 1, Name: "south", RA: 10, Dec: -60}, url.Values{"survey": {"ztf"}}, "no ZTF object within 2 arcsec"},
		"no LSST object north":        {singletarget.Target{ID: 1, Name: "north", RA: 10, Dec: 60}, url.Values{"survey": {"lsst"}}, "no LSST object"},
		"no object at all":            {singletarget.Target{ID: 1, Name: "2023", RA: 10, Dec: 85}, url.Values{"survey": {"auto"}, "radius": {"1"}}, "no ZTF or LSST object within 1 arcsec"},
		"unknown ZTF object":          {target, url.Values{"object_id": {"ZTF18zzzzzzz"}}, "404"},
	} {
		_, err := m.Run(ctx, singletarget.Request{Service: alerce.ServiceName, Target: c.target, Params: c.params})
		assert.ErrorIs(t, err, singletarget.ErrNotFound, name)
		assert.ErrorContains(t, err, c.want, name)
	}
	// An object whose light curve is empty.
	sim.SetEmpty(true)
	_, err := m.Run(ctx, singletarget.Request{Service: alerce.ServiceName, Target: target})
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.ErrorContains(t, err, "no detections, non-detections, forced photometry photometry of ZTF")
	_, err = m.Run(ctx, singletarget.Request{Service: alerce.ServiceName, Target: target, Params: url.Values{"survey": {"lsst"}}})
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, ps, "nothing stored")
}

func TestFormErrors(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	for name, c := range map[string]struct {
		params url.Values
		field  string
	}{
		"radius":            {url.Values{"radius": {"31"}}, "radius"},
		"bad id":            {url.Values{"object_id": {"SN2025xyz"}}, "object_id"},
		"id of the other":   {url.Values{"object_id": {"ZTF20aaelulu"}, "survey": {"lsst"}}, "object_id"},
		"nothing asked":     {url.Values{"detections": {"false"}, "non_detections": {"false"}, "forced_photometry": {"false"}}, "detections"},
		"LSST limits only":  {url.Values{"survey": {"lsst"}, "detections": {"false"}, "forced_photometry": {"false"}}, "non_detections"},
		"LSST apparent":     {url.Values{"survey": {"lsst"}, "magnitude_kind": {"apparent"}}, "magnitude_kind"},
		"window reversed":   {url.Values{"min_date_mjd": {"60100"}, "max_date_mjd": {"60000"}}, "max_date_mjd"},
		"a JD, not an MJD":  {url.Values{"min_date_mjd": {"2460000.5"}}, "min_date_mjd"},
		"unknown survey":    {url.Values{"survey": {"atlas"}}, "survey"},
		"S/N not a number":  {url.Values{"snr_detect": {"many"}}, "snr_detect"},
		"magnitude kind":    {url.Values{"magnitude_kind": {"total"}}, "magnitude_kind"},
		"limit sigma zero":  {url.Values{"limit_sigma": {"0"}}, "limit_sigma"},
		"not a form field":  {url.Values{"mjd_min": {"60000"}}, "mjd_min"},
		"radius not a real": {url.Values{"radius": {"two"}}, "radius"},
	} {
		f := svc.NewForm()
		err := f.Decode(c.params)
		if err == nil {
			err = f.Validate()
		}
		var fe *singletarget.FormErrors
		if assert.ErrorAs(t, err, &fe, name) {
			assert.Contains(t, fe.Fields, c.field, "%s: %v", name, err)
		}
	}
	f := svc.NewForm().(*alerce.Form)
	require.NoError(t, f.Decode(url.Values{"object_id": {" 169298433191444991 "}, "min_date_mjd": {"61000"}}))
	require.NoError(t, f.Validate())
	assert.Equal(t, "169298433191444991", f.ObjectID)
	lo, hi := f.Window()
	assert.Equal(t, 61000.0, *lo)
	assert.Nil(t, hi)
}

// Faults of every kind on every endpoint are survived: the result is the
// clean run's, and a second run adds nothing.
func TestServiceSurvivesFaults(t *testing.T) {
	ctx := context.Background()
	clean, _ := newService(t, nil, nil)
	mc, cstore := newManager(t, clean)
	want := map[string][]string{}
	for _, survey := range []string{"ztf", "lsst"} {
		res := run(t, mc, target, url.Values{"survey": {survey}})
		want[survey] = datums(t, cstore, res.Products[0].ID)
	}

	sim := alercetest.NewServer(t, nil)
	opts := fast(sim, nil)
	opts.Timeout = time.Second
	svc, err := alerce.NewService(sim.URLs(), opts)
	require.NoError(t, err)
	m, store := newManager(t, svc)
	sim.Inject(
		alercetest.Fault{Endpoint: alercetest.EndpointObjects, Status: 502},
		alercetest.Fault{Endpoint: alercetest.EndpointObjects, Delay: 3 * time.Second}, // longer than the timeout
		alercetest.Fault{Endpoint: alercetest.EndpointLightCurve, Status: 500, Times: 2},
		alercetest.Fault{Endpoint: alercetest.EndpointLightCurve, Truncate: true, Reset: true},
		alercetest.Fault{Endpoint: alercetest.EndpointForcedPhotometry, Reset: true},
		alercetest.Fault{Endpoint: alercetest.EndpointForcedPhotometry, Status: 503},
		alercetest.Fault{Endpoint: alercetest.EndpointConeSearch, Status: 504},
		alercetest.Fault{Endpoint: alercetest.EndpointMultisurvey, Truncate: true, Reset: true, Times: 2},
		alercetest.Fault{Endpoint: alercetest.EndpointMultisurvey, Status: 500},
	)
	for _, survey := range []string{"ztf", "lsst"} {
		res, err := m.Run(ctx, singletarget.Request{Service: alerce.ServiceName, Target: target, Params: url.Values{"survey": {survey}}})
		require.NoError(t, err, survey)
		assert.Equal(t, want[survey], datums(t, store, res.Products[0].ID), "%s: nothing lost, nothing duplicated", survey)
		again := run(t, m, target, url.Values{"survey": {survey}})
		assert.Zero(t, again.Added, survey)
	}
	assert.Equal(t, 3+1, sim.Requests(alercetest.EndpointObjects), "the 502 and the timeout were retried; then one for the second query")

	// A failure that outlasts the retries fails the query, stores nothing,
	// and the next query stores everything once.
	store2 := dataproduct.NewMemoryStore(nil)
	m2 := singletarget.NewManager(store2, nil)
	require.NoError(t, m2.AddProcessor(alerce.DataProductType, alerce.Processor{}))
	require.NoError(t, m2.AddService(svc))
	// So does JSON cut short on the server (a whole answer that is not
	// JSON), which a retry inside the request would not mend.
	for _, f := range []alercetest.Fault{
		{Endpoint: alercetest.EndpointForcedPhotometry, Status: 500, Times: 4},
		{Endpoint: alercetest.EndpointLightCurve, Truncate: true},
		{Endpoint: alercetest.EndpointObjects, Truncate: true},
	} {
		sim.Inject(f)
		_, err = m2.Run(ctx, singletarget.Request{Service: alerce.ServiceName, Target: target})
		assert.ErrorIs(t, err, singletarget.ErrRemote, "%+v", f)
		assert.True(t, singletarget.Retryable(err))
		ps, _ := store2.ListProducts(ctx, dataproduct.ProductFilter{})
		assert.Empty(t, ps)
	}
	res := run(t, m2, target, nil)
	assert.Equal(t, want["ztf"], datums(t, store2, res.Products[0].ID))
}

func TestServiceDoubleSlashNever(t *testing.T) {
	sim := alercetest.NewServer(t, nil)
	u := sim.URLs()
	svc, err := alerce.NewService(alerce.URLs{ZTF: u.ZTF + "/", LightCurve: u.LightCurve + "/", Multisurvey: u.Multisurvey + "/"}, fast(sim, nil))
	require.NoError(t, err)
	m, _ := newManager(t, svc)
	run(t, m, target, nil)
	run(t, m, target, url.Values{"survey": {"lsst"}})
	assert.Positive(t, sim.Requests(alercetest.EndpointAny))
	assert.Zero(t, sim.DoubleSlashes())
	// What the official client's URL gets: a redirect.
	resp, err := sim.Client().Get(u.ZTF + "//objects/ZTF20aaelulu/lightcurve")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, sim.DoubleSlashes())
}

const settingsYAML = `
single_target_data_services:
  ALERCE:
    class: alerce.Service
    url: %s
    lightcurve_url: %s
    multisurvey_url: %s
    request_interval: -1s
    timeout: 30s
    page_size: 50
data_product_types:
  alerce_photometry: ALeRCE Photometry
data_processors:
  alerce_photometry: alerce.Processor
`

func TestRegisterAndLoad(t *testing.T) {
	r := singletarget.NewRegistry()
	require.NoError(t, alerce.Register(r))
	assert.Equal(t, []string{"alerce.Service"}, r.Classes())
	assert.Equal(t, []string{"alerce.Processor"}, r.ProcessorClasses())
	assert.Error(t, alerce.Register(r), "registering twice is an error")

	sim := alercetest.NewServer(t, nil)
	u := sim.URLs()
	cfg, err := singletarget.ParseConfig([]byte(fmt.Sprintf(settingsYAML, u.ZTF, u.LightCurve, u.Multisurvey)), nil)
	require.NoError(t, err)
	store := dataproduct.NewMemoryStore(nil)
	m, err := r.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	require.NoError(t, err)
	info, err := m.Info("ALERCE")
	require.NoError(t, err)
	assert.Equal(t, alerce.DataProductType, info.DataProductType)
	res, err := m.Run(context.Background(), singletarget.Request{Service: "ALERCE", Target: target, Params: url.Values{"survey": {"lsst"}}})
	require.NoError(t, err)
	assert.Positive(t, res.Added)

	for yaml, want := range map[string]string{
		"    api_key: abc\n":    "api_key",
		"    colour: blue\n":    "colour",
		"    timeout: soon\n":   "timeout",
		"    page_size: -3\n":   "page_size",
		"    url: ftp://x/y\n":  "url",
		"    lightcurve_url: x": "URLs.LightCurve",
	} {
		text := "single_target_data_services:\n  ALERCE:\n    class: alerce.Service\n" + yaml + "\n"
		cfg, err := singletarget.ParseConfig([]byte(text), nil)
		if err == nil {
			_, err = r.Load(cfg, store, nil)
		}
		assert.ErrorIs(t, err, singletarget.ErrConfig, yaml)
		assert.ErrorContains(t, err, want, yaml)
	}
}
