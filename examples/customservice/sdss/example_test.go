package sdss_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/examples/customservice/sdss"
	"github.com/tomgo/targetdata/examples/customservice/sdss/sdsstest"
	"github.com/tomgo/targetdata/singletarget"
)

// The TOM's three steps for a service of one's own, run offline against
// the simulator: the package implements the Service, its QueryForm and a
// Processor (step 1); Register makes the classes known (step 2); the
// settings name them (step 3).
func Example() {
	sim := sdsstest.Start(nil)
	defer sim.Close()

	// Step 2: register the classes, next to builtin.Register in a real TOM.
	reg := singletarget.NewRegistry()
	if err := sdss.Register(reg); err != nil {
		log.Fatal(err)
	}

	// Step 3: the settings entries (the URLs point at the simulator here;
	// leave them out for the real SDSS DR17).
	settings := `
single_target_data_services:
  SDSS_SPECTRA:
    class: sdss.Service
    url: ${SDSS_URL}
    sas_url: ${SDSS_SAS_URL}
data_product_types:
  sdss_spectrum: SDSS Spectrum
data_processors:
  sdss_spectrum: sdss.Processor
`
	env := map[string]string{"SDSS_URL": sim.URL, "SDSS_SAS_URL": sim.SASURL}
	cfg, err := singletarget.ParseConfig([]byte(settings), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m, err := reg.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	target := singletarget.Target{ID: 1, Name: "SDSS J140338.56+541842.1", RA: 210.910674, Dec: 54.311686}
	res, err := m.Run(ctx, singletarget.Request{Service: sdss.ServiceName, Target: target, Params: url.Values{"radius": {"5"}}})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range res.Products {
		fmt.Println("stored", p.Name, "-", p.Extra["class"], "at z =", p.Extra["z"])
	}
	fmt.Println("added", res.Added, "datum")

	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID})
	if err != nil {
		log.Fatal(err)
	}
	s := ds[0].Value.(dataproduct.Spectrum)
	fmt.Println(ds[0].Timestamp.Format(time.RFC3339), ds[0].Source, ds[0].DataType)
	fmt.Printf("%d points, %.1f-%.1f %s, flux in %s\n", len(s.Wavelength), s.Wavelength[0], s.Wavelength[len(s.Wavelength)-1], s.WavelengthUnits, s.FluxUnits)

	// The same query again stores and adds nothing new.
	again, err := m.Run(ctx, singletarget.Request{Service: sdss.ServiceName, Target: target, Params: url.Values{"radius": {"5"}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("again: added", again.Added, "skipped", again.Skipped)
	// Output:
	// stored sdss_SDSS_J140338.56_541842.1_spec-4242-55555-0123.fits - GALAXY at z = 0.1
	// added 1 datum
	// 2010-12-25T05:43:21Z SDSS_SPECTRA spectroscopy
	// 3839 points, 3805.4-9210.9 Angstrom, flux in erg/cm^2/s/Ang
	// again: added 0 skipped 1
}

// Using the protocol alone: the nearest spectrum and its file's URL.
func ExampleClient_Nearest() {
	sim := sdsstest.Start(nil)
	defer sim.Close()
	c, err := sdss.New(sim.URL, &sdss.Options{SASURL: sim.SASURL, HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	o, err := c.Nearest(context.Background(), 210.910674, 54.311686+9.0/3600, 30, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s plate %d, MJD %d, fibre %d, %.2f arcmin away\n", o.Class, o.Plate, o.MJD, o.FiberID, o.Distance)
	fmt.Println(c.SpecLiteURL(*o)[len(sim.SASURL):])
	// Output:
	// STAR plate 1324, MJD 52797, fibre 7, 0.02 arcmin away
	// /sdss/spectro/redux/26/spectra/lite/1324/spec-1324-52797-0007.fits
}
