package ztf_test

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

var target = singletarget.Target{ID: 7, Name: "SN 2024abc", RA: 230.7155157, Dec: 41.0502799}

// newService returns a light-curve service on a fresh simulator.
func newService(t *testing.T, simOpts *ztftest.Options, log *slog.Logger) (*ztf.Service, *ztftest.Server) {
	t.Helper()
	sim := ztftest.NewServer(t, simOpts)
	svc, err := ztf.NewService(sim.LightCurveURL, &ztf.Options{
		HTTPClient: sim.Client(), Logger: log, RequestInterval: -1,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	return svc, sim
}

// newFPService returns a forced-photometry service on a fresh simulator,
// polling every few milliseconds.
func newFPService(t *testing.T, simOpts *ztftest.Options, opts *ztf.ForcedPhotometryOptions) (*ztf.ForcedPhotometryService, *ztftest.Server) {
	t.Helper()
	sim := ztftest.NewServer(t, simOpts)
	o := ztf.ForcedPhotometryOptions{}
	if opts != nil {
		o = *opts
	}
	o.HTTPClient = sim.Client()
	if o.PollInterval == 0 {
		o.PollInterval, o.MaxPollInterval = 2*time.Millisecond, 10*time.Millisecond
	}
	o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	svc, err := ztf.NewForcedPhotometryService(sim.ForcedPhotometryURL, sim.Credentials(), &o)
	require.NoError(t, err)
	return svc, sim
}

func TestServiceConformance(t *testing.T) {
	servicetest.Run(t, servicetest.Harness{
		New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
			svc, sim := newService(t, nil, log)
			return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext}
		},
		Target:       target,
		Valid:        url.Values{"bands": {"g,r"}, "min_date_mjd": {"58300"}},
		Invalid:      url.Values{"radius": {"900"}},
		InvalidField: "radius",
		Processor:    ztf.Processor{},
	})
}

func TestForcedPhotometryServiceConformance(t *testing.T) {
	servicetest.Run(t, servicetest.Harness{
		New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
			svc, sim := newFPService(t, nil, &ztf.ForcedPhotometryOptions{Logger: log})
			c := sim.Credentials()
			return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext,
				Secrets: []singletarget.Secret{c.Email, c.Password, c.HTTPUser, c.HTTPPassword}}
		},
		Target:       target,
		Valid:        url.Values{"min_date_mjd": {"59000"}, "max_date_mjd": {"59400"}},
		Invalid:      url.Values{"min_date_mjd": {"2459000.5"}},
		InvalidField: "min_date_mjd",
		Processor:    ztf.ForcedPhotometryProcessor{},
		Timeout:      20 * time.Second,
	})
}

func TestFormValidation(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	for name, c := range map[string]struct {
		params url.Values
		field  string
	}{
		"radius zero":     {url.Values{"radius": {"0"}}, "radius"},
		"radius big":      {url.Values{"radius": {"601"}}, "radius"},
		"radius text":     {url.Values{"radius": {"wide"}}, "radius"},
		"band":            {url.Values{"bands": {"z"}}, "bands"},
		"format":          {url.Values{"format": {"votable"}}, "format"},
		"jd not mjd":      {url.Values{"min_date_mjd": {"2459000.5"}}, "min_date_mjd"},
		"window order":    {url.Values{"min_date_mjd": {"59000"}, "max_date_mjd": {"58500"}}, "max_date_mjd"},
		"before survey":   {url.Values{"max_date_mjd": {"58000"}}, "max_date_mjd"},
		"negative":        {url.Values{"min_date_mjd": {"-5"}}, "min_date_mjd"},
		"mask":            {url.Values{"bad_catflags_mask": {"70000"}}, "bad_catflags_mask"},
		"collection":      {url.Values{"collection": {"DR23"}}, "collection"},
		"object ids":      {url.Values{"object_ids": {"717213200011874, abc"}}, "object_ids"},
		"ids with a band": {url.Values{"object_ids": {"717213200011874"}, "bands": {"g"}}, "bands"},
		"unknown field":   {url.Values{"radious": {"3"}}, "radious"},
	} {
		t.Run(name, func(t *testing.T) {
			f := svc.NewForm()
			err := f.Decode(c.params)
			if err == nil {
				err = f.Validate()
			}
			var fe *singletarget.FormErrors
			require.ErrorAs(t, err, &fe, "%v", c.params)
			assert.NotEmpty(t, fe.Fields[c.field], "errors name %s: %v", c.field, err)
		})
	}
	f := svc.NewForm()
	require.NoError(t, f.Validate(), "the initial values are valid")
	fields := f.Fields()
	radius, ok := singletarget.FieldByName(fields, "radius")
	require.True(t, ok)
	assert.Equal(t, "2", radius.Initial)
	assert.Equal(t, 600.0, *radius.Max)
	bands, _ := singletarget.FieldByName(fields, "bands")
	assert.Equal(t, singletarget.KindChoice, bands.Kind)
	assert.Len(t, bands.Choices, 7)
	mask, _ := singletarget.FieldByName(fields, "bad_catflags_mask")
	assert.Equal(t, "32768", mask.Initial)

	fp, _ := newFPService(t, nil, nil)
	for name, c := range map[string]struct {
		params url.Values
		field  string
	}{
		"start as jd":              {url.Values{"min_date_mjd": {"2459000.5"}}, "min_date_mjd"},
		"end as jd":                {url.Values{"max_date_mjd": {"2460000"}}, "max_date_mjd"},
		"out of range":             {url.Values{"max_date_mjd": {"300000"}}, "max_date_mjd"},
		"order":                    {url.Values{"min_date_mjd": {"59500"}, "max_date_mjd": {"59400"}}, "max_date_mjd"},
		"before survey":            {url.Values{"min_date_mjd": {"58000"}, "max_date_mjd": {"58100"}}, "max_date_mjd"},
		"text":                     {url.Values{"max_date_mjd": {"today"}}, "max_date_mjd"},
		"old name, an MJD":         {url.Values{"jd_start": {"59000.5"}}, "min_date_mjd"},
		"old name, text":           {url.Values{"jd_end": {"today"}}, "max_date_mjd"},
		"old name, order":          {url.Values{"jd_start": {"2459500.5"}, "jd_end": {"2459400.5"}}, "max_date_mjd"},
		"old and new name at once": {url.Values{"jd_start": {"2459500.5"}, "min_date_mjd": {"59000"}}, "min_date_mjd"},
	} {
		t.Run("fp "+name, func(t *testing.T) {
			f := fp.NewForm()
			err := f.Decode(c.params)
			if err == nil {
				err = f.Validate()
			}
			var fe *singletarget.FormErrors
			require.ErrorAs(t, err, &fe)
			assert.NotEmpty(t, fe.Fields[c.field], "%v", err)
		})
	}
	ff := fp.NewForm()
	require.NoError(t, ff.Validate())
	start, _ := singletarget.FieldByName(ff.Fields(), "min_date_mjd")
	assert.Equal(t, "58194", start.Initial)
	assert.Equal(t, [][]string{{"min_date_mjd", "max_date_mjd"}}, ff.Layout().Rows)

	// The older JD names are accepted and converted.
	old := fp.NewForm()
	params := url.Values{"jd_start": {"2459300.5"}, "jd_end": {"2459500.5"}}
	require.NoError(t, old.Decode(params))
	require.NoError(t, old.Validate())
	p := old.(*ztf.ForcedPhotometryForm)
	assert.Equal(t, 59300.0, *p.MinDateMJD)
	assert.Equal(t, 59500.0, *p.MaxDateMJD)
	assert.Equal(t, url.Values{"jd_start": {"2459300.5"}, "jd_end": {"2459500.5"}}, params, "the caller's values are left alone")

	// And the light-curve form's older names mjd_min and mjd_max.
	lc := svc.NewForm()
	require.NoError(t, lc.Decode(url.Values{"mjd_min": {"59000"}, "mjd_max": {"59100"}}))
	require.NoError(t, lc.Validate())
	assert.Equal(t, 59000.0, *lc.(*ztf.Form).MinDateMJD)
	assert.Equal(t, 59100.0, *lc.(*ztf.Form).MaxDateMJD)
}

func TestServiceProductNames(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	ids := sim.ObjectIDs(target.RA, target.Dec)
	require.Len(t, ids, 5)
	for _, c := range []struct {
		params url.Values
		name   string
	}{
		{url.Values{}, "ztf-SN_2024abc-all-start-end.csv"},
		{url.Values{"bands": {"g,r"}, "min_date_mjd": {"58300.5"}, "max_date_mjd": {"60000"}}, "ztf-SN_2024abc-gr-58300.5-60000.csv"},
		{url.Values{"radius": {"5"}, "bad_catflags_mask": {"0"}, "collection": {"ztf_dr22"}, "format": {"ipac_table"}}, "ztf-SN_2024abc-all-start-end-r5-m0-ztf_dr22.tbl"},
		{url.Values{"object_ids": {idStr(ids[0])}}, "ztf-SN_2024abc-id" + idStr(ids[0]) + "-start-end.csv"},
	} {
		f := svc.NewForm()
		require.NoError(t, f.Decode(c.params))
		require.NoError(t, f.Validate())
		out, err := svc.Query(ctx, target, f, store)
		require.NoError(t, err, "%v", c.params)
		require.Len(t, out.Products, 1)
		p := out.Products[0]
		assert.Equal(t, c.name, p.Name)
		assert.Equal(t, ztf.DataProductType, p.DataProductType)
		assert.NotContains(t, p.Extra["url"], "password")
		// The stored answer processes.
		rc, err := store.OpenProduct(ctx, p.ID)
		require.NoError(t, err)
		ds, err := ztf.Processor{BadCatflagsMask: -1}.Process(ctx, rc)
		rc.Close()
		require.NoError(t, err)
		assert.NotEmpty(t, ds)
		assert.Equal(t, p.Extra["rows"], strconv.Itoa(len(ds)), "%s", p.Name)
	}
	// Several ids give a hash.
	f := svc.NewForm()
	require.NoError(t, f.Decode(url.Values{"object_ids": {idStr(ids[1]) + "," + idStr(ids[0])}}))
	out, err := svc.Query(ctx, target, f, store)
	require.NoError(t, err)
	f2 := svc.NewForm()
	require.NoError(t, f2.Decode(url.Values{"object_ids": {idStr(ids[0]) + " " + idStr(ids[1])}}))
	out2, err := svc.Query(ctx, target, f2, store)
	require.NoError(t, err)
	assert.Regexp(t, `^ztf-SN_2024abc-ids2-[0-9a-f]{8}-start-end\.csv$`, out.Products[0].Name)
	assert.Equal(t, out.Products[0].Name, out2.Products[0].Name, "the order of the ids does not matter")
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func TestServiceEmptyAndErrors(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	south := singletarget.Target{ID: 8, Name: "southern", RA: 10, Dec: -60}
	_, err := svc.Query(ctx, south, svc.NewForm(), store)
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "no ZTF data south of −31°")
	assert.ErrorContains(t, err, "within 2 arcsec of southern")
	ps, _ := store.ListProducts(ctx, dataproduct.ProductFilter{})
	assert.Empty(t, ps, "nothing stored for an empty answer")

	f := svc.NewForm()
	require.NoError(t, f.Decode(url.Values{"min_date_mjd": {"60599"}, "max_date_mjd": {"60600"}, "collection": {"ztf_dr22"}}))
	_, err = svc.Query(ctx, target, f, store)
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "an older release ends earlier")

	f = svc.NewForm()
	require.NoError(t, f.Decode(url.Values{"collection": {"ztf_dr5"}}))
	_, err = svc.Query(ctx, target, f, store)
	assert.ErrorIs(t, err, singletarget.ErrRemote, "a release IRSA no longer serves")
	assert.ErrorContains(t, err, "not available")

	sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 500, Times: 4})
	_, err = svc.Query(ctx, target, svc.NewForm(), store)
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.True(t, singletarget.Retryable(err))

	// A connection cut short is asked for again by the HTTP layer; cut
	// short every time, it is a retryable remote error.
	sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true, Reset: true})
	_, err = svc.Query(ctx, target, svc.NewForm(), store)
	require.NoError(t, err, "one broken answer is asked for again")
	sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true, Reset: true, Times: 6})
	_, err = svc.Query(ctx, target, svc.NewForm(), store)
	assert.ErrorIs(t, err, singletarget.ErrRemote, "a connection cut short every time")
	assert.True(t, singletarget.Retryable(err))
	sim.ClearFaults()
	out, err := svc.Query(ctx, target, svc.NewForm(), store)
	require.NoError(t, err)
	assert.Len(t, out.Products, 1)

	sim.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true})
	_, err = svc.Query(ctx, target, svc.NewForm(), store)
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.ErrorContains(t, err, "cut short")

	_, err = svc.Query(ctx, target, &ztf.ForcedPhotometryForm{}, store)
	assert.ErrorContains(t, err, "*ztf.Form")
}

func TestManagerImmediateLightCurves(t *testing.T) {
	svc, sim := newService(t, nil, nil)
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(ztf.DataProductType, ztf.Processor{}))
	require.NoError(t, m.AddService(svc))
	ex := singletarget.NewImmediate(m)
	ctx := context.Background()
	id, err := ex.Submit(ctx, singletarget.Request{Service: "ZTF", Target: target, Params: url.Values{"bands": {"r"}}})
	require.NoError(t, err)
	st, err := ex.Status(ctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	require.Len(t, st.Products, 1)
	assert.Equal(t, 1, sim.Requests(ztftest.EndpointLightCurves))
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID})
	require.NoError(t, err)
	assert.Equal(t, st.Added, len(ds))
	for _, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		assert.Equal(t, "r", ph.Filter)
		assert.NotNil(t, ph.Magnitude)
	}
	// The same request again: same product, no new datums.
	id, err = ex.Submit(ctx, singletarget.Request{Service: "ZTF", Target: target, Params: url.Values{"bands": {"r"}}})
	require.NoError(t, err)
	st2, _ := ex.Status(ctx, id)
	assert.Equal(t, st.Products[0].ID, st2.Products[0].ID)
	assert.Zero(t, st2.Added)
	assert.Equal(t, st.Added, st2.Skipped)

	// A bad form is refused at Submit, naming the field.
	_, err = ex.Submit(ctx, singletarget.Request{Service: "ZTF", Target: target, Params: url.Values{"radius": {"-1"}}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.NotEmpty(t, fe.Fields["radius"])

	// Re-processing the stored product adds nothing.
	res, err := processor.Ingest(ctx, store, st.Products[0], ztf.Processor{})
	require.NoError(t, err)
	assert.Zero(t, res.Added)
}
