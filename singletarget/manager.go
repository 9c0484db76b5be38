package singletarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// Request is one query: a service, a target and the form's values. It is
// what executors queue, so it holds no secrets and stays JSON-encodable.
type Request struct {
	// Service is the registry name, e.g. "ATLAS".
	Service string `json:"service"`
	// Target is the target to query.
	Target Target `json:"target"`
	// Params are the form's values, by field name; fields not given keep
	// the form's initial values.
	Params url.Values `json:"params,omitempty"`
	// Refresh asks only for what may be new: the query's window starts at
	// the newest datum already stored for the target from this service,
	// less the service's overlap (see Refresher), whatever start Params
	// give; a product that brings no datum of its own is not kept, and an
	// archive with nothing in that window is success with nothing added.
	// Without it the query asks for its whole window (a full refresh).
	Refresh bool `json:"refresh,omitempty"`
}

// Result is what a finished query produced.
type Result struct {
	// Products are the stored result files.
	Products []dataproduct.Product `json:"products"`
	// Added and Skipped count the datums ingested and the duplicates. When
	// the query's file changed since the last run, the product was
	// replaced and its datums ingested anew: Added then counts every datum
	// of the new file that no other product holds. Reports say, per
	// product, what the processor made of the file: rows read, datums,
	// rows that gave no datum by reason and line.
	dataproduct.IngestResult
	// Remote is the remote task, for asynchronous services.
	Remote *RemoteTask `json:"remote,omitempty"`
	// Window is the window a refresh (Request.Refresh) asked for; nil for
	// other queries.
	Window *Window `json:"window,omitempty"`
}

// StepResult is what one Step did: the query finished (Products and the
// ingest counts), or a remote task is pending.
type StepResult struct {
	Result
	// Pending is set while the remote task has not finished (or its
	// clean-up waits, State RemoteFinishing).
	Pending *RemoteTask `json:"pending,omitempty"`
	// Checkpoint is where the query stands now, for the next Step; keep it
	// whatever Step returned (an error included).
	Checkpoint Checkpoint `json:"checkpoint"`
}

// ManagerOptions configure a Manager; nil means defaults.
type ManagerOptions struct {
	// Logger receives the Manager's logs. Default: discard.
	Logger *slog.Logger
	// HTTPClient is handed to service factories by Registry.Load. Default
	// nil (each service builds its own).
	HTTPClient *http.Client
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// MaxThrottleWait caps the total time Run waits on throttling for one
	// query. Default 15 minutes.
	MaxThrottleWait time.Duration
	// MaxRunTime caps the time Run waits for an asynchronous remote task
	// (services have their own deadlines too). Default 6 hours.
	MaxRunTime time.Duration
	// MaxFinishWait caps the total wait on a throttled clean-up of one
	// query's remote task (Finisher); past it the task goes to the
	// executor's clean-up queue (DeferCleanup: a job of its own in
	// riverexec's database), or, without one, is left to the archive's
	// retention. Default 15 minutes.
	MaxFinishWait time.Duration
	// KeepFailedUploads makes Upload keep the stored file of an upload
	// whose processing fails (a file that is not the format, a bad row, a
	// cancelled request), for someone to look at. By default such a file is
	// removed, so that refused uploads cannot fill the disk. Products a
	// service query stored are never removed this way: they are the only
	// copy of the archive's answer (see ProcessProducts).
	KeepFailedUploads bool
}

func (o *ManagerOptions) withDefaults() ManagerOptions {
	var out ManagerOptions
	if o != nil {
		out = *o
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.MaxThrottleWait <= 0 {
		out.MaxThrottleWait = 15 * time.Minute
	}
	if out.MaxRunTime <= 0 {
		out.MaxRunTime = 6 * time.Hour
	}
	if out.MaxFinishWait <= 0 {
		out.MaxFinishWait = 15 * time.Minute
	}
	return out
}

// Manager runs the whole flow for any registered service: form → query →
// store → process → ingest. It is the concrete type users call; the work
// that is the same for every service (validation, throttling waits,
// processing, de-duplicated ingest, logging) lives here once. A Manager is
// safe for concurrent use once built (add services and processors before
// sharing it).
type Manager struct {
	store  dataproduct.Store
	opts   ManagerOptions
	logger *slog.Logger

	mu           sync.RWMutex
	services     map[string]Service
	order        []string
	processors   map[string]Processor
	productTypes map[string]string

	slots    sync.Map                 // service name → *Slots (limits.go)
	overlaps map[string]time.Duration // service name → refresh overlap (refresh.go)
}

// NewManager returns a Manager with no services over store.
func NewManager(store dataproduct.Store, opts *ManagerOptions) *Manager {
	o := opts.withDefaults()
	return &Manager{
		store: store, opts: o, logger: o.Logger,
		services: map[string]Service{}, processors: map[string]Processor{}, productTypes: map[string]string{},
	}
}

// Store returns the Manager's store.
func (m *Manager) Store() dataproduct.Store { return m.store }

// AddService adds a service under its Name. A duplicate name is an error;
// so is a Describer whose data product type has no processor yet (add
// processors first).
func (m *Manager) AddService(s Service) error {
	name := s.Name()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.services[name]; dup {
		return fmt.Errorf("service %q is already added", name)
	}
	if d, ok := s.(Describer); ok {
		typ := d.Info().DataProductType
		if _, ok := m.processors[typ]; typ != "" && !ok {
			return fmt.Errorf("service %s stores %q products, but no processor is set for that type (data_processors.%s)", name, typ, typ)
		}
	}
	m.services[name] = s
	m.order = append(m.order, name)
	return nil
}

// AddProcessor sets the processor for a data product type.
func (m *Manager) AddProcessor(productType string, p Processor) error {
	if productType == "" || p == nil {
		return errors.New("AddProcessor needs a data product type and a processor")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.processors[productType]; dup {
		return fmt.Errorf("a processor for %q is already set", productType)
	}
	m.processors[productType] = p
	if _, ok := m.productTypes[productType]; !ok {
		m.productTypes[productType] = productType
	}
	return nil
}

// Services lists the service names in the order they were added.
func (m *Manager) Services() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.order)
}

// Service returns the named service; an unknown name is an error matching
// ErrUnknown that lists the known ones.
func (m *Manager) Service(name string) (Service, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.services[name]
	if !ok {
		return nil, fmt.Errorf("%w: service %q (configured: %s)", ErrUnknown, name, listOrNone(m.order))
	}
	return s, nil
}

// Info describes the named service (the zero Info, with the name as label,
// for services that are not Describers).
func (m *Manager) Info(name string) (Info, error) {
	s, err := m.Service(name)
	if err != nil {
		return Info{}, err
	}
	if d, ok := s.(Describer); ok {
		return d.Info(), nil
	}
	return Info{Label: name}, nil
}

// DataProductTypes returns the data product types and their labels.
func (m *Manager) DataProductTypes() map[string]string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return maps.Clone(m.productTypes)
}

// ProcessorFor returns the processor of a data product type; an unknown
// type is an error wrapping processor.ErrNoProcessor.
func (m *Manager) ProcessorFor(productType string) (Processor, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.processors[productType]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", processor.ErrNoProcessor, productType, listOrNone(slices.Sorted(maps.Keys(m.processors))))
	}
	return p, nil
}

// Form returns the named service's form with params decoded and validated.
// Invalid params give a *FormErrors.
func (m *Manager) Form(service string, params url.Values) (QueryForm, error) {
	s, err := m.Service(service)
	if err != nil {
		return nil, err
	}
	f := s.NewForm()
	if err := f.Decode(params); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// Check validates a request without running it: the service exists, the
// target is valid and the form's params pass. Executors call it in Submit
// so that a web form shows field errors at once.
func (m *Manager) Check(req Request) error {
	if _, err := m.Service(req.Service); err != nil {
		return err
	}
	if err := req.Target.Validate(); err != nil {
		return err
	}
	_, err := m.Form(req.Service, req.Params)
	return err
}

// Step advances a query by one step without waiting, from the checkpoint
// cp its executor kept (the zero Checkpoint for a new query), recording
// every change through save before acting on it (see Checkpoint; save may
// be nil):
//
//   - a new query calls the service's Query (QueryKeyed for a
//     KeyedQuerier, after recording the key);
//   - a recorded remote task is resumed (Resume);
//   - recorded products are processed and ingested, and the archive is not
//     asked again;
//   - after the ingest commits, a Finisher's remote task is cleaned up.
//
// The service gets a sink that replaces a product whose bytes changed
// (Store.ReplaceProduct) and refuses names in the uploads' name space.
//
// Step returns StepResult.Pending while a remote task has not finished (or
// its clean-up was throttled), and the service's errors unchanged (so
// errors.Is/As see *ThrottledError, ErrNotFound, ...). Except for a
// request that fails validation, the StepResult is never nil: keep its
// Checkpoint for the next Step, whatever the error (after a failed
// processing it still lists the stored products, and the next Step
// processes them again, which is safe).
//
// Credentials a server echoed back are redacted from the errors, progress
// reports and remote tasks (see Redactor).
func (m *Manager) Step(ctx context.Context, req Request, cp Checkpoint, save SaveFunc) (res *StepResult, err error) {
	ctx = m.redactingProgress(ctx)
	defer func() { m.redactStep(res, &err) }()
	svc, err := m.Service(req.Service)
	if err != nil {
		return nil, err
	}
	if err := req.Target.Validate(); err != nil {
		return nil, err
	}
	form, err := m.Form(req.Service, req.Params)
	if err != nil {
		return nil, err
	}
	ctx = withProgressService(ctx, req.Service)
	st := &stepper{m: m, req: req, svc: svc, save: save, res: &StepResult{Checkpoint: cp},
		log: m.logger.With("service", req.Service, "target", req.Target.Name)}
	st.res.Remote = cp.Remote
	st.res.Window = cp.Window
	switch {
	case cp.Ingested != nil:
		return st.finish(ctx)
	case len(cp.Products) > 0:
		return st.ingest(ctx)
	}
	// Note whether the service reports progress itself, so that the
	// generic report below does not repeat it.
	var reported atomic.Bool
	ctx = WithProgress(ctx, func(Progress) { reported.Store(true) })
	sink := querySink{store: m.store, service: req.Service}
	var out *Outcome
	if cp.Remote == nil {
		if req.Refresh {
			w, err := st.refreshWindow(ctx, form, cp)
			if err != nil {
				return st.res, err
			}
			st.res.Window, st.res.Checkpoint.Window = &w, &w // recorded with the key or the products
			if st.res.Checkpoint.Since.IsZero() {
				st.res.Checkpoint.Since = time.Now().UTC()
			}
			if w.Empty() {
				st.log.InfoContext(ctx, "refresh: the window holds no epoch to ask for", "window", w.String())
				return st.res, nil
			}
		}
		ReportProgress(ctx, Progress{Service: req.Service, Stage: StageQuerying})
		reported.Store(false)
		if kq, ok := svc.(KeyedQuerier); ok {
			retry := cp.Key != ""
			if !retry {
				next := st.res.Checkpoint
				next.Key = newQueryKey()
				if err := st.record(ctx, next); err != nil {
					return st.res, fmt.Errorf("%s: recording the query's key: %w", req.Service, err)
				}
			}
			st.log.DebugContext(ctx, "query", "key", st.res.Checkpoint.Key, "retry", retry)
			out, err = kq.QueryKeyed(ctx, req.Target, form, st.res.Checkpoint.Key, retry, sink)
		} else {
			st.log.DebugContext(ctx, "query")
			out, err = svc.Query(ctx, req.Target, form, sink)
		}
	} else {
		r, ok := svc.(Resumer)
		if !ok {
			return st.res, fmt.Errorf("%s: %w", req.Service, errNoResumer)
		}
		st.log.DebugContext(ctx, "resume", "task", cp.Remote.ID, "polls", cp.Remote.Polls)
		out, err = r.Resume(ctx, req.Target, *cp.Remote, sink)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		if req.Refresh && ctx.Err() == nil && errors.Is(err, ErrNotFound) && !errors.Is(err, ErrTaskFailed) {
			// Nothing in the window: nothing new.
			st.log.InfoContext(ctx, "refresh: the archive has nothing in the window", "reason", err)
			st.res.Pending = nil
			return st.res, nil
		}
		return st.res, err
	}
	if out == nil {
		return st.res, fmt.Errorf("%s: service returned neither products nor a pending task", req.Service)
	}
	if out.Pending != nil {
		if _, ok := svc.(Resumer); !ok {
			return st.res, fmt.Errorf("%s: %w", req.Service, errNoResumer)
		}
		p := *out.Pending
		p.Service = req.Service
		m.redactTask(&p) // before it is saved: a job row must hold no echoed credential
		next := st.res.Checkpoint
		next.Remote = &p
		st.res.Pending, st.res.Remote = &p, &p
		if err := st.record(ctx, next); err != nil {
			return st.res, fmt.Errorf("%s: recording remote task %s: %w", req.Service, p.ID, err)
		}
		if !reported.Load() {
			ReportProgress(ctx, Progress{Service: req.Service, Stage: stageOf(p), Remote: &p,
				Message: fmt.Sprintf("remote task %s %s", p.ID, p.State)})
		}
		return st.res, nil
	}
	next := st.res.Checkpoint
	next.Products = out.Products
	st.res.Products = out.Products
	if err := st.record(ctx, next); err != nil {
		return st.res, fmt.Errorf("%s: recording the stored products: %w", req.Service, err)
	}
	return st.ingest(ctx)
}

// stepper is one Step in progress.
type stepper struct {
	m    *Manager
	req  Request
	svc  Service
	save SaveFunc
	log  *slog.Logger
	res  *StepResult
}

// record makes next the step's checkpoint and saves it. A failed save
// still leaves next as the checkpoint (it describes what is stored).
func (st *stepper) record(ctx context.Context, next Checkpoint) error {
	st.res.Checkpoint = next
	if st.save == nil {
		return nil
	}
	return st.save(context.WithoutCancel(ctx), next)
}

// ingest processes the recorded products, records the ingest, then
// finishes.
func (st *stepper) ingest(ctx context.Context) (*StepResult, error) {
	cp := st.res.Checkpoint
	st.res.Products = cp.Products
	ing, err := st.m.ProcessProducts(ctx, cp.Products)
	st.res.IngestResult = ing
	if err != nil {
		return st.res, err
	}
	next := cp
	next.Ingested = &ing
	var dropped []dataproduct.Product
	if st.req.Refresh {
		next.Products, dropped = st.dropRedundant(ctx, cp.Since, cp.Products)
	}
	if err := st.record(ctx, next); err != nil {
		// Not fatal: after a crash the next step ingests again, which adds
		// nothing, and then finishes; a redundant product is kept then.
		st.log.WarnContext(ctx, "recording the ingest failed", "error", err)
		st.res.Checkpoint.Products, dropped = cp.Products, nil
	}
	st.deleteProducts(ctx, dropped)
	return st.finish(ctx)
}

// finish cleans up a Finisher's remote task after the ingest committed,
// and ends the query.
func (st *stepper) finish(ctx context.Context) (*StepResult, error) {
	cp := st.res.Checkpoint
	st.res.Products = cp.Products
	st.res.IngestResult = *cp.Ingested
	if f, ok := st.svc.(Finisher); ok && cp.Remote != nil {
		err := f.FinishRemote(ctx, *cp.Remote)
		var te *ThrottledError
		switch {
		case err == nil:
		case ctx.Err() != nil:
			// Stopped or cancelled: the next step finishes.
			return st.res, fmt.Errorf("%w (cleaning up remote task %s: %v)", ctx.Err(), cp.Remote.ID, err)
		case errors.As(err, &te) && cp.FinishWaited < st.m.opts.MaxFinishWait:
			wait := max(te.RetryAfter, time.Second)
			p := *cp.Remote
			p.State, p.NotBefore = RemoteFinishing, st.m.opts.Now().Add(wait)
			next := cp
			next.Remote, next.FinishWaited = &p, cp.FinishWaited+wait
			if err := st.record(ctx, next); err != nil {
				st.log.WarnContext(ctx, "recording the throttled clean-up failed", "error", err)
			}
			st.res.Pending, st.res.Remote = &p, &p
			ReportProgress(ctx, Progress{Service: st.req.Service, Stage: StageThrottled, RetryAfter: wait, Remote: &p,
				Message: fmt.Sprintf("data stored; cleaning up remote task %s %s", p.ID, throttledFor(wait))})
			st.log.InfoContext(ctx, "clean-up of the remote task throttled", "task", p.ID, "wait", wait)
			return st.res, nil
		case Retryable(err) && DeferCleanup(ctx, *cp.Remote, false): // throttling included
			// Past MaxFinishWait, or the archive failing for now: the
			// executor's clean-up queue (the job database for riverexec)
			// does it later.
			st.log.InfoContext(ctx, "clean-up of the remote task handed to the executor's clean-up queue", "task", cp.Remote.ID, "error", err)
		default:
			st.log.WarnContext(ctx, "cleaning up the remote task failed; the data are stored and the archive's retention removes it",
				"task", cp.Remote.ID, "error", err)
		}
	}
	if cp.Remote != nil {
		t := *cp.Remote
		t.State = "finished"
		st.res.Remote = &t
	}
	st.res.Pending = nil
	st.log.InfoContext(ctx, "query done", "products", len(cp.Products), "added", st.res.Added, "skipped", st.res.Skipped)
	return st.res, nil
}

// querySink is the sink a service stores its results in: a result
// replaces the product of the same name (the same query's earlier
// result), and the uploads' name space is refused.
type querySink struct {
	store   dataproduct.Store
	service string
}

// PutProduct implements ProductSink.
func (s querySink) PutProduct(ctx context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	if dataproduct.IsUploadName(p.Name) {
		return dataproduct.Product{}, fmt.Errorf("%s: product name %q: %w: names starting with %q are uploads'",
			s.service, p.Name, dataproduct.ErrConflict, dataproduct.UploadPrefix)
	}
	return s.store.ReplaceProduct(ctx, p, r)
}

// newQueryKey returns a fresh, unguessable key for Checkpoint.Key.
func newQueryKey() string { return string(newJobID()) }

// throttledFor is the progress message of a throttling wait, e.g.
// "throttled for 30 s".
func throttledFor(wait time.Duration) string {
	return fmt.Sprintf("throttled for %d s", int(wait.Round(time.Second)/time.Second))
}

func stageOf(t RemoteTask) string {
	switch t.State {
	case StageRunning, "started", RemoteFinishing:
		return StageRunning
	}
	return StageQueued
}

// ProcessProducts runs each product's processor and ingests the datums,
// product by product (each ingest is all-or-nothing and de-duplicated).
// The result has one Report per product.
// A product that fails to process stays stored: a service's product is the
// archive's answer, and often its only copy (ATLAS deletes its task once
// the file is stored), so it is kept to be processed again later (after a
// fix of the processor), unlike a refused Upload.
func (m *Manager) ProcessProducts(ctx context.Context, products []dataproduct.Product) (_ dataproduct.IngestResult, err error) {
	defer func() { err = m.redactErr(err) }()
	var total dataproduct.IngestResult
	for _, p := range products {
		ReportProgress(ctx, Progress{Stage: StageProcessing, Message: p.Name})
		r, err := m.Process(ctx, p)
		total.Added += r.Added
		total.Skipped += r.Skipped
		total.Reports = append(total.Reports, r.Reports...)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Process runs the processor of the product's data product type over its
// stored file and ingests the datums (all or nothing, de-duplicated). The
// result's Reports say what the processor made of the file (rows read,
// datums, rows skipped by reason); the Manager logs it.
func (m *Manager) Process(ctx context.Context, p dataproduct.Product) (_ dataproduct.IngestResult, err error) {
	defer func() { err = m.redactErr(err) }()
	proc, err := m.ProcessorFor(p.DataProductType)
	if err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("product %q: %w", p.Name, err)
	}
	res, err := processor.Ingest(ctx, m.store, p, proc)
	if err == nil {
		for _, r := range res.Reports {
			m.logger.InfoContext(ctx, "product processed", "product", p.Name, "rows", r.Rows, "datums", r.Datums,
				"skipped_rows", r.SkippedCount(), "report", r.String())
		}
	}
	return res, err
}

// UploadOption says something about an uploaded file besides its bytes.
type UploadOption func(*dataproduct.Product)

// WithObservationTime gives the observation time of an uploaded file that
// holds none (a spectrum without DATE-OBS), as the TOM's upload form does.
// It is recorded with the product (Extra[dataproduct.ExtraObservationTime])
// so that re-processing gives the same datums, and used only when the
// file gives no time. The zero time gives nothing.
func WithObservationTime(t time.Time) UploadOption {
	return func(p *dataproduct.Product) {
		if t.IsZero() {
			return
		}
		if p.Extra == nil {
			p.Extra = map[string]string{}
		}
		p.Extra[dataproduct.ExtraObservationTime] = t.UTC().Format(time.RFC3339Nano)
	}
}

// Upload stores a user's file as a product of the given type for target
// and processes it, like the TOM's data product upload. The product is
// named dataproduct.UploadName(name), in the uploads' own name space, so
// an upload never takes a service's product name; name must pass
// dataproduct.CheckName once prefixed. Uploading the same bytes under the
// same name again changes nothing (and adds no datums); other bytes or
// another type under a name already taken are refused with an error
// wrapping dataproduct.ErrConflict, and nothing changes (delete the old
// upload first to replace it). The result's Reports say what the
// processor made of the file; a file that is not the format is refused
// with a *dataproduct.ParseError. A file that does not arrive whole stores
// nothing. When processing fails (the file is not the format, a row is
// bad, ctx is cancelled), the product is removed again and the error
// returned with a Result that lists no product, unless
// ManagerOptions.KeepFailedUploads; a product that was stored before this
// upload is never removed.
func (m *Manager) Upload(ctx context.Context, targetID int64, productType, name string, r io.Reader, opts ...UploadOption) (*Result, error) {
	if _, err := m.ProcessorFor(productType); err != nil {
		return nil, err
	}
	prod := dataproduct.Product{TargetID: targetID, Name: dataproduct.UploadName(name), DataProductType: productType}
	existed := false
	if !m.opts.KeepFailedUploads {
		old, err := m.store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: targetID, Name: prod.Name})
		if err != nil {
			return nil, err
		}
		existed = len(old) > 0
	}
	for _, o := range opts {
		o(&prod)
	}
	p, err := m.store.PutProduct(ctx, prod, r)
	if err != nil {
		return nil, err
	}
	ing, err := m.Process(ctx, p)
	var pe *dataproduct.ParseError
	if errors.As(err, &pe) && pe.File == p.Name {
		pe.File = name // the user knows the file by the name they gave
	}
	if err != nil && !m.opts.KeepFailedUploads && !existed {
		return &Result{IngestResult: ing}, m.removeFailedUpload(ctx, p, err)
	}
	return &Result{Products: []dataproduct.Product{p}, IngestResult: ing}, err
}

// removeFailedUpload deletes the product of an upload whose processing
// failed with err, even when ctx is done, and returns err (joined with
// the deletion's error, if any).
func (m *Manager) removeFailedUpload(ctx context.Context, p dataproduct.Product, err error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if derr := m.store.DeleteProduct(dctx, p.ID); derr != nil && !errors.Is(derr, dataproduct.ErrNotFound) {
		m.logger.WarnContext(ctx, "removing a refused upload failed", "product", p.Name, "error", derr)
		return errors.Join(err, fmt.Errorf("removing the refused upload %q: %w", p.Name, derr))
	}
	m.logger.InfoContext(ctx, "refused upload removed", "product", p.Name, "error", err)
	return err
}

// Run runs a query to the end: it validates the request, queries, waits
// for an asynchronous remote task (sleeping until each NotBefore, never
// longer than MaxRunTime), waits out throttling (reported as progress, at
// most MaxThrottleWait in all), and processes and ingests the products,
// then cleans up the remote task (Finisher). It is what the Immediate
// executor does. Cancel ctx to stop waiting; an asynchronous remote task
// then stays where it is.
func (m *Manager) Run(ctx context.Context, req Request) (*Result, error) {
	if err := m.Check(req); err != nil {
		return nil, err
	}
	start := m.opts.Now()
	var cp Checkpoint
	throttled := time.Duration(0)
	for {
		res, err := m.Step(ctx, req, cp, nil)
		if res != nil {
			cp = res.Checkpoint
		}
		var te *ThrottledError
		switch {
		case errors.As(err, &te):
			wait := max(te.RetryAfter, time.Second)
			if throttled+wait > m.opts.MaxThrottleWait {
				return nil, fmt.Errorf("%w (waited %s on throttling already)", err, throttled)
			}
			throttled += wait
			ReportProgress(ctx, Progress{Service: req.Service, Stage: StageThrottled, RetryAfter: wait,
				Message: throttledFor(wait)})
			m.logger.InfoContext(ctx, "throttled", "service", req.Service, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			if res != nil {
				return &res.Result, err
			}
			return nil, err
		case res.Pending != nil:
			// A clean-up waiting on throttling has its own bound
			// (MaxFinishWait): the data are in.
			if cp.Ingested == nil && m.opts.Now().Sub(start) > m.opts.MaxRunTime {
				return &res.Result, fmt.Errorf("%s: remote task %s: %w after %s", req.Service, res.Pending.ID, ErrDeadline, m.opts.MaxRunTime)
			}
			if err := sleep(ctx, res.Pending.Wait(m.opts.Now())); err != nil {
				return &res.Result, err
			}
			continue
		}
		return &res.Result, nil
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
