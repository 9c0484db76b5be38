// Command quickstart runs the whole single-target flow offline: it starts
// the bundled ATLAS, PanSTARRS, ZTF and ALeRCE simulators in this process,
// opens a SQLite store with its files in a local folder, queries the four
// services for SN 2023ixf through the in-process executor, processes and
// ingests the result files, prints a per-service summary and draws
// lightcurve.png.
//
//	go run ./examples/quickstart               # offline, in a temporary folder removed at the end
//	go run ./examples/quickstart -dir out      # keep the database, files and plot in ./out
//	go run ./examples/quickstart -live         # the real services; keys from the environment
//
// With -live, ATLAS needs ATLAS_FORCED_PHOTOMETRY_API_KEY; PanSTARRS (MAST),
// ZTF light curves (IRSA) and ALeRCE are public.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/examples/internal/plot"
	"github.com/tomgo/targetdata/singletarget"
)

// settings are the quickstart's TOM settings. The URLs are the real
// services'; without -live they are replaced by the simulators'.
const settings = `
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: https://fallingstar-data.com/forcedphot
    api_key: ${ATLAS_FORCED_PHOTOMETRY_API_KEY:-}
  PANSTARRS:
    class: panstarrs.Service
    url: https://catalogs.mast.stsci.edu/api/v0.1/panstarrs
  ZTF:
    class: ztf.Service
    url: https://irsa.ipac.caltech.edu
  ALERCE:
    class: alerce.Service
tasks:
  backend: pool
  workers: 4
`

// target is SN 2023ixf, the nearby type II supernova in M101.
var target = singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}

// queries are the form values of each service's query.
var queries = map[string]url.Values{
	"ATLAS":     {"min_date_mjd": {"60080"}, "max_date_mjd": {"60180"}},
	"PANSTARRS": {"catalog": {"detection"}},
	"ZTF":       {},
	"ALERCE":    {},
}

func main() {
	dir := flag.String("dir", "", "folder for the database, the files and lightcurve.png (default: a new temporary folder)")
	live := flag.Bool("live", false, "query the real services (needs the network and, for ATLAS, ATLAS_FORCED_PHOTOMETRY_API_KEY)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long (live ATLAS tasks can take much longer)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	err := quickstart(ctx, *dir, *live, os.Stdout)
	cancel()
	if err != nil {
		log.Fatal(err)
	}
}

// quickstart runs in dir, or, when dir is "", in a temporary folder that
// it removes at the end, whatever happened.
func quickstart(ctx context.Context, dir string, live bool, w io.Writer) (err error) {
	if dir != "" {
		return run(ctx, dir, live, w)
	}
	tmp, err := os.MkdirTemp("", "targetdata-quickstart-")
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); err == nil {
			err = rerr
		}
		fmt.Fprintf(w, "\nremoved %s (-dir DIR keeps the database, the files and the plot)\n", tmp)
	}()
	return run(ctx, tmp, live, w)
}

// config returns the quickstart's settings with its store in dir; live
// leaves the real services' URLs (and drops ATLAS without a key).
func config(dir string, live bool, w io.Writer) (*singletarget.Config, error) {
	cfg, err := singletarget.ParseConfig([]byte(settings), os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cfg.Database = "sqlite://" + filepath.Join(dir, "targetdata.db")
	cfg.Storage = "file://" + absolute(filepath.Join(dir, "files"))
	if live && cfg.Services["ATLAS"].APIKey.IsZero() {
		fmt.Fprintln(w, "ATLAS_FORCED_PHOTOMETRY_API_KEY is not set: skipping ATLAS")
		delete(cfg.Services, "ATLAS")
		cfg.ServiceOrder = slices.DeleteFunc(cfg.ServiceOrder, func(s string) bool { return s == "ATLAS" })
	}
	return cfg, nil
}

func run(ctx context.Context, dir string, live bool, w io.Writer) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg, err := config(dir, live, w)
	if err != nil {
		return err
	}
	if !live {
		var stops []func()
		defer func() {
			for _, stop := range stops {
				stop()
			}
		}()
		if err := builtintest.Simulate(cfg, func(f func()) { stops = append(stops, f) }); err != nil {
			return err
		}
	}
	app, err := builtin.Open(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := app.Close(); err == nil {
			err = cerr
		}
	}()
	if err := app.Start(ctx); err != nil {
		return err
	}
	defer app.Stop(context.Background())

	mode := "simulated services"
	if live {
		mode = "live services"
	}
	fmt.Fprintf(w, "Target %s (RA %.6f, Dec %.6f), %s, data in %s\n\n", target.Name, target.RA, target.Dec, mode, dir)
	ids := map[string]singletarget.JobID{}
	for _, name := range app.Manager.Services() {
		id, err := app.Executor.Submit(ctx, singletarget.Request{Service: name, Target: target, Params: queries[name]})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		ids[name] = id
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "service\tproducts\tdetections\tlimits\tfirst\tlast")
	var all []dataproduct.Datum
	for _, name := range app.Manager.Services() {
		st, err := app.Executor.Wait(ctx, ids[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if st.State != singletarget.JobSucceeded {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\t\t\t\n", name, st.Error)
			continue
		}
		var ds []dataproduct.Datum
		for _, p := range st.Products {
			pds, err := app.Store.ListDatums(ctx, dataproduct.DatumFilter{ProductID: p.ID})
			if err != nil {
				return err
			}
			ds = append(ds, pds...)
		}
		all = append(all, ds...)
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
	if err := tw.Flush(); err != nil {
		return err
	}
	png := filepath.Join(dir, "lightcurve.png")
	f, err := os.Create(png)
	if err != nil {
		return err
	}
	_, err = plot.Lightcurve(f, target.Name, all, 9*vg.Inch, 5*vg.Inch)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, plot.ErrNoData) {
		fmt.Fprintln(w, "\nno photometry to plot")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nlight curve: %s\n", png)
	return nil
}

func absolute(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
