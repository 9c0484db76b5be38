package processor

import (
	"fmt"
	"io"

	"github.com/tomgo/targetdata/dataproduct"
)

// Limits of a photometry table's row (PhotometryTable). encoding/csv holds
// a whole row, one string per field, before it returns it: without a cap
// one 31 MB row of 15.5 million fields took 1.35 GB.
const (
	// maxTableRowBytes is the longest row of a photometry table, in bytes
	// (a row is one line unless a quoted field holds a line break).
	maxTableRowBytes = 1 << 20
	// maxTableFields is the most fields a photometry table's row (its
	// header included) may have.
	maxTableFields = 1000
)

// rowLimiter passes a CSV file through, counting each row's bytes and
// fields as encoding/csv splits them (commas and line breaks inside
// quotes do not count, nor do comment lines starting with '#'), and stops
// it with a *dataproduct.ParseError naming the row's first line as soon
// as a row is longer than maxTableRowBytes or has more than
// maxTableFields fields. The bytes before the offending one are passed on.
type rowLimiter struct {
	r   io.Reader
	err error
	// line is the 1-based line being read; row is the line the current
	// row started on.
	line, row       int
	bytes, fields   int
	start           bool // the next byte starts a row
	quoted, comment bool
}

func newRowLimiter(r io.Reader) *rowLimiter {
	return &rowLimiter{r: r, line: 1, start: true}
}

// Read implements io.Reader.
func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if l.start {
			l.start = false
			l.row, l.bytes, l.fields = l.line, 0, 1
			l.comment = c == '#'
		}
		l.bytes++
		switch {
		case c == '\n':
			l.line++
			l.start = !l.quoted
		case l.comment:
		case c == '"':
			l.quoted = !l.quoted // a doubled quote inside quotes toggles twice
		case c == ',' && !l.quoted:
			l.fields++
		}
		switch {
		case l.bytes > maxTableRowBytes:
			l.err = &dataproduct.ParseError{Line: l.row, Err: fmt.Errorf("row longer than %d bytes", maxTableRowBytes)}
		case l.fields > maxTableFields:
			l.err = &dataproduct.ParseError{Line: l.row, Err: fmt.Errorf("row has more than %d fields", maxTableFields)}
		default:
			continue
		}
		return i, l.err
	}
	return n, err
}
