package ztf

import (
	"time"

	"github.com/tomgo/targetdata/internal/mjdwindow"
	"github.com/tomgo/targetdata/singletarget"
)

// Default overlaps of a refresh: how far before the newest stored epoch a
// refresh asks again.
const (
	// DefaultRefreshOverlap is the light-curve service's: IRSA serves
	// frozen data releases, and a release's cut may fall inside a night.
	DefaultRefreshOverlap = 24 * time.Hour
	// ForcedPhotometryDefaultRefreshOverlap is the forced-photometry
	// service's: ZFPS works on the difference images as they are made,
	// and the last nights' images arrive and are reprocessed late.
	ForcedPhotometryDefaultRefreshOverlap = 3 * 24 * time.Hour
)

var (
	_ singletarget.Refresher = (*Service)(nil)
	_ singletarget.Refresher = (*ForcedPhotometryService)(nil)
)

// RefreshWindow implements singletarget.Refresher: the light curve's MJD
// window (IRSA's TIME) starts at from; its end stays.
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

// RefreshWindow implements singletarget.Refresher: the window's start
// (min_date_mjd, ZFPS's jdstart) is from, to 1e-5 day, rounded down; the
// end stays (open: the end of the current UTC day).
func (s *ForcedPhotometryService) RefreshWindow(f singletarget.QueryForm, from time.Time) singletarget.Window {
	form, ok := f.(*ForcedPhotometryForm)
	if !ok {
		return singletarget.Window{All: true}
	}
	if !from.IsZero() {
		form.MinDateMJD = mjdwindow.Start(from, 1e5)
	}
	return mjdwindow.Window(form.MinDateMJD, form.MaxDateMJD)
}

// RefreshOverlap implements singletarget.Refresher:
// ForcedPhotometryDefaultRefreshOverlap.
func (s *ForcedPhotometryService) RefreshOverlap() time.Duration {
	return ForcedPhotometryDefaultRefreshOverlap
}
