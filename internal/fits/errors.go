package fits

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these (or
// [io.ErrUnexpectedEOF] for truncated input) so that callers can test them
// with [errors.Is].
var (
	// ErrNotFITS means the stream does not start with a FITS primary header
	// (a SIMPLE card), or the primary header says SIMPLE = F.
	ErrNotFITS = errors.New("not a FITS file")
	// ErrNotFound means a keyword or column is not present.
	ErrNotFound = errors.New("not found")
	// ErrWrongType means a keyword's value is not of the requested type.
	ErrWrongType = errors.New("wrong value type")
	// ErrOverflow means an integer does not fit the type asked for, or a
	// size computed from the header overflows.
	ErrOverflow = errors.New("value out of range")
	// ErrInvalid means a card, a value or a structural keyword breaks the
	// FITS standard.
	ErrInvalid = errors.New("invalid")
	// ErrUnsupported means valid FITS content that this package does not
	// read (for example variable-length array columns).
	ErrUnsupported = errors.New("unsupported")
	// ErrLimit means a header or a data allocation would exceed the limits
	// set in [Options].
	ErrLimit = errors.New("limit exceeded")
	// ErrConsumed means the data of an HDU is no longer available: it was
	// already read once, or the Reader has moved past that HDU.
	ErrConsumed = errors.New("data no longer available")
)

// Error describes a failure while reading an HDU from a stream.
type Error struct {
	// HDU is the index of the HDU: 0 for the primary HDU, 1 for the first
	// extension, and so on.
	HDU int
	// Ext is the kind of HDU when known ("primary" or the XTENSION value).
	Ext string
	// Op says what was being read, e.g. "header", "data", "table rows".
	Op string
	// Offset is the byte offset in the stream where the failing read or
	// the failing header started.
	Offset int64
	// Err is the underlying error.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fits: HDU %d", e.HDU)
	if e.Ext != "" {
		fmt.Fprintf(&b, " (%s)", e.Ext)
	}
	if e.Op != "" {
		fmt.Fprintf(&b, ": %s at byte %d", e.Op, e.Offset)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "fits: "))
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// CardError describes a problem with one header card or keyword: a
// malformed card, a missing keyword or a value of the wrong type.
type CardError struct {
	// Card is the 1-based number of the card in its header, or 0 when the
	// keyword is absent.
	Card int
	// Keyword is the keyword concerned (as written for malformed cards).
	Keyword string
	// Err is the underlying error, wrapping one of the sentinel errors.
	Err error
}

// Error implements the error interface.
func (e *CardError) Error() string {
	if e.Card > 0 {
		return fmt.Sprintf("fits: card %d (%s): %v", e.Card, quoteKeyword(e.Keyword), e.Err)
	}
	return fmt.Sprintf("fits: keyword %s: %v", quoteKeyword(e.Keyword), e.Err)
}

// Unwrap returns the underlying error.
func (e *CardError) Unwrap() error { return e.Err }

// quoteKeyword prints ordinary keywords as they are and quotes anything
// unusual (blank, embedded spaces, odd characters) so it stays readable.
func quoteKeyword(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("%q", k)
		}
	}
	return k
}

// contextError prefixes an error with context, dropping the inner "fits: ".
type contextError struct {
	context string
	err     error
}

func (e *contextError) Error() string {
	return e.context + ": " + strings.TrimPrefix(e.err.Error(), "fits: ")
}

func (e *contextError) Unwrap() error { return e.err }
