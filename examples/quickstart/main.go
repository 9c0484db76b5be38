// Command quickstart runs the whole single-target flow offline: it builds
// services from settings, queries them for one well-known transient through
// the in-process executor, stores the result files, processes them into
// photometry and prints a per-service summary.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

const settings = `
single_target_data_services:
  DEMO:
    class: demo.Service
    api_key: ${DEMO_API_KEY:-demo-key-0001}
    poll_ms: 20
data_product_types:
  demo_photometry: Demo Photometry
data_processors:
  demo_photometry: demo.Processor
`

func main() {
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	cfg, err := singletarget.ParseConfig([]byte(settings), os.LookupEnv)
	if err != nil {
		return err
	}
	reg := singletarget.NewRegistry()
	if err := demo.Register(reg, demo.NewArchive("demo-key-0001", 3)); err != nil {
		return err
	}
	store := dataproduct.NewMemoryStore(nil)
	m, err := reg.Load(cfg, store, nil)
	if err != nil {
		return err
	}
	pool := singletarget.NewPool(m, nil)
	if err := pool.Start(ctx); err != nil {
		return err
	}
	defer pool.Stop(context.Background())

	target := singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}
	fmt.Fprintf(w, "Target %s (RA %.5f, Dec %.5f)\n\n", target.Name, target.RA, target.Dec)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "service\tproducts\tdetections\tlimits\tfirst\tlast")
	for _, name := range m.Services() {
		id, err := pool.Submit(ctx, singletarget.Request{Service: name, Target: target,
			Params: url.Values{"min_mjd": {"60083"}, "max_mjd": {"60113"}}})
		if err != nil {
			return err
		}
		st, err := pool.Wait(ctx, id)
		if err != nil {
			return err
		}
		if st.State != singletarget.JobSucceeded {
			return fmt.Errorf("%s: %s", name, st.Error)
		}
		ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID, Source: name})
		if err != nil {
			return err
		}
		det, lim := 0, 0
		for _, d := range ds {
			if p, ok := d.Value.(dataproduct.Photometry); ok && p.Magnitude != nil {
				det++
			} else {
				lim++
			}
		}
		first, last := "-", "-"
		if len(ds) > 0 {
			first, last = ds[0].Timestamp.Format(time.DateOnly), ds[len(ds)-1].Timestamp.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", name, len(st.Products), det, lim, first, last)
	}
	return tw.Flush()
}
