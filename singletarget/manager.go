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
}

// Result is what a finished query produced.
type Result struct {
	// Products are the stored result files.
	Products []dataproduct.Product `json:"products"`
	// Added and Skipped count the datums ingested and the duplicates.
	dataproduct.IngestResult
	// Remote is the remote task, for asynchronous services.
	Remote *RemoteTask `json:"remote,omitempty"`
}

// StepResult is what one Step did: the query finished (Products and the
// ingest counts), or a remote task is pending.
type StepResult struct {
	Result
	// Pending is set while the remote task has not finished.
	Pending *RemoteTask `json:"pending,omitempty"`
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

	slots sync.Map // service name → *Slots (limits.go)
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

// Step advances a query by one step without waiting: with task nil it calls
// the service's Query, otherwise Resume on the task. When products come
// back it processes and ingests them. It returns StepResult.Pending while a
// remote task has not finished, and the service's errors unchanged (so
// errors.Is/As see *ThrottledError, ErrNotFound, ...). If processing fails
// after products were stored, the result still lists the products and the
// error says what failed; processing them again later (ProcessProducts) is
// safe.
func (m *Manager) Step(ctx context.Context, req Request, task *RemoteTask) (_ *StepResult, err error) {
	ctx = m.redactingProgress(ctx)
	var res *StepResult
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
	log := m.logger.With("service", req.Service, "target", req.Target.Name)
	ctx = withProgressService(ctx, req.Service)
	// Note whether the service reports progress itself, so that the
	// generic report below does not repeat it.
	var reported atomic.Bool
	ctx = WithProgress(ctx, func(Progress) { reported.Store(true) })
	var out *Outcome
	if task == nil {
		ReportProgress(ctx, Progress{Service: req.Service, Stage: StageQuerying})
		reported.Store(false)
		log.DebugContext(ctx, "query")
		out, err = svc.Query(ctx, req.Target, form, m.store)
	} else {
		r, ok := svc.(Resumer)
		if !ok {
			return nil, fmt.Errorf("%s: %w", req.Service, errNoResumer)
		}
		log.DebugContext(ctx, "resume", "task", task.ID, "polls", task.Polls)
		out, err = r.Resume(ctx, req.Target, *task, m.store)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("%s: service returned neither products nor a pending task", req.Service)
	}
	res = &StepResult{}
	if out.Pending != nil {
		if _, ok := svc.(Resumer); !ok {
			return nil, fmt.Errorf("%s: %w", req.Service, errNoResumer)
		}
		p := *out.Pending
		p.Service = req.Service
		res.Pending, res.Remote = &p, &p
		if !reported.Load() {
			ReportProgress(ctx, Progress{Service: req.Service, Stage: stageOf(p), Remote: &p,
				Message: fmt.Sprintf("remote task %s %s", p.ID, p.State)})
		}
		return res, nil
	}
	if task != nil {
		t := *task
		t.State = "finished"
		res.Remote = &t
	}
	res.Products = out.Products
	ing, err := m.ProcessProducts(ctx, out.Products)
	res.IngestResult = ing
	if err != nil {
		return res, err
	}
	log.InfoContext(ctx, "query done", "products", len(out.Products), "added", ing.Added, "skipped", ing.Skipped)
	return res, nil
}

func stageOf(t RemoteTask) string {
	switch t.State {
	case StageRunning, "started":
		return StageRunning
	}
	return StageQueued
}

// ProcessProducts runs each product's processor and ingests the datums,
// product by product (each ingest is all-or-nothing and de-duplicated).
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
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Process runs the processor of the product's data product type over its
// stored file and ingests the datums (all or nothing, de-duplicated).
func (m *Manager) Process(ctx context.Context, p dataproduct.Product) (_ dataproduct.IngestResult, err error) {
	defer func() { err = m.redactErr(err) }()
	proc, err := m.ProcessorFor(p.DataProductType)
	if err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("product %q: %w", p.Name, err)
	}
	return processor.Ingest(ctx, m.store, p, proc)
}

// Upload stores a user's file as a product of the given type for target
// and processes it, like the TOM's data product upload. name must pass
// dataproduct.CheckName. A file that does not arrive whole stores
// nothing. When processing fails (the file is not the format, a row is
// bad, ctx is cancelled), the product is removed again and the error
// returned with a Result that lists no product, unless
// ManagerOptions.KeepFailedUploads; a product of that name that existed
// before the upload is never removed.
func (m *Manager) Upload(ctx context.Context, targetID int64, productType, name string, r io.Reader) (*Result, error) {
	if _, err := m.ProcessorFor(productType); err != nil {
		return nil, err
	}
	existed := false
	if !m.opts.KeepFailedUploads {
		old, err := m.store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: targetID, Name: name})
		if err != nil {
			return nil, err
		}
		existed = len(old) > 0
	}
	p, err := m.store.PutProduct(ctx, dataproduct.Product{TargetID: targetID, Name: name, DataProductType: productType}, r)
	if err != nil {
		return nil, err
	}
	ing, err := m.Process(ctx, p)
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
// most MaxThrottleWait in all), and processes and ingests the products.
// It is what the Immediate executor does. Cancel ctx to stop waiting; an
// asynchronous remote task then stays where it is.
func (m *Manager) Run(ctx context.Context, req Request) (*Result, error) {
	if err := m.Check(req); err != nil {
		return nil, err
	}
	start := m.opts.Now()
	var task *RemoteTask
	throttled := time.Duration(0)
	for {
		res, err := m.Step(ctx, req, task)
		var te *ThrottledError
		switch {
		case errors.As(err, &te):
			wait := max(te.RetryAfter, time.Second)
			if throttled+wait > m.opts.MaxThrottleWait {
				return nil, fmt.Errorf("%w (waited %s on throttling already)", err, throttled)
			}
			throttled += wait
			ReportProgress(ctx, Progress{Service: req.Service, Stage: StageThrottled, RetryAfter: wait,
				Message: fmt.Sprintf("throttled for %d s", int(wait.Round(time.Second)/time.Second))})
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
			task = res.Pending
			if m.opts.Now().Sub(start) > m.opts.MaxRunTime {
				return &res.Result, fmt.Errorf("%s: remote task %s: %w after %s", req.Service, task.ID, ErrDeadline, m.opts.MaxRunTime)
			}
			if err := sleep(ctx, task.Wait(m.opts.Now())); err != nil {
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
