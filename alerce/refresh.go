package alerce

import (
	"time"

	"github.com/tomgo/targetdata/internal/mjdwindow"
	"github.com/tomgo/targetdata/singletarget"
)

// DefaultRefreshOverlap is how far before the newest stored epoch a
// refresh asks ALeRCE again, by default: 30 days, the history an alert
// packet carries (ZTF's previous candidates and forced photometry,
// fp_hists; Rubin's forced sources, and the precovery forced photometry
// of the 30 days before a new object's first detection), which reaches
// ALeRCE with a later alert and can date from before the newest epoch
// stored. ALeRCE has no time parameter, so the whole light curve is
// fetched by every query anyway: the overlap only sets how many old rows
// a refresh's product holds again (a product that brings nothing new is
// not kept). refresh_overlap: 3d keeps them fewer, and misses forced
// photometry that arrives later than that.
const DefaultRefreshOverlap = 30 * 24 * time.Hour

var (
	_ singletarget.Refresher    = (*Service)(nil)
	_ singletarget.DatumSourcer = (*Service)(nil)
)

// RefreshWindow implements singletarget.Refresher: the window's start
// (min_date_mjd, applied to the rows before they are stored) is from, to
// 1e-6 day, rounded down; the end stays (open: up to now).
func (s *Service) RefreshWindow(f singletarget.QueryForm, from time.Time) singletarget.Window {
	form, ok := f.(*Form)
	if !ok {
		return singletarget.Window{All: true}
	}
	if !from.IsZero() {
		form.MinDateMJD = mjdwindow.Start(from, 1e6)
	}
	return mjdwindow.Window(form.MinDateMJD, form.MaxDateMJD)
}

// RefreshOverlap implements singletarget.Refresher: DefaultRefreshOverlap.
func (s *Service) RefreshOverlap() time.Duration { return DefaultRefreshOverlap }

// DatumSources implements singletarget.DatumSourcer: AlertSource and
// ForcedPhotometrySource, whatever the service's Name, so that a refresh
// starts from the newest datum of either kind of photometry.
func (s *Service) DatumSources() []string {
	return []string{AlertSource, ForcedPhotometrySource}
}
