package ztf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/tomgo/targetdata/dataproduct"
)

// maxLine is the longest line the processors accept.
const maxLine = 1 << 20

// ctxEvery is how often (in lines) the processors look at their context.
const ctxEvery = 4096

// lineReader reads a file line by line without copying, counting every
// line (1-based) for error messages.
type lineReader struct {
	sc   *bufio.Scanner
	line int
}

func newLineReader(r io.Reader) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256<<10), maxLine)
	return &lineReader{sc: sc}
}

// next returns the next line without its end-of-line bytes. The slice is
// valid until the following call.
func (l *lineReader) next() ([]byte, bool) {
	if !l.sc.Scan() {
		return nil, false
	}
	l.line++
	b := l.sc.Bytes()
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b, true
}

// err reports a read error as a *dataproduct.ParseError on the line that
// could not be read.
func (l *lineReader) err() error {
	err := l.sc.Err()
	if err == nil {
		return nil
	}
	if errors.Is(err, bufio.ErrTooLong) {
		return &dataproduct.ParseError{Line: l.line + 1, Err: fmt.Errorf("line longer than %d bytes", maxLine)}
	}
	return &dataproduct.ParseError{Line: l.line + 1, Err: err}
}

// bstr views b as a string without copying. The string must not outlive
// the bytes (the processors use it only to parse numbers and compare).
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseNum parses a finite number; the error names the text (copied).
func parseNum(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", string(b))
	}
	return v, nil
}

// parseInt parses an integer written as digits (or as a float with no
// fraction, "4.0"); the error names the text (copied).
func parseInt(b []byte) (int64, error) {
	if v, err := strconv.ParseInt(bstr(b), 10, 64); err == nil {
		return v, nil
	}
	v, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, fmt.Errorf("%q is not an integer", string(b))
	}
	return int64(v), nil
}

// isSpace reports ASCII white space (and other control bytes, which never
// occur inside a value).
func isSpace(c byte) bool { return c <= ' ' }

// fields splits lines into white-space separated fields. Lines whose
// fields are separated by single spaces (all ZTF files) take a fast path
// that only records where the separators are, and only up to the fields
// the caller needs (the rest are counted); other lines are cut into a
// slice. Not safe for concurrent use.
type fields struct {
	line []byte
	seps [128]int32 // fast path: positions of the first separators
	last int        // fast path: position of the last separator, or −1
	need int        // fast path: fields 0..need can be cut
	n    int
	slow [][]byte // slow path: the fields; nil on the fast path
	buf  [][]byte
}

// split splits line and returns the number of fields. Afterwards field(i)
// may be called for i ≤ need (at most 112) and for the last field.
func (f *fields) split(line []byte, need int) int {
	line = trimSpace(line)
	// Separators are recorded while k ≤ need (and to the end of that
	// word), so need stays well inside seps.
	f.line, f.slow, f.last, f.need = line, nil, -1, min(need, len(f.seps)-16)
	if len(line) == 0 {
		f.n = 0
		return 0
	}
	if bytes.IndexByte(line, '\t') < 0 {
		// Find the spaces eight bytes at a time: in x = word XOR
		// "        " a byte is zero exactly where the line has a space,
		// and m gets the high bit of each such byte. Two adjacent bits
		// (also across words) mean a run of spaces: not this layout.
		k, i, single := 0, 0, true
		var prev uint64
		for ; i+8 <= len(line); i += 8 {
			x := binary.LittleEndian.Uint64(line[i:]) ^ 0x2020202020202020
			m := ^(((x & 0x7f7f7f7f7f7f7f7f) + 0x7f7f7f7f7f7f7f7f) | x | 0x7f7f7f7f7f7f7f7f)
			if m&(m>>8) != 0 || prev>>63&(m>>7)&1 != 0 {
				single = false
				break
			}
			prev = m
			if k > f.need {
				k += bits.OnesCount64(m)
				continue
			}
			for m != 0 {
				f.seps[k&127] = int32(i + bits.TrailingZeros64(m)>>3)
				k++
				m &= m - 1
			}
		}
		for ; single && i < len(line); i++ {
			if line[i] == ' ' {
				if line[i-1] == ' ' {
					single = false
					break
				}
				if k <= f.need {
					f.seps[k] = int32(i)
				}
				k++
			}
		}
		if single {
			f.n = k + 1
			f.last = bytes.LastIndexByte(line, ' ')
			return f.n
		}
	}
	f.buf = splitSpaceSlow(f.buf[:0], line)
	f.slow, f.n = f.buf, len(f.buf)
	return f.n
}

// field returns field i (0 ≤ i < n; on the fast path i ≤ need or the last)
// of the last line split.
func (f *fields) field(i int) []byte {
	if f.slow != nil {
		return f.slow[i]
	}
	if i == f.n-1 {
		return f.line[f.last+1:]
	}
	start, end := 0, int(f.seps[i])
	if i > 0 {
		start = int(f.seps[i-1]) + 1
	}
	return f.line[start:end:end]
}

// splitSpace appends the white-space separated fields of line to dst.
func splitSpace(dst [][]byte, line []byte) [][]byte {
	var f fields
	n := f.split(line, math.MaxInt)
	if f.slow == nil && n-2 > f.need {
		return splitSpaceSlow(dst, line)
	}
	for i := range n {
		dst = append(dst, f.field(i))
	}
	return dst
}

func splitSpaceSlow(dst [][]byte, line []byte) [][]byte {
	i, n := 0, len(line)
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			return dst
		}
		j := i
		for j < n && !isSpace(line[j]) {
			j++
		}
		dst = append(dst, line[i:j:j])
		i = j
	}
}

// splitComma appends the comma-separated fields of line to dst (no
// quoting).
func splitComma(dst [][]byte, line []byte) [][]byte {
	for {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:i:i])
		line = line[i+1:]
	}
}

// trimSpace trims ASCII white space.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
