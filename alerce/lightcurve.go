package alerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// LightCurve is one object's light curve as ALeRCE serves it, and the
// file the Service stores (data product type DataProductType):
//
//	{"survey": "ztf", "oid": "ZTF20aaelulu",
//	 "processing": {"magnitude_kind": "difference"},
//	 "detections": [...], "non_detections": [...], "forced_photometry": [...]}
//
// The three lists hold the rows exactly as the server sent them (JSON
// objects; 64-bit ids stay as their digits), so a light curve is the v1
// /objects/{oid}/lightcurve answer and the multisurvey lightcurve answer
// with two more keys, and either answer is itself a LightCurve the
// Processor reads. Only NaN, Infinity and -Infinity tokens, which some
// servers write and JSON does not allow, become null.
type LightCurve struct {
	// Survey is the survey of the rows.
	Survey Survey `json:"survey,omitempty"`
	// OID is the ALeRCE object id (a ZTF oid or an LSST diaObjectId, as
	// text).
	OID string `json:"oid,omitempty"`
	// Processing holds the query's choices for the Processor; nil means
	// the Processor's own settings.
	Processing *Processing `json:"processing,omitempty"`
	// Detections are the alert detections (ZTF v1 detections, LSST
	// diaSources).
	Detections []json.RawMessage `json:"detections"`
	// NonDetections are the ZTF non-detections (5σ limits); ALeRCE has
	// none for LSST.
	NonDetections []json.RawMessage `json:"non_detections"`
	// ForcedPhotometry are the forced-photometry rows (ZTF v2, LSST
	// diaForcedSources).
	ForcedPhotometry []json.RawMessage `json:"forced_photometry"`
}

// Rows returns the number of rows of the three lists.
func (lc *LightCurve) Rows() int {
	return len(lc.Detections) + len(lc.NonDetections) + len(lc.ForcedPhotometry)
}

// MagnitudeKind selects the magnitudes made from ZTF alert detections.
type MagnitudeKind string

// The magnitude kinds.
const (
	// MagnitudeDifference is the PSF magnitude of the difference image
	// (magpsf, sigmapsf): the transient's own flux, what alerts measure.
	MagnitudeDifference MagnitudeKind = "difference"
	// MagnitudeApparent is ALeRCE's corrected magnitude (magpsf_corr,
	// sigmapsf_corr_ext): reference plus difference flux, the apparent
	// brightness of a variable star; only for detections ALeRCE could
	// correct (spec §4.3).
	MagnitudeApparent MagnitudeKind = "apparent"
)

// Processing holds the processing choices a LightCurve carries from its
// query to the Processor. Zero fields mean the Processor's own settings.
type Processing struct {
	// MagnitudeKind is "difference" or "apparent".
	MagnitudeKind MagnitudeKind `json:"magnitude_kind,omitempty"`
	// SNRDetect is the S/N above which a forced-photometry point (or an
	// LSST source) is a detection.
	SNRDetect float64 `json:"snr_detect,omitempty"`
	// LimitSigma is the significance of the limits made from weak points.
	LimitSigma float64 `json:"limit_sigma,omitempty"`
}

// check reports a value no query makes.
func (p *Processing) check() error {
	switch p.MagnitudeKind {
	case "", MagnitudeDifference, MagnitudeApparent:
	default:
		return fmt.Errorf("magnitude_kind %q is not difference or apparent", p.MagnitudeKind)
	}
	if p.SNRDetect < 0 || math.IsInf(p.SNRDetect, 0) || math.IsNaN(p.SNRDetect) {
		return fmt.Errorf("snr_detect %v is not a finite S/N ≥ 0", p.SNRDetect)
	}
	if p.LimitSigma < 0 || math.IsInf(p.LimitSigma, 0) || math.IsNaN(p.LimitSigma) {
		return fmt.Errorf("limit_sigma %v is not a finite significance ≥ 0", p.LimitSigma)
	}
	return nil
}

// sanitizeJSON replaces the tokens NaN, Infinity and -Infinity outside
// strings with null (spec §4.3: Flask may write them; lasair.md §5).
// It returns b itself when there is none.
func sanitizeJSON(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(b) {
					i++
					out = append(out, b[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		var token string
		switch c {
		case '"':
			inString = true
		case 'N':
			token = "NaN"
		case 'I':
			token = "Infinity"
		case '-':
			token = "-Infinity"
		}
		if token != "" && bytes.HasPrefix(b[i:], []byte(token)) {
			out = append(out, "null"...)
			i += len(token) - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

// errNoMJD marks a row without a usable time.
var errNoMJD = errors.New("no mjd")

// rowMJD reads a row's mjd (null or missing: errNoMJD).
func rowMJD(row json.RawMessage) (float64, error) {
	var r struct {
		MJD *float64 `json:"mjd"`
	}
	if err := json.Unmarshal(row, &r); err != nil {
		return 0, err
	}
	if r.MJD == nil {
		return 0, errNoMJD
	}
	return *r.MJD, nil
}

// decodeRows decodes a JSON list of objects, keeping each object's bytes.
func decodeRows(body []byte) ([]json.RawMessage, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(sanitizeJSON(body), &rows); err != nil {
		return nil, err
	}
	return objectRows(&rows)
}

// objectRows checks that every row of a decoded list is a JSON object and
// returns the list, empty rather than nil (a missing or null list too).
func objectRows(rows *[]json.RawMessage) ([]json.RawMessage, error) {
	if rows == nil || *rows == nil {
		return []json.RawMessage{}, nil
	}
	for i, r := range *rows {
		if len(r) == 0 || r[0] != '{' {
			return nil, fmt.Errorf("item %d is not a JSON object", i)
		}
	}
	return *rows, nil
}
