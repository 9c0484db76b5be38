package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// env is what a run needs: a store and a manager, and what to close.
type env struct {
	store   dataproduct.Store
	m       *singletarget.Manager
	closers []func() error
	// memory is set for the in-memory store (no -db, no database).
	memory bool
}

// close closes what newEnv opened, last first, and reports what failed.
func (e *env) close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i]())
	}
	e.closers = nil
	return errors.Join(errs...)
}

func newEnv(ctx context.Context, o *options, stderr io.Writer) (*env, error) {
	var cfg *singletarget.Config
	switch {
	case o.config != "":
		if o.url != "" || o.apiKey != "" {
			return nil, &usageError{"-url and -api-key go without -config (set them in the settings file)"}
		}
		load := builtin.LoadConfig // every mistake at once, with its line
		if o.simulate {
			load = singletarget.LoadConfig // the simulators supply the URLs and keys
		}
		c, err := load(o.config)
		if err != nil {
			return nil, err
		}
		cfg = c
	case o.service != "":
		class, ok := builtin.Class(o.service)
		if !ok {
			return nil, &usageError{fmt.Sprintf("-service %q: not a built-in service (%v); use -config for others", o.service, builtin.ServiceNames())}
		}
		cfg = &singletarget.Config{Services: map[string]singletarget.ServiceConfig{
			o.service: {Class: class, URL: o.url, APIKey: singletarget.Secret(o.apiKey)},
		}, ServiceOrder: []string{o.service}}
	default:
		cfg = &singletarget.Config{}
	}
	cfg = builtin.WithDefaults(cfg)
	e := &env{}
	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.simulate {
		if err := builtintest.Simulate(cfg, func(stop func()) { e.closers = append(e.closers, func() error { stop(); return nil }) }); err != nil {
			return nil, err
		}
	}
	reg := singletarget.NewRegistry()
	if err := builtin.Register(reg); err != nil {
		_ = e.close() // the error that stopped newEnv matters more
		return nil, err
	}
	if err := builtin.Check(cfg, reg); err != nil { // before anything is created on disk
		_ = e.close() // the error that stopped newEnv matters more
		return nil, err
	}
	dbURL := cmpOr(o.db, cfg.Database)
	e.memory = dbURL == "" || dbURL == "memory://"
	store, closeStore, err := builtin.OpenStore(ctx, dbURL, cmpOr(o.storage, cfg.Storage))
	if err != nil {
		_ = e.close() // the error that stopped newEnv matters more
		return nil, err
	}
	e.closers = append(e.closers, closeStore)
	e.store = store
	m, err := reg.Load(cfg, store, &singletarget.ManagerOptions{Logger: logger})
	if err != nil {
		_ = e.close() // the error that stopped newEnv matters more
		return nil, err
	}
	e.m = m
	return e, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
