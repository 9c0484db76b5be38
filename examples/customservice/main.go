// Command customservice runs the SDSS spectra service of package sdss — a
// service added to targetdata the way a TOM developer adds their own — in
// the three steps of the TOM Toolkit's guide: the sdss package implements
// the Service, its QueryForm and a Processor; the command registers its
// classes next to the built-in ones; settings.yaml names them.
//
//	go run ./examples/customservice                  # offline: the bundled simulator
//	go run ./examples/customservice -live -name "SDSS J140338.56+541842.1" -ra 210.910674 -dec 54.311686
//
// Without -live nothing leaves the machine: the service talks to an
// in-process simulator of SkyServer and the SAS. With -live it queries
// the real SDSS DR17. It prints the stored product and the spectrum
// datum; -json prints the datum as one JSON line instead.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/examples/customservice/sdss"
	"github.com/tomgo/targetdata/examples/customservice/sdss/sdsstest"
	"github.com/tomgo/targetdata/singletarget"
)

//go:embed settings.yaml
var defaultSettings []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("customservice", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "query the real SDSS (default: the bundled simulator, offline)")
	config := fs.String("config", "", "settings file (default: the bundled settings.yaml)")
	name := fs.String("name", "SDSS J140338.56+541842.1", "target name")
	ra := fs.Float64("ra", 210.910674, "target RA (degrees)")
	dec := fs.Float64("dec", 54.311686, "target Dec (degrees)")
	radius := fs.Float64("radius", 3, "search radius (arcsec)")
	asJSON := fs.Bool("json", false, "print the datum as a JSON line")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := query(ctx, *live, *config, singletarget.Target{ID: 1, Name: *name, RA: *ra, Dec: *dec}, *radius, *asJSON, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "customservice:", err)
		if errors.Is(err, singletarget.ErrInvalidForm) || errors.Is(err, singletarget.ErrConfig) {
			return 2
		}
		return 1
	}
	return 0
}

func query(ctx context.Context, live bool, config string, t singletarget.Target, radius float64, asJSON bool, stdout, stderr io.Writer) error {
	settings := defaultSettings
	if config != "" {
		b, err := os.ReadFile(config)
		if err != nil {
			return err
		}
		settings = b
	}
	lookup := os.LookupEnv
	opts := &singletarget.ManagerOptions{}
	if !live {
		sim := sdsstest.Start(nil)
		defer sim.Close()
		env := map[string]string{"SDSS_URL": sim.URL, "SDSS_SAS_URL": sim.SASURL}
		lookup = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		opts.HTTPClient = sim.Client()
		fmt.Fprintln(stderr, "offline: SDSS simulator at", sim.URL)
	}

	// Step 2: register the classes, the built-in ones and our own.
	reg := singletarget.NewRegistry()
	if err := errors.Join(builtin.Register(reg), sdss.Register(reg)); err != nil {
		return err
	}
	// Step 3: the settings name the classes (and the data product type's
	// processor); every mistake is reported at once, with its line.
	cfg, err := reg.ParseConfig(settings, lookup, builtin.WithDefaults)
	if err != nil {
		return err
	}
	store := dataproduct.NewMemoryStore(nil)
	m, err := reg.Load(cfg, store, opts)
	if err != nil {
		return err
	}

	params := url.Values{"radius": {strconv.FormatFloat(radius, 'f', -1, 64)}}
	res, err := m.Run(ctx, singletarget.Request{Service: sdss.ServiceName, Target: t, Params: params})
	if err != nil {
		return err
	}
	for _, p := range res.Products {
		fmt.Fprintf(stderr, "stored %s (%d bytes): %s at z = %s, %s arcmin away\n", p.Name, p.Size, p.Extra["class"], p.Extra["z"], p.Extra["distance_arcmin"])
	}
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: t.ID})
	if err != nil {
		return err
	}
	for _, d := range ds {
		if asJSON {
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, string(b))
			continue
		}
		s, ok := d.Value.(dataproduct.Spectrum)
		if !ok {
			continue
		}
		n := len(s.Wavelength)
		fmt.Fprintf(stdout, "%s %s %s: %d points, %.1f-%.1f %s, flux %.3g-%.3g %s\n", d.Timestamp.Format("2006-01-02T15:04:05Z07:00"),
			d.Source, d.DataType, n, s.Wavelength[0], s.Wavelength[n-1], s.WavelengthUnits, slices.Min(s.Flux), slices.Max(s.Flux), s.FluxUnits)
	}
	fmt.Fprintf(stderr, "added %d, skipped %d\n", res.Added, res.Skipped)
	return nil
}
