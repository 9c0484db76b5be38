package dataproduct

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tomgo/targetdata/internal/floatfmt"
)

// Photometry is the value of a photometry datum. Its JSON keys match the
// TOM Toolkit's ReducedDatum values (magnitude, error, limit, filter,
// telescope) plus flux in µJy, the MJD and the detection threshold where
// the service gives them. Absent quantities are nil and omitted from JSON.
//
// A datum holds either a Magnitude (with Error) for a detection or a Limit
// for a non-detection, never a limit stored as a magnitude.
//
// Extra keeps any other keys (the generic table processor keeps extra
// columns there); on encoding they are merged into the same JSON object.
// The zero value is an empty photometry value.
type Photometry struct {
	// Magnitude is the AB magnitude of a detection.
	Magnitude *float64
	// Error is the 1-sigma magnitude error of a detection.
	Error *float64
	// Limit is the limiting magnitude of a non-detection.
	Limit *float64
	// LimitSigma is the significance of Limit (3 for a 3-sigma limit).
	// Encoded as "limit_sigma" when non-zero.
	LimitSigma float64
	// Filter is the band as the service names it ("c", "o", "g", "r", ...).
	Filter string
	// Telescope names the telescope or survey ("ATLAS", "PanSTARRS 1", "ZTF").
	Telescope string
	// FluxUJy is the flux in µJy (AB), when the service gives one.
	FluxUJy *float64
	// FluxErrUJy is the 1-sigma flux error in µJy.
	FluxErrUJy *float64
	// MJD is the time of the datum as a Modified Julian Date, when known.
	MJD *float64
	// Extra holds other keys; they must not collide with the keys above.
	Extra map[string]any
}

// Float returns a pointer to v, for filling Photometry's optional fields.
func Float(v float64) *float64 { return &v }

// DataType returns TypePhotometry.
func (Photometry) DataType() string { return TypePhotometry }

// photometryKeys are Photometry's own JSON keys.
var photometryKeys = map[string]bool{
	"error": true, "filter": true, "flux_err_ujy": true, "flux_ujy": true, "limit": true,
	"limit_sigma": true, "magnitude": true, "mjd": true, "telescope": true,
}

// MarshalJSON encodes the value as one JSON object with sorted keys, the
// same bytes CanonicalValue gives. Non-finite numbers are an error.
func (p Photometry) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(make([]byte, 0, 160))
}

// AppendJSON appends the JSON encoding of p (sorted keys) to b.
func (p Photometry) AppendJSON(b []byte) ([]byte, error) {
	type field struct {
		key  string
		f    float64
		s    string
		any  any
		kind byte // 'f' float, 's' string, 'a' any
	}
	var fs [9]field
	n := 0
	addF := func(k string, v *float64) {
		if v != nil {
			fs[n] = field{key: k, f: *v, kind: 'f'}
			n++
		}
	}
	addS := func(k, v string) {
		if v != "" {
			fs[n] = field{key: k, s: v, kind: 's'}
			n++
		}
	}
	// In sorted key order.
	addF("error", p.Error)
	addS("filter", p.Filter)
	addF("flux_err_ujy", p.FluxErrUJy)
	addF("flux_ujy", p.FluxUJy)
	addF("limit", p.Limit)
	if p.LimitSigma != 0 {
		fs[n] = field{key: "limit_sigma", f: p.LimitSigma, kind: 'f'}
		n++
	}
	addF("magnitude", p.Magnitude)
	addF("mjd", p.MJD)
	addS("telescope", p.Telescope)
	all := fs[:n]
	if len(p.Extra) > 0 {
		all = slices.Clone(all)
		for k, v := range p.Extra {
			if photometryKeys[k] {
				return nil, fmt.Errorf("photometry: extra key %q collides with a photometry field", k)
			}
			if !utf8.ValidString(k) {
				// Two such keys could read back as one.
				return nil, fmt.Errorf("photometry: extra key %q is not valid UTF-8", k)
			}
			all = append(all, field{key: k, any: v, kind: 'a'})
		}
		slices.SortFunc(all, func(a, b field) int { return compareStrings(a.key, b.key) })
	}
	b = append(b, '{')
	for i, f := range all {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.key)
		b = append(b, ':')
		switch f.kind {
		case 'f':
			var err error
			if b, err = AppendJSONFloat(b, f.f); err != nil {
				return nil, fmt.Errorf("photometry %s: %w", f.key, err)
			}
		case 's':
			b = appendJSONString(b, f.s)
		case 'a':
			vb, err := canonicalJSON(f.any)
			if err != nil {
				return nil, fmt.Errorf("photometry %s: %w", f.key, err)
			}
			b = append(b, vb...)
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json encodes a string (with its
// HTML escaping), taking a fast path for plain ASCII. Invalid UTF-8 becomes
// U+FFFD written as itself, not as encoding/json's "\ufffd" escape, so that
// a value read back from a store (where it is U+FFFD) encodes to the same
// bytes.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(strings.ToValidUTF8(s, "\uFFFD")) // strings always encode
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// UnmarshalJSON decodes a JSON object; unknown keys go to Extra. It reads
// the flat object itself (stores list millions of these), handing only
// the values of unknown keys to encoding/json.
func (p *Photometry) UnmarshalJSON(data []byte) error {
	*p = Photometry{}
	nums := new([7]float64) // one allocation for every number field
	s := jsonScanner{b: data}
	s.space()
	if !s.eat('{') {
		return errors.New("photometry: not a JSON object")
	}
	s.space()
	if s.eat('}') {
		return s.end()
	}
	for {
		s.space()
		key, err := s.key()
		if err != nil {
			return err
		}
		s.space()
		if !s.eat(':') {
			return fmt.Errorf("photometry: expected ':' after key %q", key)
		}
		s.space()
		raw, err := s.value()
		if err != nil {
			return fmt.Errorf("photometry %s: %w", key, err)
		}
		if err := p.set(key, raw, nums); err != nil {
			return err
		}
		s.space()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return s.end()
		}
		return fmt.Errorf("photometry: expected ',' or '}' after key %q", key)
	}
}

// set decodes one key's raw JSON value into p.
func (p *Photometry) set(key string, raw []byte, nums *[7]float64) error {
	var err error
	switch key {
	case "magnitude":
		p.Magnitude, err = jsonNumber(key, raw, &nums[0])
	case "error":
		p.Error, err = jsonNumber(key, raw, &nums[1])
	case "limit":
		p.Limit, err = jsonNumber(key, raw, &nums[2])
	case "limit_sigma":
		var v *float64
		if v, err = jsonNumber(key, raw, &nums[3]); v != nil {
			p.LimitSigma = *v
		}
	case "flux_ujy":
		p.FluxUJy, err = jsonNumber(key, raw, &nums[4])
	case "flux_err_ujy":
		p.FluxErrUJy, err = jsonNumber(key, raw, &nums[5])
	case "mjd":
		p.MJD, err = jsonNumber(key, raw, &nums[6])
	case "filter":
		p.Filter, err = jsonString(key, raw)
	case "telescope":
		p.Telescope, err = jsonString(key, raw)
	default:
		var v any
		if err = json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("photometry %s: %w", key, err)
		}
		if p.Extra == nil {
			p.Extra = make(map[string]any)
		}
		p.Extra[key] = v
	}
	return err
}

// jsonNumber decodes a JSON number (or null) for a Photometry field into
// *dst and returns dst (nil for null).
func jsonNumber(key string, raw []byte, dst *float64) (*float64, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	ok := len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
	for _, c := range raw {
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			ok = false
			break
		}
	}
	if !ok {
		return nil, fmt.Errorf("photometry %s: %s is not a number", key, raw)
	}
	v, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64)
	if err != nil {
		return nil, fmt.Errorf("photometry %s: %s is not a float64", key, string(raw))
	}
	*dst = v
	return dst, nil
}

// jsonString decodes a JSON string (or null) for a Photometry field.
func jsonString(key string, raw []byte) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("photometry %s: %w", key, err)
	}
	return v, nil
}

// jsonScanner walks one JSON object without building it.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return errors.New("photometry: data after the JSON object")
	}
	return nil
}

// key reads an object key.
func (s *jsonScanner) key() (string, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", errors.New("photometry: expected a key")
	}
	raw, err := s.value()
	if err != nil {
		return "", err
	}
	return jsonString("key", raw)
}

// value returns the raw bytes of the next JSON value and moves past it.
// Nested values are only delimited here; encoding/json checks them.
func (s *jsonScanner) value() ([]byte, error) {
	start := s.i
	if s.i >= len(s.b) {
		return nil, io.ErrUnexpectedEOF
	}
	switch c := s.b[s.i]; {
	case c == '"':
		if err := s.skipString(); err != nil {
			return nil, err
		}
	case c == '{' || c == '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if err := s.skipString(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return s.b[start:s.i], nil
			}
		}
		return nil, io.ErrUnexpectedEOF
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.b[start:s.i], nil
			}
			s.i++
		}
	}
	return s.b[start:s.i], nil
}

// skipString moves past a JSON string starting at s.i.
func (s *jsonScanner) skipString() error {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			s.i++
			return nil
		}
		s.i++
	}
	return io.ErrUnexpectedEOF
}

// Spectrum is the value of a spectroscopy datum: wavelength and flux arrays
// of equal length in file order, with units. Its JSON matches the TOM's
// spectroscopy datum; Error, the optional 1-sigma flux error, is an
// extension the TOM does not store (omitted when empty).
//
// The fields are declared in JSON key order so that encoding/json output is
// already canonical.
type Spectrum struct {
	// Error is the optional 1-sigma flux error, same length as Flux.
	Error []float64 `json:"error,omitempty"`
	// Flux is the flux density in FluxUnits.
	Flux []float64 `json:"flux"`
	// FluxUnits is, e.g., "erg / (Angstrom s cm2)".
	FluxUnits string `json:"flux_units"`
	// Wavelength is in WavelengthUnits; it may descend.
	Wavelength []float64 `json:"wavelength"`
	// WavelengthUnits is, e.g., "Angstrom".
	WavelengthUnits string `json:"wavelength_units"`
}

// DataType returns TypeSpectroscopy.
func (Spectrum) DataType() string { return TypeSpectroscopy }

// Check reports a spectrum whose arrays are empty, of unequal length, or
// hold non-finite numbers (which JSON cannot carry).
func (s Spectrum) Check() error {
	if len(s.Wavelength) == 0 {
		return errors.New("spectrum: no points")
	}
	if len(s.Flux) != len(s.Wavelength) {
		return fmt.Errorf("spectrum: %d wavelengths but %d fluxes", len(s.Wavelength), len(s.Flux))
	}
	if len(s.Error) != 0 && len(s.Error) != len(s.Flux) {
		return fmt.Errorf("spectrum: %d fluxes but %d errors", len(s.Flux), len(s.Error))
	}
	for name, a := range map[string][]float64{"wavelength": s.Wavelength, "flux": s.Flux, "error": s.Error} {
		for i, v := range a {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("spectrum: %s[%d] is %v", name, i, v)
			}
		}
	}
	return nil
}

// AppendJSONFloat appends v as encoding/json would encode a float64. It
// fails for NaN and infinities.
func AppendJSONFloat(b []byte, v float64) ([]byte, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return b, fmt.Errorf("unsupported number %v", v)
	}
	if abs := math.Abs(v); abs == 0 || abs >= 1e-6 && abs < 1e21 {
		return floatfmt.AppendShortest(b, v), nil
	}
	b = strconv.AppendFloat(b, v, 'e', -1, 64)
	// Clean up e-09 to e-9, as encoding/json does.
	n := len(b)
	if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, nil
}

// CanonicalValue returns the canonical JSON encoding of a datum value: an
// object with sorted keys and numbers as encoding/json writes float64s, so
// that equal values give equal bytes whether they come from a processor
// (Photometry, Spectrum) or back from a store (json.RawMessage).
func CanonicalValue(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, fmt.Errorf("%w: value is missing", ErrInvalidDatum)
	case Photometry:
		return v.MarshalJSON()
	case *Photometry:
		if v == nil {
			return nil, fmt.Errorf("%w: value is a nil *Photometry", ErrInvalidDatum)
		}
		return v.MarshalJSON()
	case Spectrum:
		if err := v.Check(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidDatum, err)
		}
		return json.Marshal(v)
	case *Spectrum:
		if v == nil {
			return nil, fmt.Errorf("%w: value is a nil *Spectrum", ErrInvalidDatum)
		}
		return CanonicalValue(*v)
	}
	b, err := canonicalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDatum, err)
	}
	return b, nil
}

// canonicalJSON re-encodes any JSON-encodable value through a generic
// decode so that key order and number formatting are canonical.
func canonicalJSON(v any) ([]byte, error) {
	var raw []byte
	switch v := v.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

// DecodeValue turns a stored JSON value back into its Go form: Photometry
// for TypePhotometry, Spectrum for TypeSpectroscopy and json.RawMessage for
// any other data type.
func DecodeValue(dataType string, raw []byte) (any, error) {
	switch dataType {
	case TypePhotometry:
		var p Photometry
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		return p, nil
	case TypeSpectroscopy:
		var s Spectrum
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return s, nil
	}
	return json.RawMessage(slices.Clone(raw)), nil
}
