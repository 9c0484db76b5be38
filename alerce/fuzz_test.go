package alerce_test

import (
	"testing"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/internal/fuzzcheck"
)

// FuzzProcessor: any input gives well-formed datums (fuzzcheck.Processor:
// a magnitude or a limit, never both; finite numbers; times a store can
// keep) from one of the two sources, or a *ParseError, never a panic or a
// hang.
func FuzzProcessor(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte(ztfFile(`{"mjd": 60000.1, "fid": 2, "pid": 1, "isdiffpos": -1, "magpsf": 19.0, "sigmapsf": 0.1}`,
		`{"mjd": 60000.2, "fid": 1, "diffmaglim": 20.1}`,
		`{"tid": "ztf", "pid": 7, "mjd": 60001.5, "fid": 2, "mag": 18, "e_mag": 0.05, "isdiffpos": 1, "extra_fields": {"procstatus": "56"}}`)))
	f.Add([]byte(lsstFile(`{"oid": 169298433191444991, "measurement_id": 313853770024124417, "mjd": 60934.1, "band": 1, "band_map": {"1": "g"}, "psfFlux": 848.3, "psfFluxErr": 153.9}`,
		`{"measurement_id": 3, "mjd": 60935.1, "band": 6, "psfFlux": -1e300, "psfFluxErr": 1e-300, "survey_id": "lsst"}`)))
	f.Add([]byte(`[{"mjd": 1e300, "fid": 1, "magpsf": 18}, {"mjd": -1e6, "fid": 1, "mag": 1e308, "e_mag": 1e-308}]`))
	f.Add([]byte(`{"processing": {"snr_detect": 1e308, "limit_sigma": 1e-308, "magnitude_kind": "apparent"}, "detections": [{"mjd": 59000, "fid": 1, "magpsf_corr": -1e308, "sigmapsf_corr_ext": 1e308, "corrected": true}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzcheck.MaxInput {
			return
		}
		for _, p := range []alerce.Processor{{}, {KeepFlagged: true, SNRDetect: 5, LimitSigma: 3}, {Strict: true}} {
			for _, d := range fuzzcheck.Processor(t, p, in, fuzzcheck.Photometry{Exclusive: true}) {
				if d.Source != alerce.AlertSource && d.Source != alerce.ForcedPhotometrySource {
					t.Fatalf("source %q", d.Source)
				}
			}
		}
	})
}

// FuzzForm decodes and validates arbitrary values: a *FormErrors naming
// fields (fuzzcheck.Form), or a form whose radius, thresholds, window and
// object id are usable.
func FuzzForm(f *testing.F) {
	for _, q := range []string{
		"", "survey=lsst&object_id=169298433191444991&forced_photometry=false", "object_id=ZTF20aaelulu&survey=lsst",
		"min_date_mjd=60000&max_date_mjd=59000", "radius=0", "radius=NaN", "snr_detect=1e309", "detections=false&non_detections=false&forced_photometry=false",
		"magnitude_kind=apparent&survey=lsst", "object_id=9223372036854775808", "limit_sigma=-1",
	} {
		f.Add(q)
	}
	svc, err := alerce.NewService(alerce.URLs{}, nil)
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
		p := form.(*alerce.Form)
		if !(p.Radius > 0 && p.Radius <= alerce.MaxRadius) || !(p.SNRDetect > 0) || !(p.LimitSigma > 0) {
			t.Fatalf("valid form with radius %v, S/N %v, sigma %v", p.Radius, p.SNRDetect, p.LimitSigma)
		}
		if p.MinDateMJD != nil && p.MaxDateMJD != nil && !(*p.MinDateMJD < *p.MaxDateMJD) {
			t.Fatalf("valid form with window [%v, %v]", *p.MinDateMJD, *p.MaxDateMJD)
		}
		if _, ok := alerce.SurveyOf(p.ObjectID); p.ObjectID != "" && !ok {
			t.Fatalf("valid form with object id %q", p.ObjectID)
		}
		if !p.Detections && !p.NonDetections && !p.ForcedPhotometry {
			t.Fatal("valid form with nothing asked")
		}
	})
}
