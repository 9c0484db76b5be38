package panstarrstest

import (
	"math"
	"strconv"
)

// rowData is what a table row is made from.
type rowData struct {
	obj       *Object
	det       *Detection // detection rows
	secondary bool       // a stack row with primaryDetection = 0
	dist      float64    // degrees from the cone centre; NaN without a cone
}

// column is one column of a simulated view.
type column struct {
	name string
	// typ is the VOTable type: char, long, int, short, unsignedByte,
	// float, double.
	typ  string
	unit string
	desc string
	get  func(r *rowData) any // int64, float64, string, or nil ("None")
}

func (c column) numeric() bool { return c.typ != "char" }

// Column describes a column of a simulated table, as the metadata
// endpoint lists it.
type Column struct {
	Name, Type, Unit, Description string
}

const missing = -999.0

var bandNames = [5]string{"g", "r", "i", "z", "y"}

func (s *Sky) id(o *Object, salt uint64) int64 {
	return int64(s.hash(uint64(o.ObjID), salt) % 900000000000000000)
}

// rowHash is a per-row number in [0, 1) for filler values.
func (r *rowData) unit(salt uint64) float64 {
	parts := []uint64{uint64(r.obj.ObjID), salt}
	if r.det != nil {
		parts = append(parts, uint64(r.det.DetectID))
	}
	if r.secondary {
		parts = append(parts, 2)
	}
	return r.obj.sky.unit(parts...)
}

func f64(v float64) func(*rowData) any { return func(*rowData) any { return v } }

// objectColumns are the identification and astrometry columns that start
// MeanObjectView (44 columns, spec §4.1).
func objectColumns() []column {
	rad := math.Pi / 180
	return []column{
		{"objName", "char", "", "IAU name for this object.", func(r *rowData) any { return r.obj.Name }},
		{"objAltName1", "char", "", "Alternate name for this object.", func(*rowData) any { return "-999" }},
		{"objAltName2", "char", "", "Alternate name for this object.", func(*rowData) any { return "-999" }},
		{"objAltName3", "char", "", "Alternate name for this object.", func(*rowData) any { return "-999" }},
		{"objID", "long", "", "Unique object identifier.", func(r *rowData) any { return r.obj.ObjID }},
		{"uniquePspsOBid", "long", "", "Unique internal PSPS object identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, 101) }},
		{"ippObjID", "long", "", "IPP internal object identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, 102) }},
		{"surveyID", "unsignedByte", "", "Survey identifier.", func(*rowData) any { return int64(0) }},
		{"htmID", "long", "", "Hierarchical triangular mesh index.", func(r *rowData) any { return r.obj.sky.id(r.obj, 103) }},
		{"zoneID", "int", "", "Local zone index.", func(r *rowData) any { return int64(zoneOf(r.obj.Dec)) }},
		{"tessID", "unsignedByte", "", "Tessellation identifier.", func(*rowData) any { return int64(1) }},
		{"projectionID", "int", "", "Projection cell identifier.", func(r *rowData) any { return int64(r.unit(104) * 2700) }},
		{"skyCellID", "unsignedByte", "", "Skycell region identifier.", func(r *rowData) any { return int64(r.unit(105) * 100) }},
		{"randomID", "double", "", "Random value drawn from the interval between zero and one.", func(r *rowData) any { return r.unit(106) }},
		{"batchID", "long", "", "Internal database batch identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, 107) }},
		{"dvoRegionID", "int", "", "Internal DVO region identifier.", func(r *rowData) any { return int64(r.unit(108) * 100000) }},
		{"processingVersion", "unsignedByte", "", "Data release version.", func(*rowData) any { return int64(3) }},
		{"objInfoFlag", "int", "", "Information flag bitmask indicating details of the photometry.", func(r *rowData) any { return int64(536870912 + int64(r.unit(109)*4)*8) }},
		{"qualityFlag", "unsignedByte", "", "Subset of objInfoFlag denoting whether this object is real or a likely false positive.", func(r *rowData) any {
			if r.obj.Artifact {
				return int64(0)
			}
			return int64(52)
		}},
		{"raStack", "double", "deg", "Right ascension from stack detections.", func(r *rowData) any { return r.obj.RA + 0.02/3600*(r.unit(110)-0.5) }},
		{"decStack", "double", "deg", "Declination from stack detections.", func(r *rowData) any { return r.obj.Dec + 0.02/3600*(r.unit(111)-0.5) }},
		{"raStackErr", "float", "arcsec", "Right ascension error from stack detections.", func(r *rowData) any { return 0.002 + 0.02*r.unit(112) }},
		{"decStackErr", "float", "arcsec", "Declination error from stack detections.", func(r *rowData) any { return 0.002 + 0.02*r.unit(113) }},
		{"raMean", "double", "deg", "Right ascension from single epoch detections (weighted mean) in equinox J2000 at the mean epoch given by epochMean.", func(r *rowData) any { return r.obj.RA }},
		{"decMean", "double", "deg", "Declination from single epoch detections (weighted mean) in equinox J2000 at the mean epoch given by epochMean.", func(r *rowData) any { return r.obj.Dec }},
		{"raMeanErr", "float", "deg", "Right ascension standard deviation from single epoch detections.", func(r *rowData) any { return 0.001 + 0.02*r.unit(114) }},
		{"decMeanErr", "float", "deg", "Declination standard deviation from single epoch detections.", func(r *rowData) any { return 0.001 + 0.02*r.unit(115) }},
		{"epochMean", "double", "", "Modified Julian Date of the mean epoch corresponding to raMean, decMean (equinox J2000).", func(r *rowData) any { return r.obj.EpochMean }},
		{"posMeanChisq", "float", "", "Reduced chi squared value of mean position.", func(r *rowData) any { return 0.5 + 2*r.unit(116) }},
		{"cx", "double", "", "Cartesian x on a unit sphere.", func(r *rowData) any { return math.Cos(r.obj.Dec*rad) * math.Cos(r.obj.RA*rad) }},
		{"cy", "double", "", "Cartesian y on a unit sphere.", func(r *rowData) any { return math.Cos(r.obj.Dec*rad) * math.Sin(r.obj.RA*rad) }},
		{"cz", "double", "", "Cartesian z on a unit sphere.", func(r *rowData) any { return math.Sin(r.obj.Dec * rad) }},
		{"lambda", "double", "deg", "Ecliptic longitude.", func(r *rowData) any { l, _ := ecliptic(r.obj.RA, r.obj.Dec); return l }},
		{"beta", "double", "deg", "Ecliptic latitude.", func(r *rowData) any { _, b := ecliptic(r.obj.RA, r.obj.Dec); return b }},
		{"l", "double", "deg", "Galactic longitude.", func(r *rowData) any { l, _ := galactic(r.obj.RA, r.obj.Dec); return l }},
		{"b", "double", "deg", "Galactic latitude.", func(r *rowData) any { _, b := galactic(r.obj.RA, r.obj.Dec); return b }},
		{"nStackObjectRows", "short", "", "Number of independent StackObjectThin rows associated with this object.", func(r *rowData) any {
			if r.obj.SecondaryStack {
				return int64(2)
			}
			return int64(1)
		}},
		{"nStackDetections", "short", "", "Number of stack detections.", func(r *rowData) any {
			n := 0
			for b := range 5 {
				if r.obj.Flux[b] > 0 {
					n++
				}
			}
			return int64(n)
		}},
		{"nDetections", "short", "", "Number of single epoch detections in all filters.", func(r *rowData) any { return int64(r.obj.NDetections) }},
		{"ng", "short", "", "Number of single epoch detections in g filter.", func(r *rowData) any { return int64(r.obj.N[0]) }},
		{"nr", "short", "", "Number of single epoch detections in r filter.", func(r *rowData) any { return int64(r.obj.N[1]) }},
		{"ni", "short", "", "Number of single epoch detections in i filter.", func(r *rowData) any { return int64(r.obj.N[2]) }},
		{"nz", "short", "", "Number of single epoch detections in z filter.", func(r *rowData) any { return int64(r.obj.N[3]) }},
		{"ny", "short", "", "Number of single epoch detections in y filter.", func(r *rowData) any { return int64(r.obj.N[4]) }},
	}
}

// meanColumns is MeanObjectView: 44 + 5×16 = 124 columns.
func meanColumns() []column {
	cols := objectColumns()
	for b, band := range bandNames {
		mag := func(r *rowData) float64 { return r.obj.Mag[b] }
		have := func(r *rowData) bool { return r.obj.Mag[b] != missing }
		or := func(f func(r *rowData) float64) func(*rowData) any {
			return func(r *rowData) any {
				if !have(r) {
					return missing
				}
				return f(r)
			}
		}
		npt := func(r *rowData) any {
			if !have(r) {
				return int64(0)
			}
			return int64(r.obj.N[b])
		}
		cols = append(cols,
			column{band + "QfPerfect", "float", "", "Maximum PSF weighted fraction of pixels totally unmasked.", or(func(r *rowData) float64 { return 0.98 + 0.02*r.unit(200+uint64(b)) })},
			column{band + "MeanPSFMag", "float", "AB mag", "Mean PSF magnitude from " + band + " filter detections.", or(mag)},
			column{band + "MeanPSFMagErr", "float", "AB mag", "Error in mean PSF magnitude from " + band + " filter detections.", or(func(r *rowData) float64 { return r.obj.MagErr[b] })},
			column{band + "MeanPSFMagStd", "float", "AB mag", "Standard deviation of PSF magnitudes.", or(func(r *rowData) float64 { return 3 * r.obj.MagErr[b] })},
			column{band + "MeanPSFMagNpt", "short", "", "Number of measurements included in the mean PSF magnitude.", npt},
			column{band + "MeanPSFMagMin", "float", "AB mag", "Minimum PSF magnitude.", or(func(r *rowData) float64 { return mag(r) - 0.05 })},
			column{band + "MeanPSFMagMax", "float", "AB mag", "Maximum PSF magnitude.", or(func(r *rowData) float64 { return mag(r) + 0.05 })},
			column{band + "MeanKronMag", "float", "AB mag", "Mean Kron magnitude.", or(func(r *rowData) float64 { return mag(r) - 0.03 })},
			column{band + "MeanKronMagErr", "float", "AB mag", "Error in mean Kron magnitude.", or(func(r *rowData) float64 { return 1.3 * r.obj.MagErr[b] })},
			column{band + "MeanKronMagStd", "float", "AB mag", "Standard deviation of Kron magnitudes.", or(func(r *rowData) float64 { return 3.5 * r.obj.MagErr[b] })},
			column{band + "MeanKronMagNpt", "short", "", "Number of measurements included in the mean Kron magnitude.", npt},
			column{band + "MeanApMag", "float", "AB mag", "Mean aperture magnitude.", or(func(r *rowData) float64 { return mag(r) + 0.02 })},
			column{band + "MeanApMagErr", "float", "AB mag", "Error in mean aperture magnitude.", or(func(r *rowData) float64 { return 1.2 * r.obj.MagErr[b] })},
			column{band + "MeanApMagStd", "float", "AB mag", "Standard deviation of aperture magnitudes.", or(func(r *rowData) float64 { return 3.2 * r.obj.MagErr[b] })},
			column{band + "MeanApMagNpt", "short", "", "Number of measurements included in the mean aperture magnitude.", npt},
			column{band + "Flags", "int", "", "Information flag bitmask for mean object from " + band + " filter detections.", func(r *rowData) any {
				if !have(r) {
					return int64(0)
				}
				return int64(114720)
			}},
		)
	}
	return cols
}

// stackFlux is the stack PSF flux and error of band b, in Jy.
func stackFlux(r *rowData, b int) (float64, float64) {
	n := max(r.obj.N[b], 1) + 4
	sigma := sigmaJy(b) / math.Sqrt(float64(n))
	salt := uint64(300 + b)
	if r.secondary {
		salt += 50
	}
	g := r.obj.sky.gauss(uint64(r.obj.ObjID), salt)
	return r.obj.Flux[b]*(1+0.01*g) + sigma*r.obj.sky.gauss(uint64(r.obj.ObjID), salt, 9), sigma
}

func magOf(flux float64) float64 {
	if flux > 0 {
		return 8.9 - 2.5*math.Log10(flux)
	}
	return missing
}

// stackColumns is StackObjectView: 52 + 5×50 = 302 columns (the cone's
// distance comes on top, spec §4.2).
func stackColumns() []column {
	base := objectColumns()
	var cols []column
	for _, c := range base {
		cols = append(cols, c)
		switch c.name {
		case "objInfoFlag":
			cols = append(cols, column{"astrometryCorrectionFlag", "char", "", "Astrometry correction flag.", func(*rowData) any { return nil }})
		case "decMeanErr":
			pm := func(salt uint64, scale float64) func(*rowData) any {
				return func(r *rowData) any {
					if r.obj.Artifact || r.unit(400) < 0.5 {
						return nil // "None", as the 2026 service sends it
					}
					return strconv.FormatFloat(scale*(r.unit(salt)-0.5), 'g', -1, 64)
				}
			}
			cols = append(cols,
				column{"pmra", "double", "mas/yr", "proper motion in ra direction", pm(401, 20)},
				column{"pmdec", "double", "mas/yr", "proper motion in dec direction", pm(402, 20)},
				column{"pmraErr", "double", "mas/yr", "proper motion error in ra direction", pm(403, 4)},
				column{"pmdecErr", "double", "mas/yr", "proper motion error in dec direction", pm(404, 4)},
			)
		}
	}
	cols = append(cols,
		column{"uniquePspsSTid", "long", "", "Unique internal PSPS stack identifier.", func(r *rowData) any {
			if r.secondary {
				return r.obj.sky.id(r.obj, 501)
			}
			return r.obj.sky.id(r.obj, 500)
		}},
		column{"primaryDetection", "unsignedByte", "", "Identifies if this row is the primary stack detection.", func(r *rowData) any {
			if r.secondary {
				return int64(0)
			}
			return int64(1)
		}},
		column{"bestDetection", "unsignedByte", "", "Identifies if this row is the best stack detection.", func(r *rowData) any {
			if r.secondary || r.obj.Artifact {
				return int64(0)
			}
			return int64(1)
		}},
	)
	for b, band := range bandNames {
		flux := func(r *rowData) float64 { f, _ := stackFlux(r, b); return f }
		fluxErr := func(r *rowData) float64 { _, e := stackFlux(r, b); return e }
		magErr := func(r *rowData) float64 { f, e := stackFlux(r, b); return e / math.Abs(f) }
		salt := uint64(600 + 100*b)
		filler := func(k uint64, lo, span float64) func(*rowData) any {
			return func(r *rowData) any { return lo + span*r.unit(salt+k) }
		}
		cols = append(cols,
			column{band + "ippDetectID", "long", "", "IPP detection identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, salt+1) }},
			column{band + "stackDetectID", "long", "", "Stack detection identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, salt+2) }},
			column{band + "stackImageID", "long", "", "Stack image identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, salt+3) }},
			column{band + "ra", "double", "deg", "Right ascension from " + band + " filter stack detection.", func(r *rowData) any { return r.obj.RA }},
			column{band + "dec", "double", "deg", "Declination from " + band + " filter stack detection.", func(r *rowData) any { return r.obj.Dec }},
			column{band + "raErr", "float", "arcsec", "Right ascension error.", filler(4, 0.005, 0.05)},
			column{band + "decErr", "float", "arcsec", "Declination error.", filler(5, 0.005, 0.05)},
			column{band + "Epoch", "double", "", "Modified Julian Date of the mean epoch of the stack.", func(r *rowData) any { return r.obj.EpochMean }},
			column{band + "PSFMag", "float", "AB mag", "PSF magnitude from " + band + " filter stack detection.", func(r *rowData) any { return magOf(flux(r)) }},
			column{band + "PSFMagErr", "float", "AB mag", "Error in PSF magnitude.", func(r *rowData) any { return magErr(r) }},
			column{band + "ApMag", "float", "AB mag", "Aperture magnitude.", func(r *rowData) any { return magOf(0.98 * flux(r)) }},
			column{band + "ApMagErr", "float", "AB mag", "Error in aperture magnitude.", func(r *rowData) any { return 1.2 * magErr(r) }},
			column{band + "KronMag", "float", "AB mag", "Kron magnitude.", func(r *rowData) any { return magOf(1.03 * flux(r)) }},
			column{band + "KronMagErr", "float", "AB mag", "Error in Kron magnitude.", func(r *rowData) any { return 1.3 * magErr(r) }},
			column{band + "infoFlag", "int", "", "Information flag bitmask.", func(*rowData) any { return int64(16777216) }},
			column{band + "infoFlag2", "int", "", "Information flag bitmask.", func(*rowData) any { return int64(0) }},
			column{band + "infoFlag3", "int", "", "Information flag bitmask.", func(*rowData) any { return int64(8192) }},
			column{band + "nFrames", "short", "", "Number of input frames.", func(r *rowData) any { return int64(r.obj.N[b] + 4) }},
			column{band + "xPos", "float", "pixel", "PSF x center location.", filler(6, 100, 6000)},
			column{band + "yPos", "float", "pixel", "PSF y center location.", filler(7, 100, 6000)},
			column{band + "xPosErr", "float", "pixel", "Error in PSF x center location.", filler(8, 0.01, 0.2)},
			column{band + "yPosErr", "float", "pixel", "Error in PSF y center location.", filler(9, 0.01, 0.2)},
			column{band + "psfMajorFWHM", "float", "arcsec", "PSF major axis FWHM.", filler(10, 1.0, 0.4)},
			column{band + "psfMinorFWHM", "float", "arcsec", "PSF minor axis FWHM.", filler(11, 0.9, 0.4)},
			column{band + "psfTheta", "float", "deg", "PSF major axis orientation.", filler(12, -90, 180)},
			column{band + "psfCore", "float", "", "PSF core parameter k.", filler(13, 0.2, 0.3)},
			column{band + "psfLikelihood", "float", "", "Likelihood that the source is a PSF.", filler(14, 0, 1)},
			column{band + "psfQf", "float", "", "PSF coverage factor.", filler(15, 0.98, 0.02)},
			column{band + "psfQfPerfect", "float", "", "PSF-weighted fraction of pixels totally unmasked.", filler(16, 0.95, 0.05)},
			column{band + "psfChiSq", "float", "", "Reduced chi squared of the PSF fit.", filler(17, 0.5, 2)},
			column{band + "momentXX", "float", "arcsec^2", "Second moment M_xx.", filler(18, 0.1, 0.5)},
			column{band + "momentXY", "float", "arcsec^2", "Second moment M_xy.", filler(19, -0.1, 0.2)},
			column{band + "momentYY", "float", "arcsec^2", "Second moment M_yy.", filler(20, 0.1, 0.5)},
			column{band + "momentR1", "float", "arcsec", "First radial moment.", filler(21, 0.5, 0.5)},
			column{band + "momentRH", "float", "arcsec^0.5", "Half radial moment.", filler(22, 0.5, 0.5)},
			column{band + "PSFFlux", "float", "Jy", "PSF flux from " + band + " filter stack detection.", func(r *rowData) any { return flux(r) }},
			column{band + "PSFFluxErr", "float", "Jy", "Error in PSF flux.", func(r *rowData) any { return fluxErr(r) }},
			column{band + "ApFlux", "float", "Jy", "Aperture flux.", func(r *rowData) any { return 0.98 * flux(r) }},
			column{band + "ApFluxErr", "float", "Jy", "Error in aperture flux.", func(r *rowData) any { return 1.2 * fluxErr(r) }},
			column{band + "ApFillFac", "float", "", "Aperture fill factor.", filler(23, 0.9, 0.1)},
			column{band + "ApRadius", "float", "arcsec", "Aperture radius.", filler(24, 1, 2)},
			column{band + "KronFlux", "float", "Jy", "Kron flux.", func(r *rowData) any { return 1.03 * flux(r) }},
			column{band + "KronFluxErr", "float", "Jy", "Error in Kron flux.", func(r *rowData) any { return 1.3 * fluxErr(r) }},
			column{band + "KronRad", "float", "arcsec", "Kron radius.", filler(25, 1, 3)},
			column{band + "expTime", "float", "seconds", "Exposure time of the stack.", filler(26, 300, 500)},
			column{band + "ExtNSigma", "float", "", "Extendedness significance.", filler(27, -2, 4)},
			column{band + "sky", "float", "", "Residual background sky level.", filler(28, -1, 2)},
			column{band + "skyErr", "float", "", "Error in the background sky level.", filler(29, 0.1, 0.5)},
			column{band + "zp", "float", "", "Photometric zero point.", f64(25)},
			column{band + "PlateScale", "float", "arcsec/pixel", "Plate scale.", f64(0.25)},
		)
	}
	return cols
}

// forcedFlux is the forced-photometry mean flux and error of band b.
func forcedFlux(r *rowData, b int) (float64, float64, int) {
	n := r.obj.N[b] + 4 + int(r.obj.sky.hash(uint64(r.obj.ObjID), 700, uint64(b))%4)
	sigma := sigmaJy(b) / math.Sqrt(float64(n))
	g := r.obj.sky.gauss(uint64(r.obj.ObjID), 710+uint64(b))
	return r.obj.Flux[b]*(1+0.01*g) + sigma*r.obj.sky.gauss(uint64(r.obj.ObjID), 720+uint64(b)), sigma, n
}

// forcedMeanColumns is the simulator's ForcedMeanObjectView. Its column
// list is a guess (spec §4.3: unconfirmed): identification as in the mean
// view, then per band fluxes only (nTotal, nIncPSFFlux, FPSFFlux,
// FPSFFluxErr, FPSFFluxStd, nIncKronFlux, FKronFlux, FKronFluxErr,
// FKronFluxStd, nIncApFlux, FApFlux, FApFluxErr, FApFluxStd, Flags).
func forcedMeanColumns() []column {
	keep := map[string]bool{"objName": true, "objID": true, "ippObjID": true, "surveyID": true, "htmID": true, "zoneID": true,
		"tessID": true, "projectionID": true, "skyCellID": true, "batchID": true, "dvoRegionID": true, "processingVersion": true,
		"objInfoFlag": true, "qualityFlag": true, "raMean": true, "decMean": true, "raMeanErr": true, "decMeanErr": true,
		"epochMean": true, "nDetections": true, "ng": true, "nr": true, "ni": true, "nz": true, "ny": true}
	var cols []column
	for _, c := range objectColumns() {
		if keep[c.name] {
			cols = append(cols, c)
		}
		if c.name == "objID" {
			cols = append(cols, column{"uniquePspsFOid", "long", "", "Unique internal PSPS forced object identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, 800) }})
		}
		if c.name == "skyCellID" {
			cols = append(cols, column{"randomForcedObjID", "double", "", "Random value drawn from the interval between zero and one.", func(r *rowData) any { return r.unit(801) }})
		}
	}
	for b, band := range bandNames {
		flux := func(r *rowData) float64 { f, _, _ := forcedFlux(r, b); return f }
		fluxErr := func(r *rowData) float64 { _, e, _ := forcedFlux(r, b); return e }
		ntot := func(r *rowData) any { _, _, n := forcedFlux(r, b); return int64(n) }
		cols = append(cols,
			column{band + "nTotal", "short", "", "Number of forced photometry measurements.", ntot},
			column{band + "nIncPSFFlux", "short", "", "Number of measurements in the mean PSF flux.", ntot},
			column{band + "FPSFFlux", "float", "Jy", "Mean forced PSF flux in " + band + ".", func(r *rowData) any { return flux(r) }},
			column{band + "FPSFFluxErr", "float", "Jy", "Error in the mean forced PSF flux.", func(r *rowData) any { return fluxErr(r) }},
			column{band + "FPSFFluxStd", "float", "Jy", "Standard deviation of forced PSF fluxes.", func(r *rowData) any { return 2 * fluxErr(r) }},
			column{band + "nIncKronFlux", "short", "", "Number of measurements in the mean Kron flux.", ntot},
			column{band + "FKronFlux", "float", "Jy", "Mean forced Kron flux.", func(r *rowData) any { return 1.03 * flux(r) }},
			column{band + "FKronFluxErr", "float", "Jy", "Error in the mean forced Kron flux.", func(r *rowData) any { return 1.3 * fluxErr(r) }},
			column{band + "FKronFluxStd", "float", "Jy", "Standard deviation of forced Kron fluxes.", func(r *rowData) any { return 2.6 * fluxErr(r) }},
			column{band + "nIncApFlux", "short", "", "Number of measurements in the mean aperture flux.", ntot},
			column{band + "FApFlux", "float", "Jy", "Mean forced aperture flux.", func(r *rowData) any { return 0.98 * flux(r) }},
			column{band + "FApFluxErr", "float", "Jy", "Error in the mean forced aperture flux.", func(r *rowData) any { return 1.2 * fluxErr(r) }},
			column{band + "FApFluxStd", "float", "Jy", "Standard deviation of forced aperture fluxes.", func(r *rowData) any { return 2.4 * fluxErr(r) }},
			column{band + "Flags", "int", "", "Forced photometry flags.", func(*rowData) any { return int64(0) }},
		)
	}
	return cols
}

// detectionColumns is the Detection table: the documented columns up to
// extNSigma (spec §4.4), then the photometry, moments, sky and flags in
// an order that is unconfirmed.
func detectionColumns() []column {
	d := func(f func(*Detection) any) func(*rowData) any { return func(r *rowData) any { return f(r.det) } }
	filler := func(k uint64, lo, span float64) func(*rowData) any {
		return func(r *rowData) any { return lo + span*r.unit(900+k) }
	}
	expTime := [5]float64{43, 40, 45, 30, 30}
	return []column{
		{"objID", "long", "", "Unique object identifier.", d(func(x *Detection) any { return x.ObjID })},
		{"uniquePspsP2id", "long", "", "Unique internal PSPS single-epoch identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, uint64(r.det.DetectID)) }},
		{"detectID", "long", "", "Unique detection identifier.", d(func(x *Detection) any { return x.DetectID })},
		{"ippObjID", "long", "", "IPP internal object identifier.", func(r *rowData) any { return r.obj.sky.id(r.obj, 102) }},
		{"ippDetectID", "long", "", "IPP internal detection identifier.", func(r *rowData) any { return int64(r.unit(1) * 1e9) }},
		{"filterID", "unsignedByte", "", "Filter identifier: 1 = g, 2 = r, 3 = i, 4 = z, 5 = y.", d(func(x *Detection) any { return int64(x.FilterID) })},
		{"surveyID", "unsignedByte", "", "Survey identifier.", func(*rowData) any { return int64(0) }},
		{"imageID", "long", "", "Image identifier (100 × frameID + ccdID).", func(r *rowData) any { return 100*int64(r.unit(2)*1e6) + int64(r.unit(3)*60) }},
		{"randomDetID", "double", "", "Random value drawn from the interval between zero and one.", filler(4, 0, 1)},
		{"dvoRegionID", "short", "", "Internal DVO region identifier.", func(r *rowData) any { return int64(r.unit(5) * 30000) }},
		{"obsTime", "double", "days", "Modified Julian Date (TAI) at the midpoint of the exposure.", d(func(x *Detection) any { return x.ObsTime })},
		{"xPos", "float", "pixel", "PSF x center location.", filler(6, 10, 4800)},
		{"yPos", "float", "pixel", "PSF y center location.", filler(7, 10, 4800)},
		{"xPosErr", "float", "pixel", "Error in PSF x center location.", filler(8, 0.01, 0.3)},
		{"yPosErr", "float", "pixel", "Error in PSF y center location.", filler(9, 0.01, 0.3)},
		{"pltScale", "float", "arcsec/pixel", "Local plate scale.", filler(10, 0.255, 0.01)},
		{"posAngle", "float", "deg", "Position angle of the detector.", filler(11, -180, 360)},
		{"ra", "double", "deg", "Right ascension.", d(func(x *Detection) any { return x.RA })},
		{"dec", "double", "deg", "Declination.", d(func(x *Detection) any { return x.Dec })},
		{"raErr", "float", "arcsec", "Right ascension error.", filler(12, 0.005, 0.1)},
		{"decErr", "float", "arcsec", "Declination error.", filler(13, 0.005, 0.1)},
		{"extNSigma", "float", "", "Extendedness significance.", filler(14, -2, 4)},
		{"zp", "float", "mag", "Photometric zero point.", filler(15, 24.5, 1)},
		{"telluricExt", "float", "mag", "Telluric extinction.", filler(16, 0, 0.1)},
		{"expTime", "float", "seconds", "Exposure time.", func(r *rowData) any { return expTime[r.det.FilterID-1] }},
		{"airMass", "float", "", "Airmass at the midpoint of the exposure.", filler(17, 1.0, 0.6)},
		{"psfFlux", "float", "Jy", "PSF flux.", d(func(x *Detection) any { return x.PSFFlux })},
		{"psfFluxErr", "float", "Jy", "Error in PSF flux.", d(func(x *Detection) any { return x.PSFFluxErr })},
		{"psfMajorFWHM", "float", "arcsec", "PSF major axis FWHM.", d(func(x *Detection) any { return x.PSFMajorFWHM })},
		{"psfMinorFWHM", "float", "arcsec", "PSF minor axis FWHM.", d(func(x *Detection) any { return x.PSFMinorFWHM })},
		{"psfTheta", "float", "deg", "PSF major axis orientation.", filler(18, -90, 180)},
		{"psfCore", "float", "", "PSF core parameter k.", filler(19, 0.2, 0.3)},
		{"psfLikelihood", "float", "", "Likelihood that the source is a PSF.", filler(20, 0, 1)},
		{"psfQf", "float", "", "PSF coverage factor.", filler(21, 0.98, 0.02)},
		{"psfQfPerfect", "float", "", "PSF-weighted fraction of pixels totally unmasked.", d(func(x *Detection) any { return x.PSFQfPerfect })},
		{"psfChiSq", "float", "", "Reduced chi squared of the PSF fit.", filler(22, 0.5, 2)},
		{"momentXX", "float", "arcsec^2", "Second moment M_xx.", filler(23, 0.1, 0.5)},
		{"momentXY", "float", "arcsec^2", "Second moment M_xy.", filler(24, -0.1, 0.2)},
		{"momentYY", "float", "arcsec^2", "Second moment M_yy.", filler(25, 0.1, 0.5)},
		{"momentR1", "float", "arcsec", "First radial moment.", filler(26, 0.5, 0.5)},
		{"momentRH", "float", "arcsec^0.5", "Half radial moment.", filler(27, 0.5, 0.5)},
		{"apFlux", "float", "Jy", "Aperture flux.", d(func(x *Detection) any { return x.ApFlux })},
		{"apFluxErr", "float", "Jy", "Error in aperture flux.", d(func(x *Detection) any { return x.ApFluxErr })},
		{"apFillFac", "float", "", "Aperture fill factor.", filler(28, 0.9, 0.1)},
		{"apRadius", "float", "arcsec", "Aperture radius.", filler(29, 1, 2)},
		{"kronFlux", "float", "Jy", "Kron flux.", d(func(x *Detection) any {
			if x.PSFFlux == missing {
				return missing
			}
			return 1.03 * x.PSFFlux
		})},
		{"kronFluxErr", "float", "Jy", "Error in Kron flux.", d(func(x *Detection) any {
			if x.PSFFluxErr == missing {
				return missing
			}
			return 1.3 * x.PSFFluxErr
		})},
		{"kronRad", "float", "arcsec", "Kron radius.", filler(30, 1, 3)},
		{"sky", "float", "", "Residual background sky level.", filler(31, -1, 2)},
		{"skyErr", "float", "", "Error in the background sky level.", filler(32, 0.1, 0.5)},
		{"infoFlag", "long", "", "Information flag bitmask.", d(func(x *Detection) any { return x.InfoFlag })},
		{"infoFlag2", "int", "", "Information flag bitmask.", d(func(x *Detection) any { return x.InfoFlag2 })},
		{"infoFlag3", "int", "", "Information flag bitmask.", d(func(x *Detection) any { return x.InfoFlag3 })},
	}
}

// distanceColumn is appended to cone searches. Its metadata says arcsec,
// but MAST's values are degrees (spec §3.2); so are the simulator's.
var distanceColumn = column{"distance", "double", "arcsec", "Angular separation between searched coordinates and center of observation",
	func(r *rowData) any { return r.dist }}

// ecliptic converts ICRS degrees to ecliptic longitude and latitude
// (mean obliquity of J2000).
func ecliptic(ra, dec float64) (float64, float64) {
	const rad = math.Pi / 180
	eps := 23.4392911 * rad
	a, d := ra*rad, dec*rad
	sb := math.Sin(d)*math.Cos(eps) - math.Cos(d)*math.Sin(eps)*math.Sin(a)
	beta := math.Asin(sb)
	lam := math.Atan2(math.Sin(a)*math.Cos(eps)+math.Tan(d)*math.Sin(eps), math.Cos(a))
	return math.Mod(lam/rad+360, 360), beta / rad
}

// galactic converts ICRS degrees to galactic longitude and latitude.
func galactic(ra, dec float64) (float64, float64) {
	const rad = math.Pi / 180
	aP, dP, lNCP := 192.85948*rad, 27.12825*rad, 122.93192*rad
	a, d := ra*rad, dec*rad
	sb := math.Sin(d)*math.Sin(dP) + math.Cos(d)*math.Cos(dP)*math.Cos(a-aP)
	b := math.Asin(sb)
	y := math.Cos(d) * math.Sin(a-aP)
	x := math.Sin(d)*math.Cos(dP) - math.Cos(d)*math.Sin(dP)*math.Cos(a-aP)
	l := lNCP - math.Atan2(y, x)
	return math.Mod(l/rad+720, 360), b / rad
}
