// Package mjdwindow holds what the built-in services' Refreshers share: a
// query window kept in the form as two MJDs, each nil for an open end.
package mjdwindow

import (
	"math"
	"time"

	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// Start returns from as an MJD rounded down to 1/perDay day (the
// resolution the archive's parameter keeps: 1e6 for 1e-6 day), so that a
// window starting there still holds from.
func Start(from time.Time, perDay float64) *float64 {
	mjd := math.Floor(processor.TimeToMJD(from)*perDay) / perDay
	return &mjd
}

// Window returns the window from MJD lo to MJD hi, in UTC; a nil bound is
// open.
func Window(lo, hi *float64) singletarget.Window {
	var w singletarget.Window
	if lo != nil {
		w.From = processor.MJDToTime(*lo).UTC()
	}
	if hi != nil {
		w.To = processor.MJDToTime(*hi).UTC()
	}
	return w
}
