package singletarget_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Query many targets at once, keeping the service exactly as busy as the
// account allows: here an ATLAS simulator that lets an account have two
// tasks in flight, which the service is told (atlas.Options.MaxActiveTasks;
// LearnActiveLimit would learn it from the first refusal instead). The
// batch never has more than two remote tasks at once, so the server never
// has to refuse one, and the writes are paced on the server's window.
func ExampleManager_Batch() {
	sim := atlastest.Start(&atlastest.Options{MaxActivePerToken: 2, RunTime: 50 * time.Millisecond})
	defer sim.Close()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(), MaxActiveTasks: 2,
		PollQueued: 10 * time.Millisecond, PollRunning: 10 * time.Millisecond})
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
	targets := []singletarget.Target{
		{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		{ID: 2, Name: "NGC 1566", RA: 65.00165, Dec: -54.93795},
		{ID: 3, Name: "SN 2024ggi", RA: 169.59167, Dec: -32.83833},
		{ID: 4, Name: "AT 2024wpp", RA: 38.85767, Dec: -3.96586},
		{ID: 5, Name: "Near the pole", RA: 10, Dec: -89.5}, // the simulator has no data there
	}
	params := url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}}
	b, err := m.Batch(context.Background(), atlas.ServiceName, targets, params, nil)
	if err != nil {
		log.Fatal(err)
	}
	p, err := b.Wait(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p)
	for _, st := range b.Results() {
		fmt.Printf("%-13s %-9s added %d\n", st.Request.Target.Name, st.State, st.Added)
	}
	stats := sim.Stats()
	fmt.Printf("remote tasks: %d, most in flight: %d, refused: %d\n", stats.TasksCreated, stats.MaxActive, stats.Throttled)
	// Output:
	// 4/5 done, 1 failed, 0 cancelled, 0 throttled, 0 pending (0 in flight)
	// SN 2023ixf    succeeded added 64
	// NGC 1566      succeeded added 72
	// SN 2024ggi    succeeded added 80
	// AT 2024wpp    succeeded added 84
	// Near the pole failed    added 0
	// remote tasks: 5, most in flight: 2, refused: 0
}
