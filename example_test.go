package targetdata_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/singletarget"
)

// The quick start: settings in, photometry out. The service here is
// pointed at the bundled PanSTARRS simulator, so the example runs offline.
func Example() {
	settings := `
single_target_data_services:
  PANSTARRS:
    class: panstarrs.Service
database: "sqlite://:memory:"
`
	cfg, err := singletarget.ParseConfig([]byte(settings), nil)
	if err != nil {
		log.Fatal(err)
	}
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	if err := builtintest.Simulate(cfg, func(stop func()) { stops = append(stops, stop) }); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	app, err := builtin.Open(ctx, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	req := singletarget.Request{
		Service: "PANSTARRS",
		Target:  singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params:  url.Values{"catalog": {"detection"}},
	}
	res, err := app.Manager.Run(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: added %d\n", res.Products[0].Name, res.Added)
	res, err = app.Manager.Run(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: added %d, skipped %d\n", res.Added, res.Skipped)
	// Output:
	// panstarrs-dr2-detection-SN_2023ixf-none-none.csv: added 157
	// again: added 0, skipped 157
}
