package alerce_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// The whole flow against the simulator, which answers ZTF20aaelulu with
// ALeRCE's real light curve: the target's name is an ALeRCE id, so no
// cone search is needed.
func Example() {
	sim := alercetest.Start(nil)
	defer sim.Close()
	svc, err := alerce.NewService(sim.URLs(), &alerce.Options{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	if err := m.AddProcessor(alerce.DataProductType, alerce.Processor{}); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	res, err := m.Run(ctx, singletarget.Request{
		Service: alerce.ServiceName,
		Target:  singletarget.Target{ID: 1, Name: "ZTF20aaelulu", RA: 185.7288549, Dec: 15.8236255},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Products[0].Name, "added", res.Added)
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{ProductID: res.Products[0].ID})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		if ph.Magnitude != nil {
			fmt.Printf("%.5f %s %s %s = %.3f ± %.3f\n", *ph.MJD, ph.Telescope, ph.Filter, d.Source, *ph.Magnitude, *ph.Error)
		} else {
			fmt.Printf("%.5f %s %s %s > %.3f\n", *ph.MJD, ph.Telescope, ph.Filter, d.Source, *ph.Limit)
		}
	}
	// Output:
	// alerce-ZTF20aaelulu-ZTF20aaelulu-dnf-start-end.json added 8
	// 58828.54782 ZTF g ALERCE > 19.201
	// 58834.52370 ZTF r ALERCE > 18.894
	// 58855.54229 ZTF r ALERCE = 17.280 ± 0.056
	// 58859.52228 ZTF g ALERCE = 14.916 ± 0.028
	// 58906.44593 ZTF r ALERCE = 16.599 ± 0.043
	// 58908.34093 ZTF g ALERCE = 17.035 ± 0.049
	// 58964.26946 ZTF r ALERCE > 20.665
	// 58967.22705 ZTF g ALERCE = 18.608 ± 0.103
}

// The processor alone, over a file: ALeRCE's v1 light-curve answer is a
// light curve the processor reads as it is.
func ExampleProcessor() {
	f, err := os.Open("alercetest/data/ztf20aaelulu_lightcurve.json")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	ds, err := alerce.Processor{}.Process(context.Background(), f)
	if err != nil {
		log.Fatal(err)
	}
	det := 0
	for _, d := range ds {
		if d.Value.(dataproduct.Photometry).Magnitude != nil {
			det++
		}
	}
	fmt.Printf("%d detections, %d limits\n", det, len(ds)-det)
	// Output: 5 detections, 3 limits
}
