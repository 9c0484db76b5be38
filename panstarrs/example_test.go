package panstarrs_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
)

// A TOM asks for the light curve of a target: the Manager queries the
// detection table (here the simulator), stores the CSV and ingests one
// datum per detection.
func Example() {
	sim := panstarrstest.Start(nil) // offline: a simulated MAST
	defer sim.Close()

	reg := singletarget.NewRegistry()
	if err := panstarrs.Register(reg); err != nil {
		log.Fatal(err)
	}
	cfg, err := singletarget.ParseConfig([]byte(`
single_target_data_services:
  PANSTARRS:
    class: panstarrs.Service
    url: `+sim.URL+`
data_product_types:
  panstarrs_photometry: PanSTARRS Photometry
data_processors:
  panstarrs_photometry: panstarrs.Processor
`), nil)
	if err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m, err := reg.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	res, err := m.Run(ctx, singletarget.Request{
		Service: "PANSTARRS",
		Target:  singletarget.Target{ID: 1, Name: "AT 2024xyz", RA: 230.7155, Dec: 41.0503},
		Params:  url.Values{"catalog": {"detection"}, "radius_arcsec": {"15"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Products[0].Name)
	fmt.Println("objects:", res.Products[0].Extra["objects"], "datums:", res.Added)

	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	if err != nil {
		log.Fatal(err)
	}
	for i, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		when := d.Timestamp.Format("2006-01-02T15:04:05")
		switch {
		case ph.Limit != nil:
			fmt.Printf("%s %s fainter than %.3f (%g sigma, S/N %.1f)\n", when, ph.Filter, *ph.Limit, ph.LimitSigma, *ph.FluxUJy / *ph.FluxErrUJy)
		case i < 3:
			fmt.Printf("%s %s %.3f ± %.3f\n", when, ph.Filter, *ph.Magnitude, *ph.Error)
		}
	}
	// Output:
	// panstarrs-dr2-detection-AT_2024xyz-none-none.csv
	// objects: 100000262090347990 datums: 20
	// 2010-05-26T07:36:23 y 19.428 ± 0.173
	// 2010-12-02T10:18:46 z 19.244 ± 0.043
	// 2011-01-05T09:16:47 i 19.240 ± 0.029
	// 2014-01-17T06:07:19 g fainter than 22.497 (3 sigma, S/N 2.0)
}

// Processing a detection file from MAST: one datum per usable row, with
// the magnitude from the flux in Jy and the time converted from TAI.
func ExampleProcessor() {
	f, err := os.Open("testdata/panstarrs_dr2_detection.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	n := 0
	for d, err := range (panstarrs.Processor{}).Stream(context.Background(), f) {
		if err != nil {
			log.Fatal(err)
		}
		if n < 3 {
			ph := d.Value.(dataproduct.Photometry)
			fmt.Printf("%s %s %.4f ± %.4f objID %s\n", d.Timestamp.Format("2006-01-02T15:04:05.000"), ph.Filter, *ph.Magnitude, *ph.Error, ph.Extra["objID"])
		}
		n++
	}
	fmt.Println(n, "datums from 71 rows (one has psfFlux -999)")
	// Output:
	// 2010-05-27T07:17:45.304 y 17.8926 ± 0.0189 objID 157262307155530976
	// 2010-05-27T07:32:24.657 y 17.9135 ± 0.0193 objID 157262307155530976
	// 2010-06-27T10:45:41.620 y 17.9279 ± 0.0196 objID 157262307155530976
	// 70 datums from 71 rows (one has psfFlux -999)
}

// The Client alone: the objects in a cone, nearest first, and one
// object's detections by objID.
func ExampleClient_Objects() {
	sim := panstarrstest.Start(nil)
	defer sim.Close()
	c, err := panstarrs.New(sim.URL, "", &panstarrs.Options{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	objs, err := c.Objects(ctx, panstarrs.DR2, panstarrs.Cone{RA: 230.7155, Dec: 41.0503, Radius: 17.0 / 3600}, 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range objs {
		fmt.Printf("%s at %.2f arcsec, %d detections\n", o.ObjID, o.Separation, o.NDetections)
	}
	tbl, err := c.SearchAll(ctx, panstarrs.Query{
		Release: panstarrs.DR2, Table: panstarrs.TableDetection,
		Columns: []string{"detectID", "filterID", "obsTime", "psfFlux", "psfFluxErr"},
		Where:   []panstarrs.Constraint{panstarrs.Eq("objID", objs[0].ObjID), panstarrs.Range("obsTime", panstarrs.OpMax, 55700)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tbl.Header)
	fmt.Println(tbl.Len(), "detections before MJD 55700")
	// Output:
	// 100000262090347990 at 13.79 arcsec, 21 detections
	// 100000262090347980 at 16.26 arcsec, 21 detections
	// 100000262100347970 at 16.26 arcsec, 18 detections
	// 100000262100347950 at 16.28 arcsec, 15 detections
	// 100000262100347960 at 16.36 arcsec, 14 detections
	// [detectID filterID obsTime psfFlux psfFluxErr]
	// 4 detections before MJD 55700
}
