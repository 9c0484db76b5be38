// Command webtom is a small web TOM on targetdata: a list of targets, and
// for each target a page listing the configured single-target data
// services, each with its query form (drawn from the form's Fields and
// Layout, errors shown next to each field), queries run by the configured
// executor with a job page that follows them, and the target's light curve
// and spectra once data arrive. It uses net/http and html/template only; a
// ten-line optional script updates dependent choices (PanSTARRS catalogs
// by data release).
//
//	go run ./examples/webtom                    # the built-in services on their simulators, offline
//	go run ./examples/webtom -dir tomdata       # keep targets, database and files in ./tomdata
//	go run ./examples/webtom -config settings.yaml -live
//
// Then open http://127.0.0.1:8080. Without -config the services are ATLAS,
// PANSTARRS, ZTF and ZTF_FP on the pool executor; without -live they run
// against the bundled simulators in this process. With -live, ATLAS needs
// ATLAS_FORCED_PHOTOMETRY_API_KEY and ZTF_FP needs ZTF_FPS_EMAIL and
// ZTF_FPS_USERPASS (services without their keys are left out); PanSTARRS
// and ZTF light curves are public.
//
// With a river backend (tasks.backend: river) the server runs the queued
// jobs itself, or with -insert-only leaves them to examples/worker
// processes that share the job database.
//
// Targets are kept in targets.json in -dir (the library has no target
// model); products and datums are in the configured store (default: SQLite
// and local files in -dir). SIGINT or SIGTERM stops the server gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/singletarget"
)

// defaultSettings are used without -config. The URLs are the real
// services'; without -live they are replaced by the simulators'.
const defaultSettings = `
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: https://fallingstar-data.com/forcedphot
    api_key: ${ATLAS_FORCED_PHOTOMETRY_API_KEY:-}
  PANSTARRS:
    class: panstarrs.Service
    url: https://catalogs.mast.stsci.edu/api/v0.1/panstarrs
  ZTF:
    class: ztf.Service
    url: https://irsa.ipac.caltech.edu
  ZTF_FP:
    class: ztf.ForcedPhotometryService
    url: https://ztfweb.ipac.caltech.edu
    email: ${ZTF_FPS_EMAIL:-}
    userpass: ${ZTF_FPS_USERPASS:-}
tasks:
  backend: pool
  workers: 4
`

// options are the command line.
type options struct {
	config, addr, dir string
	live, verbose     bool
	insertOnly        bool
	grace             time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.config, "config", "", "settings file (YAML or JSON); default: ATLAS, PANSTARRS, ZTF and ZTF_FP")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.BoolVar(&o.live, "live", false, "query the real services (default: the bundled simulators, offline)")
	flag.StringVar(&o.dir, "dir", "", "folder for targets.json and, unless the settings name them, the SQLite database and files (default: a new temporary folder, removed at exit)")
	flag.BoolVar(&o.insertOnly, "insert-only", false, "river backend: only queue jobs, for examples/worker processes to run (default: run them here too)")
	flag.DurationVar(&o.grace, "grace", 10*time.Second, "how long requests and running steps may finish after a stop signal")
	flag.BoolVar(&o.verbose, "v", false, "debug logs (every request)")
	flag.Parse()
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, logger, nil); err != nil {
		logger.Error("webtom stopped", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down within o.grace. ready, if
// not nil, receives the server's URL once it listens.
func run(ctx context.Context, o options, logger *slog.Logger, ready func(url string)) (err error) {
	cfg, err := settings(o, logger)
	if err != nil {
		return err
	}
	// Bind first: a busy or bad address fails before anything starts.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if o.dir == "" {
		d, err := os.MkdirTemp("", "targetdata-webtom-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	} else if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if cfg.Database == "" {
		cfg.Database = "sqlite://" + filepath.Join(dir, "targetdata.db")
		if cfg.Storage == "" {
			cfg.Storage = "file://" + filepath.Join(dir, "files")
		}
	}
	if !o.live {
		var stops []func()
		defer func() {
			for _, f := range slices.Backward(stops) {
				f()
			}
		}()
		if err := builtintest.Simulate(cfg, func(f func()) { stops = append(stops, f) }); err != nil {
			return err
		}
	}
	app, err := builtin.Open(ctx, cfg, &builtin.Options{Logger: logger, Worker: !o.insertOnly})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := app.Close(); err == nil {
			err = cerr
		}
	}()
	srv, err := newServer(app, &serverOptions{Logger: logger, TargetsFile: filepath.Join(dir, "targets.json")})
	if err != nil {
		return err
	}
	if err := app.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	mode := "simulated services"
	if o.live {
		mode = "live services"
	}
	logger.Info("webtom listening", "url", url, "services", app.Manager.Services(), "mode", mode, "backend", app.Config.Tasks.Backend, "dir", dir)
	if ready != nil {
		ready(url)
	}

	var errServe error
	select {
	case errServe = <-served:
		errServe = fmt.Errorf("serve: %w", errServe)
	case <-ctx.Done():
		logger.Info("stopping: finishing requests and running steps", "grace", o.grace)
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	errHTTP := hs.Shutdown(sctx)
	errApp := app.Stop(sctx)
	if errServe != nil {
		return errors.Join(errServe, errApp)
	}
	if err := errors.Join(errHTTP, errApp); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	logger.Info("webtom stopped")
	return nil
}

// settings loads -config or the default settings. Live default services
// whose keys are not in the environment are left out, with a warning.
func settings(o options, logger *slog.Logger) (*singletarget.Config, error) {
	if o.config != "" {
		load := singletarget.LoadConfig // the simulators supply the URLs and keys
		if o.live {
			load = builtin.LoadConfig // every mistake at once, with its line
		}
		cfg, err := load(o.config)
		if err != nil {
			return nil, err
		}
		return builtin.WithDefaults(cfg), nil
	}
	cfg, err := singletarget.ParseConfig([]byte(defaultSettings), os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cfg = builtin.WithDefaults(cfg)
	if o.live {
		missing := map[string]string{}
		if cfg.Services["ATLAS"].APIKey.IsZero() {
			missing["ATLAS"] = "ATLAS_FORCED_PHOTOMETRY_API_KEY"
		}
		if fp := cfg.Services["ZTF_FP"].Extra; fp["email"] == "" || fp["userpass"] == "" {
			missing["ZTF_FP"] = "ZTF_FPS_EMAIL and ZTF_FPS_USERPASS"
		}
		for name, env := range missing {
			logger.Warn("leaving a service out: its credentials are not set", "service", name, "environment", env)
			delete(cfg.Services, name)
			cfg.ServiceOrder = slices.DeleteFunc(cfg.ServiceOrder, func(s string) bool { return s == name })
		}
	}
	return cfg, nil
}
