package ztf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
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

// isSpace reports ASCII white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

// splitSpace appends the white-space separated fields of line to dst.
func splitSpace(dst [][]byte, line []byte) [][]byte {
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
