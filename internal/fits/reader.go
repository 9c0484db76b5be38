package fits

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Default limits used when Options (or one of its fields) is left zero.
const (
	// DefaultMaxDataBytes is the default cap on one data allocation: 256 MiB.
	DefaultMaxDataBytes int64 = 256 << 20
	// DefaultMaxHeaderCards is the default cap on the cards of one header
	// (about 7.7 MB of header text).
	DefaultMaxHeaderCards = 100_000
)

// Options set the limits of a Reader. A nil *Options, or a zero or negative
// field, means the default.
type Options struct {
	// MaxDataBytes caps the size in bytes of any one allocation made to
	// hold data: the values returned by ReadFloat64/ReadFloat32 (8 or 4
	// bytes per pixel), the rows of a binary table (NAXIS1 × NAXIS2), the
	// values of one column. Larger requests fail with ErrLimit before
	// anything is allocated. Skipping data costs no memory and is not
	// capped. Default DefaultMaxDataBytes.
	MaxDataBytes int64
	// MaxHeaderCards caps the number of 80-byte cards (END and CONTINUE
	// cards included) read for one header before END; more fail with
	// ErrLimit. Default DefaultMaxHeaderCards.
	MaxHeaderCards int
}

// HDUType is the kind of an HDU.
type HDUType int

// The kinds of HDU.
const (
	// PrimaryHDU is the first HDU of a file (SIMPLE = T).
	PrimaryHDU HDUType = iota
	// ImageHDU is an XTENSION = 'IMAGE' extension.
	ImageHDU
	// BinTableHDU is an XTENSION = 'BINTABLE' extension.
	BinTableHDU
	// ASCIITableHDU is an XTENSION = 'TABLE' extension (skipped only).
	ASCIITableHDU
	// OtherHDU is any other extension type (skipped only).
	OtherHDU
)

// String returns "primary", "IMAGE", "BINTABLE", "TABLE" or "other".
func (t HDUType) String() string {
	switch t {
	case PrimaryHDU:
		return "primary"
	case ImageHDU:
		return "IMAGE"
	case BinTableHDU:
		return "BINTABLE"
	case ASCIITableHDU:
		return "TABLE"
	case OtherHDU:
		return "other"
	}
	return "HDUType(" + strconv.Itoa(int(t)) + ")"
}

// Reader reads the HDUs of a FITS stream in order. It does not seek, and it
// is not safe for concurrent use.
type Reader struct {
	r        io.Reader
	maxData  int64
	maxCards int
	off      int64 // bytes consumed from r
	cur      *HDU
	next     int   // index of the next HDU
	err      error // sticky: once set, Next returns it
	eof      bool
	block    []byte
	scratch  []byte // chunk buffer for decoding data
}

// NewReader returns a Reader of the FITS stream r with the limits in opts
// (nil for the defaults). The Reader does its own chunked reads; wrapping r
// in a bufio.Reader is not needed.
func NewReader(r io.Reader, opts *Options) *Reader {
	rd := &Reader{r: r, maxData: DefaultMaxDataBytes, maxCards: DefaultMaxHeaderCards}
	if opts != nil {
		if opts.MaxDataBytes > 0 {
			rd.maxData = opts.MaxDataBytes
		}
		if opts.MaxHeaderCards > 0 {
			rd.maxCards = opts.MaxHeaderCards
		}
	}
	return rd
}

// HDU is one header-data unit. Its data can be read only while it is the
// Reader's current HDU, i.e. until the next call of Reader.Next.
type HDU struct {
	r       *Reader
	index   int
	typ     HDUType
	ext     string
	hdr     *Header
	bitpix  int
	axes    []int
	pcount  int64
	gcount  int64
	groups  bool
	size    int64 // data bytes, padding excluded
	offset  int64 // stream offset of the data
	left    int64 // data bytes not yet consumed
	started bool  // some data has been consumed
	table   *Table
}

// Index returns the position of the HDU in the file: 0 for the primary HDU.
func (h *HDU) Index() int { return h.index }

// Type returns the kind of HDU.
func (h *HDU) Type() HDUType { return h.typ }

// Extension returns the XTENSION value with trailing blanks removed (e.g.
// "IMAGE", "BINTABLE"), or "" for the primary HDU.
func (h *HDU) Extension() string { return h.ext }

// Header returns the HDU's header.
func (h *HDU) Header() *Header { return h.hdr }

// Bitpix returns BITPIX: 8, 16, 32, 64, -32 or -64.
func (h *HDU) Bitpix() int { return h.bitpix }

// Shape returns NAXIS1 … NAXISn in FITS order: axis 1, which varies
// fastest in the data, comes first. (NumPy shows the same shape reversed:
// a FITS NAXIS1 = N, NAXIS2 = 2 array is NumPy's (2, N).) Nil when NAXIS =
// 0. The slice is a copy.
func (h *HDU) Shape() []int { return append([]int(nil), h.axes...) }

// PCount returns PCOUNT (0 for a primary HDU without random groups).
func (h *HDU) PCount() int64 { return h.pcount }

// GCount returns GCOUNT (1 for a primary HDU without random groups).
func (h *HDU) GCount() int64 { return h.gcount }

// RandomGroups reports a primary HDU in the random-groups format
// (GROUPS = T, NAXIS1 = 0), whose data this package skips but does not read.
func (h *HDU) RandomGroups() bool { return h.groups }

// DataSize returns the size in bytes of the data, padding excluded.
func (h *HDU) DataSize() int64 { return h.size }

// DataOffset returns the offset of the data in the stream.
func (h *HDU) DataOffset() int64 { return h.offset }

func (h *HDU) kind() string {
	if h.typ == PrimaryHDU {
		return "primary"
	}
	return h.ext
}

// errorf wraps err as an *Error of this HDU.
func (h *HDU) errorf(op string, off int64, err error) error {
	return &Error{HDU: h.index, Ext: h.kind(), Op: op, Offset: off, Err: err}
}

// Next reads the header of the next HDU, after skipping whatever data of the
// current HDU was not read. It returns io.EOF after the last HDU. Bytes after
// the last HDU that do not start an extension header (FITS "special
// records", zero padding) are ignored, as is a missing padding of the last
// data block. Errors are *Error values; an error other than io.EOF is final.
func (r *Reader) Next() (*HDU, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.eof {
		return nil, io.EOF
	}
	if err := r.finishCurrent(); err != nil {
		return nil, r.fail(err)
	}
	if r.eof {
		return nil, io.EOF
	}
	h, err := r.readHeader()
	if err != nil {
		if err == io.EOF {
			r.eof = true
			return nil, io.EOF
		}
		return nil, r.fail(err)
	}
	r.cur = h
	r.next++
	return h, nil
}

func (r *Reader) fail(err error) error {
	r.err = err
	if r.cur != nil {
		r.cur.left = 0
		r.cur = nil
	}
	return err
}

// finishCurrent skips the rest of the current HDU's data and its padding.
func (r *Reader) finishCurrent() error {
	h := r.cur
	if h == nil {
		return nil
	}
	r.cur = nil
	if h.left > 0 {
		off := r.off
		n, err := io.CopyN(io.Discard, r.r, h.left)
		r.off += n
		h.left -= n
		if err != nil {
			return h.errorf("skipping data", off, fmt.Errorf("stream ends after %d of the %d data bytes: %w", h.size-h.left, h.size, truncated(err)))
		}
	}
	h.left = 0
	if pad := padding(h.size); pad > 0 {
		n, err := io.CopyN(io.Discard, r.r, pad)
		r.off += n
		if err != nil {
			if err == io.EOF {
				// The last data block is not padded: tolerated.
				r.eof = true
				return nil
			}
			return h.errorf("skipping padding", r.off, err)
		}
	}
	return nil
}

func padding(n int64) int64 {
	if rem := n % blockSize; rem != 0 {
		return blockSize - rem
	}
	return 0
}

// truncated turns an early EOF into io.ErrUnexpectedEOF.
func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readHeader reads and interprets the next header. It returns io.EOF when
// the stream ends cleanly (or with trailing bytes that are not an
// extension header) before an extension.
func (r *Reader) readHeader() (*HDU, error) {
	index := r.next
	start := r.off
	h := &HDU{r: r, index: index}
	if index == 0 {
		h.typ = PrimaryHDU
	} else {
		h.typ, h.ext = OtherHDU, "extension"
	}
	if r.block == nil {
		r.block = make([]byte, blockSize)
	}
	n, err := io.ReadFull(r.r, r.block)
	r.off += int64(n)
	if index == 0 {
		if n < 9 || string(r.block[:9]) != "SIMPLE  =" {
			if n < 9 && err != nil && strings.HasPrefix("SIMPLE  =", string(r.block[:n])) {
				if n == 0 {
					return nil, h.errorf("header", start, fmt.Errorf("%w: empty input: %w", ErrNotFITS, io.ErrUnexpectedEOF))
				}
				return nil, h.errorf("header", start, fmt.Errorf("%w: stream ends in the first card: %w", ErrNotFITS, io.ErrUnexpectedEOF))
			}
			return nil, h.errorf("header", start, fmt.Errorf("%w: the first card is not SIMPLE =", ErrNotFITS))
		}
	} else {
		if n == 0 {
			return nil, io.EOF
		}
		m := min(n, 8)
		if string(r.block[:m]) != "XTENSION"[:m] {
			return nil, io.EOF // trailing special records or padding
		}
	}
	if err != nil {
		return nil, h.errorf("header", start, fmt.Errorf("first header block has %d of %d bytes: %w", n, blockSize, io.ErrUnexpectedEOF))
	}

	b := newHeaderBuilder()
	for {
		for i := 0; i < cardsPerBlock; i++ {
			if b.n >= r.maxCards {
				return nil, h.errorf("header", start, fmt.Errorf("%w: more than %d cards before END (Options.MaxHeaderCards)", ErrLimit, r.maxCards))
			}
			end, err := b.add(r.block[i*cardSize : (i+1)*cardSize])
			if err != nil {
				return nil, h.errorf("header", start, err)
			}
			if end {
				h.hdr = &b.h
				h.offset = r.off
				if err := h.interpret(); err != nil {
					return nil, h.errorf("header", start, err)
				}
				h.left = h.size
				return h, nil
			}
		}
		n, err := io.ReadFull(r.r, r.block)
		r.off += int64(n)
		if err != nil {
			return nil, h.errorf("header", start, fmt.Errorf("no END card after %d cards; stream ends (%d bytes of the next block): %w", b.n, n, truncated(err)))
		}
	}
}

// structural reads a mandatory integer keyword and checks its range.
func structural(hdr *Header, key string, lo, hi int64) (int64, error) {
	v, err := hdr.Int(key)
	if err != nil {
		return 0, err
	}
	if v < lo || v > hi {
		c, _ := hdr.Get(key)
		why := fmt.Errorf("%w: %d is outside %d..%d", ErrInvalid, v, lo, hi)
		if hi == math.MaxInt64 {
			why = fmt.Errorf("%w: %d is less than %d", ErrInvalid, v, lo)
		}
		return 0, &CardError{Card: c.Index, Keyword: c.Keyword, Err: why}
	}
	return v, nil
}

// optional reads an optional integer keyword with a default.
func optional(hdr *Header, key string, def, lo, hi int64) (int64, error) {
	if !hdr.Has(key) {
		return def, nil
	}
	return structural(hdr, key, lo, hi)
}

// interpret checks the mandatory keywords and computes the data size.
func (h *HDU) interpret() error {
	hdr := h.hdr
	first := hdr.cards[0] // present: the first card was checked before parsing
	if h.index == 0 {
		if first.Keyword != "SIMPLE" {
			return &CardError{Card: 1, Keyword: first.Keyword, Err: fmt.Errorf("%w: the first card is not SIMPLE", ErrNotFITS)}
		}
		simple, err := hdr.Bool("SIMPLE")
		if err != nil {
			return err
		}
		if !simple {
			return &CardError{Card: 1, Keyword: "SIMPLE", Err: fmt.Errorf("%w: SIMPLE = F (the file does not conform to the standard)", ErrNotFITS)}
		}
	} else {
		if first.Keyword != "XTENSION" {
			return &CardError{Card: 1, Keyword: first.Keyword, Err: fmt.Errorf("%w: the first card of an extension is not XTENSION", ErrInvalid)}
		}
		ext, err := hdr.String("XTENSION")
		if err != nil {
			return err
		}
		h.ext = strings.TrimSpace(ext)
		switch h.ext {
		case "IMAGE":
			h.typ = ImageHDU
		case "BINTABLE":
			h.typ = BinTableHDU
		case "TABLE":
			h.typ = ASCIITableHDU
		default:
			h.typ = OtherHDU
		}
		if h.ext == "" {
			h.ext = "extension"
		}
	}

	bitpix, err := structural(hdr, "BITPIX", -64, 64)
	if err != nil {
		return err
	}
	switch bitpix {
	case 8, 16, 32, 64, -32, -64:
	default:
		c, _ := hdr.Get("BITPIX")
		return &CardError{Card: c.Index, Keyword: "BITPIX", Err: fmt.Errorf("%w: BITPIX %d (allowed: 8, 16, 32, 64, -32, -64)", ErrInvalid, bitpix)}
	}
	h.bitpix = int(bitpix)
	naxis, err := structural(hdr, "NAXIS", 0, 999)
	if err != nil {
		return err
	}
	if naxis > 0 {
		h.axes = make([]int, naxis)
	}
	for i := range h.axes {
		v, err := structural(hdr, "NAXIS"+strconv.Itoa(i+1), 0, math.MaxInt64)
		if err != nil {
			return err
		}
		if v > math.MaxInt {
			return &CardError{Keyword: "NAXIS" + strconv.Itoa(i+1), Err: fmt.Errorf("%w: %d does not fit an int", ErrOverflow, v)}
		}
		h.axes[i] = int(v)
	}

	h.pcount, h.gcount = 0, 1
	if h.typ == PrimaryHDU {
		if groups, err := hdr.Bool("GROUPS"); err == nil && groups && naxis > 0 && h.axes[0] == 0 {
			h.groups = true
		}
	}
	if h.typ != PrimaryHDU || h.groups {
		// PCOUNT and GCOUNT are mandatory in extensions; they are read with
		// the standard's values as defaults to be forgiving.
		if h.pcount, err = optional(hdr, "PCOUNT", 0, 0, math.MaxInt64); err != nil {
			return err
		}
		if h.gcount, err = optional(hdr, "GCOUNT", 1, 0, math.MaxInt64); err != nil {
			return err
		}
	}

	// size = |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn), with
	// NAXIS1 left out for random groups and no data when NAXIS = 0.
	var prod int64
	if naxis > 0 {
		prod = 1
		for i, a := range h.axes {
			if i == 0 && h.groups {
				continue
			}
			if prod, err = mul(prod, int64(a)); err != nil {
				return err
			}
		}
	}
	total, err := add(h.pcount, prod)
	if err != nil {
		return err
	}
	if total, err = mul(total, h.gcount); err != nil {
		return err
	}
	if total, err = mul(total, int64(abs(h.bitpix)/8)); err != nil {
		return err
	}
	if total > math.MaxInt64-blockSize {
		return errSizeOverflow
	}
	h.size = total
	return nil
}

var errSizeOverflow = fmt.Errorf("%w: the data size declared by the header overflows 64 bits", ErrOverflow)

func mul(a, b int64) (int64, error) {
	if a < 0 || b < 0 {
		return 0, errSizeOverflow
	}
	if a != 0 && b > math.MaxInt64/a {
		return 0, errSizeOverflow
	}
	return a * b, nil
}

func add(a, b int64) (int64, error) {
	if a < 0 || b < 0 || a > math.MaxInt64-b {
		return 0, errSizeOverflow
	}
	return a + b, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// usable checks that the HDU is the Reader's current one and that no data
// has been consumed yet.
func (h *HDU) usable(op string) error {
	if h.r.cur != h {
		return h.errorf(op, h.offset, fmt.Errorf("%w: the reader has moved past this HDU", ErrConsumed))
	}
	if h.started {
		return h.errorf(op, h.offset, fmt.Errorf("%w: the data of this HDU was already read", ErrConsumed))
	}
	return nil
}

// read fills p from the HDU's data.
func (h *HDU) read(p []byte, op string) error {
	r := h.r
	if int64(len(p)) > h.left {
		return h.errorf(op, r.off, errors.New("internal error: read past the data"))
	}
	h.started = true
	off := r.off
	n, err := io.ReadFull(r.r, p)
	r.off += int64(n)
	h.left -= int64(n)
	if err != nil {
		err = h.errorf(op, off, fmt.Errorf("stream ends after %d of the %d data bytes: %w", h.size-h.left, h.size, truncated(err)))
		r.fail(err)
		return err
	}
	return nil
}

// checkAlloc fails with ErrLimit when n items of size bytes each exceed the
// data cap.
func (h *HDU) checkAlloc(op string, n, size int64) error {
	if n < 0 || size <= 0 || n > h.r.maxData/size || n > math.MaxInt/size {
		return h.errorf(op, h.offset, fmt.Errorf("%w: %d values of %d bytes exceed Options.MaxDataBytes (%d)", ErrLimit, n, size, h.r.maxData))
	}
	return nil
}

// chunkSize is the size of the buffer used to stream data.
const chunkSize = 64 << 10

// chunk returns the Reader's scratch buffer for streaming n more data
// bytes: up to chunkSize bytes, never larger than needed.
func (r *Reader) chunk(n int64) []byte {
	size := int(min(n, chunkSize))
	if cap(r.scratch) < size {
		r.scratch = make([]byte, size)
	}
	return r.scratch[:cap(r.scratch)]
}

// eagerElems is the number of values allocated up front; larger arrays grow
// as their data arrives, so a header claiming more data than the stream has
// does not make the reader allocate it all.
var eagerElems int64 = 1 << 21 // a variable for tests; 16 MiB of float64

// grow returns s with room for at least k more elements, growing the
// capacity geometrically but never past limit.
func grow[T any](s []T, k, limit int) []T {
	if len(s)+k <= cap(s) {
		return s
	}
	c := max(2*cap(s), len(s)+k)
	if c > limit {
		c = limit
	}
	ns := make([]T, len(s), c)
	copy(ns, s)
	return ns
}
