package fits

import (
	"encoding/binary"
	"fmt"
	"math"
)

// scaling holds what turns stored values into physical ones:
// physical = zero + scale × stored, with blank (integers only) → NaN.
type scaling struct {
	scale, zero float64
	identity    bool
	hasBlank    bool
	blank       int64
	unsigned64  bool // BITPIX 64, BZERO 2^63, BSCALE 1: exact uint64 conversion
}

func (s *scaling) apply(v int64) float64 {
	if s.hasBlank && v == s.blank {
		return math.NaN()
	}
	if s.unsigned64 {
		return float64(uint64(v) ^ (1 << 63))
	}
	if s.identity {
		return float64(v)
	}
	// The explicit float64 conversion rounds the product, which forbids a
	// fused multiply-add: results are the same on every architecture (and
	// equal to NumPy's).
	return s.zero + float64(s.scale*float64(v))
}

func (s *scaling) applyFloat(v float64) float64 {
	if s.identity {
		return v
	}
	return s.zero + float64(s.scale*v)
}

// imageScaling reads BSCALE, BZERO and, for integer data, BLANK.
func (h *HDU) imageScaling() (scaling, error) {
	s := scaling{scale: 1}
	hdr := h.hdr
	if hdr.Has("BSCALE") {
		v, err := hdr.Float("BSCALE")
		if err != nil {
			return s, err
		}
		s.scale = v
	}
	if hdr.Has("BZERO") {
		v, err := hdr.Float("BZERO")
		if err != nil {
			return s, err
		}
		s.zero = v
	}
	s.identity = s.scale == 1 && s.zero == 0
	if h.bitpix > 0 && hdr.Has("BLANK") {
		v, err := hdr.Int("BLANK")
		if err != nil {
			return s, err
		}
		s.hasBlank, s.blank = true, v
	}
	s.unsigned64 = h.bitpix == 64 && s.scale == 1 && s.zero == 1<<63
	return s, nil
}

// imageLen checks that the HDU holds a readable image and returns its number
// of values.
func (h *HDU) imageLen(op string) (int64, scaling, error) {
	if err := h.usable(op); err != nil {
		return 0, scaling{}, err
	}
	switch {
	case h.typ != PrimaryHDU && h.typ != ImageHDU:
		return 0, scaling{}, h.errorf(op, h.offset, fmt.Errorf("%w: HDU is a %s extension, not an image", ErrUnsupported, h.ext))
	case h.groups:
		return 0, scaling{}, h.errorf(op, h.offset, fmt.Errorf("%w: random-groups data", ErrUnsupported))
	case h.pcount != 0 || h.gcount != 1:
		return 0, scaling{}, h.errorf(op, h.offset, fmt.Errorf("%w: image with PCOUNT %d, GCOUNT %d", ErrUnsupported, h.pcount, h.gcount))
	}
	s, err := h.imageScaling()
	if err != nil {
		return 0, s, h.errorf(op, h.offset, err)
	}
	return h.size / int64(abs(h.bitpix)/8), s, nil
}

// ReadFloat64 reads the whole array of a primary or IMAGE HDU as float64
// physical values (BZERO + BSCALE × stored; integer BLANK values become
// NaN), in file order: axis 1 varies fastest, so for a spectrum of shape
// NAXIS1 = N (or N×1×1, or N×2) the first N values are the first row.
// An HDU without data (NAXIS = 0) gives an empty slice. The data can be read
// once, by ReadFloat64 or ReadFloat32.
func (h *HDU) ReadFloat64() ([]float64, error) {
	const op = "reading image data"
	n, s, err := h.imageLen(op)
	if err != nil {
		return nil, err
	}
	if err := h.checkAlloc(op, n, 8); err != nil {
		return nil, err
	}
	out := make([]float64, 0, min(n, eagerElems))
	width := abs(h.bitpix) / 8
	buf := h.r.chunk(h.size)
	for remaining := n; remaining > 0; {
		k := min(remaining, int64(len(buf)/width))
		src := buf[:int(k)*width]
		if err := h.read(src, op); err != nil {
			return nil, err
		}
		out = grow(out, int(k), int(n))
		dst := out[len(out) : len(out)+int(k)]
		out = out[:len(out)+int(k)]
		decodeFloat64(dst, src, h.bitpix, &s)
		remaining -= k
	}
	return out, nil
}

// ReadFloat32 is ReadFloat64 with float32 results, for speed and memory:
// BITPIX -32 data without scaling are converted bit for bit; other data are
// computed in float64 and rounded to float32.
func (h *HDU) ReadFloat32() ([]float32, error) {
	const op = "reading image data"
	n, s, err := h.imageLen(op)
	if err != nil {
		return nil, err
	}
	if err := h.checkAlloc(op, n, 4); err != nil {
		return nil, err
	}
	out := make([]float32, 0, min(n, eagerElems))
	width := abs(h.bitpix) / 8
	buf := h.r.chunk(h.size)
	var tmp []float64
	for remaining := n; remaining > 0; {
		k := min(remaining, int64(len(buf)/width))
		src := buf[:int(k)*width]
		if err := h.read(src, op); err != nil {
			return nil, err
		}
		out = grow(out, int(k), int(n))
		dst := out[len(out) : len(out)+int(k)]
		out = out[:len(out)+int(k)]
		if h.bitpix == -32 && s.identity {
			for i := range dst {
				dst[i] = math.Float32frombits(binary.BigEndian.Uint32(src[4*i:]))
			}
		} else {
			if tmp == nil {
				tmp = make([]float64, min(n, int64(len(buf)/width)))
			}
			t := tmp[:k]
			decodeFloat64(t, src, h.bitpix, &s)
			for i, v := range t {
				dst[i] = float32(v)
			}
		}
		remaining -= k
	}
	return out, nil
}

// decodeFloat64 converts big-endian stored values of the given BITPIX in src
// into physical values in dst (len(src) = len(dst) × |BITPIX|/8).
func decodeFloat64(dst []float64, src []byte, bitpix int, s *scaling) {
	be := binary.BigEndian
	switch bitpix {
	case 8:
		src = src[:len(dst)]
		for i := range dst {
			dst[i] = s.apply(int64(src[i]))
		}
	case 16:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = s.apply(int64(int16(be.Uint16(src[2*i:]))))
		}
	case 32:
		src = src[:4*len(dst)]
		for i := range dst {
			dst[i] = s.apply(int64(int32(be.Uint32(src[4*i:]))))
		}
	case 64:
		src = src[:8*len(dst)]
		for i := range dst {
			dst[i] = s.apply(int64(be.Uint64(src[8*i:])))
		}
	case -32:
		src = src[:4*len(dst)]
		if s.identity {
			for i := range dst {
				dst[i] = float64(math.Float32frombits(be.Uint32(src[4*i:])))
			}
			return
		}
		for i := range dst {
			dst[i] = s.applyFloat(float64(math.Float32frombits(be.Uint32(src[4*i:]))))
		}
	case -64:
		src = src[:8*len(dst)]
		for i := range dst {
			dst[i] = s.applyFloat(math.Float64frombits(be.Uint64(src[8*i:])))
		}
	}
}
