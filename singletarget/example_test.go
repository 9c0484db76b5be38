package singletarget_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"strings"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Load TOM-style settings and build a Manager from a Registry. Classes are
// registered explicitly (builtin.Register adds every built-in one); the key
// comes from the environment through ${NAME}; every mistake is reported at
// load time, naming its key.
func ExampleRegistry_Load() {
	sim := atlastest.Start(nil) // an offline ATLAS
	defer sim.Close()
	env := map[string]string{"ATLAS_URL": sim.URL, "ATLAS_FORCED_PHOTOMETRY_API_KEY": sim.Token.Reveal()}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	settings := `
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: ${ATLAS_URL}
    api_key: ${ATLAS_FORCED_PHOTOMETRY_API_KEY}
data_product_types:
  atlas_photometry: ATLAS Photometry
data_processors:
  atlas_photometry: atlas.Processor
`
	cfg, err := singletarget.ParseConfig([]byte(settings), lookup)
	if err != nil {
		log.Fatal(err)
	}
	r := singletarget.NewRegistry()
	if err := atlas.Register(r); err != nil {
		log.Fatal(err)
	}
	m, err := r.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	if err != nil {
		log.Fatal(err)
	}
	info, _ := m.Info("ATLAS")
	fmt.Println(m.Services(), info.Kind, info.DataProductType, info.Async)

	// Every mistake at once, each with its key and line: the registry's
	// ParseConfig (and LoadConfig) also checks the classes and their keys.
	bad := strings.NewReplacer("class: atlas.", "class: atlas.Nope", "url: ${ATLAS_URL}", "url: ${NOT_SET}").Replace(settings)
	_, err = r.ParseConfig([]byte(bad), lookup, nil)
	fmt.Println(err)
	// Output:
	// [ATLAS] Forced Photometry atlas_photometry true
	// settings line 4: single_target_data_services.ATLAS.class: unknown class "atlas.NopeForcedPhotometryService" (registered: atlas.ForcedPhotometryService)
	// settings line 5: single_target_data_services.ATLAS.url: environment variable NOT_SET is not set
}

// Run a query to the end: the form values are validated, the ATLAS task is
// queued and polled, the result file stored, its datums ingested without
// duplicates, and then the remote task deleted. The same query again
// stores nothing new: one product, no datum added.
func ExampleManager_Run() {
	sim := atlastest.Start(&atlastest.Options{RunTime: 50 * time.Millisecond})
	defer sim.Close()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: 10 * time.Millisecond, PollRunning: 10 * time.Millisecond})
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
	req := singletarget.Request{
		Service: "ATLAS",
		Target:  singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params:  url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}},
	}
	ctx := context.Background()
	res, err := m.Run(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: added %d, skipped %d\n", res.Products[0].Name, res.Added, res.Skipped)
	res, err = m.Run(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: %s, added %d, skipped %d\n", res.Products[0].Name, res.Added, res.Skipped)
	fmt.Println("remote tasks created:", sim.Stats().TasksCreated, "deleted:", sim.Stats().Deletes)
	products, err := m.Store().ListProducts(ctx, dataproduct.ProductFilter{TargetID: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("products stored:", len(products))

	req.Params.Set("max_date_mjd", "60200")
	_, err = m.Run(ctx, req)
	fmt.Println(err)
	// Output:
	// atlas_2023_12_22-2024_01_21.txt: added 64, skipped 0
	// again: atlas_2023_12_22-2024_01_21.txt, added 0, skipped 64
	// remote tasks created: 2 deleted: 2
	// products stored: 1
	// invalid form: max_date_mjd: The maximum date must be after the minimum date.
}
