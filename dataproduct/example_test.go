package dataproduct_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
)

// A product's file is replaced only on request: PutProduct refuses other
// bytes (or another type) under a name already taken, ReplaceProduct
// replaces the file, keeps the ID and removes the old file's datums, and
// uploads live in a name space of their own.
func ExampleStore_ReplaceProduct() {
	ctx := context.Background()
	var store dataproduct.Store = dataproduct.NewMemoryStore(nil)
	p := dataproduct.Product{TargetID: 1, Name: "atlas_2024_01_07-2024_01_27.txt", DataProductType: "atlas_photometry"}
	first, err := store.PutProduct(ctx, p, strings.NewReader("###MJD m\n60316.1 17.0\n"))
	if err != nil {
		log.Fatal(err)
	}

	_, err = store.PutProduct(ctx, p, strings.NewReader("###MJD m\n60316.1 17.0\n60317.1 17.1\n"))
	fmt.Println("put other bytes:", errors.Is(err, dataproduct.ErrConflict))
	upload := dataproduct.Product{TargetID: 1, Name: p.Name, DataProductType: "photometry"}
	_, err = store.PutProduct(ctx, upload, strings.NewReader("time,filter,magnitude\n"))
	fmt.Println("put another type:", errors.Is(err, dataproduct.ErrConflict))

	second, err := store.ReplaceProduct(ctx, p, strings.NewReader("###MJD m\n60316.1 17.0\n60317.1 17.1\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replaced, same ID:", second.ID == first.ID, "size", second.Size)

	upload.Name = dataproduct.UploadName(upload.Name)
	u, err := store.PutProduct(ctx, upload, strings.NewReader("time,filter,magnitude\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("upload stored as", u.Name)
	// Output:
	// put other bytes: true
	// put another type: true
	// replaced, same ID: true size 35
	// upload stored as upload-atlas_2024_01_07-2024_01_27.txt
}
