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

// Keep a light curve fresh: a refresh (Request.Refresh, or
// Manager.Refresh with the form's initial values) asks only for the
// epochs from the newest datum already stored for the target from that
// service, less the service's overlap (ATLAS: 3 days). The overlap comes
// back and is de-duplicated, so a refresh with nothing new adds nothing
// and keeps no product.
func ExampleManager_Refresh() {
	sim := atlastest.Start(nil) // an offline ATLAS
	defer sim.Close()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(),
		PollQueued: 5 * time.Millisecond, PollRunning: 5 * time.Millisecond, PollMax: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	if err := m.AddProcessor(atlas.DataProductType, atlas.Processor{}); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	req := singletarget.Request{Service: "ATLAS", Target: singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params: url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}}, Refresh: true}
	for range 2 {
		res, err := m.Run(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("window %s: added %d, skipped %d, %d product(s) kept\n", res.Window, res.Added, res.Skipped, len(res.Products))
	}
	overlap, _ := m.RefreshOverlap("ATLAS")
	fmt.Println("overlap", overlap)
	// Output:
	// window MJD 60300 – 60330: added 64, skipped 0, 1 product(s) kept
	// window MJD 60326.141886 – 60330: added 0, skipped 8, 0 product(s) kept
	// overlap 72h0m0s
}
