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
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
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
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *config, *grace, logger); err != nil {
		logger.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}

// run works jobs until ctx is done, then stops within grace.
func run(ctx context.Context, config string, grace time.Duration, logger *slog.Logger) (err error) {
	if config == "" {
		return errors.New("-config is required")
	}
	cfg, err := builtin.LoadConfig(config) // every mistake, with its line, before anything starts
	if err != nil {
		return err
	}
	if cfg.Tasks.Backend != "river" {
		return fmt.Errorf("%w: tasks.backend is %q; the worker runs the river backend", singletarget.ErrConfig, cfg.Tasks.Backend)
	}
	app, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true, Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := app.Close(); err == nil {
			err = cerr
		}
	}()
	if err := app.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	logger.Info("worker started", "services", app.Manager.Services(), "jobs", builtin.JobDatabase(app.Config))
	<-ctx.Done()
	logger.Info("stopping: letting running steps finish", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := app.Stop(sctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}
