package textscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unsafe"
)

// Text is a string or a byte slice: what the comma splitter and the number
// parsers accept.
type Text interface{ ~string | ~[]byte }

// view returns s as a string without copying: the string shares s's
// bytes, so it must not outlive them or be kept (the string header is the
// first two words of the slice header).
func view[S Text](s S) string { return *(*string)(unsafe.Pointer(&s)) }

// String returns b as a string without copying. The string shares b's
// bytes: it must not be kept beyond the next change to b (for a line of a
// LineReader, the next call to Next); clone it (strings.Clone) to keep it.
func String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// spaceTab marks the ASCII white-space bytes.
var spaceTab = [256]bool{' ': true, '\t': true, '\n': true, '\v': true, '\f': true, '\r': true}

// spaceBit is spaceTab as 0/1 bytes, for branch-free counting.
var spaceBit = func() (t [256]uint8) {
	for i, sp := range spaceTab {
		if sp {
			t[i] = 1
		}
	}
	return t
}()

// IsSpace reports whether c is ASCII white space.
func IsSpace(c byte) bool { return spaceTab[c] }

// TrimSpace returns b without leading and trailing ASCII white space.
// Unlike bytes.TrimSpace it leaves non-ASCII bytes alone, and it is
// faster.
func TrimSpace(b []byte) []byte {
	for len(b) > 0 && spaceTab[b[len(b)-1]] {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && spaceTab[b[0]] {
		b = b[1:]
	}
	return b
}

// AppendFields appends the white-space separated fields of line to dst,
// as bytes.Fields does for ASCII text, without allocating beyond dst's
// growth.
func AppendFields(dst [][]byte, line []byte) [][]byte {
	dst, _ = cutFields(dst, line, int(^uint(0)>>1))
	return dst
}

// cutFields appends the first need white-space separated fields of line to
// dst and returns them with the number of fields of the whole line: the
// rest are only counted, which is cheaper than cutting them out.
func cutFields(dst [][]byte, line []byte, need int) ([][]byte, int) {
	n, i := len(line), 0
	base := len(dst)
	limit := base + min(need, n) // a line has at most n fields
	for len(dst) < limit {
		for i < n && spaceTab[line[i]] {
			i++
		}
		if i == n {
			return dst, len(dst) - base
		}
		start := i
		for i < n && !spaceTab[line[i]] {
			i++
		}
		dst = append(dst, line[start:i:i])
	}
	return dst, len(dst) - base + countStarts(line[i:])
}

// SWAR constants: a byte repeated in each of a word's eight bytes.
const (
	ones = 0x0101010101010101
	high = 0x80 * ones
	low7 = 0x7f * ones
)

// spaceMask returns the high bit of each byte of w that is ASCII white
// space (' ', or '\t' to '\r'), exactly.
func spaceMask(w uint64) uint64 {
	// In x a byte is zero exactly where w has a space; adding 0x7f to
	// its low seven bits sets the high bit of each non-zero byte.
	x := w ^ ' '*ones
	eq := ^(((x & low7) + low7) | x | low7)
	// A byte of w below 0x80 is in 0x09..0x0d when its low seven bits
	// reach 0x09 and do not reach 0x0e (the sums set the high bits).
	l := w & low7
	ctl := (l + (0x80-0x09)*ones) &^ (l + (0x80-0x0e)*ones) &^ w & high
	return eq | ctl
}

// countStarts counts the fields that start in b after white space (or at
// its start): its non-space bytes that follow a space byte, eight bytes at
// a time.
func countStarts(b []byte) int {
	count := 0
	carry := uint64(0x80) // the byte before b counts as a space
	i := 0
	for ; i+8 <= len(b); i += 8 {
		sp := spaceMask(binary.LittleEndian.Uint64(b[i:]))
		count += bits.OnesCount64(^sp & high & (sp<<8 | carry))
		carry = sp >> 56
	}
	prev := uint8(carry >> 7)
	for _, c := range b[i:] {
		sp := spaceBit[c]
		count += int(prev &^ sp)
		prev = sp
	}
	return count
}

// fastSeps is how many separator positions the single-space fast path
// records; a word of eight bytes adds at most four beyond need, so need
// stays at most fastSeps−8.
const fastSeps = 128

// Fields splits lines into white-space separated fields, cutting out only
// the first fields a caller needs (and the last one on demand) and
// counting the rest. Lines whose fields are separated by single spaces
// (ZTF's files) take a fast path that finds the spaces eight bytes at a
// time and only records where they are; other lines (ATLAS's aligned
// columns, tabs) are cut field by field. After a line that is not of the
// single-space kind the next lines go straight to the general path, with
// a new try of the fast path every 64 lines: files keep one layout.
//
// The zero value is ready to use; reuse one Fields for every line of a
// file. A Fields is not safe for concurrent use.
type Fields struct {
	line []byte
	n    int  // fields of the line
	need int  // fields cut from the front
	fast bool // the fields are in seps, else in cut
	skip int  // lines left before the fast path is tried again
	last int  // fast path: position of the last separator
	seps [fastSeps]int32
	cut  [][]byte
}

// Split splits line (leading and trailing white space ignored) and returns
// its number of fields. Afterwards Field(i) may be called for i < need
// and for the last field, i = n−1.
func (f *Fields) Split(line []byte, need int) int {
	line = TrimSpace(line)
	f.line, f.need = line, max(need, 0)
	if len(line) == 0 {
		f.n, f.fast, f.cut = 0, false, f.cut[:0]
		return 0
	}
	if f.skip > 0 {
		f.skip--
	} else if f.need <= fastSeps-8 {
		if f.splitSingle(line) {
			f.fast = true
			return f.n
		}
		f.skip = 63
	}
	f.fast = false
	f.cut, f.n = cutFields(f.cut[:0], line, f.need)
	return f.n
}

// splitSingle is the fast path: it reports false, having set nothing
// useful, unless every separator of line is a single space.
func (f *Fields) splitSingle(line []byte) bool {
	k, i := 0, 0
	var prev uint64
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		// In x a byte is zero exactly where the line has a space, and m
		// gets the high bit of each such byte.
		x := w ^ ' '*ones
		m := ^(((x & low7) + low7) | x | low7)
		// Not this layout: a byte below 0x20 (a tab or another control
		// byte: (w − 0x20…) &^ w has a high bit set exactly when w has
		// one), or a run of spaces (a space after a space, also across
		// words).
		if ((w-' '*ones)&^w|m&(m<<8|prev>>56))&high != 0 {
			return false
		}
		prev = m
		if k >= f.need {
			k += bits.OnesCount64(m)
			continue
		}
		for m != 0 {
			f.seps[k&(fastSeps-1)] = int32(i + bits.TrailingZeros64(m)>>3)
			k++
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ':
			if line[i-1] == ' ' { // i > 0: the line does not start with a space
				return false
			}
			if k < f.need {
				f.seps[k&(fastSeps-1)] = int32(i)
			}
			k++
		case c < ' ':
			return false
		}
	}
	f.n = k + 1
	f.last = bytes.LastIndexByte(line, ' ')
	return true
}

// Field returns field i of the last line split: i < need, or the last
// field (i = n−1). It panics for other fields.
func (f *Fields) Field(i int) []byte {
	if !f.fast && uint(i) < uint(len(f.cut)) {
		return f.cut[i] // inlined: the general path's fields are cut already
	}
	return f.field(i)
}

// field is Field for the fast path and for the last field.
func (f *Fields) field(i int) []byte {
	if f.fast && i < f.n-1 && i < f.need {
		start, end := 0, int(f.seps[i&(fastSeps-1)])
		if i > 0 {
			start = int(f.seps[(i-1)&(fastSeps-1)]) + 1
		}
		return f.line[start:end:end]
	}
	if i != f.n-1 {
		panic("textscan: Fields.Field of a field not cut")
	}
	if f.fast {
		return f.line[f.last+1:]
	}
	j := len(f.line)
	for j > 0 && !spaceTab[f.line[j-1]] {
		j--
	}
	return f.line[j:]
}

// Len returns the number of fields of the last line split.
func (f *Fields) Len() int { return f.n }

// SplitComma appends the first need comma-separated fields of line to dst
// and returns them with the number of fields of the whole line (one more
// than its commas; the rest are only counted). Quotes have no meaning:
// split a line with quotes as CSV instead.
func SplitComma[S Text](dst []S, line S, need int) ([]S, int) {
	cut := 0
	for cut < need {
		i := strings.IndexByte(view(line), ',')
		if i < 0 {
			return append(dst, line), cut + 1
		}
		dst = append(dst, line[:i])
		cut++
		line = line[i+1:]
	}
	return dst, cut + strings.Count(view(line), ",") + 1
}
