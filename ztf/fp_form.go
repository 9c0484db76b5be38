package ztf

import (
	"fmt"

	"github.com/tomgo/targetdata/singletarget"
)

// ForcedPhotometryForm is the query form of the forced-photometry
// service: the JD window of the epochs. Use
// ForcedPhotometryService.NewForm for one with the initial values; a form
// is not safe for concurrent use.
type ForcedPhotometryForm struct {
	singletarget.FormBase
	// JDStart is the start of the window (Julian Date); empty means the
	// survey start, JD 2458194.5.
	JDStart *float64 `form:"jd_start" label:"Start (JD)" validate:"omitempty,gte=0" help:"Julian Date (JD = MJD + 2400000.5) of the first epoch; the survey began at JD 2458194.5."`
	// JDEnd is the end of the window (Julian Date); empty means the end of
	// the current UTC day.
	JDEnd *float64 `form:"jd_end" label:"End (JD)" validate:"omitempty,gte=0" help:"Julian Date of the last epoch; empty: today."`
}

func newForcedPhotometryForm() *ForcedPhotometryForm {
	start := SurveyStartJD
	f := &ForcedPhotometryForm{JDStart: &start}
	f.Bind(f)
	return f
}

// Layout implements singletarget.QueryForm.
func (f *ForcedPhotometryForm) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{{"jd_start", "jd_end"}}}
}

// Clean implements singletarget.Cleaner: JD ranges (a value that looks
// like an MJD is named as such), order, and an end after the survey start
// (ZFPS fails such a job with exit code 65).
func (f *ForcedPhotometryForm) Clean(errs *singletarget.FormErrors) {
	ok := true
	for _, b := range []struct {
		name string
		v    *float64
	}{{"jd_start", f.JDStart}, {"jd_end", f.JDEnd}} {
		if b.v == nil {
			continue
		}
		switch v := *b.v; {
		case v < 100000:
			errs.Add(b.name, fmt.Sprintf("This looks like an MJD; enter a Julian Date (JD = MJD + 2400000.5 = %v).", v+2400000.5))
			ok = false
		case v < 2400000 || v > 2500000:
			errs.Add(b.name, "Enter a Julian Date between 2400000 and 2500000.")
			ok = false
		}
	}
	if !ok {
		return
	}
	if f.JDStart != nil && f.JDEnd != nil && *f.JDEnd <= *f.JDStart {
		errs.Add("jd_end", "Must be after Start (JD).")
	}
	if f.JDEnd != nil && *f.JDEnd < SurveyStartJD {
		errs.Add("jd_end", fmt.Sprintf("ZTF began at JD %v (2018-03-17); this window has no data.", SurveyStartJD))
	}
}
