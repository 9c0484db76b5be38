package atlas

import (
	"time"

	"github.com/tomgo/targetdata/internal/mjdwindow"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultRefreshOverlap is how far before the newest stored epoch a
// refresh asks ATLAS again, by default: the server reduces a night's
// images over the following days and re-runs reductions (new reference
// images), so the last nights' rows may change or appear late.
const DefaultRefreshOverlap = 3 * 24 * time.Hour

var _ singletarget.Refresher = (*Service)(nil)

// RefreshWindow implements singletarget.Refresher: the window starts at
// from (min_date_mjd, the server's mjd_min; min_date is cleared), and its
// end stays as the form has it (open: up to now).
func (s *Service) RefreshWindow(f singletarget.QueryForm, from time.Time) singletarget.Window {
	form, ok := f.(*Form)
	if !ok {
		return singletarget.Window{All: true}
	}
	if !from.IsZero() {
		// Rounded down to the 1e-6 day Form.Window keeps: the window
		// still holds from.
		form.MinDate, form.MinDateMJD = nil, mjdwindow.Start(from, 1e6)
	}
	lo, hi := form.Window()
	return mjdwindow.Window(&lo, hi)
}

// RefreshOverlap implements singletarget.Refresher: DefaultRefreshOverlap.
func (s *Service) RefreshOverlap() time.Duration { return DefaultRefreshOverlap }

var _ singletarget.Paced = (*Service)(nil)

// Pace implements singletarget.Paced: the account's writes (Options.
// WriteRate per WriteWindow, 60 a minute by default) over the writes of a
// query: its POST and, unless Options.KeepRemote, its DELETE. Unpaced
// when WriteRate is -1.
func (s *Service) Pace() singletarget.Pace {
	if s.opts.WriteRate <= 0 {
		return singletarget.Pace{}
	}
	writes := 2
	if s.opts.KeepRemote {
		writes = 1
	}
	return singletarget.Pace{Queries: max(s.opts.WriteRate/writes, 1), Per: s.opts.WriteWindow}
}
