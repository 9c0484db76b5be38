package panstarrs

import (
	"fmt"
	"slices"
	"strings"
)

// Data releases of the PS1 catalogs at MAST.
const (
	DR1 = "dr1"
	DR2 = "dr2"
)

// Tables (catalogs) of the MAST PanSTARRS API, as they appear in the URL
// path (shared/services/panstarrs.md §1).
const (
	// TableMean is MeanObjectView: one row per object with mean PSF, Kron
	// and aperture magnitudes per band.
	TableMean = "mean"
	// TableStack is StackObjectView: photometry on the stacked images; an
	// object may have several rows (primaryDetection marks the primary).
	TableStack = "stack"
	// TableForcedMean is ForcedMeanObjectView (DR2 only): means of the
	// forced photometry at the stack positions.
	TableForcedMean = "forced_mean"
	// TableDetection is the Detection table (DR2 only): one row per
	// single-epoch detection, i.e. the light curve.
	TableDetection = "detection"
)

// Response formats (the URL's extension).
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// bands are the PS1 filters in filterID order: filterID 1 is "g" … 5 is
// "y".
var bands = [5]string{"g", "r", "i", "z", "y"}

// releaseTables lists the tables each release really has. forced_mean on
// dr1 is unconfirmed and left out, as the TOM Toolkit and the PS1 API
// notebook do.
var releaseTables = map[string][]string{
	DR1: {TableMean, TableStack},
	DR2: {TableMean, TableStack, TableForcedMean, TableDetection},
}

// Releases returns the data releases, oldest first.
func Releases() []string { return []string{DR1, DR2} }

// Tables returns the tables release has, or nil for an unknown release.
func Tables(release string) []string { return slices.Clone(releaseTables[release]) }

// CheckTable reports whether release has table. The error wraps
// ErrInvalidQuery and lists what exists.
func CheckTable(release, table string) error {
	tables, ok := releaseTables[release]
	if !ok {
		return fmt.Errorf("%w: unknown data release %q (known: %s)", ErrInvalidQuery, release, strings.Join(Releases(), ", "))
	}
	if !slices.Contains(tables, table) {
		return fmt.Errorf("%w: data release %s has no table %q (it has %s)", ErrInvalidQuery, release, table, strings.Join(tables, ", "))
	}
	return nil
}

// tableLabels are the human-readable names of the tables.
var tableLabels = map[string]string{
	TableMean:       "Mean object",
	TableStack:      "Stacked object",
	TableForcedMean: "Forced mean object",
	TableDetection:  "Detections (light curve)",
}

// detectionColumns are the Detection columns a light-curve query asks
// for: the column set of the PS1 DR2 API notebook (spec §4.4).
var detectionColumns = []string{
	"objID", "detectID", "filterID", "obsTime", "ra", "dec", "psfFlux", "psfFluxErr",
	"psfMajorFWHM", "psfMinorFWHM", "psfQfPerfect", "apFlux", "apFluxErr", "infoFlag", "infoFlag2", "infoFlag3",
}

// meanColumns are the TOM Toolkit's 23 default mean-table columns, in the
// order it sends them (spec §4.1).
var meanColumns = []string{
	"objID", "objName", "raMean", "decMean", "raMeanErr", "decMeanErr", "epochMean", "nDetections",
	"ng", "nr", "ni", "nz", "ny",
	"gMeanPSFMag", "gMeanPSFMagErr", "rMeanPSFMag", "rMeanPSFMagErr", "iMeanPSFMag", "iMeanPSFMagErr",
	"zMeanPSFMag", "zMeanPSFMagErr", "yMeanPSFMag", "yMeanPSFMagErr",
}

// objectColumns start the stack and forced_mean column lists.
var objectColumns = []string{
	"objID", "objName", "raMean", "decMean", "raMeanErr", "decMeanErr", "epochMean", "nDetections",
	"ng", "nr", "ni", "nz", "ny",
}

func perBand(suffixes ...string) []string {
	var out []string
	for _, b := range bands {
		for _, s := range suffixes {
			out = append(out, b+s)
		}
	}
	return out
}

// stackColumns are the stack-table columns a query asks for: the object's
// identification, primaryDetection/bestDetection and the PSF photometry
// per band (spec §4.2).
var stackColumns = slices.Concat(objectColumns, []string{"primaryDetection", "bestDetection"},
	perBand("PSFMag", "PSFMagErr", "PSFFlux", "PSFFluxErr"))

// forcedMeanColumns are the forced_mean columns a query asks for. The
// table's column list is unconfirmed (spec §4.3), so the Service asks the
// metadata endpoint first and keeps only the columns that exist.
var forcedMeanColumns = slices.Concat(objectColumns,
	perBand("FPSFFlux", "FPSFFluxErr", "FPSFMag", "FPSFMagErr"))

// DefaultColumns returns the columns the Service requests from a table
// (before dropping those the table's metadata does not list), as a fresh
// slice; nil for an unknown table:
//
//   - mean: the TOM Toolkit's 23 columns, in its order: objID, objName,
//     raMean, decMean, raMeanErr, decMeanErr, epochMean, nDetections,
//     ng … ny, and gMeanPSFMag, gMeanPSFMagErr … yMeanPSFMagErr;
//   - stack: objID … ny as for mean, primaryDetection, bestDetection, and
//     per band bPSFMag, bPSFMagErr, bPSFFlux, bPSFFluxErr;
//   - forced_mean: objID … ny, and per band bFPSFFlux, bFPSFFluxErr,
//     bFPSFMag, bFPSFMagErr (the table's columns are unconfirmed);
//   - detection: the PS1 API notebook's 16 light-curve columns objID,
//     detectID, filterID, obsTime, ra, dec, psfFlux, psfFluxErr,
//     psfMajorFWHM, psfMinorFWHM, psfQfPerfect, apFlux, apFluxErr,
//     infoFlag, infoFlag2, infoFlag3.
func DefaultColumns(table string) []string {
	switch table {
	case TableMean:
		return slices.Clone(meanColumns)
	case TableStack:
		return slices.Clone(stackColumns)
	case TableForcedMean:
		return slices.Clone(forcedMeanColumns)
	case TableDetection:
		return slices.Clone(detectionColumns)
	}
	return nil
}

// requiredColumns are the columns without which the processor cannot
// make datums from a table.
func requiredColumns(table string) []string {
	if table == TableDetection {
		return []string{"obsTime", "filterID", "psfFlux", "psfFluxErr"}
	}
	return []string{"epochMean"}
}
