package panstarrs

import (
	"fmt"
	"strings"

	"github.com/tomgo/targetdata/singletarget"
)

// Form is the PanSTARRS query form. Field names follow the TOM Toolkit's
// form (data_release, catalog, min_detections) plus the cone radius and
// the MJD range. A Form is not safe for concurrent use; Service.NewForm
// returns a fresh one with the initial values.
type Form struct {
	singletarget.FormBase
	// Release is the data release, "dr2" (initial) or "dr1".
	Release string `form:"data_release" label:"Data release" validate:"required" choices:"dr2=PS1 DR2|dr1=PS1 DR1" help:"DR2 (2019) adds the forced-mean and detection tables."`
	// Catalog is the table; which ones exist depends on the release
	// (dr1: mean, stack; dr2: mean, stack, forced_mean, detection).
	Catalog string `form:"catalog" label:"Catalog" validate:"required" choices:"mean=Mean object|stack=Stacked object|forced_mean=Forced mean object|detection=Detections (light curve)" help:"Mean: one mean magnitude per band and object. Detection: every single-epoch measurement (DR2 only)."`
	// RadiusArcsec is the cone radius in arcseconds (initial 30, the
	// TOM's 0.008333°; at most 1800, MAST's 0.5°).
	RadiusArcsec float64 `form:"radius_arcsec" label:"Cone radius (arcsec)" validate:"gt=0,lte=1800" help:"Objects within this distance of the target (MAST allows up to 1800 arcsec)."`
	// MinDetections keeps objects with at least this many single-epoch
	// detections (nDetections.min; initial 2, 0 for no cut).
	MinDetections int `form:"min_detections" label:"Minimum detections" validate:"gte=0,lte=100000" help:"Objects seen only once are mostly artifacts; 2 removes most of them. 0: no cut."`
	// MinDateMJD and MaxDateMJD bound the epochs: epochMean for the object
	// tables, obsTime for detections. Nil means open.
	MinDateMJD *float64 `form:"min_date_mjd" label:"Earliest MJD" validate:"omitempty,gte=0,lte=200000" help:"Optional: only data from this MJD on."`
	MaxDateMJD *float64 `form:"max_date_mjd" label:"Latest MJD" validate:"omitempty,gte=0,lte=200000" help:"Optional: only data up to this MJD."`
}

// NewForm returns a form holding the initial values: DR2, mean, 30″,
// at least 2 detections, no MJD range.
func NewForm() *Form {
	f := &Form{Release: DR2, Catalog: TableMean, RadiusArcsec: 30, MinDetections: 2}
	f.Bind(f)
	return f
}

// Fields implements singletarget.QueryForm. The catalog field lists every
// table and, through DependsOn/ChoicesFor, which ones each release has.
func (f *Form) Fields() []singletarget.Field {
	fields := f.FormBase.Fields()
	for i := range fields {
		if fields[i].Name != "catalog" {
			continue
		}
		fields[i].DependsOn = "data_release"
		fields[i].ChoicesFor = map[string][]singletarget.Choice{}
		for _, rel := range Releases() {
			for _, t := range releaseTables[rel] {
				fields[i].ChoicesFor[rel] = append(fields[i].ChoicesFor[rel], singletarget.Choice{Value: t, Label: tableLabels[t]})
			}
		}
	}
	return fields
}

// Layout implements singletarget.QueryForm.
func (f *Form) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{
		{"data_release", "catalog"},
		{"radius_arcsec", "min_detections"},
		{"min_date_mjd", "max_date_mjd"},
	}}
}

// Clean implements singletarget.Cleaner: the catalog must exist in the
// release, and the MJD range must not be reversed.
func (f *Form) Clean(errs *singletarget.FormErrors) {
	if tables, ok := releaseTables[f.Release]; ok {
		if err := CheckTable(f.Release, f.Catalog); err != nil {
			errs.Add("catalog", fmt.Sprintf("Data release %s has no %q catalog; choose one of %s.", f.Release, f.Catalog, strings.Join(tables, ", ")))
		}
	}
	if f.MinDateMJD != nil && f.MaxDateMJD != nil && *f.MinDateMJD > *f.MaxDateMJD {
		errs.Add("max_date_mjd", fmt.Sprintf("The latest MJD (%s) is before the earliest (%s).", formatFloat(*f.MaxDateMJD), formatFloat(*f.MinDateMJD)))
	}
}
