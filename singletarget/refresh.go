package singletarget

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// Window is the span of epochs a query asks an archive for. From is
// inclusive; a zero From is the archive's first epoch, a zero To the
// present (the archive's latest). All reports a query with no epochs to
// narrow (a catalog table of mean values): it returns everything, every
// time.
type Window struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	All  bool      `json:"all,omitempty"`
}

// Empty reports a window that cannot hold an epoch (From at or after To),
// which a refresh does not ask for.
func (w Window) Empty() bool { return !w.All && !w.To.IsZero() && !w.From.Before(w.To) }

// String gives the window as MJDs, e.g. "MJD 60310.5 – now",
// "MJD first epoch – 60320" or "everything (no epochs to narrow)".
func (w Window) String() string {
	if w.All {
		return "everything (no epochs to narrow)"
	}
	mjd := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return strconv.FormatFloat(math.Round(processor.TimeToMJD(t)*1e6)/1e6, 'f', -1, 64)
	}
	return "MJD " + mjd(w.From, "first epoch") + " – " + mjd(w.To, "now")
}

// Refresher is implemented by services that can ask their archive for
// the epochs from a given time on, so that a refresh (Request.Refresh,
// Manager.Refresh) asks only for what may be new. Every built-in service
// is one; a service that is not is refreshed with its whole query.
//
// The Manager finds the newest datum stored for the target whose Source is
// the service's Name, or one of its DatumSources for a DatumSourcer
// (datums of other sources, uploads included, do not count), starts
// RefreshOverlap earlier (or what the settings' refresh_overlap says),
// and calls RefreshWindow with that time; with
// nothing stored yet it calls RefreshWindow with the zero time and runs
// the query as the form says. The overlap's datums come back and are
// de-duplicated on ingest, so a refresh with nothing new adds nothing; and
// a product of a refresh that holds no datum of its own (every one was
// stored already) is not kept.
type Refresher interface {
	// RefreshWindow narrows the decoded, validated form f (always a form
	// from this service's NewForm) to the epochs at or after from,
	// replacing the start of its window, given or initial, and keeping
	// the rest of the query (the window's end included); it returns the
	// window f now asks for. A zero from changes nothing and returns f's
	// own window. A query whose answer has no epochs (a table of mean
	// values) is left as it is and returns Window{All: true}. Product
	// names follow the narrowed form as usual (from is the newest stored
	// epoch less the overlap, so a refresh with nothing new asks the same
	// window again and gets the same name).
	RefreshWindow(f QueryForm, from time.Time) Window
	// RefreshOverlap is how far before the newest stored epoch a refresh
	// starts by default: archives re-reduce and complete recent nights,
	// so the last ones are asked again.
	RefreshOverlap() time.Duration
}

// DatumSourcer is implemented by a service whose datums' Source is not
// its Name: several kinds of photometry, each a Source of its own
// (ALeRCE's alert and forced photometry), or a fixed Source under a
// registry name the settings chose. A refresh (see Refresher) starts from
// the newest datum stored for the target of any of these Sources; a
// service that is not a DatumSourcer has its datums' Source equal to its
// Name.
type DatumSourcer interface {
	// DatumSources returns the Sources of the datums the processor of
	// the service's products gives. Empty means the service's Name.
	DatumSources() []string
}

// datumSources returns the Sources of svc's datums (see DatumSourcer).
func datumSources(svc Service) []string {
	if ds, ok := svc.(DatumSourcer); ok {
		if s := ds.DatumSources(); len(s) > 0 {
			return s
		}
	}
	return []string{svc.Name()}
}

// Refresh runs an incremental refresh of target from service to the end,
// as Run does with Request{Service: service, Target: target, Refresh:
// true}: the form's initial values, narrowed to the epochs from the newest
// datum already stored for the target from that service, less the
// service's overlap (see Refresher). Result.Window is the window asked
// for. Run without Refresh is the full refresh.
func (m *Manager) Refresh(ctx context.Context, service string, target Target) (*Result, error) {
	return m.Run(ctx, Request{Service: service, Target: target, Refresh: true})
}

// RefreshOverlap returns how far before the newest stored epoch a
// refresh of service starts: SetRefreshOverlap's value (the settings'
// refresh_overlap), else the service's RefreshOverlap, else 0.
func (m *Manager) RefreshOverlap(service string) (time.Duration, error) {
	svc, err := m.Service(service)
	if err != nil {
		return 0, err
	}
	m.mu.RLock()
	d, ok := m.overlaps[service]
	m.mu.RUnlock()
	if ok {
		return d, nil
	}
	if r, ok := svc.(Refresher); ok {
		return max(r.RefreshOverlap(), 0), nil
	}
	return 0, nil
}

// SetRefreshOverlap sets the overlap of service's refreshes (see
// RefreshOverlap), replacing the service's default. It must not be
// negative.
func (m *Manager) SetRefreshOverlap(service string, d time.Duration) error {
	if _, err := m.Service(service); err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("%w: refresh overlap of %s: %s is negative", ErrConfig, service, d)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.overlaps == nil {
		m.overlaps = map[string]time.Duration{}
	}
	m.overlaps[service] = d
	return nil
}

// refreshWindow narrows form for a refresh of req and returns the window
// asked for. A window already recorded in the checkpoint (a retried
// submission) is asked again as it was.
func (st *stepper) refreshWindow(ctx context.Context, form QueryForm, cp Checkpoint) (Window, error) {
	r, ok := st.svc.(Refresher)
	if !ok {
		return Window{All: true}, nil
	}
	if cp.Window != nil {
		if cp.Window.All {
			return *cp.Window, nil
		}
		return r.RefreshWindow(form, cp.Window.From), nil
	}
	var newest time.Time
	for _, source := range datumSources(st.svc) {
		ds, err := st.m.store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: st.req.Target.ID, Source: source, Newest: true, Limit: 1})
		if err != nil {
			return Window{}, fmt.Errorf("%s: finding the newest stored %s datum for a refresh: %w", st.req.Service, source, err)
		}
		if len(ds) > 0 && ds[0].Timestamp.After(newest) {
			newest = ds[0].Timestamp
		}
	}
	var from time.Time
	if !newest.IsZero() {
		overlap, err := st.m.RefreshOverlap(st.req.Service)
		if err != nil {
			return Window{}, err
		}
		from = newest.UTC().Add(-overlap).Truncate(time.Second)
	}
	return r.RefreshWindow(form, from), nil
}

// dropRedundant picks the products of a refresh that hold no datum of
// their own (every datum of the file was stored already, by earlier
// products) to be deleted, and returns the others. Only a product first
// stored since the refresh began (since) is dropped: one the same name
// found stored already (a query that returns everything, a file whose
// rows give no datum) is kept. A product it cannot count is kept.
func (st *stepper) dropRedundant(ctx context.Context, since time.Time, products []dataproduct.Product) (kept, dropped []dataproduct.Product) {
	for _, p := range products {
		if p.Created.Before(since) {
			kept = append(kept, p)
			continue
		}
		n, err := st.m.store.CountDatums(ctx, dataproduct.DatumFilter{TargetID: p.TargetID, ProductID: p.ID})
		if err != nil || n > 0 {
			if err != nil {
				st.log.WarnContext(ctx, "counting a refreshed product's datums failed; the product is kept", "product", p.Name, "error", err)
			}
			kept = append(kept, p)
			continue
		}
		dropped = append(dropped, p)
	}
	return kept, dropped
}

// deleteProducts deletes products no longer wanted; failures are logged
// (the product then stays, holding no datum of its own).
func (st *stepper) deleteProducts(ctx context.Context, products []dataproduct.Product) {
	for _, p := range products {
		if err := st.m.store.DeleteProduct(context.WithoutCancel(ctx), p.ID); err != nil && !errors.Is(err, dataproduct.ErrNotFound) {
			st.log.WarnContext(ctx, "deleting a refresh's redundant product failed", "product", p.Name, "error", err)
			continue
		}
		st.log.DebugContext(ctx, "refresh brought nothing new; product not kept", "product", p.Name)
	}
}
