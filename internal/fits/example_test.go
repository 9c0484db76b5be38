package fits_test

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/tomgo/targetdata/internal/fits"
)

// Reading a 1-D spectrum from the primary HDU: the flux values, the linear
// wavelength axis of its header and the observation date.
func Example() {
	f, err := os.Open("testdata/spectrum_1d.fits")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	r := fits.NewReader(f, nil)
	h, err := r.Next()
	if err != nil {
		log.Fatal(err)
	}
	flux, err := h.ReadFloat64()
	if err != nil {
		log.Fatal(err)
	}
	hdr := h.Header()
	crval, _ := hdr.Float("CRVAL1")
	cdelt, _ := hdr.Float("CDELT1")
	crpix, _ := hdr.Float("CRPIX1")
	unit, _ := hdr.String("BUNIT")
	date, err := hdr.String("DATE-OBS")
	if err != nil {
		log.Fatal(err)
	}
	n := h.Shape()[0] // NAXIS1: the first row of an N×1×1 or N×2 array too
	wave := func(p int) float64 { return crval + cdelt*(float64(p)-crpix) }

	fmt.Println("points:", n, "date:", date)
	fmt.Printf("first: %.1f Å %.6g %s\n", wave(1), flux[0], unit)
	fmt.Printf("last:  %.1f Å %.6g\n", wave(n), flux[n-1])
	if _, err := r.Next(); err == io.EOF {
		fmt.Println("no extensions")
	}
	// Output:
	// points: 600 date: 2024-01-26T03:14:15
	// first: 3600.0 Å 3.2737e-16 erg/cm2/s/Angstrom
	// last:  8991.0 Å 7.79287e-17
	// no extensions
}

// Reading the columns of an SDSS spec-lite style binary table.
func ExampleTable_Float64s() {
	f, err := os.Open("testdata/sdss_speclite.fits")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	r := fits.NewReader(f, nil)
	for {
		h, err := r.Next()
		if err != nil {
			log.Fatal(err) // io.EOF: no COADD table
		}
		if name, _ := h.Header().String("EXTNAME"); h.Type() != fits.BinTableHDU || name != "COADD" {
			continue // skipped, data unread
		}
		tab, err := h.Table()
		if err != nil {
			log.Fatal(err)
		}
		loglam, err := tab.Float64s("loglam")
		if err != nil {
			log.Fatal(err)
		}
		flux, err := tab.Float64s("flux")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d rows; first: log10(λ) %.4f, flux %.2f\n", tab.Rows(), loglam[0], flux[0])
		return
	}
	// Output:
	// 50 rows; first: log10(λ) 3.5798, flux 10.00
}
