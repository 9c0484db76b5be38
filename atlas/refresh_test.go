package atlas_test

import (
	"bytes"
	"context"
	"math"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// skyClock is a clock that runs at the real pace from a fixed afternoon
// (no ATLAS exposures are generated between about 10:40 and 24:00 UTC, so
// the seconds a test takes bring no new rows) and can jump ahead to let
// new nights be observed.
type skyClock struct {
	base, start time.Time
	off         atomic.Int64
}

func newSkyClock() *skyClock {
	return &skyClock{base: time.Date(2024, 3, 1, 15, 0, 0, 0, time.UTC), start: time.Now()}
}

func (c *skyClock) now() time.Time {
	return c.base.Add(time.Since(c.start) + time.Duration(c.off.Load()))
}

func (c *skyClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// rows counts the data rows of an ATLAS result file.
func rows(b []byte) int { return bytes.Count(b, []byte("\n")) - 1 }

// TestRefresh is issue 18's first check against the simulator: after a
// full query, a refresh asks only from the newest stored epoch less the
// overlap, adds nothing and keeps no new product, again and again; once
// new nights are observed, a refresh adds exactly their rows.
func TestRefresh(t *testing.T) {
	t.Parallel()
	clock := newSkyClock()
	sim := atlastest.NewServer(t, &atlastest.Options{Now: clock.now})
	svc := newService(t, sim, func(o *atlas.Options) { o.Now = clock.now })
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{Now: clock.now})
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddService(svc))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	full, err := m.Run(ctx, singletarget.Request{Service: atlas.ServiceName, Target: ngc1566, Params: url.Values{"min_date_mjd": {"60300"}}})
	require.NoError(t, err)
	require.Positive(t, full.Added)
	assert.Nil(t, full.Window, "a query that is not a refresh reports no refresh window")
	newest := func() time.Time {
		ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: ngc1566.ID, Newest: true, Limit: 1})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		return ds[0].Timestamp
	}
	last := newest()
	products := func() []dataproduct.Product {
		ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: ngc1566.ID})
		require.NoError(t, err)
		return ps
	}
	before := products()
	require.Len(t, before, 1)

	for i := range 2 {
		res, err := m.Refresh(ctx, atlas.ServiceName, ngc1566)
		require.NoError(t, err)
		assert.Equal(t, 0, res.Added, "refresh %d: nothing is new", i+1)
		assert.Positive(t, res.Skipped, "refresh %d: the overlap comes back and is de-duplicated", i+1)
		assert.Empty(t, res.Products, "refresh %d: a file with nothing new is not kept", i+1)
		assert.Equal(t, before, products(), "refresh %d stores no new product", i+1)
		require.NotNil(t, res.Window)
		wantFrom := last.Add(-atlas.DefaultRefreshOverlap).Truncate(time.Second)
		assert.WithinDuration(t, wantFrom, res.Window.From, 100*time.Millisecond, "refresh %d: from the newest epoch less the overlap", i+1)
		assert.True(t, res.Window.To.IsZero(), "open end")
		tasks := sim.Tasks()
		asked := tasks[len(tasks)-1]
		require.NotNil(t, asked.MJDMin)
		assert.InDelta(t, processor.TimeToMJD(wantFrom), *asked.MJDMin, 2e-6, "refresh %d: the server was asked for mjd_min = newest − 3 days", i+1)
		assert.Nil(t, asked.MJDMax)
	}

	// Five nights later ATLAS has observed again: a refresh adds exactly
	// the rows of those nights.
	then := processor.TimeToMJD(clock.now())
	clock.advance(5 * 24 * time.Hour)
	now := processor.TimeToMJD(clock.now())
	want := rows(atlastest.GenerateResult(ngc1566.RA, ngc1566.Dec, math.Nextafter(then, math.Inf(1)), now))
	require.Positive(t, want, "the simulator observed the target in five nights")
	res, err := m.Refresh(ctx, atlas.ServiceName, ngc1566)
	require.NoError(t, err)
	assert.Equal(t, want, res.Added, "exactly the new nights' rows")
	require.Len(t, res.Products, 1, "a refresh that brought datums keeps its file")
	assert.Len(t, products(), 2)
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{ProductID: res.Products[0].ID})
	require.NoError(t, err)
	assert.Len(t, ds, want)
	for _, d := range ds {
		assert.True(t, d.Timestamp.After(last), "only new epochs belong to the refresh's product")
	}
	assert.Equal(t, 4, sim.Stats().TasksCreated, "one task per query")
	assert.Empty(t, activeTasks(sim), "every task deleted once ingested")
}

func activeTasks(sim *atlastest.Server) []atlastest.TaskInfo {
	var out []atlastest.TaskInfo
	for _, tk := range sim.Tasks() {
		if tk.State != "deleted" {
			out = append(out, tk)
		}
	}
	return out
}

func TestPace(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	for _, tc := range []struct {
		opts func(*atlas.Options)
		want singletarget.Pace
	}{
		{nil, singletarget.Pace{Queries: 30, Per: time.Minute}},                                            // a POST and a DELETE each
		{func(o *atlas.Options) { o.KeepRemote = true }, singletarget.Pace{Queries: 60, Per: time.Minute}}, // a POST each
		{func(o *atlas.Options) { o.WriteRate, o.WriteWindow = 20, time.Second }, singletarget.Pace{Queries: 10, Per: time.Second}},
		{func(o *atlas.Options) { o.WriteRate = -1 }, singletarget.Pace{}}, // unpaced
	} {
		assert.Equal(t, tc.want, newService(t, sim, tc.opts).Pace())
	}
}

// TestRefreshWindowHoldsFrom: the window a refresh asks for starts at or
// before from (the MJD is rounded down to the 1e-6 day the form keeps,
// never to the nearest, which could start it up to 0.04 s after from).
func TestRefreshWindowHoldsFrom(t *testing.T) {
	svc, err := atlas.NewService("https://atlas.invalid/forcedphot", "0123456789abcdef0123456789abcdef01234567", nil)
	require.NoError(t, err)
	base := time.Date(2024, 3, 1, 12, 34, 56, 0, time.UTC)
	for ms := range 87 { // 1e-6 day is 86.4 ms: every rounding case
		from := base.Add(time.Duration(ms) * time.Millisecond)
		w := svc.RefreshWindow(svc.NewForm(), from)
		assert.False(t, w.From.After(from), "from %v: the window starts at %v, after it", from, w.From)
		assert.Less(t, from.Sub(w.From), 100*time.Millisecond, "from %v: the window starts at %v, more than one step before", from, w.From)
	}
}
