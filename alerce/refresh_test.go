package alerce_test

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// allDatums returns the target's datums as "<time> <source> <value>"
// lines, sorted.
func allDatums(t *testing.T, store dataproduct.Store, targetID int64) []string {
	t.Helper()
	ds, err := store.ListDatums(context.Background(), dataproduct.DatumFilter{TargetID: targetID})
	require.NoError(t, err)
	out := make([]string, len(ds))
	for i, d := range ds {
		v, err := dataproduct.CanonicalValue(d.Value)
		require.NoError(t, err)
		out[i] = d.Timestamp.Format(time.RFC3339Nano) + " " + d.Source + " " + string(v)
	}
	slices.Sort(out)
	return out
}

// newest is the newest stored datum of either source, and the sources
// the target's datums carry.
func newest(t *testing.T, store dataproduct.Store, targetID int64) (time.Time, map[string]int) {
	t.Helper()
	ds, err := store.ListDatums(context.Background(), dataproduct.DatumFilter{TargetID: targetID})
	require.NoError(t, err)
	var last time.Time
	sources := map[string]int{}
	for _, d := range ds {
		sources[d.Source]++
		if d.Timestamp.After(last) {
			last = d.Timestamp
		}
	}
	return last, sources
}

// assertFrom checks that a refresh asked from want: the Manager takes the
// second, and the form 1e-6 day (86 ms), rounded down.
func assertFrom(t *testing.T, want, from time.Time, msg ...any) {
	t.Helper()
	assert.False(t, from.After(want), msg...)
	assert.WithinDuration(t, want, from, time.Second+87*time.Millisecond, msg...)
}

// TestServiceRefresh, for each survey: a refresh with nothing stored asks
// everything; again, it asks from the newest datum of either source (the
// forced photometry's or the alerts') less 30 days, adds nothing and
// keeps no product; after new epochs it adds exactly the datums a full
// query gives beyond the first one's.
func TestServiceRefresh(t *testing.T) {
	ctx := context.Background()
	for name, params := range map[string]url.Values{
		"ztf":  {"survey": {"ztf"}},
		"lsst": {"survey": {"lsst"}},
		// Only ALERCE_FP datums, none of the service's Name.
		"ztf forced photometry": {"survey": {"ztf"}, "detections": {"false"}, "non_detections": {"false"}},
	} {
		t.Run(name, func(t *testing.T) {
			sim := alercetest.NewServer(t, &alercetest.Options{Epochs: 6})
			svc, err := alerce.NewService(sim.URLs(), fast(sim, nil))
			require.NoError(t, err)
			m, store := newManager(t, svc)
			req := singletarget.Request{Service: alerce.ServiceName, Target: target, Params: params, Refresh: true}

			res, err := m.Run(ctx, req)
			require.NoError(t, err)
			require.NotNil(t, res.Window)
			assert.Equal(t, singletarget.Window{}, *res.Window, "nothing stored: the whole light curve")
			require.Len(t, res.Products, 1)
			assert.Contains(t, res.Products[0].Name, "-start-end.json")
			first := res.Added
			require.Positive(t, first)
			last, sources := newest(t, store, target.ID)
			forcedOnly := params.Has("detections")
			assert.Equal(t, !forcedOnly, sources[alerce.AlertSource] > 0, "alert photometry")
			assert.Positive(t, sources[alerce.ForcedPhotometrySource])
			assert.Subset(t, []string{alerce.AlertSource, alerce.ForcedPhotometrySource}, slices.Collect(maps.Keys(sources)))

			for i := range 2 {
				res, err = m.Run(ctx, req)
				require.NoError(t, err)
				assert.Equal(t, 0, res.Added, "refresh %d: nothing new", i+1)
				assert.Positive(t, res.Skipped, "refresh %d: the overlap's rows come back", i+1)
				assert.Empty(t, res.Products, "refresh %d: no product kept", i+1)
				assertFrom(t, last.Add(-alerce.DefaultRefreshOverlap), res.Window.From)
				assert.True(t, res.Window.To.IsZero(), "open end")
				ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: target.ID})
				require.NoError(t, err)
				assert.Len(t, ps, 1, "refresh %d keeps no new product", i+1)
			}

			// New epochs: exactly the datums a full query of the grown
			// light curve adds beyond the first one's.
			sim.AddEpochs(2)
			fm, fstore := newManager(t, svc)
			full, err := fm.Run(ctx, singletarget.Request{Service: alerce.ServiceName, Target: target, Params: params})
			require.NoError(t, err)
			res, err = m.Run(ctx, req)
			require.NoError(t, err)
			assert.Positive(t, res.Added)
			assert.Equal(t, full.Added-first, res.Added, "exactly the new epochs")
			assert.Equal(t, allDatums(t, fstore, target.ID), allDatums(t, store, target.ID), "the same datums as a full query")
			require.Len(t, res.Products, 1)
			assert.NotContains(t, res.Products[0].Name, "-start-", "named by its window")
			assert.True(t, strings.HasSuffix(res.Products[0].Name, "-end.json"), res.Products[0].Name)
			grown, _ := newest(t, store, target.ID)
			assert.True(t, grown.After(last))

			// And nothing new again.
			res, err = m.Run(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 0, res.Added)
			assert.Empty(t, res.Products)
			assertFrom(t, grown.Add(-alerce.DefaultRefreshOverlap), res.Window.From)
		})
	}
}

// TestRefreshWindow: the window's start replaces min_date_mjd (rounded
// down to 1e-6 day, so the newest epoch itself is asked with no
// overlap); the zero time and the end change nothing.
func TestRefreshWindow(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	f := alerce.NewForm()
	require.NoError(t, f.Decode(url.Values{"min_date_mjd": {"60000"}, "max_date_mjd": {"60400"}}))
	w := svc.RefreshWindow(f, time.Time{})
	assert.Equal(t, singletarget.Window{From: processor.MJDToTime(60000).UTC(), To: processor.MJDToTime(60400).UTC()}, w)
	from := processor.MJDToTime(60123.4567891234)
	w = svc.RefreshWindow(f, from)
	require.NotNil(t, f.MinDateMJD)
	assert.Equal(t, 60123.456789, *f.MinDateMJD)
	assert.False(t, w.From.After(from))
	assert.Equal(t, processor.MJDToTime(60400).UTC(), w.To, "the end stays")
	assert.Equal(t, singletarget.Window{All: true}, svc.RefreshWindow(nil, from), "not its form")
	assert.Equal(t, []string{alerce.AlertSource, alerce.ForcedPhotometrySource}, svc.DatumSources())
}

// TestRefreshOverlapSetting: the settings' refresh_overlap replaces the
// 30 days, and a refresh with no overlap asks from the newest epoch
// itself (LSST: TAI rows compared in UTC), adding nothing.
func TestRefreshOverlapSetting(t *testing.T) {
	r := singletarget.NewRegistry()
	require.NoError(t, alerce.Register(r))
	sim := alercetest.NewServer(t, nil)
	u := sim.URLs()
	text := fmt.Sprintf(settingsYAML, u.ZTF, u.LightCurve, u.Multisurvey) + "\n"
	for _, overlap := range []string{"2d", "0s"} {
		cfg, err := singletarget.ParseConfig([]byte(
			strings.Replace(text, "    page_size: 50\n", "    page_size: 50\n    refresh_overlap: "+overlap+"\n", 1)), nil)
		require.NoError(t, err)
		store := dataproduct.NewMemoryStore(nil)
		m, err := r.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
		require.NoError(t, err)
		want, err := time.ParseDuration(map[string]string{"2d": "48h", "0s": "0s"}[overlap])
		require.NoError(t, err)
		d, err := m.RefreshOverlap("ALERCE")
		require.NoError(t, err)
		assert.Equal(t, want, d)
		for _, survey := range []string{"ztf", "lsst"} {
			tg := target
			tg.ID = map[string]int64{"ztf": 1, "lsst": 2}[survey]
			req := singletarget.Request{Service: "ALERCE", Target: tg, Params: url.Values{"survey": {survey}}, Refresh: true}
			_, err := m.Run(context.Background(), req)
			require.NoError(t, err)
			last, _ := newest(t, store, tg.ID)
			res, err := m.Run(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, 0, res.Added, "%s %s", overlap, survey)
			assert.Positive(t, res.Skipped, "%s %s: the newest epoch is asked again", overlap, survey)
			assertFrom(t, last.Add(-want), res.Window.From, "%s %s", overlap, survey)
		}
	}
}
