package panstarrs_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
)

func TestServiceConformance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid url.Values
	}{
		{"Mean", nil},
		{"Detection", url.Values{"catalog": {"detection"}, "radius_arcsec": {"20"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servicetest.Run(t, servicetest.Harness{
				New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
					sim := panstarrstest.NewServer(t, nil)
					opts := fastOptions(sim)
					opts.Logger = log
					svc, err := panstarrs.NewService(sim.URL, token, opts)
					require.NoError(t, err)
					return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext, Secrets: []singletarget.Secret{token}}
				},
				Target:       target,
				Valid:        tc.valid,
				Invalid:      url.Values{"data_release": {"dr1"}, "catalog": {"detection"}},
				InvalidField: "catalog",
				Processor:    panstarrs.Processor{},
			})
		})
	}
}

func newService(t *testing.T, sim *panstarrstest.Server, mutate func(*panstarrs.Options)) (*panstarrs.Service, *bytes.Buffer) {
	t.Helper()
	opts := fastOptions(sim)
	logs := &bytes.Buffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if mutate != nil {
		mutate(opts)
	}
	svc, err := panstarrs.NewService(sim.URL, "", opts)
	require.NoError(t, err)
	return svc, logs
}

func query(t *testing.T, svc *panstarrs.Service, store dataproduct.ProductSink, params url.Values) (*singletarget.Outcome, error) {
	t.Helper()
	f := svc.NewForm()
	require.NoError(t, f.Decode(params))
	require.NoError(t, f.Validate())
	return svc.Query(context.Background(), target, f, store)
}

func readProduct(t *testing.T, store dataproduct.Store, p dataproduct.Product) string {
	t.Helper()
	rc, err := store.OpenProduct(context.Background(), p.ID)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

func TestDetectionFlow(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	svc, _ := newService(t, sim, nil)
	store := dataproduct.NewMemoryStore(nil)
	out, err := query(t, svc, store, url.Values{"catalog": {"detection"}, "radius_arcsec": {"15"}, "min_date_mjd": {"55400"}, "max_date_mjd": {"56700.5"}})
	require.NoError(t, err)
	require.Len(t, out.Products, 1)
	p := out.Products[0]
	assert.Equal(t, "panstarrs-dr2-detection-SN_2024_abc-55400-56700.5.csv", p.Name)

	var want []panstarrstest.Object
	for _, o := range sim.Sky().Cone(target.RA, target.Dec, 15.0/3600) {
		if o.NDetections >= 2 {
			want = append(want, o)
		}
	}
	require.NotEmpty(t, want)
	assert.Equal(t, 1, sim.Hits("dr2/detection/metadata"), "the column list is checked once")
	assert.Equal(t, 1, sim.Hits("dr2/mean"), "one cone search on the mean table")
	assert.Equal(t, len(want), sim.Hits("dr2/detection"), "one detection search per object")
	var ids []string
	for _, o := range want {
		ids = append(ids, itoa(o.ObjID))
	}
	assert.Equal(t, strings.Join(ids, ","), p.Extra["objects"], "nearest first")
	assert.Equal(t, "15", p.Extra["radius_arcsec"])
	assert.Equal(t, "55400", p.Extra["min_date_mjd"])

	for _, r := range sim.Requests() {
		switch r.Endpoint {
		case "dr2/mean":
			assert.Equal(t, "2", r.Params.Get("nDetections.min"))
			assert.Empty(t, r.Params.Get("epochMean.min"), "the MJD range applies to the detections")
		case "dr2/detection":
			assert.Equal(t, "55400", r.Params.Get("obsTime.min"))
			assert.Equal(t, "56700.5", r.Params.Get("obsTime.max"))
			assert.Equal(t, "["+strings.Join(panstarrs.DefaultColumns("detection"), ",")+"]", r.Params.Get("columns"))
		}
	}

	text := readProduct(t, store, p)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	assert.Equal(t, strings.Join(panstarrs.DefaultColumns("detection"), ","), lines[0])
	// Object by object, in obsTime order, within the range.
	wantRows := 0
	for _, o := range want {
		for _, d := range o.Detections() {
			if d.ObsTime >= 55400 && d.ObsTime <= 56700.5 {
				wantRows++
			}
		}
	}
	require.Len(t, lines[1:], wantRows)
	prevObj, prevT := "", 0.0
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		tm, err := strconv.ParseFloat(f[3], 64)
		require.NoError(t, err)
		assert.True(t, tm >= 55400 && tm <= 56700.5)
		if f[0] == prevObj {
			assert.GreaterOrEqual(t, tm, prevT, "sorted by obsTime")
		}
		prevObj, prevT = f[0], tm
	}

	// Processing: every detection with a usable flux gives a datum; the
	// -999 rows none; the low-S/N rows limits.
	ds, err := panstarrs.Processor{}.Process(context.Background(), strings.NewReader(text))
	require.NoError(t, err)
	limits, mags := 0, 0
	for _, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		if ph.Limit != nil {
			limits++
		} else {
			mags++
		}
	}
	usable, low := 0, 0
	for _, o := range want {
		for _, d := range o.Detections() {
			if d.ObsTime < 55400 || d.ObsTime > 56700.5 || d.PSFFlux == -999 {
				continue
			}
			usable++
			if !(d.PSFFlux > 0 && d.PSFFlux >= 3*d.PSFFluxErr) {
				low++
			}
		}
	}
	assert.Equal(t, usable, len(ds))
	assert.Equal(t, low, limits)
	assert.Positive(t, limits, "the simulator's low-S/N detections become limits")
	assert.Positive(t, mags)
}

func TestDetectionObjectCap(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	svc, logs := newService(t, sim, func(o *panstarrs.Options) { o.MaxObjects = 1 })
	store := dataproduct.NewMemoryStore(nil)
	out, err := query(t, svc, store, url.Values{"catalog": {"detection"}, "radius_arcsec": {"30"}})
	require.NoError(t, err)
	p := out.Products[0]
	assert.Equal(t, 1, sim.Hits("dr2/detection"))
	assert.NotContains(t, p.Extra["objects"], ",", "only the nearest object")
	n, _ := strconv.Atoi(p.Extra["objects_in_cone"])
	assert.Greater(t, n, 1)
	assert.Contains(t, logs.String(), "keeping the nearest")
}

func TestObjectTableQuery(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	svc, _ := newService(t, sim, nil)
	store := dataproduct.NewMemoryStore(nil)
	out, err := query(t, svc, store, url.Values{"catalog": {"stack"}, "min_detections": {"0"}, "min_date_mjd": {"55000"}})
	require.NoError(t, err)
	p := out.Products[0]
	assert.Equal(t, "panstarrs-dr2-stack-SN_2024_abc-55000-none.csv", p.Name)
	reqs := sim.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "dr2/stack", last.Endpoint)
	assert.Empty(t, last.Params.Get("nDetections.min"), "min_detections 0: no cut")
	assert.Equal(t, "55000", last.Params.Get("epochMean.min"))
	assert.Equal(t, "["+strings.Join(panstarrs.DefaultColumns("stack"), ",")+"]", last.Params.Get("columns"))
	text := readProduct(t, store, p)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var ids []string
	for _, l := range lines[1:] {
		ids = append(ids, strings.SplitN(l, ",", 2)[0])
	}
	assert.True(t, slices.IsSorted(ids), "rows ordered by objID (same width ids)")
	assert.Equal(t, strconv.Itoa(len(lines)-1), p.Extra["rows"])

	// forced_mean: the columns the table lacks are not requested.
	_, err = query(t, svc, store, url.Values{"catalog": {"forced_mean"}})
	require.NoError(t, err)
	reqs = sim.Requests()
	cols := reqs[len(reqs)-1].Params.Get("columns")
	assert.Contains(t, cols, "gFPSFFlux")
	assert.NotContains(t, cols, "gFPSFMag", "the simulator's forced_mean has fluxes only")
}

func TestEmptyAndFailures(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	svc, logs := newService(t, sim, func(o *panstarrs.Options) { o.Timeout = time.Second })
	store := dataproduct.NewMemoryStore(nil)
	ctx := context.Background()

	sim.SetEmpty(true)
	for _, cat := range []string{"mean", "detection"} {
		_, err := query(t, svc, store, url.Values{"catalog": {cat}})
		assert.ErrorIs(t, err, singletarget.ErrNotFound, cat)
	}
	sim.SetEmpty(false)
	_, err := query(t, svc, store, url.Values{"catalog": {"detection"}, "min_date_mjd": {"59000"}})
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "objects, but no detections in the range")
	prods, _ := store.ListProducts(ctx, dataproduct.ProductFilter{})
	assert.Empty(t, prods, "nothing stored for an empty result")

	// A 5xx is retried; a truncated answer is asked for again (by the
	// HTTP layer); a slow answer past the timeout is retried.
	sim.Inject(panstarrstest.Fault{Endpoint: "dr2/mean", Status: 503})
	sim.Inject(panstarrstest.Fault{Endpoint: "dr2/mean", Truncate: true, Reset: true})
	sim.Inject(panstarrstest.Fault{Endpoint: "dr2/mean", Delay: time.Minute})
	_, err = query(t, svc, store, nil)
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "body broke off, asking again")

	// An answer that keeps breaking off ends as a retryable remote error.
	sim.Inject(panstarrstest.Fault{Endpoint: "dr2/mean", Times: 20, Truncate: true, Reset: true})
	_, err = query(t, svc, store, nil)
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.True(t, singletarget.Retryable(err))

	// The metadata endpoint failing is not fatal: the default columns go.
	sim2 := panstarrstest.NewServer(t, nil)
	svc2, logs2 := newService(t, sim2, nil)
	sim2.Inject(panstarrstest.Fault{Endpoint: "dr2/mean/metadata", Status: 404})
	_, err = query(t, svc2, dataproduct.NewMemoryStore(nil), nil)
	require.NoError(t, err)
	assert.Contains(t, logs2.String(), "cannot read the table's metadata")

	// A form of another service is refused.
	_, err = svc.Query(ctx, target, &singletarget.FormBase{}, store)
	assert.ErrorContains(t, err, "*panstarrs.Form")
}

func TestMetadataChecks(t *testing.T) {
	tr := httpmock.NewMockTransport()
	tr.RegisterResponder("GET", base+"/dr2/forced_mean/metadata", httpmock.NewStringResponder(200,
		`[{"name": "objID"}, {"name": "epochMean"}, {"name": "gFPSFFlux"}, {"name": "gFPSFFluxErr"}]`))
	tr.RegisterResponder("GET", base+"/dr2/stack/metadata", httpmock.NewStringResponder(200, `[{"name": "objID"}, {"name": "gPSFMag"}]`))
	var seen url.Values
	tr.RegisterRegexpResponder("GET", mustRegexp(base+"/dr2/forced_mean.csv"), func(r *http.Request) (*http.Response, error) {
		seen = r.URL.Query()
		return httpmock.NewStringResponse(200, "objID,epochMean,gFPSFFlux,gFPSFFluxErr\n1,56000,1e-5,1e-7\n"), nil
	})
	logs := &bytes.Buffer{}
	svc, err := panstarrs.NewService(base, "", &panstarrs.Options{HTTPClient: &http.Client{Transport: tr},
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	store := dataproduct.NewMemoryStore(nil)

	out, err := query(t, svc, store, url.Values{"catalog": {"forced_mean"}})
	require.NoError(t, err)
	assert.Equal(t, "[objID,epochMean,gFPSFFlux,gFPSFFluxErr]", seen.Get("columns"), "only the columns the table has")
	assert.Empty(t, seen.Get("nDetections.min"), "no nDetections column: the cut cannot apply")
	assert.Equal(t, "not applied", out.Products[0].Extra["min_detections"])
	assert.Contains(t, logs.String(), "minimum detections not applied")

	_, err = query(t, svc, store, url.Values{"catalog": {"stack"}})
	assert.ErrorIs(t, err, singletarget.ErrRemote, "no epochMean: the answer could not be timed")
	assert.ErrorContains(t, err, "epochMean")
}

func TestForm(t *testing.T) {
	svc, err := panstarrs.NewService("", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "PANSTARRS", svc.Name())
	info := svc.Info()
	assert.Equal(t, "Catalog Search", info.Kind)
	assert.Equal(t, "panstarrs_photometry", info.DataProductType)
	assert.False(t, info.Async)

	f := svc.NewForm()
	fields := f.Fields()
	cat, ok := singletarget.FieldByName(fields, "catalog")
	require.True(t, ok)
	assert.Equal(t, singletarget.KindChoice, cat.Kind)
	assert.Equal(t, "data_release", cat.DependsOn)
	values := func(cs []singletarget.Choice) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Value)
		}
		return out
	}
	assert.Equal(t, []string{"mean", "stack"}, values(cat.ChoicesFor["dr1"]))
	assert.Equal(t, []string{"mean", "stack", "forced_mean", "detection"}, values(cat.ChoicesFor["dr2"]))
	assert.Equal(t, []string{"mean", "stack", "forced_mean", "detection"}, values(cat.Choices))
	assert.Equal(t, "mean", cat.Initial)
	rel, _ := singletarget.FieldByName(fields, "data_release")
	assert.Equal(t, "dr2", rel.Initial)
	assert.Equal(t, []string{"dr2", "dr1"}, values(rel.Choices))
	rad, _ := singletarget.FieldByName(fields, "radius_arcsec")
	assert.Equal(t, "30", rad.Initial, "the TOM's 30 arcsec")
	assert.Equal(t, 1800.0, *rad.Max)
	md, _ := singletarget.FieldByName(fields, "min_detections")
	assert.Equal(t, "2", md.Initial)
	assert.Equal(t, singletarget.KindInteger, md.Kind)
	for _, row := range f.Layout().Rows {
		for _, name := range row {
			_, ok := singletarget.FieldByName(fields, name)
			assert.True(t, ok, name)
		}
	}

	for _, tc := range []struct {
		params url.Values
		field  string
		msg    string
	}{
		{url.Values{"data_release": {"dr1"}, "catalog": {"forced_mean"}}, "catalog", "no \"forced_mean\" catalog"},
		{url.Values{"data_release": {"dr3"}}, "data_release", "valid choice"},
		{url.Values{"catalog": {"objects"}}, "catalog", "valid choice"},
		{url.Values{"radius_arcsec": {"0"}}, "radius_arcsec", "greater than 0"},
		{url.Values{"radius_arcsec": {"3600"}}, "radius_arcsec", "less than or equal to 1800"},
		{url.Values{"min_detections": {"-1"}}, "min_detections", "greater than or equal to 0"},
		{url.Values{"min_date_mjd": {"60000"}, "max_date_mjd": {"59000"}}, "max_date_mjd", "before"},
		{url.Values{"min_date_mjd": {"yesterday"}}, "min_date_mjd", "Enter a number"},
	} {
		f := svc.NewForm()
		err := f.Decode(tc.params)
		if err == nil {
			err = f.Validate()
		}
		var fe *singletarget.FormErrors
		require.ErrorAs(t, err, &fe, "%v", tc.params)
		require.NotEmpty(t, fe.Fields[tc.field], "%v: %v", tc.params, err)
		assert.Contains(t, strings.Join(fe.Fields[tc.field], " "), tc.msg)
	}
	ok2 := svc.NewForm()
	require.NoError(t, ok2.Decode(url.Values{"data_release": {"dr1"}, "catalog": {"stack"}, "min_date_mjd": {"55000"}, "max_date_mjd": {"55000"}}))
	assert.NoError(t, ok2.Validate())
}

func TestRegister(t *testing.T) {
	reg := singletarget.NewRegistry()
	require.NoError(t, panstarrs.Register(reg))
	assert.Error(t, panstarrs.Register(reg), "twice is a duplicate")
	assert.Contains(t, reg.Classes(), "panstarrs.Service")
	assert.Contains(t, reg.ProcessorClasses(), "panstarrs.Processor")

	load := func(extra map[string]string) error {
		cfg := &singletarget.Config{
			Services:         map[string]singletarget.ServiceConfig{"PANSTARRS": {Class: "panstarrs.Service", Extra: extra}},
			DataProductTypes: map[string]string{"panstarrs_photometry": "PanSTARRS Photometry"},
			DataProcessors:   map[string]string{"panstarrs_photometry": "panstarrs.Processor"},
		}
		_, err := reg.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
		return err
	}
	require.NoError(t, load(nil), "no url: the real MAST URL")
	require.NoError(t, load(map[string]string{"page_size": "1000", "max_pages": "5", "max_objects": "3",
		"requests_per_second": "2.5", "timeout": "90s", "method": "POST"}))
	for key, val := range map[string]string{"pagesize": "10", "timeout": "soon", "method": "PUT", "max_objects": "-1", "page_size": "many"} {
		err := load(map[string]string{key: val})
		require.Error(t, err, key)
		assert.ErrorIs(t, err, singletarget.ErrConfig)
		assert.Contains(t, err.Error(), "single_target_data_services.PANSTARRS."+key)
	}
	cfg := &singletarget.Config{Services: map[string]singletarget.ServiceConfig{"PS1": {Class: "panstarrs.Service"}},
		DataProcessors: map[string]string{"panstarrs_photometry": "panstarrs.Processor"}}
	_, err := reg.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	assert.ErrorContains(t, err, "PANSTARRS", "the settings key must be the service's name")
}
