package ztf_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tomgo/targetdata/internal/fuzzcheck"
	"github.com/tomgo/targetdata/ztf"
)

func fuzzSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzProcessor: any IRSA light-curve answer (CSV or IPAC table) gives
// well-formed datums (fuzzcheck.Processor) or a *ParseError, never a panic
// or a hang.
func FuzzProcessor(f *testing.F) {
	fuzzSeeds(f, "ztf_irsa_lightcurve.csv", "ztf_irsa_lightcurve.tbl")
	f.Add([]byte("oid,mjd,mag,magerr,filtercode,catflags\n1,58000.5,18.5,0.05,zg,0\n"))
	f.Add([]byte("oid,mjd,mag,magerr,filtercode,catflags\n1,7000000,18.5,0.05,zg,0\n")) // year 21024
	f.Add([]byte("\\fixlen = T\n|oid|mjd|mag|magerr|filtercode|\n|long|double|double|double|char|\n1 58000.5 18.5 0.05 zg\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzcheck.MaxInput {
			return
		}
		want := fuzzcheck.Photometry{Source: ztf.ServiceName, Exclusive: true}
		fuzzcheck.Processor(t, ztf.Processor{}, in, want)
	})
}

// FuzzForcedPhotometryProcessor: any ZFPS result file gives well-formed
// datums (fuzzcheck.Processor) or a *ParseError, never a panic or a hang,
// with the default and custom thresholds.
func FuzzForcedPhotometryProcessor(f *testing.F) {
	fuzzSeeds(f, "ztf_fps_result.txt", "ztf_fps_edgecases.txt")
	f.Add([]byte(" index, jd, zpdiff, forcediffimflux, forcediffimfluxunc, filter, procstatus\n 0 9000000.5 26.3 180.1 4.8 ZTF_g 0\n")) // year 21024
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzcheck.MaxInput {
			return
		}
		want := fuzzcheck.Photometry{Source: ztf.ForcedPhotometrySource, Exclusive: true}
		fuzzcheck.Processor(t, ztf.ForcedPhotometryProcessor{}, in, want)
		fuzzcheck.Processor(t, ztf.ForcedPhotometryProcessor{SNT: 5, SNU: 3}, in, want)
	})
}

// FuzzForm decodes and validates arbitrary values for the light-curve
// form: a *FormErrors naming fields (fuzzcheck.Form), or a form with a
// radius in (0, 600] and an MJD range in order.
func FuzzForm(f *testing.F) {
	for _, q := range []string{
		"", "radius=5&bands=g,r&min_date_mjd=58200&max_date_mjd=60000&format=ipac_table", "min_date_mjd=60000&max_date_mjd=59000",
		"max_date_mjd=2460000.5", "object_ids=717213200011874,1", "object_ids=-1", "object_ids=1&bands=g", "collection=ztf_dr23",
		"collection=../etc", "radius=0", "radius=NaN", "bad_catflags_mask=70000", "format=votable", "bands=z",
	} {
		f.Add(q)
	}
	svc, err := ztf.NewService("https://irsa.example.org/api", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > fuzzcheck.MaxQuery {
			return
		}
		form := fuzzcheck.Form(t, svc.NewForm, fuzzcheck.Values(q))
		if form == nil {
			return
		}
		p := form.(*ztf.Form)
		if !(p.Radius > 0 && p.Radius <= 600) || p.BadCatflagsMask < 0 {
			t.Fatalf("valid form with radius %v, mask %d", p.Radius, p.BadCatflagsMask)
		}
		if p.MinDateMJD != nil && p.MaxDateMJD != nil && !(*p.MinDateMJD < *p.MaxDateMJD) {
			t.Fatalf("valid form with MJD range [%v, %v]", *p.MinDateMJD, *p.MaxDateMJD)
		}
	})
}

// FuzzForcedPhotometryForm decodes and validates arbitrary values for the
// forced-photometry form: a *FormErrors naming fields, or an MJD window in
// [10000, 100000] and in order.
func FuzzForcedPhotometryForm(f *testing.F) {
	for _, q := range []string{
		"", "min_date_mjd=58194&max_date_mjd=60000", "min_date_mjd=2460000.5", "min_date_mjd=60000&max_date_mjd=59000", "max_date_mjd=50000",
		"min_date_mjd=NaN", "min_date_mjd=1e308&max_date_mjd=-1e308", "min_date_mjd=", "email=x@example.org",
		"jd_start=2458194.5&jd_end=2460000.5", "jd_start=60000", "jd_start=NaN", "jd_start=1e308&jd_end=-1e308", "jd_start=",
	} {
		f.Add(q)
	}
	svc, err := ztf.NewForcedPhotometryService("https://zfps.example.org", ztf.Credentials{Email: "a@example.org", Password: "pw-pw-pw"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > fuzzcheck.MaxQuery {
			return
		}
		form := fuzzcheck.Form(t, svc.NewForm, fuzzcheck.Values(q))
		if form == nil {
			return
		}
		p := form.(*ztf.ForcedPhotometryForm)
		for _, v := range []*float64{p.MinDateMJD, p.MaxDateMJD} {
			if v != nil && !(*v >= 10000 && *v <= 100000) {
				t.Fatalf("valid form with MJD %v", *v)
			}
		}
		if p.MinDateMJD != nil && p.MaxDateMJD != nil && !(*p.MinDateMJD < *p.MaxDateMJD) {
			t.Fatalf("valid form with MJD window [%v, %v]", *p.MinDateMJD, *p.MaxDateMJD)
		}
	})
}
