package processor

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/fits"
)

// DefaultFluxUnits is the flux unit of a spectrum whose file names none:
// erg s⁻¹ cm⁻² Å⁻¹ as astropy writes it, the TOM Toolkit's default.
const DefaultFluxUnits = "erg / (Angstrom s cm2)"

// WavelengthUnits is the unit of every spectrum's wavelengths: files in
// other length units are converted.
const WavelengthUnits = "Angstrom"

// DefaultTimeKeywords are the header keywords (FITS cards, or "# KEY: value"
// comments of a text file) that give a spectrum's observation time, in
// order of preference. UTC counts only when it holds a date and a time
// (P60 SEDM writes one; Keck LRIS writes the time of day alone), OBSDATE is
// completed by OBSTIME.
var DefaultTimeKeywords = []string{"DATE-OBS", "MJD-OBS", "DATE-BEG", "MJD-BEG", "UTC", "MJD_OBS", "OBSDATE"}

// TimeOfDayKeywords are the keywords whose time of day ("hh:mm:ss[.sss]")
// completes a date-only observation date, in order of preference: the
// observation start as FITS (TIME-OBS), Keck (UT), LCO and LT (UTSTART),
// Magellan (UT-TIME) and P60 SEDM (OBSTIME) write it.
var TimeOfDayKeywords = []string{"TIME-OBS", "UT", "UTSTART", "UT-TIME", "OBSTIME", "UTC"}

// maxPoints caps the points of one spectrum (2^25, 256 MiB per float64
// array), so that a hostile file cannot exhaust memory.
const maxPoints = 1 << 25

// Spectroscopy is the processor of spectra, the TOM Toolkit's
// SpectroscopyProcessor: it reads a FITS or plain-text spectrum into one
// datum of data type "spectroscopy" whose value is a dataproduct.Spectrum
// (wavelengths in Å, flux, optional flux error, flux unit).
//
// The format is recognised from the content, not the file name: a FITS file
// starts with "SIMPLE  =", anything else is read as a text table; either
// may be gzip-compressed. A file that is neither gives a
// *dataproduct.ParseError (Line set for text files).
//
// # FITS
//
// The spectrum is the primary HDU's data array when it has one, of shape
// (N), (1, N), (2, N) or any 3-D shape (M, K, N) in NumPy's order (axis 1
// of length N). As the TOM does, the first row of a (2, N) array (a flux
// row and an error or other row) is taken, and [0, 0, :] of any 3-D array
// (IRAF multispec files such as LCO FLOYDS' hold the spectrum, the raw
// spectrum, the sky and the error as (4, 1, N)); the report notes the
// planes left out. When the primary HDU has no data (NAXIS = 0),
// the first later HDU that holds a spectrum is read: an IMAGE extension as
// above, or a binary table with a wavelength column (loglam, log10 of Å as
// in SDSS spec-lite files; or wavelength, wave, lambda) and a flux column
// (flux), each with one value per row or one row of vectors; an error
// column (ivar, the inverse variance as in SDSS: error = 1/√ivar; or error,
// err, flux_err, sigma, uncertainty) is optional.
//
// Wavelengths of image spectra come from the header's spectral WCS on axis
// 1 (pixels counted from 1, FITS WCS Papers I and III):
//
//   - linear (CTYPE1 WAVE, AWAV, LINEAR or absent): CRVAL1 + Δ·(p − CRPIX1);
//   - log-linear, CTYPE1 WAVE-LOG or AWAV-LOG: CRVAL1·exp(Δ·(p − CRPIX1)/CRVAL1);
//   - log-linear, IRAF DC-FLAG = 1: 10^(CRVAL1 + Δ·(p − CRPIX1));
//   - SDSS COEFF0/COEFF1 (no CRVAL1): 10^(COEFF0 + COEFF1·(p − 1)).
//
// Δ is CD1_1, else CDELT1 × PC1_1 (defaults 1); CRPIX1 defaults to 0 as
// the standard says, and may be fractional; Δ may be negative (wavelengths
// then descend, and are kept in file order). Other spectral axes
// (frequency, energy, velocity, redshift, tabulated or non-linear
// algorithms) are refused. CUNIT1 (else the units= of IRAF's WAT1_001)
// may be a length unit: Angstrom (Å, AA, A), nm, um (µm, micron), mm, cm
// or m, optionally with a numeric factor ("0.1 nm"); values are converted
// to Å. A missing unit, or an angular one (deg, arcsec, ...: FLOYDS writes
// CUNIT1 = 'deg' on its wavelength axis), is read as Å, as the TOM does,
// and the report notes it; a Strict processor refuses an angular unit.
// Integer data are scaled by BSCALE/BZERO, and BLANK pixels are unknown;
// air and vacuum wavelengths are kept as they are.
//
// The flux unit is the flux column's TUNITn, else BUNIT of the spectrum's
// HDU, else BUNIT of the primary HDU (SDSS spec-lite files without one get
// SDSS's "1E-17 erg/cm^2/s/Ang"), else FluxUnits. A leading numeric factor
// ("1E-17 erg/cm^2/s/Ang", "10**(-16)erg.cm**(-2)...") is applied to the
// flux and error values and removed from the unit.
//
// # Plain text
//
// A table of columns separated as astropy's reader guesses them
// (whitespace, comma, tab, '|' or ';'), read the way observatories write
// them (SkyPortal's rule). Columns are found by name, case-insensitively:
// the wavelength (wavelength, wavelengths, wave, wavelen, wav, wl, lambda),
// the flux (flux, fluxes, fl) and an optional error (error, err, flux_err,
// flux_error, flux_unc, fluxerr, unc, sigma, uncertainty), in any order,
// other columns ignored. The names are on a header line, or, when the
// first line that is not a comment holds only numbers, on the last comment
// line above it with one name per column ("# wl fl err", "## wavelen flux
// sky_flux ...": astropy's commented_header). With no names at all, the
// first column is the wavelength, the second the flux and a third the
// error, and the report notes it. Blank lines and lines starting with '#'
// are skipped. Comments of the form "# KEY: value" or FITS-like
// "# KEY = 'value' / comment" carry metadata: the time keywords below,
// FACILITY (or TELESCOPE, TELESCOP), WAVELENGTH_UNITS (default Å) and
// FLUX_UNITS (or BUNIT; default FluxUnits). Cells "nan", "inf" or empty
// (delimited formats) are unknown values. Errors name the line (counting
// every line of the file) and the column.
//
// # Time, source and unknown values
//
// The timestamp is the observation time from the first of TimeKeywords
// present (DefaultTimeKeywords: DATE-OBS, MJD-OBS, DATE-BEG, MJD-BEG, UTC,
// MJD_OBS, OBSDATE), searched in the spectrum's HDU and then the primary
// HDU: a string is an ISO 8601 date with a time (a date alone is
// completed by the first of TimeOfDayKeywords present, and is used at
// 00:00 UTC only when no keyword gives a time), or the old "DD/MM/YY"
// (19YY); a number, or a string holding one, is an MJD (below 10⁶) or a JD
// (2.3–2.6 × 10⁶). Times are taken as UTC whatever TIMESYS says (a
// difference of a minute at most). A file without an observation time
// takes the caller's Input.ObservationTime (an upload's observation date),
// and without that it is refused: using "now", as the TOM does for unknown
// facilities, would give a new datum on every re-processing.
//
// The source is Source when set, else the facility the file names
// (TELESCOP, INSTRUME or FACILITY in FITS headers; FACILITY, TELESCOPE or
// TELESCOP comments in text), else "upload".
//
// JSON cannot carry NaN, so points whose wavelength, flux or error is
// unknown (NaN, infinite, BLANK, an empty cell, or an SDSS ivar ≤ 0) are
// left out of all arrays alike and counted in the report (with their lines
// in a text file); a spectrum with no point left is refused, and so is any
// such point by a Strict processor.
//
// The file is read once, as a stream; memory is about the size of the
// spectrum's arrays (8 bytes per value; for a (2, N) array both rows, for a
// table its rows), and a spectrum has at most 2^25 points.
//
// The zero value is ready to use; a Spectroscopy is safe for concurrent
// use.
type Spectroscopy struct {
	// Source is the datums' source; default: the facility the file names,
	// else "upload".
	Source string
	// FluxUnits is the flux unit of files that name none; default
	// DefaultFluxUnits.
	FluxUnits string
	// TimeKeywords are the keywords tried, in order, for the observation
	// time; default DefaultTimeKeywords.
	TimeKeywords []string
	// Strict refuses a file with a point of unknown value or an angular
	// wavelength unit, instead of leaving the point out or reading the unit
	// as Angstrom (see dataproduct.Report).
	Strict bool
}

// DataType returns dataproduct.TypeSpectroscopy.
func (Spectroscopy) DataType() string { return dataproduct.TypeSpectroscopy }

// Process implements Processor: the file's one spectrum datum.
func (p Spectroscopy) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return Collect(p.Stream(ctx, r))
}

// Stream implements Streamer. It yields one datum, or an error.
func (p Spectroscopy) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return p.StreamReport(ctx, r, Input{}, nil)
}

// StreamReport implements Reporter: Rows counts the spectrum's points,
// Skipped the points of unknown value left out, Notes the assumptions made
// (units, planes of a 3-D array, an observation time from in).
func (p Spectroscopy) StreamReport(ctx context.Context, r io.Reader, in Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		d, err := p.read(ctx, r, in, rep)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("spectrum: %w", ctx.Err())
			}
			yield(dataproduct.Datum{}, err)
			return
		}
		rep.Datums++
		yield(d, nil)
	}
}

// spectrum is what a format reader produces before the common steps.
type spectrum struct {
	wave, flux, err []float64
	fluxUnits       string
	meta            *metadata
	// checked is set by readers that counted the rows and reported the
	// unknown values themselves (text tables, with line numbers).
	checked bool
}

// reasonUnknownPoint is the report's reason for a point left out.
const reasonUnknownPoint = "no finite wavelength and flux (NaN, infinite, empty or BLANK)"

// metadata looks up header keywords: the cards of FITS headers (the
// spectrum's HDU first, then the primary HDU), or the "# KEY: value"
// comments of a text file.
type metadata struct {
	headers []*fits.Header
	text    map[string]comment
}

// comment is a "# KEY: value" comment and its line.
type comment struct {
	value string
	line  int
}

// lookup returns the value of key, a string or a float64, and for text
// files the line it is on. Undefined and logical values count as absent.
func (m *metadata) lookup(key string) (value any, line int, ok bool) {
	if m.text != nil {
		c, ok := m.text[strings.ToUpper(key)]
		return c.value, c.line, ok
	}
	for _, h := range m.headers {
		c, ok := h.Get(key)
		if !ok {
			continue
		}
		switch c.Kind {
		case fits.KindString:
			return c.Str, 0, true
		case fits.KindInteger, fits.KindFloat:
			return c.Float, 0, true
		case fits.KindInvalid:
			return c.RawValue, 0, true
		}
	}
	return nil, 0, false
}

// str returns a string keyword, trimmed ("" when absent or not a string).
func (m *metadata) str(key string) string {
	v, _, _ := m.lookup(key)
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// keywordError is a ParseError about a keyword's value.
func (m *metadata) keywordError(key string, err error) error {
	_, line, _ := m.lookup(key)
	return &dataproduct.ParseError{Line: line, Err: fmt.Errorf("%s: %w", key, err)}
}

func (p Spectroscopy) read(ctx context.Context, r io.Reader, in Input, rep *dataproduct.Report) (dataproduct.Datum, error) {
	if err := ctx.Err(); err != nil {
		return dataproduct.Datum{}, err
	}
	br := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: r}, 64<<10)
	head, _ := br.Peek(9)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return dataproduct.Datum{}, &dataproduct.ParseError{Err: fmt.Errorf("gzip-compressed file: %w", err)}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		head, _ = br.Peek(9)
	}
	var sp *spectrum
	var err error
	switch {
	case len(head) == 0:
		return dataproduct.Datum{}, &dataproduct.ParseError{Err: errors.New("empty file: not a FITS or text spectrum")}
	case bytes.HasPrefix(head, []byte("SIMPLE  =")):
		sp, err = p.readFITS(br, rep)
	default:
		if bytes.HasPrefix(head, []byte(bom)) {
			_, _ = br.Discard(len(bom)) // a text file saved by Excel or a Windows editor
		}
		if head, _ := br.Peek(512); looksBinary(head) {
			return dataproduct.Datum{}, &dataproduct.ParseError{Err: errBinary}
		}
		sp, err = p.readText(ctx, br, rep)
	}
	if err != nil {
		return dataproduct.Datum{}, err
	}
	return p.datum(sp, in, rep)
}

// datum applies the common steps: units, unknown points, time, source.
func (p Spectroscopy) datum(sp *spectrum, in Input, rep *dataproduct.Report) (dataproduct.Datum, error) {
	units := strings.TrimSpace(sp.fluxUnits)
	if units == "" {
		units = p.FluxUnits
	}
	if units == "" {
		units = DefaultFluxUnits
	}
	if f, rest := splitFactor(units); f != 1 && rest != "" {
		for i := range sp.flux {
			sp.flux[i] *= f
		}
		for i := range sp.err {
			sp.err[i] *= f
		}
		units = rest
	}
	n := len(sp.wave)
	if !sp.checked {
		rep.Rows += n
	}
	sp.wave, sp.flux, sp.err = dropUnknown(sp.wave, sp.flux, sp.err)
	if dropped := n - len(sp.wave); dropped > 0 && !sp.checked {
		if p.Strict {
			return dataproduct.Datum{}, &dataproduct.ParseError{
				Err: fmt.Errorf("%w: %d of the %d points have no finite wavelength and flux (a strict processor refuses the file)", ErrNoMeasurement, dropped, n)}
		}
		for range dropped {
			rep.Skip(0, reasonUnknownPoint)
		}
	}
	if len(sp.wave) == 0 {
		why := "no points"
		if n > 0 {
			why = fmt.Sprintf("none of the %d points has a finite wavelength and flux", n)
		}
		return dataproduct.Datum{}, &dataproduct.ParseError{Err: fmt.Errorf("spectrum: %s", why)}
	}
	ts, err := observationTime(sp.meta, p.timeKeywords())
	if errors.Is(err, errNoTime) && !in.ObservationTime.IsZero() {
		ts, err = in.ObservationTime.UTC(), nil
		rep.Note("the file gives no observation time: the time given with it is used (" + ts.Format(time.RFC3339Nano) + ")")
	}
	if err != nil {
		return dataproduct.Datum{}, err
	}
	// The arrays have equal lengths and finite values by construction, so
	// s.Check holds (stores check it again).
	s := dataproduct.Spectrum{Wavelength: sp.wave, Flux: sp.flux, Error: sp.err, FluxUnits: units, WavelengthUnits: WavelengthUnits}
	return dataproduct.Datum{
		DataType:  dataproduct.TypeSpectroscopy,
		Timestamp: ts,
		Source:    p.source(sp.meta),
		Value:     s,
	}, nil
}

func (p Spectroscopy) timeKeywords() []string {
	if len(p.TimeKeywords) > 0 {
		return p.TimeKeywords
	}
	return DefaultTimeKeywords
}

// Keywords that name the facility, in order, in FITS headers and in the
// comments of text files.
var (
	fitsFacilityKeywords = []string{"TELESCOP", "INSTRUME", "FACILITY"}
	textFacilityKeywords = []string{"FACILITY", "TELESCOPE", "TELESCOP"}
)

func (p Spectroscopy) source(m *metadata) string {
	if p.Source != "" {
		return p.Source
	}
	keys := fitsFacilityKeywords
	if m.text != nil {
		keys = textFacilityKeywords
	}
	for _, k := range keys {
		if s := m.str(k); s != "" {
			return s
		}
	}
	return "upload"
}

// dropUnknown removes, in place, the points where any array holds a
// non-finite value.
func dropUnknown(wave, flux, errs []float64) ([]float64, []float64, []float64) {
	// v-v is 0 for finite v and NaN for NaN and ±Inf.
	bad := func(i int) bool {
		return wave[i]-wave[i] != 0 || flux[i]-flux[i] != 0 || (errs != nil && errs[i]-errs[i] != 0)
	}
	k := 0
	for k < len(wave) && !bad(k) {
		k++
	}
	if k == len(wave) {
		return wave, flux, errs // the common case: nothing to drop
	}
	for i := k + 1; i < len(wave); i++ {
		if bad(i) {
			continue
		}
		wave[k], flux[k] = wave[i], flux[i]
		if errs != nil {
			errs[k] = errs[i]
		}
		k++
	}
	if errs != nil {
		errs = errs[:k]
	}
	return wave[:k], flux[:k], errs
}

// observationTime applies the time rules of the Spectroscopy doc.
func observationTime(m *metadata, keys []string) (time.Time, error) {
	var dateOnly time.Time
	for _, key := range keys {
		v, _, ok := m.lookup(key)
		if !ok {
			continue
		}
		if s, isString := v.(string); isString {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				v = f
			} else {
				t, hasTime, err := parseDate(s)
				if err != nil && isTimeOfDayKeyword(key) {
					if _, terr := parseTimeOfDay(s); terr == nil {
						continue // a time of day alone (Keck's UTC): it completes a date below
					}
				}
				if err != nil {
					return time.Time{}, m.keywordError(key, err)
				}
				if hasTime {
					return t, nil
				}
				tod, ok, err := timeOfDay(m)
				if err != nil {
					return time.Time{}, err
				}
				if ok {
					return t.Add(tod), nil
				}
				if dateOnly.IsZero() {
					dateOnly = t
				}
				continue
			}
		}
		t, err := timeFromNumber(v.(float64))
		if err != nil {
			return time.Time{}, m.keywordError(key, err)
		}
		return t, nil
	}
	if !dateOnly.IsZero() {
		return dateOnly, nil
	}
	return time.Time{}, &dataproduct.ParseError{
		Err: fmt.Errorf("%w: none of %s is given (a spectrum's time is never taken from the clock; give the observation time with the file)", errNoTime, strings.Join(keys, ", "))}
}

// errNoTime is the cause of the ParseError for a file without a time.
var errNoTime = errors.New("no observation time")

// timeFromNumber reads an MJD or a JD.
func timeFromNumber(v float64) (time.Time, error) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
	case v > -1e6 && v < 1e6:
		return MJDToTime(v), nil
	case v >= 2.3e6 && v < 2.6e6:
		return JDToTime(v), nil
	}
	return time.Time{}, fmt.Errorf("%v is neither an MJD nor a JD", v)
}

// ParseObservationTime reads an observation time as a user writes it, for
// Input.ObservationTime: an ISO 8601 date and time ("2024-01-26T03:14:15",
// "2024-01-26 03:14", fractional seconds allowed; UTC, or with "Z" or an
// offset such as "+02:00"), a date alone (00:00 UTC), or a number: an MJD
// (below 10⁶) or a JD.
func ParseObservationTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty observation time")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return timeFromNumber(f)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02 15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	t, _, err := parseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date and time (2024-01-26T03:14:15, UTC) nor an MJD", s)
	}
	return t, nil
}

// parseDate reads a FITS date: ISO 8601 with or without a time of day, or
// the pre-2000 DD/MM/YY.
func parseDate(s string) (t time.Time, hasTime bool, err error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "Z")
	if len(s) == 8 && s[2] == '/' && s[5] == '/' {
		t, err := time.Parse("02/01/06", s)
		if err == nil {
			// The DD/MM/YY form was only used before 2000.
			t = t.AddDate(1900+t.Year()%100-t.Year(), 0, 0)
			return t, false, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true, nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is not a date (want YYYY-MM-DD[Thh:mm:ss[.sss]])", s)
}

// timeOfDay reads the time of day that completes a date-only DATE-OBS:
// the first of TimeOfDayKeywords that holds one (a UTC holding a whole
// date and time is not one).
func timeOfDay(m *metadata) (time.Duration, bool, error) {
	for _, key := range TimeOfDayKeywords {
		s := m.str(key)
		if s == "" {
			continue
		}
		d, err := parseTimeOfDay(s)
		if err != nil {
			if key == "UTC" {
				continue
			}
			return 0, false, m.keywordError(key, err)
		}
		return d, true, nil
	}
	return 0, false, nil
}

func isTimeOfDayKeyword(key string) bool {
	return slices.ContainsFunc(TimeOfDayKeywords, func(k string) bool { return strings.EqualFold(k, key) })
}

// parseTimeOfDay reads "hh:mm:ss[.sss]".
func parseTimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04:05", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day (want hh:mm:ss[.sss])", s)
	}
	return t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)), nil
}

// lengthUnits are the length units a wavelength axis may be in, in Å.
var lengthUnits = map[string]float64{
	"angstrom": 1, "angstroms": 1, "ang": 1, "aa": 1, "a": 1, "å": 1, "\u212b": 1,
	"nm": 10, "nanometer": 10, "nanometers": 10, "nanometre": 10, "nanometres": 10,
	"um": 1e4, "µm": 1e4, "μm": 1e4, "micron": 1e4, "microns": 1e4, "micrometer": 1e4, "micrometers": 1e4,
	"mm": 1e7, "cm": 1e8, "m": 1e10, "meter": 1e10, "meters": 1e10, "metre": 1e10, "metres": 1e10,
	"pm": 0.01,
}

// nonLengthUnits are spectral units that are not lengths.
var nonLengthUnits = []string{"hz", "khz", "mhz", "ghz", "thz", "ev", "kev", "mev", "j", "erg", "m/s", "km/s", "1/m", "1/cm", "/cm", "cm-1", "cm**-1", "m-1"}

// angstromFactor returns the factor that converts a wavelength unit to Å;
// "" is Å.
func angstromFactor(unit string) (float64, error) {
	factor, rest := splitFactor(unit)
	key := strings.ToLower(strings.TrimSpace(rest))
	if key == "" && factor == 1 {
		return 1, nil
	}
	if f, ok := lengthUnits[key]; ok {
		return factor * f, nil
	}
	for _, u := range nonLengthUnits {
		if key == u {
			return 0, fmt.Errorf("unit %q is not a length: only wavelength axes are supported", unit)
		}
	}
	return 0, fmt.Errorf("unknown wavelength unit %q (want Angstrom, nm, um, mm, cm or m)", unit)
}

// splitFactor splits a unit string into a leading numeric factor and the
// unit: "1E-17 erg/cm^2/s/Ang" → 1e-17, "erg/cm^2/s/Ang";
// "10**(-16)erg.cm**(-2)" → 1e-16, "erg.cm**(-2)"; "10^-17 erg" → 1e-17.
// Without a factor it returns 1 and the unit trimmed.
func splitFactor(unit string) (float64, string) {
	s := strings.TrimSpace(unit)
	// 10**(n), 10**n, 10^n, 10^(n), 10(n) (the last as in OGIP "10(-17)").
	if rest, ok := strings.CutPrefix(s, "10"); ok {
		for _, op := range []string{"**", "^", ""} {
			r, ok := strings.CutPrefix(rest, op)
			if !ok {
				continue
			}
			paren := strings.HasPrefix(r, "(")
			if op == "" && !paren {
				continue
			}
			if paren {
				r = r[1:]
			}
			i := 0
			for i < len(r) && (r[i] == '+' || r[i] == '-' || r[i] >= '0' && r[i] <= '9') {
				i++
			}
			exp := r[:i]
			r = r[i:]
			if paren {
				var ok bool
				if r, ok = strings.CutPrefix(r, ")"); !ok {
					continue
				}
			}
			if n, err := strconv.Atoi(exp); err == nil && n > -400 && n < 400 {
				f, _ := strconv.ParseFloat("1e"+strconv.Itoa(n), 64)
				return f, strings.TrimLeft(strings.TrimSpace(r), "*. ")
			}
		}
	}
	// A plain number followed by a blank: "1E-17 erg/...", "0.1 nm".
	if i := strings.IndexAny(s, " \t"); i > 0 {
		if f, err := strconv.ParseFloat(s[:i], 64); err == nil && f > 0 && !math.IsInf(f, 0) {
			return f, strings.TrimSpace(s[i+1:])
		}
	}
	return 1, s
}

// ctxReader fails reads once its context is done, so that long reads of
// large files stop promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	// Checking every call is cheap next to a read of up to 64 KiB.
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
