package ztf_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// Light curves of IRSA's public data releases, through a Manager: one
// request, one stored CSV product, its detections ingested. The simulator
// stands in for IRSA; for the real service use ztf.DefaultLightCurveURL.
func Example_lightCurves() {
	sim := ztftest.Start(nil)
	defer sim.Close()

	svc, err := ztf.NewService(sim.LightCurveURL, &ztf.Options{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	if err := m.AddProcessor(ztf.DataProductType, ztf.Processor{}); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		log.Fatal(err)
	}

	target := singletarget.Target{ID: 1, Name: "SN 2024abc", RA: 230.7155157, Dec: 41.0502799}
	res, err := m.Run(context.Background(), singletarget.Request{
		Service: "ZTF", Target: target,
		Params: url.Values{"bands": {"g,r"}, "min_date_mjd": {"59000"}, "radius": {"3"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Products[0].Name, res.Products[0].Extra["rows"], "rows")
	fmt.Println(res.Added, "datums")

	ds, _ := store.ListDatums(context.Background(), dataproduct.DatumFilter{TargetID: 1, Limit: 1})
	ph := ds[0].Value.(dataproduct.Photometry)
	fmt.Printf("%s %s %s %.3f ± %.3f\n", ds[0].Timestamp.Format("2006-01-02"), ph.Telescope, ph.Filter, *ph.Magnitude, *ph.Error)
	// Output:
	// ztf-SN_2024abc-gr-59000-end-r3.csv 50 rows
	// 50 datums
	// 2020-06-04 ZTF r 19.301 ± 0.081
}

// Processing an IRSA CSV answer read from disk: rows flagged bad by
// catflags bit 15 (32768) are dropped, other flags are kept and marked.
func ExampleProcessor() {
	f, err := os.Open("testdata/ztf_irsa_lightcurve.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	ds, err := ztf.Processor{}.Process(context.Background(), f)
	if err != nil {
		log.Fatal(err)
	}
	flagged := 0
	for _, d := range ds {
		if d.Value.(dataproduct.Photometry).Extra["catflags"] != nil {
			flagged++
		}
	}
	ph := ds[0].Value.(dataproduct.Photometry)
	fmt.Println(len(ds), "datums,", flagged, "flagged")
	fmt.Printf("%s %s mag %.4f ± %.4f (%.1f µJy)\n", ds[0].Timestamp.Format("2006-01-02T15:04:05"), ph.Filter, *ph.Magnitude, *ph.Error, *ph.FluxUJy)
	// Output:
	// 84 datums, 5 flagged
	// 2018-03-27T04:06:11 g mag 19.6117 ± 0.0648 (51.9 µJy)
}

// The raw light-curve client, without a store: an object-id query in an
// IPAC table.
func ExampleClient_LightCurves() {
	sim := ztftest.Start(nil)
	defer sim.Close()
	c, err := ztf.New(sim.LightCurveURL, &ztf.Options{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	ids := sim.ObjectIDs(230.7155157, 41.0502799)
	lc, err := c.LightCurves(context.Background(), ztf.LightCurveQuery{IDs: ids[:1], Format: ztf.FormatIPAC, BadCatflagsMask: 32768})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.Format, lc.Rows, "rows")
	// Output:
	// ipac_table 29 rows
}
