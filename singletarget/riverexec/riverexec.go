package riverexec

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/tomgo/targetdata/internal/redact"
	"github.com/tomgo/targetdata/singletarget"
)

// Kind is the River job kind of a query.
const Kind = "targetdata_query"

// Args are a query job's arguments: the request and the job's key, never
// secrets.
type Args struct {
	Request singletarget.Request `json:"request"`
	// Key is the random part of the job's public id ("<row id>-<key>"),
	// so that job ids cannot be guessed.
	Key string `json:"key,omitempty"`
	// NotBefore, when set, is the earliest time the query may be sent: a
	// scheduled refresh spreads a paced service's queries (Schedule).
	NotBefore time.Time `json:"not_before,omitzero"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return Kind }

// State is a job's durable state, kept as River's job output.
type State struct {
	// Checkpoint is where the query stands (singletarget.Checkpoint): its
	// key, the remote task once queued, the products once stored (a retry
	// processes them instead of asking the archive again) and the ingest
	// once committed. Its fields are at the top level of the JSON, where
	// earlier versions kept "remote" and "products".
	singletarget.Checkpoint
	// Progress is the latest progress report.
	Progress *singletarget.Progress `json:"progress,omitempty"`
	// Throttled is the throttling wait so far.
	Throttled time.Duration `json:"throttled,omitempty"`
	// Result is set when the job succeeded.
	Result *singletarget.Result `json:"result,omitempty"`
	// Failure says why the job ended without success when it was ended
	// early (River shows such jobs as cancelled).
	Failure string `json:"failure,omitempty"`
	// SlotWaits counts the snoozes waiting for a slot of the account's
	// limit (singletarget.Slots), for their back-off.
	SlotWaits int `json:"slot_waits,omitempty"`
}

// Options configure an Executor; nil means defaults.
type Options struct {
	// InsertOnly makes an executor for a web process: it inserts jobs and
	// reads their status but runs none (Start fails).
	InsertOnly bool
	// Workers is the number of jobs a worker process runs at once.
	// Default 4.
	Workers int
	// Queue is the River queue name. Default "targetdata".
	Queue string
	// MaxAttempts caps the attempts of a job failing with retryable
	// errors (snoozes do not count). Default 5.
	MaxAttempts int
	// MaxThrottleWait caps the total throttling wait of one job. Default
	// 6 hours.
	MaxThrottleWait time.Duration
	// FetchPollInterval is how often a worker looks for jobs that became
	// due (SQLite has no notifications; on PostgreSQL new jobs are noticed
	// at once). Default 1 s.
	FetchPollInterval time.Duration
	// JobTimeout bounds one step of a job (a query, a poll, a download and
	// its processing). Default 30 minutes.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is when River hands a job whose worker died to
	// another worker. Must exceed JobTimeout. Default JobTimeout + 10 min.
	RescueStuckJobsAfter time.Duration
	// Schema is the PostgreSQL schema of River's tables. Default: the
	// connection's search path.
	Schema string
	// Logger receives River's and the executor's logs. Default: discard.
	Logger *slog.Logger
	// SlotWait is the first snooze of a job held back by its account's
	// limit (singletarget.Slots); later ones double, up to 32 times.
	// Default 1 s.
	SlotWait time.Duration
	// PollInterval is how often Wait and Watch read a job's row (they
	// also wake at once when this process's workers change the job).
	// Default 500 ms.
	PollInterval time.Duration
	// ProgressInterval is the least time between two writes of a running
	// job's progress to its row: a new stage is written at once, other
	// reports at most this often (the latest is always written). Default
	// 1 s.
	ProgressInterval time.Duration
	// Refresh, when set, is the scheduled refresh the worker processes
	// run (see Schedule); give every worker process the same. Ignored by
	// an insert-only executor, which can still call RefreshNow and
	// RefreshCycles. Default nil: none.
	Refresh *Schedule
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Workers <= 0 {
		out.Workers = 4
	}
	if out.Queue == "" {
		out.Queue = "targetdata"
	}
	if out.MaxAttempts <= 0 {
		out.MaxAttempts = 5
	}
	if out.MaxThrottleWait <= 0 {
		out.MaxThrottleWait = 6 * time.Hour
	}
	if out.FetchPollInterval <= 0 {
		out.FetchPollInterval = time.Second
	}
	if out.JobTimeout <= 0 {
		out.JobTimeout = 30 * time.Minute
	}
	if out.RescueStuckJobsAfter <= out.JobTimeout {
		out.RescueStuckJobsAfter = out.JobTimeout + 10*time.Minute
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.SlotWait <= 0 {
		out.SlotWait = time.Second
	}
	if out.PollInterval <= 0 {
		out.PollInterval = 500 * time.Millisecond
	}
	if out.ProgressInterval <= 0 {
		out.ProgressInterval = time.Second
	}
	return out
}

// engine hides River's transaction type parameter.
type engine interface {
	migrate(ctx context.Context) error
	insertArgs(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error)
	get(ctx context.Context, id int64) (*rivertype.JobRow, error)
	cancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// setOutput records out (a *State or a *RefreshCycle) as the job's
	// output.
	setOutput(ctx context.Context, id int64, out any) error
	listCycles(ctx context.Context, states []rivertype.JobState, limit int) ([]*rivertype.JobRow, error)
	// listJobs lists query jobs carrying every tag, in one of the states
	// (none: any), with row ids below before (0: any), newest first.
	listJobs(ctx context.Context, tags []string, states []rivertype.JobState, before int64, limit int) ([]*rivertype.JobRow, error)
	// subscribe tells of jobs this process's workers end or snooze.
	subscribe() (<-chan *river.Event, func())
	// waitingOn lists the query jobs of a service, not running, whose
	// recorded remote task has this id.
	waitingOn(ctx context.Context, service, taskID string) ([]*rivertype.JobRow, error)
	// retry makes a job available now.
	retry(ctx context.Context, id int64) error
	insertMany(ctx context.Context, args []Args, opts *river.InsertOpts) ([]*rivertype.JobRow, error)
	insertParams(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobRow, error)
	// list lists the query jobs carrying tag, oldest first, a page
	// after the cursor.
	list(ctx context.Context, tag string, after *river.JobListCursor) ([]*rivertype.JobRow, *river.JobListCursor, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	stopped() <-chan struct{}
}

type riverEngine[TTx any] struct {
	driver riverdriver.Driver[TTx]
	client *river.Client[TTx]
	schema string
	log    *slog.Logger
}

func (e *riverEngine[TTx]) migrate(ctx context.Context) error {
	m, err := rivermigrate.New(e.driver, &rivermigrate.Config{Logger: e.log, Schema: e.schema})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

func (e *riverEngine[TTx]) insertArgs(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := e.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, err
	}
	return res.Job, nil
}

func (e *riverEngine[TTx]) get(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return e.client.JobGet(ctx, id)
}

func (e *riverEngine[TTx]) cancel(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return e.client.JobCancel(ctx, id)
}

func (e *riverEngine[TTx]) setOutput(ctx context.Context, id int64, out any) error {
	_, err := e.client.JobUpdate(ctx, id, &river.JobUpdateParams{Output: out})
	return err
}

func (e *riverEngine[TTx]) listCycles(ctx context.Context, states []rivertype.JobState, limit int) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().Kinds(CycleKind).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit)
	if len(states) > 0 {
		p = p.States(states...)
	}
	res, err := e.client.JobList(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

func (e *riverEngine[TTx]) start(ctx context.Context) error { return e.client.Start(ctx) }
func (e *riverEngine[TTx]) stop(ctx context.Context) error  { return e.client.Stop(ctx) }
func (e *riverEngine[TTx]) stopAndCancel(ctx context.Context) error {
	return e.client.StopAndCancel(ctx)
}
func (e *riverEngine[TTx]) stopped() <-chan struct{} { return e.client.Stopped() }

// Executor runs queries as River jobs. It is safe for concurrent use.
type Executor struct {
	m      *singletarget.Manager
	opts   Options
	eng    engine
	worker *worker
	closer func() error
	note   notifier // wakes Watch (jobs.go)
}

func newExecutor[TTx any](driver riverdriver.Driver[TTx], m *singletarget.Manager, opts *Options) (*Executor, error) {
	if m == nil {
		return nil, errors.New("riverexec: a Manager is required")
	}
	o := opts.withDefaults()
	if o.Refresh != nil {
		if o.InsertOnly {
			o.Refresh = nil
		} else {
			s := *o.Refresh
			if err := s.check(m); err != nil {
				return nil, err
			}
			o.Refresh = &s
		}
	}
	x := &Executor{m: m, opts: o}
	w := &worker{x: x}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely[Args](workers, w); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely[cycleArgs](workers, &cycleWorker{x: x}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely[CleanupArgs](workers, &cleanupWorker{x: x}); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Workers:              workers,
		Logger:               o.Logger,
		Schema:               o.Schema,
		FetchPollInterval:    o.FetchPollInterval,
		FetchCooldown:        min(100*time.Millisecond, o.FetchPollInterval),
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueStuckJobsAfter,
		MaxAttempts:          o.MaxAttempts,
		PeriodicJobs:         x.periodicJobs(),
	}
	if !o.InsertOnly {
		cfg.Queues = map[string]river.QueueConfig{o.Queue: {MaxWorkers: o.Workers}}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("riverexec: %w", err)
	}
	x.eng = &riverEngine[TTx]{driver: driver, client: client, schema: o.Schema, log: o.Logger}
	x.worker = w
	return x, nil
}

// NewSQLite returns an Executor on a SQLite database. The caller owns db;
// it should allow a single open connection (db.SetMaxOpenConns(1)).
func NewSQLite(db *sql.DB, m *singletarget.Manager, opts *Options) (*Executor, error) {
	return newExecutor(riversqlite.New(db), m, opts)
}

// NewPostgres returns an Executor on a PostgreSQL pool; the caller owns it.
func NewPostgres(pool *pgxpool.Pool, m *singletarget.Manager, opts *Options) (*Executor, error) {
	return newExecutor[pgx.Tx](riverpgxv5.New(pool), m, opts)
}

// Open connects to the job database named by a URL and returns an Executor
// that owns the connection (Close releases it):
//
//   - sqlite://path/to/jobs.db (relative to the working directory) or
//     sqlite:///abs/path/jobs.db: River's SQLite driver, one connection,
//     WAL journal; the folder is created if needed;
//   - postgres://… or postgresql://…: River on PostgreSQL.
//
// It pings the database; an unreachable one is an error that does not show
// the password. Open does not migrate: call Migrate.
func Open(ctx context.Context, dbURL string, m *singletarget.Manager, opts *Options) (*Executor, error) {
	scheme, _, _ := strings.Cut(dbURL, ":")
	switch scheme {
	case "sqlite":
		path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("%w: tasks.database %q names no file", singletarget.ErrConfig, dbURL)
		}
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, fmt.Errorf("riverexec: job database folder: %w", err)
			}
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, fmt.Errorf("riverexec: open %s: %w", path, err)
		}
		db.SetMaxOpenConns(1)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("riverexec: open %s: %w", path, err)
		}
		x, err := NewSQLite(db, m, opts)
		if err != nil {
			db.Close()
			return nil, err
		}
		x.closer = db.Close
		return x, nil
	case "postgres", "postgresql":
		pool, err := pgxpool.New(ctx, dbURL)
		if err != nil {
			return nil, fmt.Errorf("%w: riverexec: job database %s: %w", singletarget.ErrConfig, redact.URL(dbURL), redact.Error(err, redact.Passwords(dbURL)))
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("riverexec: cannot reach %s: %w", redact.URL(dbURL), redact.Error(err, redact.Passwords(dbURL)))
		}
		x, err := NewPostgres(pool, m, opts)
		if err != nil {
			pool.Close()
			return nil, err
		}
		x.closer = func() error { pool.Close(); return nil }
		return x, nil
	}
	return nil, fmt.Errorf("%w: job database %q: unknown scheme %q (use sqlite://path or postgres://...)", singletarget.ErrConfig, redact.URL(dbURL), scheme)
}

// Migrate creates or upgrades River's tables.
func (x *Executor) Migrate(ctx context.Context) error {
	if err := x.eng.migrate(ctx); err != nil {
		return fmt.Errorf("riverexec: migrate: %w", err)
	}
	return nil
}

// Close releases the database connection Open made (not one passed to
// NewSQLite or NewPostgres). Stop the executor first.
func (x *Executor) Close() error {
	if x.closer != nil {
		return x.closer()
	}
	return nil
}

// Start runs jobs until Stop (worker processes only).
func (x *Executor) Start(ctx context.Context) error {
	if x.opts.InsertOnly {
		return errors.New("riverexec: an insert-only executor runs no jobs")
	}
	if err := x.eng.start(ctx); err != nil {
		return err
	}
	x.followEvents()
	return nil
}

// Stop stops fetching jobs and waits for running steps to finish (a job
// waiting on a remote task is snoozed in the database, not running).
func (x *Executor) Stop(ctx context.Context) error { return x.eng.stop(ctx) }

// StopAndCancel cancels running steps, then stops. Their jobs run again
// later (a cancelled step is retried as a snooze, without using an attempt).
func (x *Executor) StopAndCancel(ctx context.Context) error { return x.eng.stopAndCancel(ctx) }

// Stopped is closed when the executor has stopped.
func (x *Executor) Stopped() <-chan struct{} { return x.eng.stopped() }

// Submit implements singletarget.Executor: the request is checked at once
// (bad params give a *singletarget.FormErrors) and inserted as a job.
func (x *Executor) Submit(ctx context.Context, req singletarget.Request) (singletarget.JobID, error) {
	if err := x.m.Check(req); err != nil {
		return "", err
	}
	args := Args{Request: req, Key: newKey()}
	job, err := x.eng.insertArgs(ctx, args, &river.InsertOpts{Queue: x.opts.Queue, MaxAttempts: x.opts.MaxAttempts, Tags: jobTags(req)})
	if err != nil {
		return "", fmt.Errorf("riverexec: insert: %w", err)
	}
	return jobID(job.ID, args.Key), nil
}

// Status implements singletarget.Executor: the job as its row has it, the
// latest progress its worker recorded included, from any process.
func (x *Executor) Status(ctx context.Context, id singletarget.JobID) (singletarget.JobStatus, error) {
	job, err := x.row(ctx, id)
	if err != nil {
		return singletarget.JobStatus{}, err
	}
	return statusOf(job), nil
}

func stateOf(job *rivertype.JobRow) State {
	var st State
	if out := job.Output(); len(out) > 0 {
		_ = json.Unmarshal(out, &st)
	}
	return st
}

// argsOf decodes a query job's args.
func argsOf(job *rivertype.JobRow) Args {
	var args Args
	_ = json.Unmarshal(job.EncodedArgs, &args)
	return args
}

func statusOf(job *rivertype.JobRow) singletarget.JobStatus {
	args := argsOf(job)
	st := stateOf(job)
	out := singletarget.JobStatus{
		ID:       jobID(job.ID, args.Key),
		Request:  args.Request,
		Remote:   st.Remote,
		Attempts: job.Attempt,
		Created:  job.CreatedAt,
		Updated:  job.CreatedAt,
	}
	if job.AttemptedAt != nil {
		out.Updated = *job.AttemptedAt
	}
	if job.FinalizedAt != nil {
		out.Updated = *job.FinalizedAt
	}
	if st.Progress != nil {
		out.Progress = *st.Progress
		if out.Progress.Time.After(out.Updated) && job.FinalizedAt == nil {
			out.Updated = out.Progress.Time
		}
	}
	lastErr := ""
	if n := len(job.Errors); n > 0 {
		lastErr = job.Errors[n-1].Error
	}
	switch job.State {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending:
		out.State = singletarget.JobQueued
		if st.Remote != nil || job.Attempt > 0 || len(job.Errors) > 0 {
			out.State = singletarget.JobRunning
		}
	case rivertype.JobStateRunning, rivertype.JobStateRetryable:
		out.State = singletarget.JobRunning
		out.Error = lastErr
	case rivertype.JobStateCompleted:
		out.State = singletarget.JobSucceeded
		if st.Result != nil {
			out.Products = st.Result.Products
			out.IngestResult = st.Result.IngestResult
			out.Window = st.Result.Window
		}
	case rivertype.JobStateCancelled:
		out.State = singletarget.JobCancelled
		out.Error = "cancelled"
		if st.Failure != "" {
			out.State, out.Error = singletarget.JobFailed, st.Failure
		}
	case rivertype.JobStateDiscarded:
		out.State = singletarget.JobFailed
		out.Error = cmp.Or(st.Failure, lastErr)
	}
	if out.State == singletarget.JobFailed && out.Error != "" {
		out.Err = errors.New(out.Error)
	}
	return out
}

// Cancel implements singletarget.Executor: the job is cancelled (a running
// step through its context); a pending remote task is withdrawn when the
// service is a singletarget.Canceller.
func (x *Executor) Cancel(ctx context.Context, id singletarget.JobID) error {
	job, err := x.row(ctx, id)
	if err != nil {
		return err
	}
	return x.cancelRow(ctx, job.ID, id)
}

// cancelRow cancels the job in row n (public id id, for messages).
func (x *Executor) cancelRow(ctx context.Context, n int64, id singletarget.JobID) error {
	defer x.note.notify()
	job, err := x.eng.cancel(ctx, n)
	if errors.Is(err, rivertype.ErrNotFound) {
		return fmt.Errorf("%w: %q", singletarget.ErrUnknownJob, id)
	}
	if err != nil {
		return fmt.Errorf("riverexec: cancel job %s: %w", id, err)
	}
	st := stateOf(job)
	if st.Remote != nil && st.Result == nil {
		if svc, err := x.m.Service(argsOf(job).Request.Service); err == nil {
			if c, ok := svc.(singletarget.Canceller); ok {
				err := c.CancelRemote(ctx, *st.Remote)
				var te *singletarget.ThrottledError
				switch {
				case err == nil:
				case (errors.As(err, &te) || singletarget.Retryable(err)) && x.QueueCleanup(ctx, *st.Remote, true) == nil:
					x.opts.Logger.InfoContext(ctx, "withdrawing the remote task handed to the clean-up queue", "job", id, "task", st.Remote.ID, "error", err)
				default:
					x.opts.Logger.WarnContext(ctx, "withdrawing the remote task failed", "job", id, "task", st.Remote.ID, "error", err)
				}
			}
		}
	}
	return nil
}
