package atlas_test

import (
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/internal/fuzzcheck"
	"github.com/tomgo/targetdata/singletarget"
)

// FuzzForm decodes and validates arbitrary values: a *FormErrors naming
// fields (fuzzcheck.Form) or a form whose window starts at or after MJD 0,
// not in the future, and ends after it starts.
func FuzzForm(f *testing.F) {
	for _, q := range []string{
		"", "min_date_mjd=60316&max_date_mjd=60336", "min_date=2024-01-01&max_date=2024-01-21T12:00:00",
		"min_date_mjd=60336&max_date_mjd=60316", "min_date_mjd=-1", "min_date_mjd=1e300", "min_date_mjd=NaN",
		"min_date=2024-01-01&min_date_mjd=60000", "use_reduced_data=true", "use_reduced_data=maybe",
		"min_date=9999-12-31", "max_date_mjd=0", "radius=5", "min_date_mjd=60000&min_date_mjd=60001",
	} {
		f.Add(q)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	nowMJD := 61374.5
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > fuzzcheck.MaxQuery {
			return
		}
		form := fuzzcheck.Form(t, func() singletarget.QueryForm { return atlas.NewForm(func() time.Time { return now }) }, fuzzcheck.Values(q))
		if form == nil {
			return
		}
		lo, hi := form.(*atlas.Form).Window()
		if !(lo >= 0 && lo <= nowMJD) {
			t.Fatalf("window starts at MJD %v", lo)
		}
		if hi != nil && !(*hi > lo && *hi <= 100000) {
			t.Fatalf("window [%v, %v]", lo, *hi)
		}
	})
}
