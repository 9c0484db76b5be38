// Command worker is the TOM's db_worker: it reads the same settings as the
// web process, builds the same services, and runs the queued queries of
// the river backend until SIGINT or SIGTERM, then stops gracefully (running
// steps finish; jobs waiting on a remote task stay in the database and are
// resumed by the next worker).
//
//	go run ./examples/worker -config settings.yaml
//
// The settings must use tasks.backend: river; tasks.database (or database)
// names the job database shared by the web process and every worker:
// a SQLite file on one machine, PostgreSQL for workers on several.
//
// With -callback-addr (e.g. :8081) the worker also serves the archives'
// completion callbacks (ATLAS callback_url) at their paths, and nothing
// else: a notice wakes the job waiting on its task in the job database, so
// any worker (or the web process) may receive it. Put a TLS proxy in front
// (the archive posts to https).
//
// With the settings' refresh section (a scheduled refresh of every target
// the TOM follows), -refresh-targets names a JSON file of those targets,
// [{"id": 1, "name": "SN 2023ixf", "ra": 210.910674, "dec": 54.311686}, ...],
// read at each cycle; a TOM's own worker passes its list of targets
// through builtin.Options.RefreshTargets instead.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/singletarget"
)

func main() {
	config := flag.String("config", "", "settings file (YAML or JSON); tasks.backend must be river")
	grace := flag.Duration("grace", 30*time.Second, "how long running steps may finish after a stop signal")
	verbose := flag.Bool("v", false, "debug logs")
	callbackAddr := flag.String("callback-addr", "", "also serve the archives' completion callbacks (callback_url settings) on this address")
	refreshTargets := flag.String("refresh-targets", "", "JSON file of the targets the settings' scheduled refresh refreshes ([{\"id\", \"name\", \"ra\", \"dec\"}, ...])")
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *config, *grace, *callbackAddr, *refreshTargets, logger); err != nil {
		logger.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}

// run works jobs until ctx is done, then stops within grace; with
// callbackAddr it serves the completion callbacks there meanwhile; with
// refreshTargets the scheduled refresh reads its targets from that file.
func run(ctx context.Context, config string, grace time.Duration, callbackAddr, refreshTargets string, logger *slog.Logger) (err error) {
	if config == "" {
		return errors.New("-config is required: the settings file of the web process, with tasks.backend: river")
	}
	cfg, err := builtin.LoadConfig(config) // every mistake, with its line, before anything starts
	if err != nil {
		return err
	}
	if cfg.Tasks.Backend != "river" {
		return fmt.Errorf("%w: tasks.backend is %q; the worker runs the river backend: set tasks.backend: river", singletarget.ErrConfig, cmp.Or(cfg.Tasks.Backend, "immediate"))
	}
	opts := &builtin.Options{Worker: true, Logger: logger}
	if refreshTargets != "" && cfg.Refresh.Every <= 0 {
		logger.Warn("-refresh-targets is not used: the settings schedule no refresh (refresh.every)", "file", refreshTargets)
	}
	if refreshTargets != "" {
		opts.RefreshTargets = func(context.Context) ([]singletarget.Target, error) { return readTargets(refreshTargets) }
		if _, err := readTargets(refreshTargets); err != nil {
			return err
		}
	}
	app, err := builtin.Open(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := app.Close(); err == nil {
			err = cerr
		}
	}()
	var callbacks *http.Server
	if callbackAddr != "" {
		if callbacks, err = serveCallbacks(app, callbackAddr, logger); err != nil {
			return err
		}
	}
	if err := app.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	logger.Info("worker started", "services", app.Manager.Services(), "jobs", builtin.JobDatabase(app.Config))
	<-ctx.Done()
	if callbacks != nil {
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		_ = callbacks.Shutdown(sctx)
		cancel()
	}
	logger.Info("stopping: letting running steps finish", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := app.Stop(sctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}

// serveCallbacks serves the app's completion-callback endpoints (and
// nothing else) on addr, until Shutdown.
func serveCallbacks(app *builtin.App, addr string, logger *slog.Logger) (*http.Server, error) {
	handlers, err := app.CallbackHandlers()
	if err != nil {
		return nil, err
	}
	if len(handlers) == 0 {
		return nil, fmt.Errorf("%w: -callback-addr: no service has a callback_url", singletarget.ErrConfig)
	}
	mux := http.NewServeMux()
	for path, h := range handlers {
		mux.Handle(path, h)
		logger.Info("serving completion callbacks", "addr", addr, "path", path)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("callback server stopped", "error", err)
		}
	}()
	return srv, nil
}

// readTargets reads a JSON array of targets.
func readTargets(path string) ([]singletarget.Target, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-refresh-targets: %w", err)
	}
	var ts []singletarget.Target
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("-refresh-targets %s: not a JSON array of targets ({\"id\", \"name\", \"ra\", \"dec\"}): %w", path, err)
	}
	return ts, nil
}
