package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "targetdata-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// A SQLite file; product files go to a "files" folder next to it.
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.ToSlash(filepath.Join(dir, "targetdata.db")), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	// Keep a service's result file as a data product.
	file := "###MJD m dm F\n60316.10 17.01 0.05 o\n60317.10 17.12 0.06 o\n"
	p, err := st.PutProduct(ctx, dataproduct.Product{
		TargetID: 42, Name: "atlas_2024_01_01-2024_02_01_1851119.txt",
		DataProductType: "atlas_photometry", ContentType: "text/plain",
	}, strings.NewReader(file))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("product %d: %s, %d bytes\n", p.ID, p.Name, p.Size)

	// Its datums, as a processor would make them.
	mjd0 := time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)
	datum := func(mjd, mag, err float64) dataproduct.Datum {
		return dataproduct.Datum{
			TargetID: 42, ProductID: p.ID, DataType: dataproduct.TypePhotometry, Source: "ATLAS",
			Timestamp: mjd0.Add(time.Duration(mjd * 86400 * float64(time.Second))),
			Value: dataproduct.Photometry{Magnitude: dataproduct.Float(mag), Error: dataproduct.Float(err),
				Filter: "o", Telescope: "ATLAS", MJD: dataproduct.Float(mjd)},
		}
	}
	ds := []dataproduct.Datum{datum(60316.10, 17.01, 0.05), datum(60317.10, 17.12, 0.06)}
	for _, what := range []string{"first ingest", "re-ingest"} {
		res, err := st.AddDatums(ctx, dataproduct.Datums(ds))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d added, %d skipped\n", what, res.Added, res.Skipped)
	}

	list, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 42, DataType: dataproduct.TypePhotometry})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range list {
		ph := d.Value.(dataproduct.Photometry)
		fmt.Printf("%s %s %.2f ± %.2f\n", d.Timestamp.Format(time.DateTime), ph.Filter, *ph.Magnitude, *ph.Error)
	}
	// Output:
	// product 1: atlas_2024_01_01-2024_02_01_1851119.txt, 58 bytes
	// first ingest: 2 added, 0 skipped
	// re-ingest: 0 added, 2 skipped
	// 2024-01-07 02:24:00 o 17.01 ± 0.05
	// 2024-01-08 02:24:00 o 17.12 ± 0.06
}
