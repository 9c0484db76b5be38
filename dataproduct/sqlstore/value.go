package sqlstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/tomgo/targetdata/dataproduct"
)

// A datum's value is stored in one of two columns:
//
//   - value_json: the canonical JSON (dataproduct.CanonicalValue), for
//     photometry and every other data type;
//   - value_bin: a spectroscopy datum whose value is a dataproduct.Spectrum,
//     as binary float64 arrays (spectrumFormat below), about half the size
//     of its JSON and decoded without parsing numbers. Its canonical JSON is
//     json.Marshal of the decoded Spectrum, the same bytes as at ingest,
//     because float64s survive the binary round trip exactly.

// spectrumFormat1 is the first byte of a binary spectrum:
//
//	byte      1 (format version)
//	uvarint   len(FluxUnits), then its bytes
//	uvarint   len(WavelengthUnits), then its bytes
//	uvarint   n, the number of points
//	uvarint   number of errors (0 or n)
//	n float64 wavelengths, n float64 fluxes, then the errors,
//	          little-endian IEEE 754
const spectrumFormat1 = 1

// encodedValue is a value ready for the two value columns.
type encodedValue struct {
	canonical []byte // always set: what the key covers
	json      []byte // value_json, or nil
	bin       []byte // value_bin, or nil
}

// encodeValue computes the canonical JSON of d's value and chooses its
// column. Errors wrap dataproduct.ErrInvalidDatum.
func encodeValue(d dataproduct.Datum) (encodedValue, error) {
	canon, err := dataproduct.CanonicalValue(d.Value)
	if err != nil {
		if !errors.Is(err, dataproduct.ErrInvalidDatum) {
			err = fmt.Errorf("%w: %w", dataproduct.ErrInvalidDatum, err)
		}
		return encodedValue{}, err
	}
	if d.DataType == dataproduct.TypeSpectroscopy {
		var spec *dataproduct.Spectrum
		switch v := d.Value.(type) {
		case dataproduct.Spectrum:
			spec = &v
		case *dataproduct.Spectrum:
			spec = v
		}
		if spec != nil {
			return encodedValue{canonical: canon, bin: appendSpectrum(nil, spec)}, nil
		}
	}
	return encodedValue{canonical: canon, json: canon}, nil
}

// appendSpectrum appends the binary form of s to b.
func appendSpectrum(b []byte, s *dataproduct.Spectrum) []byte {
	n := len(s.Wavelength)
	b = append(b, spectrumFormat1)
	b = binary.AppendUvarint(b, uint64(len(s.FluxUnits)))
	b = append(b, s.FluxUnits...)
	b = binary.AppendUvarint(b, uint64(len(s.WavelengthUnits)))
	b = append(b, s.WavelengthUnits...)
	b = binary.AppendUvarint(b, uint64(n))
	b = binary.AppendUvarint(b, uint64(len(s.Error)))
	b = append(b, make([]byte, 8*(2*n+len(s.Error)))...)
	out := b[len(b)-8*(2*n+len(s.Error)):]
	for _, a := range [][]float64{s.Wavelength, s.Flux, s.Error} {
		for _, v := range a {
			binary.LittleEndian.PutUint64(out, math.Float64bits(v))
			out = out[8:]
		}
	}
	return b
}

// decodeSpectrum reverses appendSpectrum.
func decodeSpectrum(b []byte) (dataproduct.Spectrum, error) {
	bad := func(what string) (dataproduct.Spectrum, error) {
		return dataproduct.Spectrum{}, fmt.Errorf("sqlstore: corrupt binary spectrum: %s", what)
	}
	if len(b) == 0 || b[0] != spectrumFormat1 {
		return bad("unknown format")
	}
	b = b[1:]
	str := func() (string, bool) {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return "", false
		}
		s := string(b[k : k+int(l)])
		b = b[k+int(l):]
		return s, true
	}
	num := func() (int, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 || v > uint64(len(b)) {
			return 0, false
		}
		b = b[k:]
		return int(v), true
	}
	var s dataproduct.Spectrum
	var ok bool
	if s.FluxUnits, ok = str(); !ok {
		return bad("flux units")
	}
	if s.WavelengthUnits, ok = str(); !ok {
		return bad("wavelength units")
	}
	n, ok1 := num()
	ne, ok2 := num()
	if !ok1 || !ok2 || (ne != 0 && ne != n) || len(b) != 8*(2*n+ne) {
		return bad("array lengths")
	}
	floats := func(k int) []float64 {
		if k == 0 {
			return nil
		}
		a := make([]float64, k)
		for i := range a {
			a[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		}
		return a
	}
	s.Wavelength = floats(n)
	s.Flux = floats(n)
	s.Error = floats(ne)
	return s, nil
}

// decodeStored turns the stored columns back into a datum value: a
// Photometry for photometry, a Spectrum for spectroscopy and a
// json.RawMessage for other types, as dataproduct.DecodeValue does. A
// photometry or spectroscopy value whose typed form would not give back
// the stored canonical bytes (say, an explicit null or a key a Spectrum has
// no field for) comes back as json.RawMessage instead, so that
// CanonicalValue of a listed datum always equals the canonical value it
// was stored (and keyed) with.
func decodeStored(dataType string, js, bin []byte) (any, error) {
	if bin != nil {
		s, err := decodeSpectrum(bin)
		if err != nil {
			return nil, err
		}
		if dataType == dataproduct.TypeSpectroscopy {
			return s, nil
		}
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: encode stored spectrum: %w", err)
		}
		return json.RawMessage(raw), nil
	}
	switch dataType {
	case dataproduct.TypePhotometry, dataproduct.TypeSpectroscopy:
		v, err := dataproduct.DecodeValue(dataType, js)
		if err != nil {
			return json.RawMessage(js), nil
		}
		if canon, err := dataproduct.CanonicalValue(v); err != nil || !bytes.Equal(canon, js) {
			return json.RawMessage(js), nil
		}
		return v, nil
	}
	return json.RawMessage(js), nil
}
