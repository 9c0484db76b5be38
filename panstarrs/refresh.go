package panstarrs

import (
	"time"

	"github.com/tomgo/targetdata/internal/mjdwindow"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultRefreshOverlap is how far before the newest stored detection a
// refresh asks MAST again, by default: none, since PS1 DR2 is a closed
// release (its detections never change; a new release revises everything
// and wants a full refresh). The window's start still includes the newest
// detection itself: obsTime is TAI, 34 to 35 s ahead of the UTC the
// datums keep in PS1's years.
const DefaultRefreshOverlap = time.Duration(0)

var _ singletarget.Refresher = (*Service)(nil)

// RefreshWindow implements singletarget.Refresher. For the detection
// table (the light curve) the window on obsTime starts at from
// (min_date_mjd); its end stays. The mean, stack and forced-mean tables
// hold one row per object, with no epochs to narrow: they are left as
// they are, and the window is singletarget.Window{All: true}.
func (s *Service) RefreshWindow(f singletarget.QueryForm, from time.Time) singletarget.Window {
	form, ok := f.(*Form)
	if !ok || form.Catalog != TableDetection {
		return singletarget.Window{All: true}
	}
	if !from.IsZero() {
		form.MinDateMJD = mjdwindow.Start(from, 1e6)
	}
	return mjdwindow.Window(form.MinDateMJD, form.MaxDateMJD)
}

// RefreshOverlap implements singletarget.Refresher: DefaultRefreshOverlap.
func (s *Service) RefreshOverlap() time.Duration { return DefaultRefreshOverlap }
