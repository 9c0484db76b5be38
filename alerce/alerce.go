package alerce

import (
	"regexp"
	"strconv"
)

// Registry name, classes and data product type.
const (
	// ServiceName is the registry name of the service (its settings key by
	// default).
	ServiceName = "ALERCE"
	// ServiceClass is the class name a settings file uses.
	ServiceClass = "alerce.Service"
	// ProcessorClass is the processor class name of data_processors.
	ProcessorClass = "alerce.Processor"
	// DataProductType is the data product type of the stored light curves.
	DataProductType = "alerce_photometry"
	// DataProductLabel is the human-readable label of DataProductType.
	DataProductLabel = "ALeRCE Photometry"
)

// Source names of the datums: alert photometry (detections, negative
// detections and non-detections) and forced photometry, for ZTF and LSST
// alike (the survey is the datum's telescope).
const (
	// AlertSource is the source of datums made from alert detections and
	// non-detections.
	AlertSource = "ALERCE"
	// ForcedPhotometrySource is the source of forced-photometry datums.
	ForcedPhotometrySource = "ALERCE_FP"
)

// Telescopes of the datums, one per survey.
const (
	// TelescopeZTF is the telescope of ZTF datums.
	TelescopeZTF = "ZTF"
	// TelescopeRubin is the telescope of LSST datums.
	TelescopeRubin = "Rubin"
)

// Survey is an alert stream ALeRCE serves.
type Survey string

// The surveys.
const (
	// SurveyZTF is the Zwicky Transient Facility (served by the ZTF v1 and
	// v2 APIs).
	SurveyZTF Survey = "ztf"
	// SurveyLSST is the Rubin Observatory's LSST (served by the
	// multisurvey API).
	SurveyLSST Survey = "lsst"
)

// ztfOID is the form of a ZTF object id (spec §2).
var ztfOID = regexp.MustCompile(`^ZTF\d{2}[a-z]{7}$`)

// ValidZTFID reports whether s is a ZTF object id: "ZTF", two digits and
// seven lower-case letters, such as ZTF20aaelulu.
func ValidZTFID(s string) bool { return ztfOID.MatchString(s) }

// ValidLSSTID reports whether s is a Rubin diaObjectId: 1 to 19 decimal
// digits, positive and at most 2^63−1. The id is kept as text everywhere,
// never converted to float64 (it is above 2^53).
func ValidLSSTID(s string) bool {
	if len(s) == 0 || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// SurveyOf tells which survey an ALeRCE object id belongs to: SurveyZTF
// for a ZTF oid, SurveyLSST for a diaObjectId; false for anything else.
func SurveyOf(oid string) (Survey, bool) {
	switch {
	case ValidZTFID(oid):
		return SurveyZTF, true
	case ValidLSSTID(oid):
		return SurveyLSST, true
	}
	return "", false
}
