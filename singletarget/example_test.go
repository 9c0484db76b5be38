package singletarget_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

// Load TOM-style settings and build a Manager from a Registry. Secrets come
// from the environment through ${NAME}; every mistake is reported at load
// time, naming its key.
func ExampleRegistry_Load() {
	settings := `
single_target_data_services:
  DEMO:
    class: demo.Service
    api_key: ${DEMO_API_KEY:-demo-key-123}
data_product_types:
  demo_photometry: Demo Photometry
data_processors:
  demo_photometry: demo.Processor
`
	cfg, err := singletarget.ParseConfig([]byte(settings), nil)
	if err != nil {
		log.Fatal(err)
	}
	r := singletarget.NewRegistry()
	if err := demo.Register(r, demo.NewArchive("demo-key-123", 1)); err != nil {
		log.Fatal(err)
	}
	m, err := r.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	if err != nil {
		log.Fatal(err)
	}
	info, _ := m.Info("DEMO")
	fmt.Println(m.Services(), info.Kind, info.DataProductType)

	// A settings mistake names the key.
	_, err = singletarget.ParseConfig([]byte(strings.Replace(settings, "class: demo.Service", "klass: demo.Service", 1)), nil)
	fmt.Println(err)
	// Output:
	// [DEMO] Forced Photometry demo_photometry
	// settings line 4: single_target_data_services.DEMO.class: missing: every service needs a class (e.g. atlas.ForcedPhotometryService)
}

// Run a query to the end: form values are validated, the remote task is
// queued and polled, the result file stored and its datums ingested
// without duplicates.
func ExampleManager_Run() {
	archive := demo.NewArchive("demo-key-123", 2)
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	if err := m.AddProcessor(demo.ProductType, demo.Processor()); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(demo.NewService(archive, "demo-key-123", 0)); err != nil {
		log.Fatal(err)
	}
	req := singletarget.Request{
		Service: "DEMO",
		Target:  singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params:  url.Values{"min_mjd": {"60083"}, "max_mjd": {"60093"}, "band": {"g"}},
	}
	res, err := m.Run(context.Background(), req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: added %d, skipped %d\n", res.Products[0].Name, res.Added, res.Skipped)
	res, _ = m.Run(context.Background(), req)
	fmt.Printf("again: added %d, skipped %d\n", res.Added, res.Skipped)

	req.Params.Set("max_mjd", "60000")
	_, err = m.Run(context.Background(), req)
	fmt.Println(err)
	// Output:
	// demo-SN_2023ixf-60083-60093.csv: added 10, skipped 0
	// again: added 0, skipped 10
	// invalid form: max_mjd: Must be after min_mjd.
}
