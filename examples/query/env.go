package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// env is what a run needs: a store and a manager, and what to close.
type env struct {
	store dataproduct.Store
	// stored is set when the store is a database (-db or the settings'
	// database), not the in-memory store a run forgets.
	stored  bool
	m       *singletarget.Manager
	closers []func() error
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
		if o.url != "" || o.apiKey != "" || o.apiKeyFile != "" {
			return nil, &usageError{"-url, -api-key and -api-key-file go without -config (set them in the settings file)"}
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
		key, err := apiKey(o, stderr)
		if err != nil {
			return nil, err
		}
		cfg = &singletarget.Config{Services: map[string]singletarget.ServiceConfig{
			o.service: {Class: class, URL: o.url, APIKey: key},
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
		return nil, keyHint(err, o)
	}
	dbURL := cmp.Or(o.db, cfg.Database)
	store, closeStore, err := builtin.OpenStore(ctx, dbURL, cmp.Or(o.storage, cfg.Storage))
	if err != nil {
		_ = e.close() // the error that stopped newEnv matters more
		return nil, cfg.RedactEnv(err)
	}
	e.closers = append(e.closers, closeStore)
	e.store = store
	e.stored = dbURL != "" && dbURL != "memory://"
	m, err := reg.Load(cfg, store, &singletarget.ManagerOptions{Logger: logger})
	if err != nil {
		_ = e.close() // the error that stopped newEnv matters more
		return nil, err
	}
	e.m = m
	return e, nil
}

// keyHint adds to a settings error about a missing api_key where the
// command line takes the key from, when there is no settings file to fix.
func keyHint(err error, o *options) error {
	var ce *singletarget.ConfigError
	if o.config != "" || o.apiKey != "" || o.apiKeyFile != "" || !errors.As(err, &ce) || !strings.HasSuffix(ce.Key, ".api_key") {
		return err
	}
	return fmt.Errorf("%w; give the key with -api-key-file FILE or $%s", err, cmp.Or(keyEnv[o.service], keyEnvGeneric))
}

// keyEnvGeneric is the environment variable holding the API key of the
// -service named, when no service-specific variable (keyEnv) is set.
const keyEnvGeneric = "TARGETDATA_API_KEY"

// keyEnv are the services' own environment variables for their keys (the
// TOM Toolkit's names where it has one).
var keyEnv = map[string]string{
	"ATLAS":     "ATLAS_FORCED_PHOTOMETRY_API_KEY",
	"PANSTARRS": "MAST_API_TOKEN",
}

// apiKey finds the key of -service: -api-key-file, else -api-key (which
// every user of the machine can read in ps or /proc, hence the warning),
// else the service's environment variable, else TARGETDATA_API_KEY.
func apiKey(o *options, stderr io.Writer) (singletarget.Secret, error) {
	switch {
	case o.apiKeyFile != "" && o.apiKey != "":
		return "", &usageError{"give the key once: -api-key-file or -api-key, not both"}
	case o.apiKeyFile != "":
		b, err := os.ReadFile(o.apiKeyFile)
		if err != nil {
			return "", &usageError{fmt.Sprintf("-api-key-file: %v", err)}
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", &usageError{fmt.Sprintf("-api-key-file %s is empty", o.apiKeyFile)}
		}
		return singletarget.Secret(key), nil
	case o.apiKey != "":
		fmt.Fprintf(stderr, "query: warning: -api-key shows the key to every user of this machine (ps, /proc) for the whole run; use -api-key-file or $%s instead\n", cmp.Or(keyEnv[o.service], keyEnvGeneric))
		return singletarget.Secret(o.apiKey), nil
	}
	if name := keyEnv[o.service]; name != "" {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			return singletarget.Secret(v), nil
		}
	}
	return singletarget.Secret(strings.TrimSpace(os.Getenv(keyEnvGeneric))), nil
}
