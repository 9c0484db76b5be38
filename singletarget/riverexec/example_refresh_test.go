package riverexec_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

// A scheduled refresh: every day (and once when the workers start), every
// target the TOM follows is refreshed from ATLAS, its queries spread at
// 95% of the account's pace (60 writes a minute: a POST and a DELETE per
// query) across every worker process. RefreshCycles reports each cycle.
func Example_scheduledRefresh() {
	sim := atlastest.Start(nil) // an offline ATLAS
	defer sim.Close()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: 20 * time.Millisecond, PollRunning: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	if err := m.AddProcessor(atlas.DataProductType, atlas.Processor{}); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		log.Fatal(err)
	}
	followed := func(context.Context) ([]singletarget.Target, error) { // the TOM's targets
		return []singletarget.Target{
			{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
			{ID: 2, Name: "SN 2024ggi", RA: 169.59225, Dec: -32.83814},
		}, nil
	}
	dir, err := os.MkdirTemp("", "refresh-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	x, err := riverexec.Open(ctx, "sqlite://"+filepath.Join(dir, "jobs.db"), m, &riverexec.Options{
		FetchPollInterval: 50 * time.Millisecond,
		Refresh: &riverexec.Schedule{Every: 24 * time.Hour, Targets: followed, Services: []riverexec.ScheduledService{
			{Name: "ATLAS", Params: url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}}}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()
	if err := x.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if err := x.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer x.Stop(ctx)
	for {
		cycles, err := x.RefreshCycles(ctx, 1)
		if err != nil {
			log.Fatal(err)
		}
		if len(cycles) == 1 && !cycles[0].Finished.IsZero() {
			c := cycles[0]
			fmt.Printf("%d targets: %d done; ATLAS at %s\n", c.Targets, c.Progress.Done, c.Services[0].Pace)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Output:
	// 2 targets: 2 done; ATLAS at 30 queries per 1m0s
}
