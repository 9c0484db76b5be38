package panstarrs_test

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
)

var target = singletarget.Target{ID: 7, Name: "SN 2024/abc", RA: 230.7155, Dec: 41.0503}

// fastOptions are client options for tests against the simulator.
func fastOptions(sim *panstarrstest.Server) *panstarrs.Options {
	return &panstarrs.Options{
		HTTPClient:   sim.Client(),
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
		Limiter:      rate.NewLimiter(rate.Inf, 0),
	}
}

// newManager wires a service on the simulator through the settings path,
// as a TOM does.
func newManager(t *testing.T, sim *panstarrstest.Server, extra map[string]string) (*singletarget.Manager, dataproduct.Store) {
	t.Helper()
	reg := singletarget.NewRegistry()
	require.NoError(t, panstarrs.Register(reg))
	cfg := &singletarget.Config{
		Services: map[string]singletarget.ServiceConfig{
			"PANSTARRS": {Class: "panstarrs.Service", URL: sim.URL, APIKey: "mast-token-5678", Extra: extra},
		},
		DataProductTypes: map[string]string{panstarrs.DataProductType: panstarrs.DataProductLabel},
		DataProcessors:   map[string]string{panstarrs.DataProductType: "panstarrs.Processor"},
	}
	store := dataproduct.NewMemoryStore(nil)
	m, err := reg.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return m, store
}

func TestEndToEndEveryReleaseAndTable(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	ctx := context.Background()
	pairs := 0
	for _, rel := range panstarrs.Releases() {
		for _, table := range panstarrs.Tables(rel) {
			pairs++
			t.Run(rel+"/"+table, func(t *testing.T) {
				// A store per pair: the simulator's releases hold the same
				// values, which one store would rightly de-duplicate.
				m, store := newManager(t, sim, map[string]string{"requests_per_second": "1000"})
				ex := singletarget.NewImmediate(m)
				params := url.Values{"data_release": {rel}, "catalog": {table}, "radius_arcsec": {"20"}}
				id, err := ex.Submit(ctx, singletarget.Request{Service: "PANSTARRS", Target: target, Params: params})
				require.NoError(t, err)
				st, err := ex.Status(ctx, id)
				require.NoError(t, err)
				require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
				require.Len(t, st.Products, 1)
				p := st.Products[0]
				assert.Equal(t, "panstarrs-"+rel+"-"+table+"-SN_2024_abc-none-none.csv", p.Name)
				assert.Equal(t, panstarrs.DataProductType, p.DataProductType)
				assert.Equal(t, "text/csv", p.ContentType)
				assert.Positive(t, st.Added)

				ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{ProductID: p.ID})
				require.NoError(t, err)
				require.Len(t, ds, st.Added)
				objects := map[string]bool{}
				for _, d := range ds {
					ph := d.Value.(dataproduct.Photometry)
					assert.Equal(t, "PanSTARRS 1", ph.Telescope)
					assert.Equal(t, "PANSTARRS", d.Source)
					assert.Contains(t, []string{"g", "r", "i", "z", "y"}, ph.Filter)
					objects[ph.Extra["objID"].(string)] = true
				}
				// Compare with the simulator's sky: objects with at least 2
				// detections (the form's default) within 20".
				want := map[string]bool{}
				for _, o := range sim.Sky().Cone(target.RA, target.Dec, 20.0/3600) {
					if o.NDetections >= 2 {
						want[itoa(o.ObjID)] = true
					}
				}
				assert.Equal(t, want, objects, "datums for exactly the objects in the cone")

				again, err := ex.Submit(ctx, singletarget.Request{Service: "PANSTARRS", Target: target, Params: params})
				require.NoError(t, err)
				st2, _ := ex.Status(ctx, again)
				require.Equal(t, singletarget.JobSucceeded, st2.State, st2.Error)
				assert.Equal(t, p.ID, st2.Products[0].ID, "the same product")
				assert.Equal(t, 0, st2.Added, "no duplicate datums")
			})
		}
	}
	assert.Equal(t, 6, pairs, "dr1: mean, stack; dr2: mean, stack, forced_mean, detection")
	for _, r := range sim.Requests() {
		assert.Equal(t, "mast-token-5678", r.Token, "the token is sent")
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
