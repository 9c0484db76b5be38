package riverexec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tomgo/targetdata/singletarget"
)

// CycleKind is the River job kind of a scheduled refresh's cycle: the job
// that asks for the targets and inserts their refresh jobs.
const CycleKind = "targetdata_refresh_cycle"

// Tags of the jobs a refresh cycle inserts.
const (
	refreshTag     = "targetdata_refresh"
	cycleTagPrefix = "targetdata_cycle_"
)

// DefaultPaceShare is Schedule.PaceShare's default.
const DefaultPaceShare = 0.95

// Schedule is a scheduled refresh (Options.Refresh): every Every, a cycle
// refreshes every target Targets returns from every service of Services
// (singletarget.Request.Refresh: only the epochs from the newest stored
// one on, less the service's overlap).
//
// River runs it as a periodic job: the elected leader among the worker
// processes inserts a cycle job (also when it becomes leader, so that
// restarts do not starve the schedule), and one worker runs it: it calls
// Targets and inserts one refresh job per target and service, tagged so
// that RefreshCycles finds them, which every worker then shares. The
// queries of a singletarget.Paced service (ATLAS: its account's 60 writes
// a minute) are spread at PaceShare of its pace, the whole fleet
// together, so that the cycle stays within the account's limit whatever
// the number of worker processes; other services' jobs are available at
// once, within their clients' own request rates.
//
// A cycle does not pile up on the previous one: while any refresh job of
// an earlier cycle is unfinished, the cycle is skipped, and the skip is
// logged and reported (RefreshCycle.Skipped). A cycle whose paced queries
// need longer than Every at the service's pace says so before it starts
// (RefreshCycle.Shortfall, and a warning in the log). A cycle that comes
// less than half a period after the last one ran (a leader elected
// again) is skipped quietly.
type Schedule struct {
	// Every is the period, at least a second. Required.
	Every time.Duration
	// Services are the services to refresh with their form values (nil
	// Params: the initial values). Default: every service of the
	// Manager.
	Services []ScheduledService
	// Targets returns the targets to refresh; each cycle calls it once,
	// in the worker that runs the cycle (so every worker process needs
	// it). An error fails the cycle, which River retries. Required.
	Targets func(ctx context.Context) ([]singletarget.Target, error)
	// PaceShare is the share of a paced service's pace a cycle uses,
	// leaving the rest to other queries (a user's, in the web TOM).
	// Default DefaultPaceShare; at most 1.
	PaceShare float64
}

// ScheduledService is one service of a Schedule.
type ScheduledService struct {
	// Name is the service's registry name.
	Name string
	// Params are the form values of its refresh queries (nil: the form's
	// initial values).
	Params url.Values
}

// ScheduleFromConfig returns the schedule the settings' refresh section
// describes, with targets as its Targets; nil when the section sets no
// period.
func ScheduleFromConfig(cfg singletarget.RefreshConfig, targets func(ctx context.Context) ([]singletarget.Target, error)) *Schedule {
	if cfg.Every <= 0 {
		return nil
	}
	s := &Schedule{Every: cfg.Every, Targets: targets}
	for _, name := range cfg.ServiceNames() {
		s.Services = append(s.Services, ScheduledService{Name: name, Params: cfg.Services[name]})
	}
	return s
}

// check validates the schedule against the Manager and fills in
// defaults.
func (s *Schedule) check(m *singletarget.Manager) error {
	var errs []error
	if s.Every < time.Second {
		errs = append(errs, fmt.Errorf("Schedule.Every must be at least a second, not %s", s.Every))
	}
	if s.Targets == nil {
		errs = append(errs, errors.New("Schedule.Targets is required: the function that names the targets to refresh"))
	}
	switch {
	case s.PaceShare == 0:
		s.PaceShare = DefaultPaceShare
	case s.PaceShare < 0 || s.PaceShare > 1:
		errs = append(errs, fmt.Errorf("Schedule.PaceShare must be in (0, 1], not %v", s.PaceShare))
	}
	if len(s.Services) == 0 {
		for _, name := range m.Services() {
			s.Services = append(s.Services, ScheduledService{Name: name})
		}
	}
	for _, ss := range s.Services {
		if _, err := m.Form(ss.Name, ss.Params); err != nil {
			errs = append(errs, fmt.Errorf("Schedule.Services %s: %w", ss.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("riverexec: %w: %w", singletarget.ErrConfig, err)
	}
	return nil
}

// CycleID identifies a refresh cycle: its cycle job's row id.
type CycleID int64

// RefreshCycle reports one cycle of the scheduled refresh.
type RefreshCycle struct {
	// ID is the cycle's id.
	ID CycleID `json:"id"`
	// Forced reports a cycle started by RefreshNow.
	Forced bool `json:"forced,omitempty"`
	// Started is when the cycle ran (it inserted its jobs then); zero for
	// a cycle not run yet.
	Started time.Time `json:"started,omitzero"`
	// Period is the schedule's period when it ran.
	Period time.Duration `json:"period"`
	// Targets counts the targets refreshed; Invalid the targets Targets
	// returned that fail singletarget.Target.Validate (left out).
	Targets int `json:"targets"`
	Invalid int `json:"invalid,omitempty"`
	// Services lists, per service, its batch (BatchProgress and the other
	// batch methods take it) and its pace.
	Services []CycleService `json:"services,omitempty"`
	// Skipped says why the cycle refreshed nothing (the previous one
	// still running, or too soon after it); empty when it ran.
	Skipped string `json:"skipped,omitempty"`
	// Shortfall says that a paced service's queries need longer than the
	// period at its pace; empty when they fit.
	Shortfall string `json:"shortfall,omitempty"`
	// Error is why the cycle failed, when it did.
	Error string `json:"error,omitempty"`

	// Progress counts the cycle's jobs, every service together, and
	// Finished is when the last of them ended (zero while any runs).
	// RefreshCycles fills them in; they are not stored.
	Progress singletarget.BatchProgress `json:"progress"`
	Finished time.Time                  `json:"finished,omitzero"`
}

// CycleService is one service's part of a cycle.
type CycleService struct {
	// Service is the registry name.
	Service string `json:"service"`
	// Batch is the batch of the service's refresh jobs.
	Batch BatchID `json:"batch"`
	// Pace is the service's pace (zero: unpaced) and Spread the time over
	// which the cycle spread its queries (0: all at once).
	Pace   singletarget.Pace `json:"pace,omitzero"`
	Spread time.Duration     `json:"spread,omitempty"`
}

// cycleArgs are a cycle job's arguments.
type cycleArgs struct {
	// Forced is set by RefreshNow: the cycle runs even right after another.
	Forced bool `json:"forced,omitempty"`
}

// Kind implements river.JobArgs.
func (cycleArgs) Kind() string { return CycleKind }

// cycleInsertOpts make at most one cycle job wait or run at a time.
func (x *Executor) cycleInsertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: x.opts.Queue, MaxAttempts: x.opts.MaxAttempts, UniqueOpts: river.UniqueOpts{
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// periodicJobs are the River periodic jobs of the schedule.
func (x *Executor) periodicJobs() []*river.PeriodicJob {
	s := x.opts.Refresh
	if s == nil {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.Every),
		func() (river.JobArgs, *river.InsertOpts) { return cycleArgs{}, x.cycleInsertOpts() },
		&river.PeriodicJobOpts{ID: CycleKind, RunOnStart: true})}
}

// RefreshNow inserts a refresh cycle to run at once, whatever the time
// since the last one (but not while the previous cycle's jobs run: it is
// skipped then, as any cycle is). It works from an insert-only executor;
// a worker process with a Schedule runs the cycle. When a cycle is
// already waiting to run, its id is returned, nothing is inserted, and
// that cycle runs as RefreshNow's (whatever the time since the last).
func (x *Executor) RefreshNow(ctx context.Context) (CycleID, error) {
	for {
		job, err := x.eng.insertArgs(ctx, cycleArgs{Forced: true}, x.cycleInsertOpts())
		if err != nil {
			return 0, fmt.Errorf("riverexec: insert a refresh cycle: %w", err)
		}
		c := cycleOf(job)
		switch {
		case c.Forced:
			return c.ID, nil
		case job.State != rivertype.JobStateRunning:
			// A scheduled cycle was waiting (cycles are unique until they
			// end): it becomes forced, or it would be skipped as too soon
			// after the last one and RefreshNow would refresh nothing.
			c.Forced = true
			if err := x.eng.setOutput(ctx, job.ID, &c); err != nil {
				return 0, fmt.Errorf("riverexec: mark refresh cycle %d forced: %w", job.ID, err)
			}
			return c.ID, nil
		}
		// A scheduled cycle is deciding right now: it is RefreshNow's if
		// it runs; if it skips, a forced one is inserted after it.
		if ran, err := x.awaitCycle(ctx, job.ID); err != nil || ran {
			return c.ID, err
		}
	}
}

// awaitCycle waits for the running cycle job id to end and reports
// whether it ran (inserted its jobs) rather than skipped.
func (x *Executor) awaitCycle(ctx context.Context, id int64) (bool, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		job, err := x.eng.get(ctx, id)
		if err != nil {
			return false, fmt.Errorf("riverexec: refresh cycle %d: %w", id, err)
		}
		if job.State != rivertype.JobStateRunning {
			c := cycleOf(job)
			return job.State == rivertype.JobStateCompleted && c.Skipped == "" && !c.Started.IsZero(), nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("riverexec: refresh cycle %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// RefreshCycles returns the latest refresh cycles, newest first (at most
// limit; default 10), each with its jobs' progress. River keeps finished
// cycle jobs as its retention settings say (a day by default).
func (x *Executor) RefreshCycles(ctx context.Context, limit int) ([]RefreshCycle, error) {
	if limit <= 0 {
		limit = 10
	}
	jobs, err := x.eng.listCycles(ctx, nil, limit)
	if err != nil {
		return nil, fmt.Errorf("riverexec: list refresh cycles: %w", err)
	}
	out := make([]RefreshCycle, 0, len(jobs))
	for _, j := range jobs {
		c := cycleOf(j)
		if c.Started.IsZero() || c.Skipped != "" {
			out = append(out, c)
			continue
		}
		rows, err := x.cycleJobs(ctx, c.ID, nil)
		if err != nil {
			return nil, err
		}
		c.Progress = progressOf(rows, time.Now())
		c.Progress.Elapsed = time.Since(c.Started)
		if c.Progress.Finished() {
			for _, r := range rows {
				if r.FinalizedAt != nil && r.FinalizedAt.After(c.Finished) {
					c.Finished = *r.FinalizedAt
				}
			}
			c.Progress.Elapsed = c.Finished.Sub(c.Started)
		}
		out = append(out, c)
	}
	return out, nil
}

// cycleOf reads a cycle job's report.
func cycleOf(j *rivertype.JobRow) RefreshCycle {
	var c RefreshCycle
	if out := j.Output(); len(out) > 0 {
		_ = json.Unmarshal(out, &c)
	}
	var args cycleArgs
	_ = json.Unmarshal(j.EncodedArgs, &args)
	c.ID, c.Forced = CycleID(j.ID), c.Forced || args.Forced // RefreshNow forces a waiting cycle through its output
	if c.Error == "" && j.State == rivertype.JobStateDiscarded && len(j.Errors) > 0 {
		c.Error = j.Errors[len(j.Errors)-1].Error
	}
	return c
}

func cycleTag(id CycleID) string { return cycleTagPrefix + strconv.FormatInt(int64(id), 10) }

// cycleBatch is the batch id of a service's jobs in a cycle: the same on
// every attempt of the cycle job, so that a retried cycle finds the jobs
// it inserted before.
func cycleBatch(id CycleID, service string) BatchID {
	sum := sha256.Sum256([]byte(strconv.FormatInt(int64(id), 10) + "\x00" + service))
	return BatchID(hex.EncodeToString(sum[:12]))
}

// unfinished are the River states of a job not finished.
var unfinished = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// cycleJobs lists a cycle's refresh jobs (in states, none: any).
func (x *Executor) cycleJobs(ctx context.Context, id CycleID, states []rivertype.JobState) ([]*rivertype.JobRow, error) {
	var all []*rivertype.JobRow
	before := int64(0)
	for {
		rows, err := x.eng.listJobs(ctx, []string{cycleTag(id)}, states, before, 1000)
		if err != nil {
			return nil, fmt.Errorf("riverexec: list the jobs of refresh cycle %d: %w", id, err)
		}
		all = append(all, rows...)
		if len(rows) < 1000 {
			return all, nil
		}
		before = rows[len(rows)-1].ID
	}
}

// cycleWorker runs cycle jobs.
type cycleWorker struct {
	river.WorkerDefaults[cycleArgs]
	x *Executor
}

// Work implements river.Worker.
func (w *cycleWorker) Work(ctx context.Context, job *river.Job[cycleArgs]) error {
	x := w.x
	s := x.opts.Refresh
	if s == nil {
		// Another worker process (with the schedule) may take it.
		return errors.New("this worker process has no refresh schedule (riverexec.Options.Refresh)")
	}
	id := CycleID(job.ID)
	log := x.opts.Logger.With("refresh_cycle", id)
	c := cycleOf(job.JobRow)
	c.Period = s.Every
	now := time.Now()
	if c.Started.IsZero() {
		c.Started = now.UTC()
	}
	done := func() error {
		c.Progress = singletarget.BatchProgress{}
		return river.RecordOutput(ctx, &c)
	}
	if !c.Forced {
		last, err := x.lastCycle(ctx, id)
		if err != nil {
			return err
		}
		if !last.IsZero() && now.Sub(last) < s.Every/2 {
			c.Skipped = fmt.Sprintf("the last cycle ran %s ago, less than half the period %s", now.Sub(last).Round(time.Second), s.Every)
			log.DebugContext(ctx, "refresh cycle skipped", "reason", c.Skipped)
			return done()
		}
	}
	left, err := x.eng.listJobs(ctx, []string{refreshTag}, unfinished, 0, 1000)
	if err != nil {
		return fmt.Errorf("riverexec: refresh cycle: looking for the previous cycle's jobs: %w", err)
	}
	left = slices.DeleteFunc(left, func(r *rivertype.JobRow) bool { return slices.Contains(r.Tags, cycleTag(id)) })
	if n := len(left); n > 0 {
		more := ""
		if n == 1000 {
			more = " or more"
		}
		c.Skipped = fmt.Sprintf("the previous cycle is still running (%d%s of its jobs left): skipped instead of piling up", n, more)
		log.WarnContext(ctx, "refresh cycle skipped", "reason", c.Skipped, "period", s.Every)
		return done()
	}

	targets, err := s.Targets(ctx)
	if err != nil {
		return fmt.Errorf("riverexec: refresh cycle: the targets: %w", err)
	}
	valid := targets[:0:0]
	for _, t := range targets {
		if t.Validate() != nil {
			c.Invalid++
			continue
		}
		valid = append(valid, t)
	}
	if c.Invalid > 0 {
		log.WarnContext(ctx, "refresh cycle: targets left out (invalid)", "count", c.Invalid)
	}
	c.Targets = len(valid)
	c.Services = c.Services[:0]
	var shortfalls []string
	for _, ss := range s.Services {
		cs := CycleService{Service: ss.Name, Batch: cycleBatch(id, ss.Name)}
		if svc, err := x.m.Service(ss.Name); err == nil {
			if p, ok := svc.(singletarget.Paced); ok {
				cs.Pace = p.Pace()
			}
		}
		interval := time.Duration(float64(cs.Pace.Interval()) / s.PaceShare)
		cs.Spread = interval * time.Duration(len(valid))
		if cs.Spread > s.Every {
			shortfalls = append(shortfalls, fmt.Sprintf("%s: %d targets need %s at %.0f%% of its pace (%s), more than the period %s",
				ss.Name, len(valid), cs.Spread.Round(time.Second), 100*s.PaceShare, cs.Pace, s.Every))
		}
		c.Services = append(c.Services, cs)
	}
	c.Shortfall = strings.Join(shortfalls, "; ")
	if c.Shortfall != "" {
		log.WarnContext(ctx, "refresh cycle cannot finish within its period; the next cycles are skipped while it runs", "shortfall", c.Shortfall)
	}
	// The report goes to the job's row first: a retried cycle keeps its
	// start (and so its jobs' times) and finds its jobs by their tags.
	if err := x.eng.setOutput(ctx, job.ID, &c); err != nil {
		return fmt.Errorf("riverexec: refresh cycle: recording its report: %w", err)
	}
	for i, cs := range c.Services {
		if err := x.insertCycleJobs(ctx, id, c.Started, s.Services[i], cs, valid, s.PaceShare); err != nil {
			return err
		}
	}
	log.InfoContext(ctx, "refresh cycle started", "targets", c.Targets, "services", len(c.Services))
	return done()
}

// lastCycle is when the last cycle before id that ran started (zero:
// none known).
func (x *Executor) lastCycle(ctx context.Context, id CycleID) (time.Time, error) {
	jobs, err := x.eng.listCycles(ctx, []rivertype.JobState{rivertype.JobStateCompleted}, 20)
	if err != nil {
		return time.Time{}, fmt.Errorf("riverexec: refresh cycle: listing the earlier cycles: %w", err)
	}
	for _, j := range jobs {
		if c := cycleOf(j); c.ID != id && c.Skipped == "" && !c.Started.IsZero() {
			return c.Started, nil
		}
	}
	return time.Time{}, nil
}

// insertCycleJobs inserts a service's refresh jobs of a cycle (those not
// inserted by an earlier attempt), each starting at its place in the
// service's pace.
func (x *Executor) insertCycleJobs(ctx context.Context, id CycleID, start time.Time, ss ScheduledService, cs CycleService,
	targets []singletarget.Target, share float64) error {
	have := map[int64]bool{}
	if existing, err := x.batchJobs(ctx, cs.Batch); err == nil {
		for _, r := range existing {
			have[argsOf(r).Request.Target.ID] = true
		}
	} else if !errors.Is(err, singletarget.ErrUnknownJob) {
		return err
	}
	interval := time.Duration(float64(cs.Pace.Interval()) / share)
	now := time.Now()
	var params []river.InsertManyParams
	flush := func() error {
		if len(params) == 0 {
			return nil
		}
		if _, err := x.eng.insertParams(ctx, params); err != nil {
			return fmt.Errorf("riverexec: refresh cycle %d: insert %s jobs: %w", id, ss.Name, err)
		}
		params = params[:0]
		return nil
	}
	for i, t := range targets {
		if have[t.ID] {
			continue
		}
		args := Args{Request: singletarget.Request{Service: ss.Name, Target: t, Params: ss.Params, Refresh: true}, Key: newKey()}
		opts := &river.InsertOpts{Queue: x.opts.Queue, MaxAttempts: x.opts.MaxAttempts,
			Tags: append([]string{refreshTag, cycleTag(id), cs.Batch.tag()}, jobTags(args.Request)...)}
		if interval > 0 {
			args.NotBefore = start.Add(time.Duration(i) * interval).UTC()
			// River makes a scheduled job available within its scheduler's
			// interval (5 s) after ScheduledAt; the worker waits the rest.
			if at := args.NotBefore.Add(-schedulerLead); at.After(now) {
				opts.ScheduledAt = at
			}
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
		if len(params) == insertChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// schedulerLead is how long before a paced job's start it is scheduled:
// River's scheduler interval, so that it is available by then.
const schedulerLead = 5 * time.Second
