package fits

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Column describes one field of a binary table, from its TFORMn, TTYPEn and
// related keywords.
type Column struct {
	// Number is the field number n (1-based).
	Number int
	// Name is TTYPEn with trailing blanks removed ("" when absent).
	Name string
	// Format is TFORMn as written.
	Format string
	// Type is the TFORMn data type code: one of L X B I J K A E D C M P Q.
	Type byte
	// Repeat is the repeat count r of TFORMn: elements per row (bits for
	// X, characters for A).
	Repeat int64
	// Unit is TUNITn ("" when absent).
	Unit string
	// Dim is TDIMn as written ("" when absent); it is not applied.
	Dim string
	// Scale and Zero are TSCALn (default 1) and TZEROn (default 0).
	Scale, Zero float64
	// Null is TNULLn, the stored integer that means "undefined", when
	// HasNull is set (B, I, J, K columns).
	Null    int64
	HasNull bool
	// Offset is the byte offset of the field in a row; Width its size.
	Offset, Width int64

	err error // a problem with TSCALn/TZEROn/TNULLn, reported on read
}

// Table gives access to the columns of a BINTABLE HDU. Its rows are read
// from the stream, once, on the first call that needs values; after that
// any column can be read in any order while the HDU is current. The heap
// (variable-length array data) is not read.
type Table struct {
	h        *HDU
	cols     []Column
	rowBytes int64 // NAXIS1
	nrows    int64 // NAXIS2
	data     []byte
	loaded   bool
}

// Table parses the column descriptions of a BINTABLE HDU. It reads no data.
func (h *HDU) Table() (*Table, error) {
	const op = "reading table header"
	if h.table != nil {
		return h.table, nil
	}
	if h.typ != BinTableHDU {
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: HDU is %s, not a BINTABLE extension", ErrUnsupported, h.kind()))
	}
	if h.bitpix != 8 || len(h.axes) != 2 {
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: a BINTABLE needs BITPIX = 8 and NAXIS = 2 (has %d and %d)", ErrInvalid, h.bitpix, len(h.axes)))
	}
	if h.gcount != 1 {
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: a BINTABLE needs GCOUNT = 1 (has %d)", ErrInvalid, h.gcount))
	}
	hdr := h.hdr
	nf, err := structural(hdr, "TFIELDS", 0, 999)
	if err != nil {
		return nil, h.errorf(op, h.offset, err)
	}
	t := &Table{h: h, rowBytes: int64(h.axes[0]), nrows: int64(h.axes[1])}
	var offset int64
	for n := 1; n <= int(nf); n++ {
		c, err := parseColumn(hdr, n)
		if err != nil {
			return nil, h.errorf(op, h.offset, err)
		}
		c.Offset = offset
		if offset, err = add(offset, c.Width); err != nil {
			return nil, h.errorf(op, h.offset, err)
		}
		if offset > t.rowBytes {
			return nil, h.errorf(op, h.offset, fmt.Errorf("%w: the fields up to TFORM%d need %d bytes but NAXIS1 is %d", ErrInvalid, n, offset, t.rowBytes))
		}
		t.cols = append(t.cols, c)
	}
	h.table = t
	return t, nil
}

func parseColumn(hdr *Header, n int) (Column, error) {
	ns := strconv.Itoa(n)
	c := Column{Number: n, Scale: 1}
	var err error
	if c.Format, err = hdr.String("TFORM" + ns); err != nil {
		return c, err
	}
	f := strings.TrimSpace(c.Format)
	i := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	c.Repeat = 1
	if i > 0 {
		if c.Repeat, err = strconv.ParseInt(f[:i], 10, 64); err != nil {
			return c, tformError(hdr, ns, "repeat count out of range")
		}
	}
	if i == len(f) {
		return c, tformError(hdr, ns, "no data type code")
	}
	c.Type = f[i]
	var size int64
	switch c.Type {
	case 'L', 'B', 'A':
		size = 1
	case 'I':
		size = 2
	case 'J', 'E':
		size = 4
	case 'K', 'D', 'C', 'P':
		size = 8
	case 'M', 'Q':
		size = 16
	case 'X':
		size = 0
	default:
		return c, tformError(hdr, ns, fmt.Sprintf("unknown data type code %q", c.Type))
	}
	if c.Type == 'X' {
		c.Width = (c.Repeat + 7) / 8
	} else if c.Width, err = mul(c.Repeat, size); err != nil {
		return c, err
	}

	if s, err := hdr.String("TTYPE" + ns); err == nil {
		c.Name = strings.TrimSpace(s)
	}
	if s, err := hdr.String("TUNIT" + ns); err == nil {
		c.Unit = s
	}
	if s, err := hdr.String("TDIM" + ns); err == nil {
		c.Dim = s
	}
	if hdr.Has("TSCAL" + ns) {
		if c.Scale, err = hdr.Float("TSCAL" + ns); err != nil {
			c.err = err
		}
	}
	if hdr.Has("TZERO" + ns) {
		if c.Zero, err = hdr.Float("TZERO" + ns); err != nil {
			c.err = err
		}
	}
	if hdr.Has("TNULL"+ns) && strings.IndexByte("BIJK", c.Type) >= 0 {
		if c.Null, err = hdr.Int("TNULL" + ns); err != nil {
			c.err = err
		} else {
			c.HasNull = true
		}
	}
	return c, nil
}

func tformError(hdr *Header, ns, why string) error {
	c, _ := hdr.Get("TFORM" + ns)
	return &CardError{Card: c.Index, Keyword: "TFORM" + ns, Err: fmt.Errorf("%w: TFORM %q: %s", ErrInvalid, c.Str, why)}
}

// Rows returns the number of rows (NAXIS2).
func (t *Table) Rows() int64 { return t.nrows }

// RowBytes returns the size of a row in bytes (NAXIS1).
func (t *Table) RowBytes() int64 { return t.rowBytes }

// Columns returns the column descriptions in field order. The slice is a
// copy.
func (t *Table) Columns() []Column { return append([]Column(nil), t.cols...) }

// Column returns the first column whose TTYPEn equals name, ignoring case
// and surrounding blanks.
func (t *Table) Column(name string) (Column, bool) {
	name = strings.TrimSpace(name)
	for _, c := range t.cols {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

func (t *Table) column(name, op string) (Column, error) {
	c, ok := t.Column(name)
	if !ok {
		return c, t.h.errorf(op, t.h.offset, fmt.Errorf("column %q: %w", name, ErrNotFound))
	}
	if c.err != nil {
		return c, t.h.errorf(op, t.h.offset, &contextError{fmt.Sprintf("column %q", name), c.err})
	}
	return c, nil
}

// load reads the rows (NAXIS1 × NAXIS2 bytes) from the stream, once.
func (t *Table) load() error {
	const op = "reading table rows"
	if t.loaded {
		return nil
	}
	h := t.h
	size, err := mul(t.rowBytes, t.nrows)
	if err != nil {
		return h.errorf(op, h.offset, err)
	}
	if err := h.usable(op); err != nil {
		return err
	}
	if err := h.checkAlloc(op, size, 1); err != nil {
		return err
	}
	// Grow with the data read, in 1 MiB steps of reading.
	const step = 1 << 20
	data := make([]byte, 0, min(size, eagerElems))
	for int64(len(data)) < size {
		k := int(min(size-int64(len(data)), step))
		data = grow(data, k, int(size))
		if err := h.read(data[len(data):len(data)+k], op); err != nil {
			return err
		}
		data = data[:len(data)+k]
	}
	t.data = data
	t.loaded = true
	return nil
}

// Float64s reads a numeric column as float64 physical values
// (TZEROn + TSCALn × stored; TNULLn values of integer columns become NaN),
// flattened: for a column of repeat count r, the r values of row 0, then
// those of row 1, and so on. Types: B, I, J, K, E, D; L (T = 1, F = 0,
// undefined = NaN); X (one value 0 or 1 per bit). A columns are read with
// Strings; C, M, P and Q columns give ErrUnsupported.
func (t *Table) Float64s(name string) ([]float64, error) {
	const op = "reading table column"
	c, err := t.column(name, op)
	if err != nil {
		return nil, err
	}
	h := t.h
	switch c.Type {
	case 'A':
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: column %q holds characters (TFORM %s); use Strings", ErrWrongType, c.Name, c.Format))
	case 'C', 'M':
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: column %q holds complex values (TFORM %s)", ErrUnsupported, c.Name, c.Format))
	case 'P', 'Q':
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: column %q holds variable-length arrays (TFORM %s)", ErrUnsupported, c.Name, c.Format))
	}
	per := c.Repeat
	total, err := mul(per, t.nrows)
	if err != nil {
		return nil, h.errorf(op, h.offset, err)
	}
	if err := h.checkAlloc(op, total, 8); err != nil {
		return nil, err
	}
	if total == 0 {
		// No values (no rows, or a repeat count of 0): nothing to read, and
		// no loop over rows that may be counted in billions when NAXIS1 = 0.
		if !t.loaded {
			if err := h.usable(op); err != nil {
				return nil, err
			}
		}
		return []float64{}, nil
	}
	if err := t.load(); err != nil {
		return nil, err
	}
	s := scaling{scale: c.Scale, zero: c.Zero, hasBlank: c.HasNull, blank: c.Null}
	s.identity = s.scale == 1 && s.zero == 0
	s.unsigned64 = c.Type == 'K' && s.scale == 1 && s.zero == 1<<63
	out := make([]float64, total)
	be := binary.BigEndian
	for row := int64(0); row < t.nrows; row++ {
		field := t.data[row*t.rowBytes+c.Offset : row*t.rowBytes+c.Offset+c.Width]
		dst := out[row*per : (row+1)*per]
		switch c.Type {
		case 'L':
			for i := range dst {
				switch field[i] {
				case 'T':
					dst[i] = 1
				case 'F':
					dst[i] = 0
				default:
					dst[i] = math.NaN()
				}
			}
		case 'X':
			for i := range dst {
				dst[i] = float64(field[i/8] >> (7 - uint(i%8)) & 1)
			}
		case 'B':
			for i := range dst {
				dst[i] = s.apply(int64(field[i]))
			}
		case 'I':
			for i := range dst {
				dst[i] = s.apply(int64(int16(be.Uint16(field[2*i:]))))
			}
		case 'J':
			for i := range dst {
				dst[i] = s.apply(int64(int32(be.Uint32(field[4*i:]))))
			}
		case 'K':
			for i := range dst {
				dst[i] = s.apply(int64(be.Uint64(field[8*i:])))
			}
		case 'E':
			for i := range dst {
				dst[i] = s.applyFloat(float64(math.Float32frombits(be.Uint32(field[4*i:]))))
			}
		case 'D':
			for i := range dst {
				dst[i] = s.applyFloat(math.Float64frombits(be.Uint64(field[8*i:])))
			}
		}
	}
	return out, nil
}

// Float64Rows is Float64s split per row: one slice of Repeat values for
// each row, all sharing one backing array.
func (t *Table) Float64Rows(name string) ([][]float64, error) {
	flat, err := t.Float64s(name)
	if err != nil {
		return nil, err
	}
	c, _ := t.Column(name)
	if err := t.h.checkAlloc("reading table column", t.nrows, 24); err != nil {
		return nil, err
	}
	per := c.Repeat
	out := make([][]float64, t.nrows)
	for i := range out {
		lo := int64(i) * per
		out[i] = flat[lo : lo+per : lo+per]
	}
	return out, nil
}

// Strings reads a character (A) column: one string per row, cut at the
// first NUL and with trailing blanks removed. TDIMn is not applied: a
// column of r characters gives one string of up to r characters per row.
func (t *Table) Strings(name string) ([]string, error) {
	const op = "reading table column"
	c, err := t.column(name, op)
	if err != nil {
		return nil, err
	}
	h := t.h
	if c.Type != 'A' {
		return nil, h.errorf(op, h.offset, fmt.Errorf("%w: column %q is not a character column (TFORM %s)", ErrWrongType, c.Name, c.Format))
	}
	// A string header costs 16 bytes per row plus the characters.
	if err := h.checkAlloc(op, t.nrows, 16+c.Width); err != nil {
		return nil, err
	}
	if err := t.load(); err != nil {
		return nil, err
	}
	out := make([]string, t.nrows)
	for row := range out {
		base := int64(row)*t.rowBytes + c.Offset
		field := t.data[base : base+c.Width]
		if i := bytes.IndexByte(field, 0); i >= 0 {
			field = field[:i]
		}
		out[row] = strings.TrimRight(string(field), " ")
	}
	return out, nil
}
