package atlas

import (
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// Form is the ATLAS query form, with the TOM Toolkit's field names: the
// start of the window as a date-time (min_date) or as an MJD
// (min_date_mjd), exactly one of them; the end likewise (max_date or
// max_date_mjd), at most one, open (up to now) when both are empty; and
// use_reduced_data for photometry on reduced rather than difference
// images.
//
// Its initial values are the TOM's: the last 20 days (min_date is the
// start of the UTC day 20 days ago, so that forms made the same day agree;
// the end is left open, where the TOM puts "now"). Giving one field of a
// pair in Decode clears the other unless both are given, so
// {min_date_mjd: 60316} replaces the initial min_date.
//
// A Form is not safe for concurrent use; Service.NewForm returns a fresh
// one for each query.
type Form struct {
	singletarget.FormBase
	// MinDate is the start of the window (UTC when no zone is given).
	MinDate *time.Time `form:"min_date" label:"Min date" kind:"datetime" help:"Start of the window (UTC), or give Min date (MJD) instead."`
	// MinDateMJD is the start of the window as an MJD.
	MinDateMJD *float64 `form:"min_date_mjd" label:"Min date (MJD)" validate:"omitnil,gte=0,lte=100000" help:"Start of the window as a Modified Julian Date."`
	// MaxDate is the end of the window; nil (with MaxDateMJD nil) is "now".
	MaxDate *time.Time `form:"max_date" label:"Max date" kind:"datetime" help:"End of the window (UTC); empty means up to now."`
	// MaxDateMJD is the end of the window as an MJD.
	MaxDateMJD *float64 `form:"max_date_mjd" label:"Max date (MJD)" validate:"omitnil,gt=0,lte=100000" help:"End of the window as a Modified Julian Date."`
	// UseReducedData asks for photometry on the reduced (not difference)
	// images: for variable stars and sparse fields; crowded fields can give
	// negative fluxes (ATLAS FAQ).
	UseReducedData bool `form:"use_reduced_data" label:"Use reduced data" help:"Photometry on the reduced images instead of the difference images (see https://fallingstar-data.com/forcedphot/faq/)."`

	now func() time.Time
}

// NewForm returns a form with the initial values, using now as the clock
// (nil: time.Now).
func NewForm(now func() time.Time) *Form {
	if now == nil {
		now = time.Now
	}
	day := now().UTC().Truncate(24 * time.Hour)
	start := day.AddDate(0, 0, -20)
	f := &Form{MinDate: &start, now: now}
	f.FormBase.Service = ServiceName
	f.Bind(f)
	return f
}

// Decode implements singletarget.QueryForm: it sets the fields named in v;
// giving only one field of the min or max pair clears the other.
func (f *Form) Decode(v url.Values) error {
	if err := singletarget.DecodeForm(f, v); err != nil {
		return err
	}
	given := func(k string) bool { return strings.TrimSpace(v.Get(k)) != "" }
	_, hasMin := v["min_date"]
	_, hasMax := v["max_date"]
	if given("min_date_mjd") && !hasMin {
		f.MinDate = nil
	}
	if given("max_date_mjd") && !hasMax {
		f.MaxDate = nil
	}
	return nil
}

// Layout implements singletarget.QueryForm: each date beside its MJD
// alternative, as the TOM lays them out.
func (f *Form) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{
		{"min_date", "min_date_mjd"},
		{"max_date", "max_date_mjd"},
		{"use_reduced_data"},
	}}
}

// Clean implements singletarget.Cleaner: the cross-field rules.
func (f *Form) Clean(errs *singletarget.FormErrors) {
	switch {
	case f.MinDate == nil && f.MinDateMJD == nil:
		errs.Add("min_date", "Give the minimum date, as a date or as an MJD (min_date_mjd).")
	case f.MinDate != nil && f.MinDateMJD != nil:
		errs.Add("min_date_mjd", "Give the minimum date either as a date (min_date) or as an MJD, not both.")
	}
	if f.MaxDate != nil && f.MaxDateMJD != nil {
		errs.Add("max_date_mjd", "Give the maximum date either as a date (max_date) or as an MJD, not both.")
	}
	if !errs.Empty() {
		return
	}
	lo, hi := f.Window()
	minField, maxField := "min_date", "max_date"
	if f.MinDateMJD != nil {
		minField = "min_date_mjd"
	}
	if f.MaxDateMJD != nil {
		maxField = "max_date_mjd"
	}
	if lo < 0 {
		errs.Add(minField, "The minimum date must be after 1858-11-17 (MJD 0).")
	}
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	if lo > processor.TimeToMJD(now()) {
		errs.Add(minField, "The minimum date is in the future.")
	}
	switch {
	case hi != nil && *hi <= lo:
		errs.Add(maxField, "The maximum date must be after the minimum date.")
	case hi != nil && *hi > 100000:
		// The same bound as max_date_mjd's own rule, for a date.
		errs.Add(maxField, "The maximum date must be before 2132-09-01 (MJD 100000).")
	}
}

// Window returns the query window as MJDs (UTC), rounded to 1e-6 day:
// the start, and the end or nil when open. Call it on a validated form.
func (f *Form) Window() (mjdMin float64, mjdMax *float64) {
	round := func(x float64) float64 { return math.Round(x*1e6) / 1e6 }
	switch {
	case f.MinDateMJD != nil:
		mjdMin = round(*f.MinDateMJD)
	case f.MinDate != nil:
		mjdMin = round(processor.TimeToMJD(*f.MinDate))
	}
	switch {
	case f.MaxDateMJD != nil:
		v := round(*f.MaxDateMJD)
		mjdMax = &v
	case f.MaxDate != nil:
		v := round(processor.TimeToMJD(*f.MaxDate))
		mjdMax = &v
	}
	return mjdMin, mjdMax
}
