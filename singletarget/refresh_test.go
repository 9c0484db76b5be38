package singletarget_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// epochArchive is a synchronous archive of one light curve whose epochs
// a test adds; refreshService asks it for an MJD window.
type epochArchive struct {
	mu     sync.Mutex
	epochs []float64 // MJDs
	asked  []string  // "<min>-<max>" per query
}

func (a *epochArchive) add(mjds ...float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.epochs = append(a.epochs, mjds...)
}

func (a *epochArchive) queries() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.asked...)
}

type refreshForm struct {
	singletarget.FormBase
	MinMJD *float64 `form:"min_date_mjd" label:"From (MJD)"`
	MaxMJD *float64 `form:"max_date_mjd" label:"To (MJD)"`
	Table  string   `form:"table" label:"Table" choices:"epochs=Epochs|mean=Mean"`
}

// refreshService is a Refresher over an epochArchive; its "mean" table
// has no epochs. Without refresher set it hides RefreshWindow (see
// plainService).
type refreshService struct {
	archive *epochArchive
	overlap time.Duration
}

const fakeName = "FAKE"

func (s *refreshService) Name() string { return fakeName }
func (s *refreshService) NewForm() singletarget.QueryForm {
	f := &refreshForm{Table: "epochs"}
	f.Bind(f)
	return f
}
func (s *refreshService) Info() singletarget.Info {
	return singletarget.Info{Label: "Fake", DataProductType: "fake_photometry"}
}

func (s *refreshService) Query(ctx context.Context, t singletarget.Target, qf singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	f := qf.(*refreshForm)
	num := func(p *float64, open string) string {
		if p == nil {
			return open
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	a := s.archive
	a.mu.Lock()
	a.asked = append(a.asked, num(f.MinMJD, "start")+"-"+num(f.MaxMJD, "end"))
	var b strings.Builder
	b.WriteString("time,filter,magnitude,error\n")
	n := 0
	for _, e := range a.epochs {
		if (f.MinMJD == nil || e >= *f.MinMJD) && (f.MaxMJD == nil || e <= *f.MaxMJD) {
			fmt.Fprintf(&b, "%v,r,%v,0.1\n", e, 18+e/1e6)
			n++
		}
	}
	a.mu.Unlock()
	if n == 0 {
		return nil, fmt.Errorf("fake: no epochs in the window: %w", singletarget.ErrNotFound)
	}
	p, err := out.PutProduct(ctx, dataproduct.Product{TargetID: t.ID, DataProductType: "fake_photometry",
		Name: "fake-" + f.Table + "-" + num(f.MinMJD, "start") + "-" + num(f.MaxMJD, "end") + ".csv"}, strings.NewReader(b.String()))
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

func (s *refreshService) RefreshWindow(qf singletarget.QueryForm, from time.Time) singletarget.Window {
	f := qf.(*refreshForm)
	if f.Table == "mean" {
		return singletarget.Window{All: true}
	}
	if !from.IsZero() {
		mjd := processor.TimeToMJD(from)
		f.MinMJD = &mjd
	}
	var w singletarget.Window
	if f.MinMJD != nil {
		w.From = processor.MJDToTime(*f.MinMJD)
	}
	if f.MaxMJD != nil {
		w.To = processor.MJDToTime(*f.MaxMJD)
	}
	return w
}

func (s *refreshService) RefreshOverlap() time.Duration { return s.overlap }

// plainService is the same service without RefreshWindow: not a Refresher.
type plainService struct{ s *refreshService }

func (p plainService) Name() string                    { return p.s.Name() }
func (p plainService) NewForm() singletarget.QueryForm { return p.s.NewForm() }
func (p plainService) Info() singletarget.Info         { return p.s.Info() }
func (p plainService) Query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	return p.s.Query(ctx, t, f, out)
}

func refreshManager(t *testing.T, svc singletarget.Service) (*singletarget.Manager, dataproduct.Store) {
	t.Helper()
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor("fake_photometry", processor.PhotometryTable{Source: fakeName}))
	require.NoError(t, m.AddService(svc))
	return m, store
}

func productNames(t *testing.T, store dataproduct.Store) []string {
	t.Helper()
	ps, err := store.ListProducts(context.Background(), dataproduct.ProductFilter{})
	require.NoError(t, err)
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestManagerRefresh(t *testing.T) {
	ctx := context.Background()
	a := &epochArchive{}
	a.add(60000.25, 60001.25, 60002.25, 60003.25)
	m, store := refreshManager(t, &refreshService{archive: a, overlap: 36 * time.Hour})
	overlap, err := m.RefreshOverlap(fakeName)
	require.NoError(t, err)
	assert.Equal(t, 36*time.Hour, overlap, "the service's default")

	// Nothing stored: the form's own window (open).
	res, err := m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Added)
	require.NotNil(t, res.Window)
	assert.Equal(t, singletarget.Window{}, *res.Window)
	assert.Equal(t, "MJD first epoch – now", res.Window.String())
	assert.Equal(t, []string{"fake-epochs-start-end.csv"}, productNames(t, store))

	// Again: from the newest epoch less 1.5 days; nothing new, no product.
	for range 2 {
		res, err = m.Refresh(ctx, fakeName, sn2023ixf)
		require.NoError(t, err)
		assert.Equal(t, 0, res.Added)
		assert.Equal(t, 2, res.Skipped, "60002.25 and 60003.25 come back")
		assert.Empty(t, res.Products)
		assert.Equal(t, []string{"fake-epochs-start-end.csv"}, productNames(t, store), "a file with nothing new is not kept")
		assert.InDelta(t, 60001.75, processor.TimeToMJD(res.Window.From), 1e-9)
		assert.Equal(t, "MJD 60001.75 – now", res.Window.String())
	}
	q := a.queries()
	assert.Equal(t, []string{"start-end", "60001.75-end", "60001.75-end"}, q)

	// New epochs: exactly them.
	a.add(60004.5, 60005.5)
	res, err = m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Added)
	assert.Equal(t, 2, res.Skipped)
	require.Len(t, res.Products, 1)
	assert.Equal(t, "fake-epochs-60001.75-end.csv", res.Products[0].Name)
	assert.Len(t, productNames(t, store), 2)

	// The settings' overlap wins over the service's.
	require.NoError(t, m.SetRefreshOverlap(fakeName, 0))
	res, err = m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Added)
	assert.InDelta(t, 60005.5, processor.TimeToMJD(res.Window.From), 1e-9)
	assert.ErrorIs(t, m.SetRefreshOverlap(fakeName, -time.Hour), singletarget.ErrConfig)
	assert.ErrorIs(t, m.SetRefreshOverlap("NOPE", time.Hour), singletarget.ErrUnknown)

	// A full refresh (Run without Refresh) asks the whole window; its
	// product, whose file grew, is replaced (its datums ingested anew) and
	// the target's datums stay the six epochs.
	full, err := m.Run(ctx, singletarget.Request{Service: fakeName, Target: sn2023ixf})
	require.NoError(t, err)
	assert.Nil(t, full.Window)
	assert.Equal(t, "start-end", a.queries()[len(a.queries())-1])
	n, err := store.CountDatums(ctx, dataproduct.DatumFilter{TargetID: sn2023ixf.ID})
	require.NoError(t, err)
	assert.Equal(t, 6, n)
}

func TestManagerRefreshNothingInWindow(t *testing.T) {
	ctx := context.Background()
	a := &epochArchive{}
	a.add(60000.25)
	m, store := refreshManager(t, &refreshService{archive: a, overlap: time.Hour})
	_, err := m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)

	// The archive dropped its epochs: nothing in the window is no error
	// for a refresh...
	a.mu.Lock()
	a.epochs = nil
	a.mu.Unlock()
	res, err := m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Added)
	assert.Empty(t, res.Products)
	// ... but is for a query.
	_, err = m.Run(ctx, singletarget.Request{Service: fakeName, Target: sn2023ixf})
	assert.ErrorIs(t, err, singletarget.ErrNotFound)

	// A window that ends before the refresh's start is not asked at all.
	n := len(a.queries())
	res, err = m.Run(ctx, singletarget.Request{Service: fakeName, Target: sn2023ixf, Refresh: true,
		Params: url.Values{"max_date_mjd": {"59990"}}})
	require.NoError(t, err)
	require.NotNil(t, res.Window)
	assert.True(t, res.Window.Empty())
	assert.Len(t, a.queries(), n, "no query for an empty window")
	assert.Len(t, productNames(t, store), 1)
}

func TestManagerRefreshAllAndNonRefresher(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		svc    func(a *epochArchive) singletarget.Service
		params url.Values
	}{
		{"no epochs to narrow", func(a *epochArchive) singletarget.Service { return &refreshService{archive: a} }, url.Values{"table": {"mean"}}},
		{"not a Refresher", func(a *epochArchive) singletarget.Service { return plainService{&refreshService{archive: a}} }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &epochArchive{}
			a.add(60000.25, 60001.25)
			m, store := refreshManager(t, tc.svc(a))
			req := singletarget.Request{Service: fakeName, Target: sn2023ixf, Params: tc.params, Refresh: true}
			res, err := m.Run(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 2, res.Added)
			require.NotNil(t, res.Window)
			assert.True(t, res.Window.All, "everything is asked every time")
			assert.Equal(t, "everything (no epochs to narrow)", res.Window.String())
			res, err = m.Run(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 0, res.Added)
			assert.Len(t, productNames(t, store), 1, "the same file again: nothing new kept")
			assert.Equal(t, []string{"start-end", "start-end"}, a.queries())
		})
	}
}

// sourcedService is a refreshService whose datums carry two Sources of
// their own, neither its Name (as ALeRCE's alert and forced photometry):
// sourcedProcessor gives the epochs at .75 of a day the second.
type sourcedService struct{ *refreshService }

func (sourcedService) DatumSources() []string { return []string{"FAKE_ALERT", "FAKE_FP"} }

type sourcedProcessor struct{}

func (sourcedProcessor) DataType() string { return dataproduct.TypePhotometry }
func (sourcedProcessor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	ds, err := processor.PhotometryTable{Source: "FAKE_ALERT"}.Process(ctx, r)
	for i, d := range ds {
		if mjd := processor.TimeToMJD(d.Timestamp); mjd-math.Floor(mjd) > 0.7 {
			ds[i].Source = "FAKE_FP"
		}
	}
	return ds, err
}

// TestManagerRefreshDatumSources: a DatumSourcer's refresh starts from the
// newest datum of any of its Sources (here the forced photometry's, not
// the alerts'), and a datum of another source does not count.
func TestManagerRefreshDatumSources(t *testing.T) {
	ctx := context.Background()
	a := &epochArchive{}
	a.add(60000.25, 60001.75, 60003.25, 60004.75)
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor("fake_photometry", sourcedProcessor{}))
	require.NoError(t, m.AddService(sourcedService{&refreshService{archive: a, overlap: 12 * time.Hour}}))
	_, err := store.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{{TargetID: sn2023ixf.ID, DataType: dataproduct.TypePhotometry,
		Source: fakeName, Timestamp: processor.MJDToTime(60100), Value: dataproduct.Photometry{Magnitude: dataproduct.Float(18), Filter: "r"}}}))
	require.NoError(t, err)

	res, err := m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Added)
	assert.Equal(t, singletarget.Window{}, *res.Window, "nothing of its sources stored: the whole window (the FAKE datum does not count)")
	for range 2 {
		res, err = m.Refresh(ctx, fakeName, sn2023ixf)
		require.NoError(t, err)
		assert.Equal(t, 0, res.Added)
		assert.InDelta(t, 60004.25, processor.TimeToMJD(res.Window.From), 1e-9, "from the newest FAKE_FP datum less 12 h")
	}
	a.add(60005.25)
	res, err = m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	res, err = m.Refresh(ctx, fakeName, sn2023ixf)
	require.NoError(t, err)
	assert.InDelta(t, 60004.75, processor.TimeToMJD(res.Window.From), 1e-9, "now from the newest FAKE_ALERT datum")
	assert.Equal(t, []string{"start-end", "60004.25-end", "60004.25-end", "60004.25-end", "60004.75-end"}, a.queries())
}

// TestStepRefreshCheckpoint: the window a refresh asks is recorded in the
// checkpoint, and a step resumed from a checkpoint asks that window again
// even when the store has changed since.
func TestStepRefreshCheckpoint(t *testing.T) {
	ctx := context.Background()
	a := &epochArchive{}
	a.add(60000.25, 60010.25)
	m, _ := refreshManager(t, &refreshService{archive: a})
	req := singletarget.Request{Service: fakeName, Target: sn2023ixf, Refresh: true}
	var saved []singletarget.Checkpoint
	save := func(_ context.Context, cp singletarget.Checkpoint) error { saved = append(saved, cp); return nil }
	res, err := m.Step(ctx, req, singletarget.Checkpoint{}, save)
	require.NoError(t, err)
	require.NotEmpty(t, saved)
	for _, cp := range saved {
		require.NotNil(t, cp.Window, "every saved checkpoint carries the window")
	}
	assert.Equal(t, res.Window, res.Checkpoint.Window)

	from := processor.MJDToTime(60005)
	res, err = m.Step(ctx, req, singletarget.Checkpoint{Window: &singletarget.Window{From: from}}, nil)
	require.NoError(t, err)
	assert.Equal(t, "60005-end", a.queries()[len(a.queries())-1], "the recorded window, not the store's newest epoch")
	assert.Equal(t, 0, res.Added)
}

func TestBatchRefresh(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := &epochArchive{}
	a.add(60000.25, 60001.25)
	m, _ := refreshManager(t, &refreshService{archive: a})
	targets := []singletarget.Target{sn2023ixf, {ID: 2, Name: "SN 2024ggi", RA: 169.59, Dec: -32.84}}
	for round, want := range []int{4, 0} {
		b, err := m.Batch(ctx, fakeName, targets, nil, &singletarget.BatchOptions{Refresh: true, Workers: 2})
		require.NoError(t, err)
		p, err := b.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, p.Done)
		assert.Equal(t, want, p.Added, "round %d", round)
		for _, st := range b.Results() {
			assert.True(t, st.Request.Refresh)
			require.NotNil(t, st.Window, "the job's status shows the window")
		}
	}
}

func TestWindow(t *testing.T) {
	from, to := processor.MJDToTime(60000.5), processor.MJDToTime(60010)
	assert.Equal(t, "MJD 60000.5 – 60010", singletarget.Window{From: from, To: to}.String())
	assert.False(t, singletarget.Window{From: from, To: to}.Empty())
	assert.True(t, singletarget.Window{From: to, To: from}.Empty())
	assert.True(t, singletarget.Window{From: to, To: to}.Empty())
	assert.False(t, singletarget.Window{From: to}.Empty(), "open end")
	assert.False(t, singletarget.Window{All: true, From: to, To: from}.Empty())
}

func TestPace(t *testing.T) {
	p := singletarget.Pace{Queries: 30, Per: time.Minute}
	assert.Equal(t, 2*time.Second, p.Interval())
	assert.Equal(t, "30 queries per 1m0s", p.String())
	assert.False(t, p.IsZero())
	assert.True(t, singletarget.Pace{}.IsZero())
	assert.Equal(t, time.Duration(0), singletarget.Pace{Queries: 5}.Interval(), "no period: unpaced")
	assert.Equal(t, "unpaced", singletarget.Pace{}.String())
}

// noDatums is a processor whose files give no datum (every row is no
// measurement).
type noDatums struct{}

func (noDatums) DataType() string { return dataproduct.TypePhotometry }
func (noDatums) Process(context.Context, io.Reader) ([]dataproduct.Datum, error) {
	return nil, nil
}

// A refresh drops only what it stored itself: a product of the same name
// stored before the refresh (here a file whose rows gave no datum) is the
// user's and stays, while a refresh's own file that brings nothing new is
// not kept.
func TestManagerRefreshKeepsEarlierProducts(t *testing.T) {
	ctx := context.Background()
	a := &epochArchive{}
	a.add(60000.25, 60001.25)
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor("fake_photometry", noDatums{}))
	require.NoError(t, m.AddService(&refreshService{archive: a}))

	mean := url.Values{"table": {"mean"}}
	_, err := m.Run(ctx, singletarget.Request{Service: fakeName, Target: sn2023ixf, Params: mean})
	require.NoError(t, err)
	require.Equal(t, []string{"fake-mean-start-end.csv"}, productNames(t, store))

	res, err := m.Run(ctx, singletarget.Request{Service: fakeName, Target: sn2023ixf, Params: mean, Refresh: true})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Added)
	assert.Equal(t, []string{"fake-mean-start-end.csv"}, productNames(t, store), "the earlier product is kept")

	res, err = m.Run(ctx, singletarget.Request{Service: fakeName, Target: sn2023ixf, Refresh: true})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Added)
	assert.Equal(t, []string{"fake-mean-start-end.csv"}, productNames(t, store), "the refresh's own redundant file is not kept")
}
