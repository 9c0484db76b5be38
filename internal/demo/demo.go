// Package demo is a tiny asynchronous single-target data service that
// needs no network: its "archive" lives in memory. It exercises the whole
// core flow (forms, pending remote tasks, throttling, products, processing)
// in the core's own tests and examples. It is internal: TOM developers
// write services like the ones in atlas, panstarrs and ztf.
package demo

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// Names used by the demo service, as every service package names them.
const (
	ServiceName     = "DEMO"
	ServiceClass    = "demo.Service"
	DataProductType = "demo_photometry"
)

// Archive is the in-memory remote side: it holds tasks and can be scripted
// to throttle. It is safe for concurrent use.
type Archive struct {
	// Key is the API key the archive accepts.
	Key singletarget.Secret
	// Polls is how many looks a task needs before it finishes.
	Polls int

	mu        sync.Mutex
	nextID    int
	tasks     map[string]*task
	throttle  []time.Duration
	Submitted int // tasks submitted so far
}

type task struct {
	target singletarget.Target
	from   float64
	to     float64
	polls  int
}

// NewArchive returns an archive accepting key, finishing tasks after polls looks.
func NewArchive(key singletarget.Secret, polls int) *Archive {
	return &Archive{Key: key, Polls: polls, tasks: map[string]*task{}}
}

// ThrottleNext makes the next request be refused with a wait.
func (a *Archive) ThrottleNext(wait time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.throttle = append(a.throttle, wait)
}

func (a *Archive) check(ctx context.Context, key singletarget.Secret) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if key != a.Key {
		return fmt.Errorf("demo archive: %w: bad key", singletarget.ErrUnauthorized)
	}
	if len(a.throttle) > 0 {
		w := a.throttle[0]
		a.throttle = a.throttle[1:]
		return &singletarget.ThrottledError{Service: ServiceName, RetryAfter: w, Detail: "demo archive is busy"}
	}
	return nil
}

// Form is the demo query form.
type Form struct {
	singletarget.FormBase
	MinDateMJD float64 `form:"min_date_mjd" label:"Min MJD" help:"Start of the window (MJD)." validate:"gte=40000,lte=100000"`
	MaxDateMJD float64 `form:"max_date_mjd" label:"Max MJD" help:"End of the window (MJD)." validate:"gte=40000,lte=100000"`
	Band       string  `form:"band" label:"Band" choices:"g=g|r=r|both=g and r"`
}

// Clean implements singletarget.Cleaner.
func (f *Form) Clean(errs *singletarget.FormErrors) {
	if f.MaxDateMJD <= f.MinDateMJD {
		errs.Add("max_date_mjd", "Must be after min_date_mjd.")
	}
}

// Layout implements singletarget.QueryForm: the window on one row.
func (f *Form) Layout() singletarget.Layout {
	return singletarget.Layout{Rows: [][]string{{"min_date_mjd", "max_date_mjd"}, {"band"}}}
}

// Service is the demo service.
type Service struct {
	archive *Archive
	key     singletarget.Secret
	poll    time.Duration
}

// NewService returns a demo service using archive with key; results are
// polled every poll.
func NewService(archive *Archive, key singletarget.Secret, poll time.Duration) *Service {
	return &Service{archive: archive, key: key, poll: poll}
}

// Name implements singletarget.Service.
func (s *Service) Name() string { return ServiceName }

// NewForm implements singletarget.Service.
func (s *Service) NewForm() singletarget.QueryForm {
	f := &Form{MinDateMJD: 60300, MaxDateMJD: 60330, Band: "both"}
	f.Bind(f)
	return f
}

// Info implements singletarget.Describer.
func (s *Service) Info() singletarget.Info {
	return singletarget.Info{Label: "Demo archive", Kind: "Forced Photometry", DataProductType: DataProductType, Async: true,
		Notes: "An in-memory archive for examples and tests."}
}

// Query implements singletarget.Service: it submits a task.
func (s *Service) Query(ctx context.Context, t singletarget.Target, qf singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	f := qf.(*Form)
	if err := s.archive.check(ctx, s.key); err != nil {
		return nil, err
	}
	a := s.archive
	a.mu.Lock()
	a.nextID++
	a.Submitted++
	id := strconv.Itoa(a.nextID)
	a.tasks[id] = &task{target: t, from: f.MinDateMJD, to: f.MaxDateMJD}
	a.mu.Unlock()
	now := time.Now().UTC()
	return &singletarget.Outcome{Pending: &singletarget.RemoteTask{
		Service: ServiceName, ID: id, URL: "demo://tasks/" + id, State: "queued", Submitted: now, NotBefore: now.Add(s.poll),
		Data: map[string]string{"band": f.Band},
	}}, nil
}

// Resume implements singletarget.Resumer.
func (s *Service) Resume(ctx context.Context, t singletarget.Target, rt singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := s.archive.check(ctx, s.key); err != nil {
		return nil, err
	}
	a := s.archive
	a.mu.Lock()
	tk, ok := a.tasks[rt.ID]
	if ok {
		tk.polls++
	}
	a.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("demo task %s: %w", rt.ID, singletarget.ErrNotFound)
	}
	if tk.polls < a.Polls {
		rt.Polls++
		rt.State = "running"
		rt.NotBefore = time.Now().Add(s.poll)
		return &singletarget.Outcome{Pending: &rt}, nil
	}
	body := Lightcurve(tk.target, tk.from, tk.to, rt.Data["band"])
	name := fmt.Sprintf("demo-%s-%.0f-%.0f.csv", dataproduct.SafeName(t.Name), tk.from, tk.to)
	p, err := out.PutProduct(ctx, dataproduct.Product{TargetID: t.ID, Name: name, DataProductType: DataProductType,
		ContentType: "text/csv", Extra: map[string]string{"task": rt.ID}}, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

// CancelRemote implements singletarget.Canceller.
func (s *Service) CancelRemote(_ context.Context, rt singletarget.RemoteTask) error {
	s.archive.mu.Lock()
	defer s.archive.mu.Unlock()
	delete(s.archive.tasks, rt.ID)
	return nil
}

// Lightcurve renders a deterministic light curve of a fading transient as
// a photometry table: one point a night per band, a limit when faint.
func Lightcurve(t singletarget.Target, from, to float64, band string) string {
	var b strings.Builder
	b.WriteString("time,filter,magnitude,error,limit,telescope\n")
	bands := []string{"g", "r"}
	if band == "g" || band == "r" {
		bands = []string{band}
	}
	phase := math.Mod(t.RA+t.Dec, 7)
	for mjd := math.Ceil(from); mjd < to; mjd++ {
		for i, f := range bands {
			tt := mjd + 0.1 + 0.01*float64(i)
			mag := 16 + 0.08*(mjd-from) + 0.3*float64(i) + 0.1*math.Sin(mjd+phase)
			if mag > 18.2 {
				fmt.Fprintf(&b, "%.5f,%s,,,%.3f,DEMO\n", tt, f, 18.5+0.05*math.Cos(mjd))
			} else {
				fmt.Fprintf(&b, "%.5f,%s,%.3f,%.3f,,DEMO\n", tt, f, mag, 0.02+0.01*(mag-16))
			}
		}
	}
	return b.String()
}

// Processor returns the processor of demo products.
func Processor() processor.Processor { return processor.PhotometryTable{Source: ServiceName} }

// Register adds the demo classes to r. The factory builds a service over
// archive (its api_key must match) and reads the extra key poll_ms.
func Register(r *singletarget.Registry, archive *Archive) error {
	if err := r.Register(ServiceClass, func(s singletarget.Settings) (singletarget.Service, error) {
		var extra struct {
			PollMS int `setting:"poll_ms" validate:"gte=0,lte=60000"`
		}
		if err := s.DecodeExtra(&extra); err != nil {
			return nil, err
		}
		if s.APIKey.IsZero() {
			return nil, &singletarget.ConfigError{Key: "single_target_data_services." + s.Name + ".api_key", Msg: "missing"}
		}
		return NewService(archive, s.APIKey, time.Duration(extra.PollMS)*time.Millisecond), nil
	}); err != nil {
		return err
	}
	return r.RegisterProcessor("demo.Processor", Processor())
}
