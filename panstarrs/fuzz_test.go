package panstarrs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tomgo/targetdata/internal/fuzzcheck"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/singletarget"
)

// FuzzProcessor: any CSV or JSON answer gives well-formed datums
// (fuzzcheck.Processor) or a *ParseError, never a panic or a hang, for the
// default and a stricter limit significance.
func FuzzProcessor(f *testing.F) {
	for _, name := range []string{"panstarrs_dr2_mean.csv", "panstarrs_dr2_detection.csv", "panstarrs_dr2_stack_trimmed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"info":[{"name":"obsTime","type":"float"},{"name":"psfFlux","type":"float"},{"name":"psfFluxErr","type":"float"},{"name":"filterID","type":"int"}],"data":[[56000.5,1e-5,1e-6,1],[56001,-999,-999,2]]}`))
	f.Add([]byte("obsTime,psfFlux,psfFluxErr,filterID\n56000.5,1e-5,1e-6,1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzcheck.MaxInput {
			return
		}
		want := fuzzcheck.Photometry{Source: panstarrs.ServiceName, Exclusive: true}
		fuzzcheck.Processor(t, panstarrs.Processor{}, in, want)
		fuzzcheck.Processor(t, panstarrs.Processor{LimitSigma: 5}, in, want)
	})
}

// FuzzForm decodes and validates arbitrary values: a *FormErrors naming
// fields (fuzzcheck.Form), or a form with a release that has the catalog,
// a radius in (0, 1800] and an MJD range in order.
func FuzzForm(f *testing.F) {
	for _, q := range []string{
		"", "data_release=dr1&catalog=stack", "data_release=dr1&catalog=detection", "catalog=forced_mean&radius_arcsec=1800",
		"radius_arcsec=0", "radius_arcsec=NaN", "radius_arcsec=1e309", "min_detections=-1", "min_date_mjd=56000&max_date_mjd=55000",
		"min_date_mjd=56000&max_date_mjd=57000", "data_release=dr3", "catalog=", "columns=objID", "min_detections=1.5",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > fuzzcheck.MaxQuery {
			return
		}
		form := fuzzcheck.Form(t, func() singletarget.QueryForm { return panstarrs.NewForm() }, fuzzcheck.Values(q))
		if form == nil {
			return
		}
		p := form.(*panstarrs.Form)
		if err := panstarrs.CheckTable(p.Release, p.Catalog); err != nil {
			t.Fatalf("valid form with %s/%s: %v", p.Release, p.Catalog, err)
		}
		if !(p.RadiusArcsec > 0 && p.RadiusArcsec <= 1800) || p.MinDetections < 0 {
			t.Fatalf("valid form with radius %v, min detections %d", p.RadiusArcsec, p.MinDetections)
		}
		if p.MinDateMJD != nil && p.MaxDateMJD != nil && *p.MinDateMJD > *p.MaxDateMJD {
			t.Fatalf("valid form with MJD range [%v, %v]", *p.MinDateMJD, *p.MaxDateMJD)
		}
	})
}
