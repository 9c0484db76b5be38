package textscan

import (
	"bufio"
	"fmt"
	"io"

	"github.com/tomgo/targetdata/dataproduct"
)

// LineReader reads text line by line, counting every line (1-based) for
// error messages. Lines are returned without copying when they fit in the
// buffer; a longer line is put together in a second buffer, up to the
// reader's limit.
//
// A line ends at "\n"; the "\n" and one "\r" before it are not part of the
// line. A last line without "\n" is a line unless it is empty. A line
// that cannot be completed because reading failed (an error other than
// io.EOF) is not returned: Err reports the error.
type LineReader struct {
	br      *bufio.Reader
	max     int    // the longest line accepted is max−1 bytes; 0: no limit
	line    int    // lines returned
	long    []byte // a line longer than br's buffer, put together
	err     error  // what ended reading: io.EOF, a read error, or a *ParseError
	newline bool   // the last line returned ended with "\n" (or none was)
}

// NewLineReader returns a LineReader reading r through a buffer of
// bufSize bytes (r itself when it already is a *bufio.Reader with a
// buffer at least that large). A line of maxLine bytes or more (not
// counting its "\n") stops reading with a *dataproduct.ParseError; with
// maxLine ≤ 0 lines may be of any length.
func NewLineReader(r io.Reader, bufSize, maxLine int) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, bufSize), max: max(maxLine, 0), newline: true}
}

// Next returns the next line and true, or nil and false at the end of the
// input or after an error (see Err). The line is valid until the next
// call.
func (l *LineReader) Next() ([]byte, bool) {
	if l.err != nil {
		return nil, false
	}
	l.long = l.long[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			l.long = append(l.long, chunk...)
			if l.max > 0 && len(l.long) >= l.max {
				return nil, l.tooLong()
			}
			continue
		}
		b := chunk
		if len(l.long) > 0 {
			l.long = append(l.long, chunk...)
			b = l.long
		}
		switch err {
		case nil:
			b = b[:len(b)-1]
			l.newline = true
		case io.EOF:
			l.err = io.EOF
			if len(b) == 0 {
				return nil, false
			}
			l.newline = false
		default:
			l.err = err
			return nil, false
		}
		if l.max > 0 && len(b) >= l.max {
			return nil, l.tooLong()
		}
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		l.line++
		return b, true
	}
}

func (l *LineReader) tooLong() bool {
	l.err = &dataproduct.ParseError{Line: l.line + 1, Err: fmt.Errorf("line longer than %d bytes", l.max)}
	return false
}

// Line returns the number of lines returned so far: after Next, the
// number of its line.
func (l *LineReader) Line() int { return l.line }

// EndLine returns the number of the line the input ended on, once Next
// has returned false: Line()+1 when the input is empty or its last line
// ends with "\n" (the end then lies on a new, empty line), else Line().
func (l *LineReader) EndLine() int {
	if l.newline {
		return l.line + 1
	}
	return l.line
}

// Err returns nil at the end of the input, and otherwise what stopped
// reading: for a line of the reader's maximum length or more, a
// *dataproduct.ParseError on that line (Line()+1) saying "line longer than
// N bytes"; for a read error, that error as the reader returned it.
func (l *LineReader) Err() error {
	if l.err == io.EOF {
		return nil
	}
	return l.err
}
