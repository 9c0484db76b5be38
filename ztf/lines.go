package ztf

import (
	"fmt"
	"math"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/textscan"
)

// maxLine is the longest line the processors accept.
const maxLine = 1 << 20

// ctxEvery is how often (in lines) the processors look at their context.
const ctxEvery = 4096

// readErr reports what stopped lr: nil at the end of the input, else a
// *dataproduct.ParseError on the line that could not be read.
func readErr(lr *textscan.LineReader) error {
	err := lr.Err()
	if err == nil {
		return nil
	}
	if _, tooLong := err.(*dataproduct.ParseError); tooLong {
		return err
	}
	return &dataproduct.ParseError{Line: lr.Line() + 1, Err: err}
}

// parseNum parses a finite number; the error names the text (copied).
func parseNum(b []byte) (float64, error) {
	v, ok := textscan.ParseFinite(b)
	if !ok {
		return 0, fmt.Errorf("%q is not a finite number", string(b))
	}
	return v, nil
}

// parseInt parses an integer written as digits (or as a float with no
// fraction, "4.0"); the error names the text (copied).
func parseInt(b []byte) (int64, error) {
	if v, ok := textscan.ParseInt(b); ok {
		return v, nil
	}
	v, ok := textscan.ParseFinite(b)
	if !ok || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, fmt.Errorf("%q is not an integer", string(b))
	}
	return int64(v), nil
}
