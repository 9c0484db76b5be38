package alerce

import (
	"fmt"
	"strings"

	"github.com/tomgo/targetdata/singletarget"
)

// DefaultRadius is the Form's initial cone radius in arcseconds: 2″, one
// ZTF pixel each way, enough for one source without its neighbours (the
// v1 default of 30″ is too wide for a single target, spec §5b).
const DefaultRadius = 2.0

// Survey choices of the form.
const (
	// SurveyAuto takes the survey from the object id (or the target's
	// name when it is an ALeRCE id); without one, the nearest ZTF object,
	// else the nearest LSST object.
	SurveyAuto = "auto"
)

// Form is the ALeRCE query form (spec §5b). The object is the one named
// by object_id, else the target's name when that is an ALeRCE id
// (ZTF20aaelulu, or a diaObjectId of at least 15 digits for LSST), else
// the nearest object within radius of the target. The kinds of photometry are chosen by
// three check boxes. The time window min_date_mjd/max_date_mjd (the
// TOM's names, MJD UTC) is applied to the rows before they are stored,
// since ALeRCE has no time parameter; an incremental refresh sets
// min_date_mjd.
//
// A Form is not safe for concurrent use; Service.NewForm returns a fresh
// one with the initial values.
type Form struct {
	singletarget.FormBase
	// Survey is "auto" (initial), "ztf" or "lsst".
	Survey string `form:"survey" label:"Survey" choices:"auto=From the object id (else ZTF, then LSST)|ztf=ZTF|lsst=Rubin/LSST" help:"ZTF (2018–) is served by ALeRCE's ZTF APIs, Rubin/LSST (2025–) by its multisurvey API."`
	// ObjectID is the ALeRCE object id; empty: from the target.
	ObjectID string `form:"object_id" label:"Object id" help:"A ZTF oid (ZTF20aaelulu) or an LSST diaObjectId (digits). Empty: the target's name if it is one, else the nearest object within the radius."`
	// Radius is the cone radius in arcseconds, for finding the object.
	Radius float64 `form:"radius" label:"Radius (arcsec)" validate:"gt=0,lte=30" help:"Objects within this distance of the target; the nearest is taken (at most 30 arcsec)."`
	// Detections, NonDetections and ForcedPhotometry choose the kinds of
	// photometry (all initially).
	Detections       bool `form:"detections" label:"Detections" help:"Alert detections."`
	NonDetections    bool `form:"non_detections" label:"Non-detections" help:"ZTF 5σ limits of the epochs without a detection (ALeRCE has none for LSST)."`
	ForcedPhotometry bool `form:"forced_photometry" label:"Forced photometry" help:"Difference-image photometry at the object's position, weak epochs as limits (ZTF since 2023, LSST)."`
	// MagnitudeKind is "difference" (initial) or "apparent".
	MagnitudeKind string `form:"magnitude_kind" label:"ZTF magnitudes" choices:"difference=Difference (the transient's flux)|apparent=Apparent (corrected: reference + difference)" help:"Apparent magnitudes exist only where ALeRCE corrected the detection (a reference source within 1.4 arcsec)."`
	// SNRDetect and LimitSigma are the S/N rule of forced photometry and
	// LSST sources.
	SNRDetect  float64 `form:"snr_detect" label:"Detection S/N" validate:"gt=0,lte=100" help:"Forced points (and LSST sources) above this S/N are detections, the others limits."`
	LimitSigma float64 `form:"limit_sigma" label:"Limit (sigma)" validate:"gt=0,lte=100" help:"Significance of the limits of weak points."`
	// MinDateMJD and MaxDateMJD bound the epochs (MJD, UTC); nil leaves that side
	// open.
	MinDateMJD *float64 `form:"min_date_mjd" label:"From (MJD)" validate:"omitnil,gte=0,lte=100000" help:"Earliest epoch, MJD (empty: all)."`
	MaxDateMJD *float64 `form:"max_date_mjd" label:"To (MJD)" validate:"omitnil,gte=0,lte=100000" help:"Latest epoch, MJD (empty: up to now)."`
}

// NewForm returns a form holding the initial values: survey from the id,
// object from the target, 2″, every kind of photometry, difference
// magnitudes, S/N 3 and 5σ limits, no time window.
func NewForm() *Form {
	f := &Form{Survey: SurveyAuto, Radius: DefaultRadius, Detections: true, NonDetections: true, ForcedPhotometry: true,
		MagnitudeKind: string(MagnitudeDifference), SNRDetect: DefaultSNRDetect, LimitSigma: DefaultLimitSigma}
	f.Bind(f)
	return f
}

// Layout implements singletarget.QueryForm.
func (f *Form) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{
		{"survey", "object_id", "radius"},
		{"detections", "non_detections", "forced_photometry"},
		{"min_date_mjd", "max_date_mjd"},
		{"magnitude_kind", "snr_detect", "limit_sigma"},
	}}
}

// Clean implements singletarget.Cleaner: the cross-field rules.
func (f *Form) Clean(errs *singletarget.FormErrors) {
	f.ObjectID = strings.TrimSpace(f.ObjectID)
	if f.ObjectID != "" {
		survey, ok := SurveyOf(f.ObjectID)
		switch {
		case !ok:
			errs.Add("object_id", fmt.Sprintf("Enter a ZTF object id such as ZTF20aaelulu or an LSST diaObjectId (digits), not %q.", f.ObjectID))
		case f.Survey != SurveyAuto && f.Survey != string(survey):
			errs.Add("object_id", fmt.Sprintf("%s is a %s id, but the survey is %s.", f.ObjectID, strings.ToUpper(string(survey)), strings.ToUpper(f.Survey)))
		}
	}
	if !f.Detections && !f.NonDetections && !f.ForcedPhotometry {
		errs.Add("detections", "Choose at least one kind of photometry.")
	}
	if f.Survey == string(SurveyLSST) && !f.Detections && !f.ForcedPhotometry {
		errs.Add("non_detections", "ALeRCE has no non-detections for LSST: choose detections or forced photometry.")
	}
	if f.MagnitudeKind == string(MagnitudeApparent) && f.Survey == string(SurveyLSST) {
		errs.Add("magnitude_kind", "Apparent magnitudes are ZTF's only (LSST gives fluxes).")
	}
	if f.MinDateMJD != nil && f.MaxDateMJD != nil && *f.MinDateMJD >= *f.MaxDateMJD {
		errs.Add("max_date_mjd", "Must be after From (MJD).")
	}
}

// Window returns the form's time window (MJD, UTC; nil for an open side).
func (f *Form) Window() (minMJD, maxMJD *float64) { return f.MinDateMJD, f.MaxDateMJD }

// processing returns the choices the stored light curve carries.
func (f *Form) processing() *Processing {
	return &Processing{MagnitudeKind: MagnitudeKind(f.MagnitudeKind), SNRDetect: f.SNRDetect, LimitSigma: f.LimitSigma}
}
