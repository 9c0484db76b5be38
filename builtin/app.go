package builtin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

// Class returns the class of a built-in service name ("ATLAS" →
// "atlas.ForcedPhotometryService").
func Class(name string) (string, bool) {
	for _, s := range services {
		if s.name == name {
			return s.class, true
		}
	}
	return "", false
}

// ServiceNames lists the built-in service names, sorted.
func ServiceNames() []string {
	var out []string
	for _, s := range services {
		out = append(out, s.name)
	}
	return slices.Sorted(slices.Values(out))
}

// OpenStore opens the store the settings' database and storage name: the
// in-memory store when dbURL is empty or "memory://", otherwise a
// dataproduct/sqlstore (sqlite://path or postgres://...) with its files
// in storageURL (see sqlstore.Options.BlobURL for the default). It returns
// the store and a function that closes it.
func OpenStore(ctx context.Context, dbURL, storageURL string) (dataproduct.Store, func() error, error) {
	if dbURL == "" || dbURL == "memory://" {
		if storageURL != "" && storageURL != "mem://" {
			return nil, nil, fmt.Errorf("%w: storage %q needs a database (the in-memory store keeps files in memory)", singletarget.ErrConfig, storageURL)
		}
		return dataproduct.NewMemoryStore(nil), func() error { return nil }, nil
	}
	s, err := sqlstore.Open(ctx, dbURL, &sqlstore.Options{BlobURL: storageURL})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", singletarget.ErrConfig, err)
	}
	return s, s.Close, nil
}

// Check builds the settings' services and processors with reg (against
// an in-memory store), so that a mistake a factory finds (a missing key,
// an unknown extra key) is reported before any database or storage folder
// is created. Open calls it; so should a program that opens the store
// itself before Registry.Load.
func Check(cfg *singletarget.Config, reg *singletarget.Registry) error {
	_, err := reg.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	return err
}

// Options configure Open; nil means defaults.
type Options struct {
	// Registry knows the classes the settings may name. Default: a new
	// registry with every built-in class (Register).
	Registry *singletarget.Registry
	// Logger receives logs. Default: discard.
	Logger *slog.Logger
	// HTTPClient is passed to every service (tests pass a simulator's).
	HTTPClient *http.Client
	// Worker makes a river backend run jobs (a worker process); without it
	// the app inserts jobs only (a web process). Pool backends always run
	// their jobs in-process.
	Worker bool
	// RefreshTargets names the targets of the scheduled refresh that the
	// settings' refresh section describes (riverexec.Schedule.Targets):
	// the TOM's list of targets it follows. A worker process needs it when
	// the settings set refresh.every; other processes ignore it.
	RefreshTargets func(ctx context.Context) ([]singletarget.Target, error)
}

// App is an application opened from settings: the store, the Manager and
// the executor tasks.backend names.
type App struct {
	// Config is the settings, with the built-in defaults applied.
	Config *singletarget.Config
	// Store keeps products and datums.
	Store dataproduct.Store
	// Manager runs queries.
	Manager *singletarget.Manager
	// Executor is the configured executor: *singletarget.Immediate,
	// *singletarget.Pool or *riverexec.Executor. Submit, Status, List,
	// Watch, Wait and Cancel mean the same on each: use it, not Pool or
	// River, so that the code works whatever tasks.backend says.
	Executor singletarget.Executor
	// Pool and River are set for their backends only (nil otherwise), for
	// what is particular to one (e.g. River's SubmitBatch).
	Pool  *singletarget.Pool
	River *riverexec.Executor

	// worker is Options.Worker: a river executor runs jobs here.
	worker  bool
	closers []func() error
}

// JobDatabase returns the job database of the river backend:
// tasks.database, else the store's PostgreSQL database, else a SQLite file
// next to the store's ("targetdata.db" → "targetdata.jobs.db"; SQLite
// allows one writer per file), else "sqlite://targetdata.jobs.db".
func JobDatabase(cfg *singletarget.Config) string {
	switch {
	case cfg.Tasks.Database != "":
		return cfg.Tasks.Database
	case strings.HasPrefix(cfg.Database, "postgres"):
		return cfg.Database
	case strings.HasPrefix(cfg.Database, "sqlite://") && !strings.Contains(cfg.Database, ":memory:"):
		p := strings.TrimPrefix(cfg.Database, "sqlite://")
		return "sqlite://" + strings.TrimSuffix(p, filepath.Ext(p)) + ".jobs.db"
	}
	return "sqlite://targetdata.jobs.db"
}

// Open builds the application the settings describe: the store (database
// and storage), the services and processors (through the registry), and
// the executor (tasks.backend: immediate by default, pool or river). For
// river it migrates the job tables. Close releases everything. An error
// never shows a value the settings read from the environment, only its
// ${NAME} (singletarget.Config.RedactEnv).
func Open(ctx context.Context, cfg *singletarget.Config, opts *Options) (*App, error) {
	a, err := open(ctx, cfg, opts)
	if err != nil {
		return nil, cfg.RedactEnv(err)
	}
	return a, nil
}

func open(ctx context.Context, cfg *singletarget.Config, opts *Options) (*App, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = singletarget.NewRegistry()
		if err := Register(o.Registry); err != nil {
			return nil, err
		}
	}
	a := &App{Config: WithDefaults(cfg), worker: o.Worker}
	if err := Check(a.Config, o.Registry); err != nil {
		return nil, err
	}
	scheduled := o.Worker && a.Config.Tasks.Backend == "river" && a.Config.Refresh.Every > 0
	if scheduled && o.RefreshTargets == nil { // before anything is created
		return nil, &singletarget.ConfigError{Key: "refresh.every",
			Msg: "the settings schedule a refresh, but the worker names no targets (builtin.Options.RefreshTargets)"}
	}
	store, closeStore, err := OpenStore(ctx, a.Config.Database, a.Config.Storage)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, fromEnv(a.Config, "database", "storage"))
	}
	a.closers = append(a.closers, closeStore)
	a.Store = store
	a.Manager, err = o.Registry.Load(a.Config, store, &singletarget.ManagerOptions{Logger: o.Logger, HTTPClient: o.HTTPClient})
	if err != nil {
		_ = a.Close() // the error that stopped Open matters more
		return nil, err
	}
	switch a.Config.Tasks.Backend {
	case "", "immediate":
		a.Executor = singletarget.NewImmediate(a.Manager)
	case "pool":
		a.Pool = singletarget.NewPool(a.Manager, &singletarget.PoolOptions{Workers: a.Config.Tasks.Workers, Logger: o.Logger})
		a.Executor = a.Pool
	case "river":
		ro := &riverexec.Options{InsertOnly: !o.Worker, Workers: a.Config.Tasks.Workers, Logger: o.Logger,
			JobTimeout: a.Config.Tasks.JobTimeout, RescueStuckJobsAfter: a.Config.Tasks.RescueAfter}
		if scheduled {
			ro.Refresh = riverexec.ScheduleFromConfig(a.Config.Refresh, o.RefreshTargets)
		}
		x, err := riverexec.Open(ctx, JobDatabase(a.Config), a.Manager, ro)
		if err != nil {
			_ = a.Close() // the error that stopped Open matters more
			return nil, fmt.Errorf("%w%s", err, fromEnv(a.Config, "tasks.database", "database"))
		}
		a.closers = append(a.closers, x.Close)
		if err := x.Migrate(ctx); err != nil {
			_ = a.Close() // the error that stopped Open matters more
			return nil, err
		}
		a.River, a.Executor = x, x
	default:
		_ = a.Close()
		return nil, fmt.Errorf("%w: tasks.backend %q", singletarget.ErrConfig, a.Config.Tasks.Backend)
	}
	return a, nil
}

// CallbackHandlers returns the completion-callback endpoints of the
// configured services that send one (singletarget.CallbackReceiver with a
// CallbackURL, e.g. ATLAS with callback_url), by the path of that URL,
// each waking the jobs of the app's executor. There are none for the
// immediate backend (it waits in the caller). A web process (webtom) or a
// worker (examples/worker -callback-addr) serves them at those paths
// without its login, since the archive cannot log in: each endpoint only
// wakes the job waiting on the task a notice names, and that job then
// asks the archive itself (see atlas.Service.CallbackHandler and
// SECURITY.md). Two services with the same path are an error.
func (a *App) CallbackHandlers() (map[string]http.Handler, error) {
	waker, ok := a.Executor.(singletarget.RemoteWaker)
	if !ok {
		return nil, nil
	}
	out := map[string]http.Handler{}
	for _, name := range a.Manager.Services() {
		svc, err := a.Manager.Service(name)
		if err != nil {
			return nil, err
		}
		cr, ok := svc.(singletarget.CallbackReceiver)
		if !ok || cr.CallbackURL() == "" {
			continue
		}
		u, err := url.Parse(cr.CallbackURL())
		if err != nil {
			return nil, fmt.Errorf("%w: service %s: callback URL %q: %w", singletarget.ErrConfig, name, cr.CallbackURL(), err)
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		if _, dup := out[path]; dup {
			return nil, fmt.Errorf("%w: service %s: callback path %q is another service's too", singletarget.ErrConfig, name, path)
		}
		out[path] = cr.CallbackHandler(waker)
	}
	return out, nil
}

// fromEnv names the settings among keys that read the environment, e.g.
// " (database is ${DATABASE_URL})", for an error that cannot quote them.
func fromEnv(cfg *singletarget.Config, keys ...string) string {
	var parts []string
	for _, k := range keys {
		if w, ok := cfg.Written(k); ok {
			parts = append(parts, k+" is "+w)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// Start starts the executor's workers (pool, or river in a worker
// process). It does nothing for the other backends and for a river app
// opened without Options.Worker (a web process that only inserts jobs).
func (a *App) Start(ctx context.Context) error {
	switch {
	case a.Pool != nil:
		return a.Pool.Start(ctx)
	case a.River != nil && a.worker:
		return a.River.Start(ctx)
	}
	return nil
}

// Stop stops the executor gracefully: running steps finish, waiting
// asynchronous jobs stay where they are (in the database for river).
func (a *App) Stop(ctx context.Context) error {
	switch {
	case a.Pool != nil:
		return a.Pool.Stop(ctx)
	case a.River != nil:
		err := a.River.Stop(ctx)
		if errors.Is(err, context.Canceled) || err == nil {
			return nil
		}
		return err
	}
	return nil
}

// Close releases the store and the job database, and reports what failed
// to close (a database that could not flush, say). Stop first. Closing
// again does nothing.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
