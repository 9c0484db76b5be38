package ztf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultRadiusArcsec is the Form's initial cone radius: 2″, about two
// ZTF pixels, enough for one source's detections without its neighbours.
const DefaultRadiusArcsec = 2.0

// Form is the query form of the light-curve service. Use Service.NewForm
// for one with the initial values; a Form is not safe for concurrent use.
type Form struct {
	singletarget.FormBase
	// Radius is the cone radius in arcseconds (at most 600″, IRSA's 10′).
	Radius float64 `form:"radius" label:"Cone radius (arcsec)" validate:"gt=0,lte=600" help:"Objects within this distance of the target (IRSA allows up to 600 arcsec)."`
	// Bands selects the filters: "all", or one or two of g, r, i.
	Bands string `form:"bands" label:"Bands" choices:"all=All (g, r, i)|g=g|r=r|i=i|g,r=g and r|g,i=g and i|r,i=r and i" help:"ZTF filters to fetch."`
	// MinDateMJD and MaxDateMJD bound the epochs (MJD, UTC); empty means
	// open. Their older form names mjd_min and mjd_max are accepted too.
	MinDateMJD *float64 `form:"min_date_mjd" alias:"mjd_min" label:"From (MJD)" validate:"omitempty,gte=0" help:"Earliest epoch, MJD (empty: survey start, MJD 58194)."`
	MaxDateMJD *float64 `form:"max_date_mjd" alias:"mjd_max" label:"To (MJD)" validate:"omitempty,gte=0" help:"Latest epoch, MJD (empty: the latest in the release)."`
	// BadCatflagsMask drops epochs whose catflags share a bit with it.
	BadCatflagsMask int `form:"bad_catflags_mask" label:"Bad catflags mask" validate:"gte=0,lte=65535" help:"Epochs with catflags & mask ≠ 0 are dropped by IRSA (32768: bad-quality epochs; 0 keeps all)."`
	// Collection is the data release, ztf_dr<N>; empty means the latest.
	Collection string `form:"collection" label:"Data release" help:"e.g. ztf_dr23; empty: IRSA's latest public release (IRSA serves only recent releases)."`
	// Format is the answer format stored as the product.
	Format string `form:"format" label:"Format" choices:"csv=CSV|ipac_table=IPAC table"`
	// ObjectIDs, when set, selects objects by ZTF oid instead of the cone.
	ObjectIDs string `form:"object_ids" label:"Object ids (oid)" help:"Comma-separated ZTF object ids; replaces the cone search."`
}

// newForm returns a Form with the initial values.
func newForm() *Form {
	f := &Form{Radius: DefaultRadiusArcsec, Bands: "all", BadCatflagsMask: DefaultBadCatflagsMask, Format: string(FormatCSV)}
	f.Bind(f)
	return f
}

// Layout implements singletarget.QueryForm.
func (f *Form) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{
		{"radius", "bands"},
		{"min_date_mjd", "max_date_mjd"},
		{"bad_catflags_mask", "collection", "format"},
		{"object_ids"},
	}}
}

// Clean implements singletarget.Cleaner: the cross-field rules.
func (f *Form) Clean(errs *singletarget.FormErrors) {
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min_date_mjd", f.MinDateMJD}, {"max_date_mjd", f.MaxDateMJD}} {
		if b.v != nil && *b.v > 100000 {
			msg := "Enter an MJD (days since 1858-11-17), not a larger number."
			if *b.v > 2400000 {
				msg = fmt.Sprintf("This looks like a Julian Date; the MJD is %v.", *b.v-processor.MJDOffset)
			}
			errs.Add(b.name, msg)
		}
	}
	if f.MinDateMJD != nil && f.MaxDateMJD != nil && *f.MinDateMJD >= *f.MaxDateMJD {
		errs.Add("max_date_mjd", "Must be after From (MJD).")
	}
	if f.MaxDateMJD != nil && *f.MaxDateMJD < SurveyStartMJD {
		errs.Add("max_date_mjd", fmt.Sprintf("ZTF began on MJD %v (2018-03-17); this window has no data.", SurveyStartMJD))
	}
	if f.Collection != "" && !validCollection(f.Collection) {
		errs.Add("collection", fmt.Sprintf("Enter a data release as ztf_dr<N> (e.g. ztf_dr23), not %q.", f.Collection))
	}
	if _, problem := f.ids(); problem != "" {
		errs.Add("object_ids", problem)
	} else if f.ObjectIDs != "" && f.Bands != "" && f.Bands != "all" {
		errs.Add("bands", "IRSA does not combine object ids with a band choice: choose All (an oid has one filter).")
	}
}

// ids parses ObjectIDs; problem is the form message when they are not
// object ids ("" when they are).
func (f *Form) ids() (ids []int64, problem string) {
	for _, s := range strings.FieldsFunc(f.ObjectIDs, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Sprintf("Enter ZTF object ids (positive integers such as 717213200011874), not %q.", s)
		}
		ids = append(ids, id)
	}
	if len(ids) > 1000 {
		return nil, fmt.Sprintf("Enter at most 1000 object ids (there are %d).", len(ids))
	}
	return ids, ""
}

// bands returns the selected bands (nil for all).
func (f *Form) bands() []string {
	if f.Bands == "" || f.Bands == "all" {
		return nil
	}
	return strings.Split(f.Bands, ",")
}
