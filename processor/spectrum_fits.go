package processor

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/fits"
)

// sdssFluxUnits is the flux unit of SDSS spectra.
const sdssFluxUnits = "1E-17 erg/cm^2/s/Ang"

// readFITS reads a FITS spectrum (see the Spectroscopy doc).
func (p Spectroscopy) readFITS(r io.Reader, rep *dataproduct.Report) (*spectrum, error) {
	fr := fits.NewReader(r, nil)
	prim, err := fr.Next()
	if err != nil {
		return nil, &dataproduct.ParseError{Err: err}
	}
	if hasData(prim) {
		return p.imageSpectrum(prim, nil, rep)
	}
	var seen []string
	for {
		h, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &dataproduct.ParseError{Err: err}
		}
		switch h.Type() {
		case fits.ImageHDU:
			if hasData(h) {
				return p.imageSpectrum(h, prim.Header(), rep)
			}
		case fits.BinTableHDU:
			sp, err := tableSpectrum(h, prim.Header())
			if err != nil || sp != nil {
				return sp, err
			}
		}
		seen = append(seen, describeHDU(h))
	}
	what := "no extension"
	if len(seen) > 0 {
		what = "no extension (" + strings.Join(seen, "; ") + ")"
	}
	return nil, &dataproduct.ParseError{Err: fmt.Errorf("FITS file holds no spectrum: the primary HDU has no data array and %s holds a 1-D image or a table with wavelength and flux columns", what)}
}

func hasData(h *fits.HDU) bool {
	return len(h.Shape()) > 0 && h.DataSize() > 0 && !h.RandomGroups()
}

func describeHDU(h *fits.HDU) string {
	s := fmt.Sprintf("HDU %d: %s", h.Index(), h.Type())
	if name, err := h.Header().String("EXTNAME"); err == nil && strings.TrimSpace(name) != "" {
		s += " " + strings.TrimSpace(name)
	}
	return s
}

// numpyShape prints FITS axes in NumPy's order, as astropy users see them.
func numpyShape(axes []int) string {
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[len(axes)-1-i] = strconv.Itoa(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// imageSpectrum reads the spectrum of a primary or IMAGE HDU; primary is
// the primary header when h is an extension.
func (p Spectroscopy) imageSpectrum(h *fits.HDU, primary *fits.Header, rep *dataproduct.Report) (*spectrum, error) {
	hdr := h.Header()
	meta := &metadata{headers: []*fits.Header{hdr}}
	if primary != nil {
		meta.headers = append(meta.headers, primary)
	}
	axes := h.Shape()
	n := axes[0]
	ok := true
	switch {
	case len(axes) == 2 && axes[1] == 2:
	case len(axes) == 3:
		// The TOM takes [0, 0, :] of any 3-D array (IRAF multispec).
		if axes[1]*axes[2] > 1 {
			rep.Note(fmt.Sprintf("HDU %d: data of shape %s: the spectrum is [0, 0, :]; the other %d rows (sky, error, ...) are not read",
				h.Index(), numpyShape(axes), axes[1]*axes[2]-1))
		}
	default:
		for _, a := range axes[1:] {
			ok = ok && a == 1
		}
	}
	if !ok {
		return nil, &dataproduct.ParseError{Err: fmt.Errorf("HDU %d: data of shape %s is not a 1-D spectrum (want (N), (1, N), (2, N) or a 3-D array)", h.Index(), numpyShape(axes))}
	}
	if n > maxPoints {
		return nil, &dataproduct.ParseError{Err: fmt.Errorf("HDU %d: %d points, more than the %d a spectrum may have", h.Index(), n, maxPoints)}
	}
	// The axis is checked before the data are read, and evaluated after,
	// so that a header claiming more data than the file holds costs little.
	axis, err := parseAxis(hdr)
	if err != nil {
		return nil, &dataproduct.ParseError{Err: fmt.Errorf("HDU %d: %w", h.Index(), err)}
	}
	if axis.unitNote != "" {
		if axis.angular && p.Strict {
			return nil, &dataproduct.ParseError{Err: fmt.Errorf("HDU %d: %s (a strict processor refuses the file)", h.Index(), axis.unitNote)}
		}
		rep.Note(fmt.Sprintf("HDU %d: %s", h.Index(), axis.unitNote))
	}
	data, err := h.ReadFloat64()
	if err != nil {
		return nil, &dataproduct.ParseError{Err: err}
	}
	flux := data[:n:n]
	if len(data) > 2*n {
		flux = slices.Clone(flux) // let the other planes go
	}
	return &spectrum{wave: axis.eval(n), flux: flux, fluxUnits: firstString("BUNIT", hdr, primary), meta: meta}, nil
}

// firstString returns the first non-empty string value of key in hdrs.
func firstString(key string, hdrs ...*fits.Header) string {
	for _, h := range hdrs {
		if h == nil {
			continue
		}
		if s, err := h.String(key); err == nil && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// number reads an optional numeric keyword.
func number(hdr *fits.Header, key string, def float64) (float64, error) {
	if !hdr.Has(key) {
		return def, nil
	}
	v, err := hdr.Float(key)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("keyword %s: %v is not a finite number", key, v)
	}
	return v, nil
}

// nonWavelengthTypes are the spectral CTYPE1 prefixes of axes that are not
// wavelengths (WCS Paper III), and what they are.
var nonWavelengthTypes = map[string]string{
	"FREQ": "frequency", "ENER": "energy", "WAVN": "wavenumber", "VRAD": "radio velocity",
	"VOPT": "optical velocity", "ZOPT": "redshift", "VELO": "velocity", "BETA": "velocity",
	"VELOCITY": "velocity", "FELO": "velocity",
}

// axis is a spectral axis: wavelength(p) for pixels p counted from 1.
type axis struct {
	kind                byte // 'l' linear, 'e' WAVE-LOG, 't' log10 (DC-FLAG, COEFF0)
	crval, crpix, delta float64
	factor              float64 // to Å
	// unitNote says how a missing or angular unit was read, for the
	// report; angular is set for the latter.
	unitNote string
	angular  bool
}

// angularUnits are units of angle that some pipelines write as CUNIT1 of
// a wavelength axis (LCO FLOYDS: 'deg'); the TOM reads them as Å.
var angularUnits = map[string]bool{
	"deg": true, "degree": true, "degrees": true, "arcsec": true, "arcmin": true,
	"rad": true, "radian": true, "radians": true, "mas": true,
}

// parseAxis reads the spectral WCS of axis 1 (see the Spectroscopy doc).
func parseAxis(hdr *fits.Header) (axis, error) {
	a := axis{kind: 'l'}
	ctype := strings.ToUpper(firstString("CTYPE1", hdr))
	base, alg, _ := strings.Cut(ctype, "-")
	alg = strings.Trim(alg, "-")
	if what, bad := nonWavelengthTypes[base]; bad {
		return a, fmt.Errorf("CTYPE1 %q is a %s axis: only wavelength axes are supported", ctype, what)
	}
	if alg != "" && alg != "LOG" {
		return a, fmt.Errorf("CTYPE1 %q: the %s algorithm is not supported (linear and LOG are)", ctype, alg)
	}
	unit := firstString("CUNIT1", hdr)
	if unit == "" {
		unit = irafUnits(firstString("WAT1_001", hdr))
	}
	var err error
	switch key := strings.ToLower(strings.TrimSpace(unit)); {
	case key == "" && !hdr.Has("COEFF0"):
		a.factor, a.unitNote = 1, "no wavelength unit (CUNIT1): wavelengths read as Angstrom"
	case angularUnits[key]:
		a.factor, a.angular = 1, true
		a.unitNote = fmt.Sprintf("CUNIT1 %q is an angle, not a wavelength unit: wavelengths read as Angstrom", unit)
	default:
		if a.factor, err = angstromFactor(unit); err != nil {
			return a, fmt.Errorf("CUNIT1: %w", err)
		}
	}
	if !hdr.Has("CRVAL1") {
		if !hdr.Has("COEFF0") {
			return a, errors.New("no wavelength axis: the header has neither CRVAL1 (a WCS) nor COEFF0 (SDSS)")
		}
		if !hdr.Has("COEFF1") {
			return a, errors.New("COEFF0 without COEFF1: no wavelength dispersion")
		}
		// 10^(COEFF0 + COEFF1·(p − 1)).
		a.kind, a.crpix = 't', 1
		if a.crval, err = number(hdr, "COEFF0", 0); err != nil {
			return a, err
		}
		a.delta, err = number(hdr, "COEFF1", 0)
		return a, err
	}
	if a.crval, err = number(hdr, "CRVAL1", 0); err != nil {
		return a, err
	}
	if a.crpix, err = number(hdr, "CRPIX1", 0); err != nil {
		return a, err
	}
	if hdr.Has("CD1_1") && !hdr.Has("PC1_1") {
		if a.delta, err = number(hdr, "CD1_1", 1); err != nil {
			return a, err
		}
	} else {
		cdelt, err := number(hdr, "CDELT1", 1)
		if err != nil {
			return a, err
		}
		pc, err := number(hdr, "PC1_1", 1)
		if err != nil {
			return a, err
		}
		a.delta = cdelt * pc
	}
	dcflag, err := number(hdr, "DC-FLAG", 0)
	if err != nil {
		return a, err
	}
	switch {
	case alg == "LOG":
		a.kind = 'e'
	case dcflag == 1:
		a.kind = 't'
	}
	return a, nil
}

// eval returns the wavelengths in Å of pixels 1..n.
func (a axis) eval(n int) []float64 {
	wave := make([]float64, n)
	switch {
	case a.kind == 'e':
		for i := range wave {
			wave[i] = a.factor * a.crval * math.Exp(a.delta*(float64(i+1)-a.crpix)/a.crval)
		}
	case a.kind == 't':
		for i := range wave {
			wave[i] = a.factor * math.Pow(10, a.crval+a.delta*(float64(i+1)-a.crpix))
		}
	case a.factor == 1:
		for i := range wave {
			wave[i] = a.crval + a.delta*(float64(i+1)-a.crpix)
		}
	default:
		for i := range wave {
			wave[i] = a.factor * (a.crval + a.delta*(float64(i+1)-a.crpix))
		}
	}
	return wave
}

// irafUnits returns the units= of an IRAF WAT1_001 card ("wtype=linear
// label=Wavelength units=angstroms"), or "".
func irafUnits(wat string) string {
	for _, f := range strings.Fields(wat) {
		if u, ok := strings.CutPrefix(f, "units="); ok {
			return u
		}
	}
	return ""
}

// Column names of table spectra, in order of preference.
var (
	waveColumns  = []string{"loglam", "wavelength", "wave", "lambda"}
	fluxColumns  = []string{"flux"}
	errorColumns = []string{"ivar", "error", "err", "flux_err", "flux_error", "sigma", "uncertainty"}
)

func findColumn(t *fits.Table, names []string) (fits.Column, bool) {
	for _, n := range names {
		if c, ok := t.Column(n); ok {
			return c, true
		}
	}
	return fits.Column{}, false
}

// tableSpectrum reads the spectrum of a binary table, or returns nil when
// the table has no wavelength and flux columns.
func tableSpectrum(h *fits.HDU, primary *fits.Header) (*spectrum, error) {
	t, err := h.Table()
	if err != nil {
		return nil, &dataproduct.ParseError{Err: err}
	}
	wc, okW := findColumn(t, waveColumns)
	fc, okF := findColumn(t, fluxColumns)
	if !okW || !okF {
		return nil, nil
	}
	ec, okE := findColumn(t, errorColumns)
	hdr := h.Header()
	fail := func(err error) error {
		return &dataproduct.ParseError{Column: fc.Name, Err: fmt.Errorf("HDU %d: %w", h.Index(), err)}
	}
	n := wc.Repeat * t.Rows()
	for _, c := range []fits.Column{fc, ec} {
		if c.Name != "" && c.Repeat*t.Rows() != n {
			return nil, fail(fmt.Errorf("column %s has %d values but %s has %d", c.Name, c.Repeat*t.Rows(), wc.Name, n))
		}
	}
	if n > maxPoints {
		return nil, fail(fmt.Errorf("%d points, more than the %d a spectrum may have", n, maxPoints))
	}
	wave, err := t.Float64s(wc.Name)
	if err != nil {
		return nil, &dataproduct.ParseError{Column: wc.Name, Err: err}
	}
	if strings.EqualFold(wc.Name, "loglam") {
		for i, v := range wave {
			wave[i] = math.Pow(10, v)
		}
	} else {
		factor, err := angstromFactor(wc.Unit)
		if err != nil {
			return nil, &dataproduct.ParseError{Column: wc.Name, Err: fmt.Errorf("HDU %d: TUNIT%d: %w", h.Index(), wc.Number, err)}
		}
		if factor != 1 {
			for i := range wave {
				wave[i] *= factor
			}
		}
	}
	flux, err := t.Float64s(fc.Name)
	if err != nil {
		return nil, &dataproduct.ParseError{Column: fc.Name, Err: err}
	}
	var errs []float64
	if okE {
		if errs, err = t.Float64s(ec.Name); err != nil {
			return nil, &dataproduct.ParseError{Column: ec.Name, Err: err}
		}
		if strings.EqualFold(ec.Name, "ivar") {
			for i, v := range errs {
				if v > 0 {
					errs[i] = 1 / math.Sqrt(v)
				} else {
					errs[i] = math.NaN() // no measurement
				}
			}
		}
	}
	units := strings.TrimSpace(fc.Unit)
	if units == "" {
		units = firstString("BUNIT", hdr, primary)
	}
	if units == "" && strings.EqualFold(wc.Name, "loglam") {
		units = sdssFluxUnits
	}
	return &spectrum{wave: wave, flux: flux, err: errs, fluxUnits: units,
		meta: &metadata{headers: []*fits.Header{hdr, primary}}}, nil
}
