package processor

import (
	"fmt"
	"math"
	"time"
)

// ABZeroPointMicroJansky is the AB magnitude of 1 µJy: m = 23.9 − 2.5·log10(f/µJy).
const ABZeroPointMicroJansky = 23.9

// ABZeroPointJansky is the AB magnitude of 1 Jy: m = 8.9 − 2.5·log10(f/Jy)
// (3631 Jy is magnitude 0).
const ABZeroPointJansky = 8.9

// magErrFactor is 2.5/ln(10) ≈ 1.0857, the factor between a relative flux
// error and a magnitude error.
var magErrFactor = 2.5 / math.Ln10

// mjdEpoch is MJD 0: 1858-11-17 00:00 UTC.
var mjdEpoch = time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)

// MJDOffset is JD − MJD.
const MJDOffset = 2400000.5

// MinMJD and MaxMJD bound the MJDs a processor may turn into timestamps:
// 0001-01-01 and 10000-01-01 (exclusive), the years a timestamp can be
// encoded in JSON and stored. MJDToTime gives nonsense outside them.
const (
	MinMJD = -678575
	MaxMJD = 2973484
)

// CheckMJD reports an MJD that is not finite or outside [MinMJD, MaxMJD),
// so that processors refuse it with a ParseError instead of making a
// timestamp no store can keep. For a Julian Date, check jd − MJDOffset.
func CheckMJD(mjd float64) error {
	if math.IsNaN(mjd) || mjd < MinMJD || mjd >= MaxMJD {
		return fmt.Errorf("MJD %v is outside the years 1 to 9999", mjd)
	}
	return nil
}

// MJDToTime converts a Modified Julian Date (UTC) to a time, rounded to the
// microsecond so that the same MJD text always gives the same timestamp.
// Leap seconds are ignored, as astropy's "mjd" format on UTC does within a
// day.
func MJDToTime(mjd float64) time.Time {
	days := math.Floor(mjd)
	frac := mjd - days
	us := math.Round(frac * 86400e6)
	return mjdEpoch.AddDate(0, 0, int(days)).Add(time.Duration(us) * time.Microsecond)
}

// TimeToMJD converts a time to a Modified Julian Date.
func TimeToMJD(t time.Time) float64 {
	t = t.UTC()
	d := t.Sub(mjdEpoch)
	// Split to keep precision for dates beyond time.Duration's 292 years.
	days := math.Floor(d.Hours() / 24)
	rest := t.Sub(mjdEpoch.AddDate(0, 0, int(days)))
	return days + rest.Seconds()/86400
}

// JDToTime converts a Julian Date (UTC) to a time, to the microsecond.
func JDToTime(jd float64) time.Time {
	// Subtract in two parts to keep the fraction exact for typical JDs.
	return MJDToTime(jd - MJDOffset)
}

// ABMag returns the AB magnitude of a flux in µJy: 23.9 − 2.5·log10(f).
// It returns NaN for a flux that is not positive.
func ABMag(fluxUJy float64) float64 {
	if !(fluxUJy > 0) {
		return math.NaN()
	}
	return ABZeroPointMicroJansky - 2.5*math.Log10(fluxUJy)
}

// FluxUJy returns the flux in µJy of an AB magnitude.
func FluxUJy(abMag float64) float64 {
	return math.Pow(10, (ABZeroPointMicroJansky-abMag)/2.5)
}

// MagErr returns the magnitude error of a flux and its 1-sigma error,
// 2.5/ln10 · |σf/f| (the small-error expansion).
func MagErr(flux, fluxErr float64) float64 {
	return magErrFactor * math.Abs(fluxErr/flux)
}

// LimitMag returns the n-sigma limiting AB magnitude of a flux error in
// µJy: 23.9 − 2.5·log10(n·σf). NaN when the error is not positive.
func LimitMag(nSigma, fluxErrUJy float64) float64 {
	return ABMag(nSigma * fluxErrUJy)
}

// Floats hands out *float64 values for Photometry's optional fields from
// shared blocks, so a processor making millions of datums allocates once
// per block instead of once per number. The zero value is ready to use; it
// is not safe for concurrent use (give each Process call its own).
type Floats struct {
	block []float64
}

// floatsBlock is the number of values per allocation.
const floatsBlock = 1024

// New returns a pointer to a new float64 holding v.
func (f *Floats) New(v float64) *float64 {
	if len(f.block) == cap(f.block) {
		f.block = make([]float64, 0, floatsBlock)
	}
	f.block = append(f.block, v)
	return &f.block[len(f.block)-1]
}
