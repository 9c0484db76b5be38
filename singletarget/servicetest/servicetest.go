// Package servicetest is the conformance suite every singletarget.Service
// runs, the built-in ones and a TOM developer's own, like Go CDK's
// drivertest:
//
//	func TestConformance(t *testing.T) {
//		servicetest.Run(t, servicetest.Harness{
//			New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
//				sim := atlastest.NewServer(t, nil)
//				svc, _ := atlas.NewService(sim.URL, sim.Token, &atlas.Options{Logger: log})
//				return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext, Secrets: ...}
//			},
//			Target:       singletarget.Target{ID: 1, Name: "SN 2024abc", RA: 65.00165, Dec: -54.93795},
//			Invalid:      url.Values{"min_date_mjd": {"abc"}},
//			InvalidField: "min_date_mjd",
//			Processor:    atlas.Processor{},
//		})
//	}
//
// It checks that Name is stable, NewForm returns independent forms whose
// Fields and Layout agree, invalid input gives a *FormErrors naming the
// field, a whole query (through a Manager, waiting on asynchronous tasks)
// stores products and ingests datums, the same query twice (asynchronous
// ones included) gives the same product names, stores nothing new and
// adds no datums, an asynchronous service's Resume gives a finished task's
// products again until FinishRemote (so a crash before the ingest commits
// loses nothing), a Refresher's datums carry its Name or its
// DatumSources as Source, and its refresh right after the query asks from
// the newest stored epoch less its overlap and adds and keeps nothing,
// Query honours a cancelled context,
// throttling surfaces as ErrThrottled with a wait, and no secret appears in
// any error or log line.
//
// # Stability
//
// This package is experimental: a minor release may change its API or add
// a check that an implementation which passed before fails, each change
// listed in CHANGELOG.md; a patch release does neither; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package servicetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Instance is one service under test with its test hooks.
type Instance struct {
	// Service is the service, talking to a simulator (never the internet).
	Service singletarget.Service
	// Throttle makes the simulator throttle the service's next request,
	// asking it to wait retryAfter. Nil skips the throttling check.
	Throttle func(retryAfter time.Duration)
	// Secrets are the credentials the service was built with; none may
	// appear in errors or logs.
	Secrets []singletarget.Secret
}

// Harness describes a service for the suite.
type Harness struct {
	// New builds a fresh instance whose logs go to log. Required.
	New func(t *testing.T, log *slog.Logger) Instance
	// Target is the target to query; it must have data in the simulator.
	Target singletarget.Target
	// Valid are params of a query that succeeds (nil: the initial values).
	Valid url.Values
	// Invalid are params that fail Decode or Validate, naming InvalidField.
	Invalid      url.Values
	InvalidField string
	// Processor processes the service's products in the full-query and
	// refresh checks; nil skips processing (products are still checked,
	// except which products a refresh keeps, which depends on datums).
	Processor singletarget.Processor
	// Timeout bounds each whole query (default 30 s).
	Timeout time.Duration
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	require.NotNil(t, h.New, "Harness.New")
	if h.Timeout == 0 {
		h.Timeout = 30 * time.Second
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var secrets []singletarget.Secret
	var seenErrs []error
	var mu sync.Mutex
	newInstance := func(t *testing.T) Instance {
		in := h.New(t, log)
		require.NotNil(t, in.Service, "Instance.Service")
		mu.Lock()
		secrets = append(secrets, in.Secrets...)
		mu.Unlock()
		return in
	}
	record := func(err error) {
		if err != nil {
			mu.Lock()
			seenErrs = append(seenErrs, err)
			mu.Unlock()
		}
	}

	t.Run("Name", func(t *testing.T) {
		a, b := newInstance(t), newInstance(t)
		name := a.Service.Name()
		assert.NotEmpty(t, name)
		assert.Equal(t, name, a.Service.Name(), "Name is stable")
		assert.Equal(t, name, b.Service.Name(), "every instance has the same name")
		assert.Equal(t, strings.TrimSpace(name), name)
	})

	t.Run("Forms", func(t *testing.T) {
		svc := newInstance(t).Service
		f1, f2 := svc.NewForm(), svc.NewForm()
		require.NotNil(t, f1)
		fields := f1.Fields()
		require.NotEmpty(t, fields)
		names := map[string]bool{}
		for _, fd := range fields {
			assert.NotEmpty(t, fd.Name)
			assert.NotEmpty(t, fd.Label, "field %s has a label", fd.Name)
			assert.NotEmpty(t, fd.Kind, "field %s has a kind", fd.Name)
			assert.False(t, names[fd.Name], "field %s appears once", fd.Name)
			names[fd.Name] = true
			for _, c := range fd.Choices {
				assert.NotEmpty(t, c.Value, "field %s has a choice with a value", fd.Name)
			}
		}
		for _, row := range f1.Layout().Rows {
			for _, n := range row {
				assert.True(t, names[n], "layout names field %q that Fields does not list", n)
			}
		}
		before := f2.Fields()
		if h.Valid != nil {
			require.NoError(t, f1.Decode(h.Valid))
		}
		if h.Invalid != nil {
			record(f1.Decode(h.Invalid))
		}
		assert.Equal(t, before, f2.Fields(), "decoding one form changes no other")
		assert.Equal(t, fields, svc.NewForm().Fields(), "NewForm starts from the same initial values")
	})

	if h.Invalid != nil {
		t.Run("InvalidInput", func(t *testing.T) {
			svc := newInstance(t).Service
			f := svc.NewForm()
			err := f.Decode(h.Invalid)
			if err == nil {
				err = f.Validate()
			}
			record(err)
			require.Error(t, err, "params %v must be refused", h.Invalid)
			assert.ErrorIs(t, err, singletarget.ErrInvalidForm)
			var fe *singletarget.FormErrors
			require.ErrorAs(t, err, &fe)
			assert.NotEmpty(t, fe.Fields[h.InvalidField], "the errors name field %q: %v", h.InvalidField, err)
		})
	}

	var productNames []string
	t.Run("Query", func(t *testing.T) {
		in := newInstance(t)
		m, store := manager(t, in.Service, h.Processor, log)
		ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
		defer cancel()
		req := singletarget.Request{Service: in.Service.Name(), Target: h.Target, Params: h.Valid}
		res, err := m.Run(ctx, req)
		record(err)
		require.NoError(t, err)
		require.NotEmpty(t, res.Products, "a query stores products")
		for _, p := range res.Products {
			assert.NoError(t, dataproduct.CheckName(p.Name))
			assert.Equal(t, h.Target.ID, p.TargetID)
			assert.Positive(t, p.Size)
			if d, ok := in.Service.(singletarget.Describer); ok {
				assert.Equal(t, d.Info().DataProductType, p.DataProductType)
			}
			productNames = append(productNames, p.Name)
		}
		if h.Processor != nil {
			assert.Positive(t, res.Added, "the products give datums")
			ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: h.Target.ID})
			require.NoError(t, err)
			assert.Len(t, ds, res.Added)
		}
		before, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
		require.NoError(t, err)
		datumsBefore, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
		require.NoError(t, err)
		again, err := m.Run(ctx, req)
		record(err)
		require.NoError(t, err)
		var names []string
		for _, p := range again.Products {
			names = append(names, p.Name)
		}
		assert.Equal(t, productNames, names, "the same query gives the same product names (from the query, never from a remote task id)")
		after, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
		require.NoError(t, err)
		assert.Equal(t, before, after, "the same query again stores nothing new")
		assert.Equal(t, 0, again.Added, "the same query again adds no datums")
		datumsAfter, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
		require.NoError(t, err)
		assert.Len(t, datumsAfter, len(datumsBefore))
	})

	optional := newInstance(t).Service // to see which optional interfaces the service implements
	if _, async := optional.(singletarget.Resumer); async {
		t.Run("ResumeUntilFinished", func(t *testing.T) {
			testResumeUntilFinished(t, newInstance(t).Service, h, record)
		})
	}

	if _, ok := optional.(singletarget.Refresher); ok {
		t.Run("Refresh", func(t *testing.T) {
			testRefresh(t, newInstance(t).Service, h, log, record)
		})
	}

	t.Run("Cancelled", func(t *testing.T) {
		in := newInstance(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f, err := formFor(in.Service, h.Valid)
		require.NoError(t, err)
		start := time.Now()
		_, err = in.Service.Query(ctx, h.Target, f, dataproduct.NewMemoryStore(nil))
		record(err)
		require.Error(t, err, "a cancelled context stops the query")
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 5*time.Second, "promptly")

		dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer dcancel()
		if in.Throttle != nil {
			in.Throttle(time.Hour) // a server that says "wait an hour" must not hold Query
		}
		start = time.Now()
		_, err = in.Service.Query(dctx, h.Target, f, dataproduct.NewMemoryStore(nil))
		record(err)
		assert.Less(t, time.Since(start), 10*time.Second, "Query returns promptly under a deadline")
	})

	t.Run("Throttled", func(t *testing.T) {
		in := newInstance(t)
		if in.Throttle == nil {
			t.Skip("the harness has no Throttle hook: the service cannot be throttled")
		}
		in.Throttle(7 * time.Second)
		f, err := formFor(in.Service, h.Valid)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
		defer cancel()
		_, err = in.Service.Query(ctx, h.Target, f, dataproduct.NewMemoryStore(nil))
		record(err)
		require.Error(t, err)
		assert.ErrorIs(t, err, singletarget.ErrThrottled)
		var te *singletarget.ThrottledError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 7*time.Second, te.RetryAfter, "the server's wait comes back")
		assert.Equal(t, in.Service.Name(), te.Service)
	})

	t.Run("NoSecretsLeak", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		text := logs.String()
		for _, err := range seenErrs {
			text += "\n" + err.Error()
		}
		for _, s := range secrets {
			if len(s) < 4 {
				continue
			}
			assert.NotContains(t, text, s.Reveal(), "a secret appears in an error or a log line")
		}
	})
}

// testResumeUntilFinished checks the contract that makes asynchronous
// services crash-safe: once Resume returned products, Resume on the same
// task returns them again (same names, nothing new stored) until the
// Manager calls FinishRemote (singletarget.Finisher), which must be
// idempotent. A service that cleans its remote task up inside Resume
// fails here: a worker killed before the datums were committed would lose
// the query.
func testResumeUntilFinished(t *testing.T, svc singletarget.Service, h Harness, record func(error)) {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	defer cancel()
	store := dataproduct.NewMemoryStore(nil)
	f, err := formFor(svc, h.Valid)
	require.NoError(t, err)
	out, err := svc.Query(ctx, h.Target, f, store)
	record(err)
	require.NoError(t, err)
	require.NotNil(t, out.Pending, "an asynchronous service returns a pending task")
	r := svc.(singletarget.Resumer)
	var task singletarget.RemoteTask
	for out.Pending != nil {
		task = *out.Pending
		select {
		case <-ctx.Done():
			t.Fatalf("the remote task did not finish within %s", h.Timeout)
		case <-time.After(task.Wait(time.Now())):
		}
		out, err = r.Resume(ctx, h.Target, task, store)
		record(err)
		require.NoError(t, err)
	}
	require.NotEmpty(t, out.Products)
	stored, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	again, err := r.Resume(ctx, h.Target, task, store)
	record(err)
	require.NoError(t, err, "Resume on a finished task must give its products again until FinishRemote")
	require.Nil(t, again.Pending)
	require.Len(t, again.Products, len(out.Products))
	for i := range out.Products {
		assert.Equal(t, out.Products[i].Name, again.Products[i].Name)
		assert.Equal(t, out.Products[i].SHA256, again.Products[i].SHA256)
	}
	after, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Equal(t, stored, after, "resuming again stores nothing new")
	if fin, ok := svc.(singletarget.Finisher); ok {
		require.NoError(t, fin.FinishRemote(ctx, task))
		assert.NoError(t, fin.FinishRemote(ctx, task), "FinishRemote is idempotent (a crash may repeat it)")
	}
}

// testRefresh checks a Refresher: RefreshWindow with the zero time
// changes nothing; after a whole query, every datum's Source is one the
// Manager looks for (the Name, or the DatumSources), and a refresh
// (twice) asks from the newest stored epoch less the overlap, adds
// nothing and keeps no new product.
func testRefresh(t *testing.T, svc singletarget.Service, h Harness, log *slog.Logger, record func(error)) {
	r := svc.(singletarget.Refresher)
	assert.GreaterOrEqual(t, r.RefreshOverlap(), time.Duration(0), "RefreshOverlap is not negative")
	f, err := formFor(svc, h.Valid)
	require.NoError(t, err)
	before := f.Fields()
	w := r.RefreshWindow(f, time.Time{})
	assert.Equal(t, before, f.Fields(), "RefreshWindow with the zero time changes nothing")
	assert.False(t, w.Empty(), "the form's own window is not empty: %s", w)

	m, store := manager(t, svc, h.Processor, log)
	ctx, cancel := context.WithTimeout(context.Background(), 2*h.Timeout)
	defer cancel()
	req := singletarget.Request{Service: svc.Name(), Target: h.Target, Params: h.Valid}
	_, err = m.Run(ctx, req)
	record(err)
	require.NoError(t, err)
	products, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	sources := []string{svc.Name()}
	if ds, ok := svc.(singletarget.DatumSourcer); ok && len(ds.DatumSources()) > 0 {
		sources = ds.DatumSources()
	}
	stored, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: h.Target.ID})
	require.NoError(t, err)
	var newest time.Time
	for _, d := range stored {
		require.Contains(t, sources, d.Source,
			"a refresh finds the newest stored epoch by the datums' Source: the service's Name, or its DatumSources (singletarget.DatumSourcer)")
		if d.Timestamp.After(newest) {
			newest = d.Timestamp
		}
	}
	req.Refresh = true
	for i := range 2 {
		res, err := m.Run(ctx, req)
		record(err)
		require.NoError(t, err, "refresh %d", i+1)
		require.NotNil(t, res.Window, "a refresh reports its window")
		if !newest.IsZero() && !res.Window.All {
			want := newest.Add(-r.RefreshOverlap())
			assert.WithinDuration(t, want, res.Window.From, time.Second, "refresh %d asks from the newest stored epoch less the overlap", i+1)
		}
		assert.Equal(t, 0, res.Added, "refresh %d right after the query adds nothing", i+1)
		if h.Processor == nil {
			// No processor, no datums: a refresh keeps none of its
			// products (they hold no datum of their own), even one of
			// the same name as the query's.
			continue
		}
		after, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
		require.NoError(t, err)
		assert.Equal(t, products, after, "refresh %d keeps no new product", i+1)
	}
}

func formFor(svc singletarget.Service, v url.Values) (singletarget.QueryForm, error) {
	f := svc.NewForm()
	if err := f.Decode(v); err != nil {
		return nil, err
	}
	return f, f.Validate()
}

func manager(t *testing.T, svc singletarget.Service, p singletarget.Processor, log *slog.Logger) (*singletarget.Manager, dataproduct.Store) {
	t.Helper()
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{Logger: log, MaxThrottleWait: time.Minute})
	typ := ""
	if d, ok := svc.(singletarget.Describer); ok {
		typ = d.Info().DataProductType
	}
	if p != nil && typ != "" {
		require.NoError(t, m.AddProcessor(typ, p))
	} else if typ != "" {
		require.NoError(t, m.AddProcessor(typ, noProcessor{}))
	}
	require.NoError(t, m.AddService(svc))
	return m, store
}

// noProcessor stands in when the harness gives no processor.
type noProcessor struct{}

func (noProcessor) DataType() string { return "none" }
func (noProcessor) Process(context.Context, io.Reader) ([]dataproduct.Datum, error) {
	return nil, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
