package riverexec_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

// pacedATLAS is an ATLAS Manager whose account allows rate writes a
// second (the simulator's throttle and the client's pacing alike).
func pacedATLAS(t *testing.T, sim *atlastest.Server, store dataproduct.Store, rate int) *singletarget.Manager {
	t.Helper()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: 20 * time.Millisecond,
		PollRunning: 20 * time.Millisecond, PollMax: 40 * time.Millisecond, WriteRate: rate, WriteWindow: time.Second})
	require.NoError(t, err)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddService(svc))
	return m
}

func someTargets(n int) []singletarget.Target {
	out := make([]singletarget.Target, n)
	for i := range out {
		out[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("AT 2024r%03d", i), RA: 10 + 1.1*float64(i), Dec: 5 - 0.7*float64(i)}
	}
	return out
}

var refreshParams = url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}}

func cycles(t *testing.T, x *riverexec.Executor) []riverexec.RefreshCycle {
	t.Helper()
	cs, err := x.RefreshCycles(context.Background(), 200)
	require.NoError(t, err)
	return cs
}

func cycleByID(t *testing.T, x *riverexec.Executor, id riverexec.CycleID) riverexec.RefreshCycle {
	t.Helper()
	for _, c := range cycles(t, x) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("cycle %d not listed", id)
	return riverexec.RefreshCycle{}
}

// TestScheduledRefresh: a cycle started by RefreshNow refreshes every
// target, its ATLAS queries spread at the account's pace (so the whole
// fleet stays within its writes); a second cycle adds nothing.
func TestScheduledRefresh(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		const n, rate = 12, 20 // 20 writes a second: 10 queries a second
		sim := atlastest.NewServer(t, &atlastest.Options{WriteRate: rate, WriteWindow: time.Second})
		store := dataproduct.NewMemoryStore(nil)
		targets := someTargets(n)
		opts := testOptions()
		opts.Workers = 4
		opts.Refresh = &riverexec.Schedule{Every: time.Hour, PaceShare: 0.5,
			Services: []riverexec.ScheduledService{{Name: atlas.ServiceName, Params: refreshParams}},
			Targets:  func(context.Context) ([]singletarget.Target, error) { return targets, nil }}
		x := open(t, pacedATLAS(t, sim, store, rate), opts)
		start(t, x)
		ctx := context.Background()

		var added []int
		for round := range 2 {
			id, err := x.RefreshNow(ctx)
			require.NoError(t, err)
			var c riverexec.RefreshCycle
			require.Eventually(t, func() bool {
				c = cycleByID(t, x, id)
				return !c.Finished.IsZero()
			}, 60*time.Second, 50*time.Millisecond, "round %d", round)
			assert.True(t, c.Forced)
			assert.Empty(t, c.Skipped)
			assert.Empty(t, c.Shortfall)
			assert.Equal(t, n, c.Targets)
			require.Len(t, c.Services, 1)
			cs := c.Services[0]
			assert.Equal(t, singletarget.Pace{Queries: rate / 2, Per: time.Second}, cs.Pace)
			assert.Equal(t, time.Duration(n)*200*time.Millisecond, cs.Spread, "at half of 10 queries a second")
			assert.Equal(t, n, c.Progress.Done, "every target refreshed: %s", c.Progress)
			assert.GreaterOrEqual(t, c.Progress.Elapsed, cs.Spread-200*time.Millisecond, "the queries were spread over the pace")
			added = append(added, c.Progress.Added)

			sts, err := x.BatchStatuses(ctx, cs.Batch)
			require.NoError(t, err)
			require.Len(t, sts, n)
			for _, st := range sts {
				assert.True(t, st.Request.Refresh)
				require.NotNil(t, st.Window, "%+v", st)
			}
		}
		assert.Positive(t, added[0])
		assert.Equal(t, 0, added[1], "the second cycle finds nothing new")
		assert.Equal(t, 0, sim.Stats().Throttled, "the pace kept every write within the account's limit")
		assert.Equal(t, 2*n, sim.Stats().TasksCreated)
	})
}

// TestScheduledRefreshNoPileUp: a cycle started while the previous
// one's jobs run is skipped and says so; a cycle that needs longer than
// its period at the service's pace says so before it starts.
func TestScheduledRefreshNoPileUp(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{WriteRate: 4, WriteWindow: time.Second, RunTime: 3 * time.Second})
	store := dataproduct.NewMemoryStore(nil)
	targets := someTargets(6)
	opts := testOptions()
	opts.Refresh = &riverexec.Schedule{Every: 2 * time.Second, // 6 queries at 2 a second need 3 s
		Services: []riverexec.ScheduledService{{Name: atlas.ServiceName, Params: refreshParams}},
		Targets:  func(context.Context) ([]singletarget.Target, error) { return targets, nil }}
	x := sqliteOpener(t)(t, pacedATLAS(t, sim, store, 4), opts)
	ctx := context.Background()
	// Before the workers start: RefreshNow from a process that only
	// inserts works, and a second call while the first waits adds none
	// (nor does the schedule's run on start).
	id, err := x.RefreshNow(ctx)
	require.NoError(t, err)
	again, err := x.RefreshNow(ctx)
	require.NoError(t, err)
	assert.Equal(t, id, again, "one cycle waits at a time")
	start(t, x)

	var first riverexec.RefreshCycle
	require.Eventually(t, func() bool {
		first = cycleByID(t, x, id)
		return first.Progress.Total == len(targets) // its jobs are inserted
	}, 30*time.Second, 20*time.Millisecond)
	assert.Contains(t, first.Shortfall, "ATLAS: 6 targets need 3s")
	assert.Contains(t, first.Shortfall, "more than the period 2s")

	// While its jobs run, the schedule's cycles (every 2 s) are skipped,
	// and say why; once they have finished, a cycle runs again.
	var ran riverexec.RefreshCycle
	skipped := 0
	require.Eventually(t, func() bool {
		skipped = 0
		for _, c := range cycles(t, x) {
			if c.ID == id {
				continue
			}
			if strings.Contains(c.Skipped, "the previous cycle is still running") {
				assert.Zero(t, c.Targets)
				skipped++
			}
			if c.Skipped == "" && !c.Started.IsZero() {
				ran = c
			}
		}
		return ran.ID != 0
	}, 60*time.Second, 100*time.Millisecond, "a periodic cycle runs after the first one finished")
	assert.Positive(t, skipped, "cycles came while the first one ran, and were skipped")
	assert.False(t, ran.Forced)
	finished := cycleByID(t, x, id)
	require.False(t, finished.Finished.IsZero())
	assert.False(t, ran.Started.Before(finished.Finished), "the next cycle started after the first finished")
	assert.Equal(t, 6, finished.Progress.Done)
}

// TestScheduledRefreshRunOnStart: a worker fleet that (re)starts runs a
// cycle at once (so restarts cannot starve a long period), but not again
// when the last cycle ran less than half a period ago.
func TestScheduledRefreshRunOnStart(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	store := dataproduct.NewMemoryStore(nil)
	targets := someTargets(2)
	open := sqliteOpener(t)
	newX := func() *riverexec.Executor {
		opts := testOptions()
		opts.Refresh = &riverexec.Schedule{Every: time.Hour,
			Services: []riverexec.ScheduledService{{Name: atlas.ServiceName, Params: refreshParams}},
			Targets:  func(context.Context) ([]singletarget.Target, error) { return targets, nil }}
		return open(t, pacedATLAS(t, sim, store, 60), opts)
	}
	ctx := context.Background()
	x1 := newX()
	require.NoError(t, x1.Start(ctx))
	require.Eventually(t, func() bool {
		cs := cycles(t, x1)
		return len(cs) == 1 && !cs[0].Finished.IsZero()
	}, 30*time.Second, 50*time.Millisecond, "a cycle on start")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, x1.Stop(sctx))

	x2 := newX()
	start(t, x2)
	require.Eventually(t, func() bool { return len(cycles(t, x2)) == 2 }, 30*time.Second, 50*time.Millisecond, "a cycle on the restart")
	require.Eventually(t, func() bool { return cycles(t, x2)[0].Skipped != "" }, 30*time.Second, 50*time.Millisecond)
	c := cycles(t, x2)[0]
	assert.Contains(t, c.Skipped, "less than half the period 1h0m0s")
	assert.Equal(t, 2, sim.Stats().TasksCreated, "the targets were refreshed once")
}

// A refresh section built in code without ServiceOrder still schedules
// every service it names (it used to schedule none).
func TestScheduleFromConfigWithoutServiceOrder(t *testing.T) {
	targets := func(context.Context) ([]singletarget.Target, error) { return nil, nil }
	cfg := singletarget.RefreshConfig{Every: time.Hour, Services: map[string]url.Values{
		"ZTF": nil, "ATLAS": {"min_date_mjd": {"60000"}},
	}}
	s := riverexec.ScheduleFromConfig(cfg, targets)
	require.NotNil(t, s)
	assert.Equal(t, []riverexec.ScheduledService{
		{Name: "ATLAS", Params: url.Values{"min_date_mjd": {"60000"}}},
		{Name: "ZTF"},
	}, s.Services)
}

// TestRefreshNowForcesAWaitingCycle: right after a cycle ran, the
// schedule's next cycle is waiting (here scheduled a moment ahead) when
// RefreshNow is called. RefreshNow returns that cycle, which then runs
// as a forced one and refreshes every target (it used to be skipped as
// too soon after the last, so RefreshNow refreshed nothing).
func TestRefreshNowForcesAWaitingCycle(t *testing.T) {
	backends(t, func(t *testing.T, open opener) {
		const n, rate = 4, 20
		sim := atlastest.NewServer(t, &atlastest.Options{WriteRate: rate, WriteWindow: time.Second})
		store := dataproduct.NewMemoryStore(nil)
		targets := someTargets(n)
		opts := testOptions()
		opts.Refresh = &riverexec.Schedule{Every: time.Hour, PaceShare: 0.5,
			Services: []riverexec.ScheduledService{{Name: atlas.ServiceName, Params: refreshParams}},
			Targets:  func(context.Context) ([]singletarget.Target, error) { return targets, nil }}
		x := open(t, pacedATLAS(t, sim, store, rate), opts)
		start(t, x)
		ctx := context.Background()

		for round := range 2 {
			var id riverexec.CycleID
			if round == 0 {
				var err error
				id, err = x.RefreshNow(ctx)
				require.NoError(t, err)
			} else {
				waiting, err := riverexec.InsertScheduledCycle(ctx, x, time.Second)
				require.NoError(t, err)
				id, err = x.RefreshNow(ctx)
				require.NoError(t, err)
				assert.Equal(t, waiting, id, "the waiting cycle is returned, none inserted")
			}
			var c riverexec.RefreshCycle
			require.Eventually(t, func() bool {
				c = cycleByID(t, x, id)
				return !c.Finished.IsZero() || c.Skipped != ""
			}, 60*time.Second, 50*time.Millisecond, "round %d", round)
			assert.True(t, c.Forced, "round %d", round)
			assert.Empty(t, c.Skipped, "round %d", round)
			assert.Equal(t, n, c.Progress.Done, "round %d: every target refreshed: %s", round, c.Progress)
		}
	})
}
