package ztf

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// ForcedPhotometryForm is the query form of the forced-photometry
// service: the MJD window of the epochs. Use
// ForcedPhotometryService.NewForm for one with the initial values; a form
// is not safe for concurrent use.
//
// The window's older form names jd_start and jd_end, in Julian Dates, are
// accepted too and converted (MJD = JD − 2400000.5).
type ForcedPhotometryForm struct {
	singletarget.FormBase
	// MinDateMJD is the start of the window (MJD); empty means the survey
	// start, MJD 58194 (JD 2458194.5).
	MinDateMJD *float64 `form:"min_date_mjd" label:"From (MJD)" validate:"omitempty,gte=0" help:"MJD of the first epoch (JD = MJD + 2400000.5); the survey began at MJD 58194."`
	// MaxDateMJD is the end of the window (MJD); empty means the end of
	// the current UTC day.
	MaxDateMJD *float64 `form:"max_date_mjd" label:"To (MJD)" validate:"omitempty,gte=0" help:"MJD of the last epoch; empty: today."`
}

func newForcedPhotometryForm() *ForcedPhotometryForm {
	start := SurveyStartMJD
	f := &ForcedPhotometryForm{MinDateMJD: &start}
	f.Bind(f)
	return f
}

// jdAliases are the older JD names of the window's fields.
var jdAliases = map[string]string{"jd_start": "min_date_mjd", "jd_end": "max_date_mjd"}

// Decode implements singletarget.QueryForm. Besides the fields, it
// accepts the older names jd_start and jd_end in Julian Dates.
func (f *ForcedPhotometryForm) Decode(v url.Values) error {
	var errs singletarget.FormErrors
	for old, name := range jdAliases {
		vals, ok := v[old]
		if !ok {
			continue
		}
		v = maps.Clone(v) // the caller's values stay as they are
		delete(v, old)
		if _, both := v[name]; both {
			errs.Add(name, fmt.Sprintf("Given twice: as %s and as its older name %s.", name, old))
			continue
		}
		mjd := ""
		if s := strings.TrimSpace(strings.Join(vals, "")); s != "" {
			jd, err := strconv.ParseFloat(s, 64)
			if err != nil {
				errs.Add(name, fmt.Sprintf("%s: enter a Julian Date, not %q.", old, s))
				continue
			}
			if jd > 0 && jd < 100000 {
				errs.Add(name, fmt.Sprintf("%s takes a Julian Date; %v looks like an MJD: give it as %s.", old, jd, name))
				continue
			}
			mjd = strconv.FormatFloat(jd-processor.MJDOffset, 'f', -1, 64)
		}
		v[name] = []string{mjd}
	}
	if err := f.FormBase.Decode(v); err != nil {
		var fe *singletarget.FormErrors
		if errors.As(err, &fe) {
			for k, msgs := range errs.Fields {
				for _, m := range msgs {
					fe.Add(k, m)
				}
			}
		}
		return err
	}
	return errs.Err()
}

// Layout implements singletarget.QueryForm.
func (f *ForcedPhotometryForm) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{{"min_date_mjd", "max_date_mjd"}}}
}

// Clean implements singletarget.Cleaner: MJD ranges (a value that looks
// like a JD is named as such), order, and an end after the survey start
// (ZFPS fails such a job with exit code 65).
func (f *ForcedPhotometryForm) Clean(errs *singletarget.FormErrors) {
	ok := true
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min_date_mjd", f.MinDateMJD}, {"max_date_mjd", f.MaxDateMJD}} {
		if b.v == nil {
			continue
		}
		switch v := *b.v; {
		case v > 2400000:
			errs.Add(b.name, fmt.Sprintf("This looks like a Julian Date; enter an MJD (MJD = JD − 2400000.5 = %v).", v-processor.MJDOffset))
			ok = false
		case v < 10000 || v > 100000:
			errs.Add(b.name, "Enter an MJD between 10000 and 100000.")
			ok = false
		}
	}
	if !ok {
		return
	}
	if f.MinDateMJD != nil && f.MaxDateMJD != nil && *f.MaxDateMJD <= *f.MinDateMJD {
		errs.Add("max_date_mjd", "Must be after From (MJD).")
	}
	if f.MaxDateMJD != nil && *f.MaxDateMJD < SurveyStartMJD {
		errs.Add("max_date_mjd", fmt.Sprintf("ZTF began on MJD %v (2018-03-17); this window has no data.", SurveyStartMJD))
	}
}
