package alerce

import (
	"math"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// The rules of spec §6 that do not depend on ALeRCE's row shapes: they
// hold for any broker's ZTF alert photometry and Rubin fluxes (Fink and
// Lasair write the same quantities under other names).

// Default thresholds (the project's ZTF policy, ztf.md B.7).
const (
	// DefaultSNRDetect is the S/N above which a forced-photometry point or
	// an LSST source is a detection.
	DefaultSNRDetect = 3.0
	// DefaultLimitSigma is the significance of the limits made from weak
	// points.
	DefaultLimitSigma = 5.0
)

// magErrFactor is 2.5/ln 10 as ALeRCE's pipeline writes it:
// e_mag = 1.0857·σF/|F| (spec §4.2), so S/N = 1.0857/e_mag exactly.
const magErrFactor = 1.0857

// nJyPerUJy converts Rubin's nJy to µJy; the AB zero point of nJy is
// 31.4 = 23.9 + 2.5·log10(1000).
const nJyPerUJy = 1000

// taiMinusUTC is TAI − UTC since 2017-01-01 in days (37 s; no leap
// second has been announced since): Rubin's midpointMjdTai is TAI, so
// every LSST datum is at midpointMjdTai − 37 s.
const taiMinusUTC = 37.0 / 86400

// thresholds are the S/N rule's two numbers.
type thresholds struct {
	snrDetect, limitSigma float64
}

// magnitudePoint is a ZTF point given as a difference magnitude of |F|,
// its error and the sign of F (ZTF forced photometry, and alert detections
// with isdiffpos = −1): with S/N = sign·1.0857/emag, a detection
// (magnitude = mag, error = emag) above snrDetect when the flux is
// positive, otherwise a limit mag − 2.5·log10(limitSigma·emag/1.0857)
// (= zp − 2.5·log10(limitSigma·σF)). The flux in µJy is kept, signed.
func magnitudePoint(fl *processor.Floats, mag, emag float64, sign int, th thresholds) dataproduct.Photometry {
	flux := processor.FluxUJy(mag)
	if sign < 0 {
		flux = -flux
	}
	ph := dataproduct.Photometry{
		FluxUJy:    fl.New(flux),
		FluxErrUJy: fl.New(math.Abs(flux) * emag / magErrFactor),
	}
	if sign > 0 && magErrFactor/emag > th.snrDetect {
		ph.Magnitude, ph.Error = fl.New(mag), fl.New(emag)
		return ph
	}
	ph.Limit = fl.New(mag - 2.5*math.Log10(th.limitSigma*emag/magErrFactor))
	ph.LimitSigma = th.limitSigma
	return ph
}

// fluxPoint is a point given as a difference flux and its error in µJy
// (LSST: psfFlux/1000): a detection above snrDetect (magnitude
// 23.9 − 2.5·log10(F), error 1.0857·σ/F), otherwise a limit
// 23.9 − 2.5·log10(limitSigma·σ). fluxErr must be positive.
func fluxPoint(fl *processor.Floats, flux, fluxErr float64, th thresholds) dataproduct.Photometry {
	ph := dataproduct.Photometry{FluxUJy: fl.New(flux), FluxErrUJy: fl.New(fluxErr)}
	if flux/fluxErr > th.snrDetect {
		ph.Magnitude = fl.New(processor.ABMag(flux))
		ph.Error = fl.New(magErrFactor * fluxErr / flux)
		return ph
	}
	ph.Limit = fl.New(processor.LimitMag(th.limitSigma, fluxErr))
	ph.LimitSigma = th.limitSigma
	return ph
}

// alertDetection is a positive ZTF alert detection: magnitude = magpsf,
// error = sigmapsf (alerts are 5σ detections by construction), flux
// 10^(0.4·(23.9 − magpsf)) µJy.
func alertDetection(fl *processor.Floats, magpsf float64, sigmapsf *float64) dataproduct.Photometry {
	flux := processor.FluxUJy(magpsf)
	ph := dataproduct.Photometry{Magnitude: fl.New(magpsf), FluxUJy: fl.New(flux)}
	if sigmapsf != nil && *sigmapsf > 0 {
		ph.Error = fl.New(*sigmapsf)
		ph.FluxErrUJy = fl.New(flux * *sigmapsf / magErrFactor)
	}
	return ph
}

// finite reports whether p holds a finite number.
func finite(p *float64) bool {
	return p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0)
}
