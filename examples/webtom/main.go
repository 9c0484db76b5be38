// Command webtom is a small web TOM on targetdata: a list of targets, and
// for each target a page listing the configured single-target data
// services, each with its query form (drawn from the form's Fields and
// Layout, errors shown next to each field), queries run by the configured
// executor with a job page that follows them live (server-sent events from
// Executor.Watch) and job lists from Executor.List, and the target's light
// curve and spectra once data arrive. It uses net/http and html/template
// only; two short optional scripts update dependent choices (PanSTARRS
// catalogs by data release) and follow a job's page live (without script
// the page reloads itself).
//
//	go run ./examples/webtom                    # the built-in services on their simulators, offline
//	go run ./examples/webtom -dir tomdata       # keep targets, database and files in ./tomdata
//	go run ./examples/webtom -config settings.yaml -live
//
// Then open http://127.0.0.1:8080. Without -config the services are ATLAS,
// PANSTARRS, ZTF, ZTF_FP and ALERCE on the pool executor; without -live
// they run against the bundled simulators in this process. With -live,
// ATLAS needs ATLAS_FORCED_PHOTOMETRY_API_KEY and ZTF_FP needs
// ZTF_FPS_EMAIL and ZTF_FPS_USERPASS (services without their keys are left
// out); PanSTARRS, ZTF light curves and ALeRCE are public.
//
// # No login by default
//
// webtom has no users and, unless you set one, no login: anyone who can
// reach its address can query the services with your archive accounts
// (spending their quotas), cancel jobs and upload files. It therefore
// listens on 127.0.0.1, refuses to start on any other address without a
// login, and without one answers only requests addressed to localhost (so
// that a web page rebound to 127.0.0.1 cannot use it). Set
// WEBTOM_PASSWORD (at least 16 bytes) and optionally WEBTOM_USER (default
// "tom") to require HTTP Basic authentication on every page and post;
// browsers ask for it once. webtom speaks plain
// HTTP, so off the machine put a TLS proxy in front, or the password
// crosses the network in clear. -allow-anonymous serves a non-loopback
// address without a login, for an authenticating proxy in front. See
// SECURITY.md for what webtom protects and what it does not.
//
// # Completion callbacks
//
// When a service's settings give a callback_url (ATLAS: the public https
// URL of this server's endpoint, e.g.
// https://tom.example.org/targetdata/atlas/callback), webtom serves that
// path for the archive, outside the login and the localhost check: a
// notice only wakes the job waiting on the task it names, which then asks
// the archive itself (SECURITY.md). Polling stays the fallback.
//
// With a river backend (tasks.backend: river) the server runs the queued
// jobs itself, or with -insert-only leaves them to examples/worker
// processes that share the job database (and the settings: give -live, or
// the worker cannot reach this process's simulators).
//
// Targets are kept in targets.json in -dir (the library has no target
// model); products and datums are in the configured store (default: SQLite
// and local files in -dir). SIGINT or SIGTERM stops the server gracefully.
package main

import (
	"cmp"
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
  ALERCE:
    class: alerce.Service
tasks:
  backend: pool
  workers: 4
`

// options are the command line (and the login, from the environment).
type options struct {
	config, addr, dir string
	live, verbose     bool
	insertOnly        bool
	allowAnonymous    bool
	grace             time.Duration
	// auth is the login; nil: none.
	auth *basicAuth
	// timeouts of the HTTP server; zero fields take defaultTimeouts'.
	timeouts httpTimeouts
}

// httpTimeouts bound how long a client may hold a connection.
type httpTimeouts struct {
	// ReadHeader bounds reading a request's headers, Read the whole
	// request with its body (an upload included), Write the time from the
	// end of the headers to the end of the answer, Idle a kept-alive
	// connection between requests.
	ReadHeader, Read, Write, Idle time.Duration
}

// defaultTimeouts: a 32 MiB upload must arrive within two minutes (about
// 2.2 Mbit/s), and a page or plot be drawn and sent within two minutes. A
// stream (the job events) sets its own write deadline through
// http.NewResponseController.
var defaultTimeouts = httpTimeouts{ReadHeader: 10 * time.Second, Read: 2 * time.Minute, Write: 2 * time.Minute, Idle: 2 * time.Minute}

// maxHeaderBytes caps a request's headers (net/http's default is 1 MiB).
const maxHeaderBytes = 64 << 10

// newHTTPServer returns the http.Server for h with the timeouts (zero
// fields: defaultTimeouts') and maxHeaderBytes.
func newHTTPServer(h http.Handler, t httpTimeouts, logger *slog.Logger) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(t.ReadHeader, defaultTimeouts.ReadHeader),
		ReadTimeout:       or(t.Read, defaultTimeouts.Read),
		WriteTimeout:      or(t.Write, defaultTimeouts.Write),
		IdleTimeout:       or(t.Idle, defaultTimeouts.Idle),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func main() {
	var o options
	flag.StringVar(&o.config, "config", "", "settings file (YAML or JSON); default: ATLAS, PANSTARRS, ZTF, ZTF_FP and ALERCE")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.BoolVar(&o.live, "live", false, "query the real services (default: the bundled simulators, offline)")
	flag.StringVar(&o.dir, "dir", "", "folder for targets.json and, unless the settings name them, the SQLite database and files (default: a new temporary folder, removed at exit)")
	flag.BoolVar(&o.insertOnly, "insert-only", false, "river backend: only queue jobs, for examples/worker processes to run (default: run them here too)")
	flag.BoolVar(&o.allowAnonymous, "allow-anonymous", false, "serve a non-loopback -addr without a login (only behind a proxy that authenticates)")
	flag.DurationVar(&o.grace, "grace", 10*time.Second, "how long requests and running steps may finish after a stop signal")
	flag.BoolVar(&o.verbose, "v", false, "debug logs (every request)")
	flag.Parse()
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	auth, err := authFromEnv(os.LookupEnv)
	if err != nil {
		logger.Error("webtom not started", "error", err)
		os.Exit(1)
	}
	o.auth = auth
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
	if o.insertOnly && cfg.Tasks.Backend != "river" {
		return fmt.Errorf("-insert-only needs the river backend (tasks.backend: river), not %q", cmp.Or(cfg.Tasks.Backend, "immediate"))
	}
	// Bind first: a busy or bad address fails before anything starts.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := checkExposure(ln.Addr(), o.auth, o.allowAnonymous); err != nil {
		return err
	}
	if !isLoopback(ln.Addr()) {
		logger.Warn("serving a non-loopback address over plain HTTP: put a TLS proxy in front", "addr", ln.Addr().String(), "login", o.auth != nil)
	}
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
	srv, err := newServer(app, &serverOptions{Logger: logger, TargetsFile: filepath.Join(dir, "targets.json"), Auth: o.auth,
		LoopbackHosts: o.auth == nil && !o.allowAnonymous})
	if err != nil {
		return err
	}
	if err := app.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	for path := range srv.callbacks {
		logger.Info("serving an archive's completion callbacks, without the login", "path", path)
	}
	hs := newHTTPServer(srv, o.timeouts, logger)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	mode := "simulated services"
	if o.live {
		mode = "live services"
	}
	logger.Info("webtom listening", "url", url, "services", app.Manager.Services(), "mode", mode, "backend", app.Config.Tasks.Backend,
		"insert_only", o.insertOnly, "login", o.auth != nil, "dir", dir)
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
