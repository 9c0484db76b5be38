package builtin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/singletarget"
)

func TestDefaults(t *testing.T) {
	types := builtin.DataProductTypes()
	procs := builtin.DataProcessors()
	for typ := range types {
		assert.NotEmpty(t, procs[typ], "type %s has a processor", typ)
	}
	r := singletarget.NewRegistry()
	require.NoError(t, builtin.Register(r))
	for typ, class := range procs {
		_, err := r.Processor(class)
		assert.NoError(t, err, "processor class %s of %s is registered", class, typ)
	}
	for _, name := range builtin.ServiceNames() {
		class, ok := builtin.Class(name)
		require.True(t, ok)
		assert.Contains(t, r.Classes(), class)
	}
	assert.Error(t, builtin.Register(r), "registering twice is an error")
}

// The production wiring links no test code: no testing, no httptest, no
// simulator (those are in builtintest).
func TestNoTestCodeLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/tomgo/targetdata/singletarget/riverexec", "the list is the real dependency list")
	for _, d := range deps {
		assert.NotEqual(t, "testing", d)
		assert.NotEqual(t, "net/http/httptest", d)
		assert.False(t, strings.HasSuffix(d, "test") && strings.HasPrefix(d, "github.com/tomgo/targetdata/"), "builtin links %s", d)
		assert.NotContains(t, d, "simfault")
	}
}

// LoadConfig reports every mistake of a file at once, the built-in
// classes' own included, each with its line.
func TestLoadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    api_key: not-a-real-token-0123456789
    poll_queud: 4s
  ZTF:
    class: ztf.Servce
tasks:
  workers: 0
`), 0o600))
	_, err := builtin.LoadConfig(path)
	require.Error(t, err)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	msg := err.Error()
	assert.Contains(t, msg, "settings line 5: single_target_data_services.ATLAS.poll_queud: unknown key")
	assert.Contains(t, msg, `settings line 7: single_target_data_services.ZTF.class: unknown class "ztf.Servce"`)
	assert.Contains(t, msg, "settings line 9: tasks.workers:")

	require.NoError(t, os.WriteFile(path, []byte("single_target_data_services:\n  PANSTARRS:\n    class: panstarrs.Service\n"), 0o600))
	cfg, err := builtin.LoadConfig(path)
	require.NoError(t, err)
	assert.Equal(t, "panstarrs.Processor", cfg.DataProcessors["panstarrs_photometry"], "with the built-in defaults")
}

func TestJobDatabase(t *testing.T) {
	for db, want := range map[string]string{
		"sqlite://data/targetdata.db": "sqlite://data/targetdata.jobs.db",
		"postgres://u@h/db":           "postgres://u@h/db",
		"":                            "sqlite://targetdata.jobs.db",
		"sqlite://:memory:":           "sqlite://targetdata.jobs.db",
	} {
		assert.Equal(t, want, builtin.JobDatabase(&singletarget.Config{Database: db}), db)
	}
	assert.Equal(t, "sqlite://j.db", builtin.JobDatabase(&singletarget.Config{Database: "x", Tasks: singletarget.TasksConfig{Database: "sqlite://j.db"}}))
}

// Open a whole application from settings on every backend, against the
// bundled simulators.
func TestOpen(t *testing.T) {
	for _, backend := range []string{"immediate", "pool", "river"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			cfg := &singletarget.Config{
				Services:     map[string]singletarget.ServiceConfig{"ATLAS": {Class: "atlas.ForcedPhotometryService"}, "PANSTARRS": {Class: "panstarrs.Service"}},
				ServiceOrder: []string{"ATLAS", "PANSTARRS"},
				Database:     "sqlite://" + filepath.Join(dir, "td.db"),
				Storage:      "file://" + filepath.Join(dir, "files"),
				Tasks:        singletarget.TasksConfig{Backend: backend, Workers: 2},
			}
			var stops []func()
			require.NoError(t, builtintest.Simulate(cfg, func(f func()) { stops = append(stops, f) }))
			defer func() {
				for _, f := range stops {
					f()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			app, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true})
			require.NoError(t, err)
			defer func() {
				assert.NoError(t, app.Close(), "the store and job database close cleanly")
				assert.NoError(t, app.Close(), "closing twice does nothing")
			}()
			require.NoError(t, app.Start(ctx))
			target := singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}
			var ids []singletarget.JobID
			for _, svc := range []string{"ATLAS", "PANSTARRS"} {
				id, err := app.Executor.Submit(ctx, singletarget.Request{Service: svc, Target: target})
				require.NoError(t, err)
				ids = append(ids, id)
			}
			for _, id := range ids {
				var st singletarget.JobStatus
				require.Eventually(t, func() bool {
					st, err = app.Executor.Status(ctx, id)
					return err == nil && st.State.Done()
				}, 50*time.Second, 20*time.Millisecond)
				require.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
				assert.Positive(t, st.Added)
			}
			require.NoError(t, app.Stop(ctx))
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	_, err := builtin.Open(ctx, &singletarget.Config{Database: "mysql://x"}, nil)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	_, err = builtin.Open(ctx, &singletarget.Config{Storage: "file:///tmp/x"}, nil)
	assert.ErrorContains(t, err, "needs a database")
	_, err = builtin.Open(ctx, &singletarget.Config{Services: map[string]singletarget.ServiceConfig{"X": {Class: "nope.Service"}}, ServiceOrder: []string{"X"}}, nil)
	assert.ErrorContains(t, err, `unknown class "nope.Service"`)
}

// Settings a factory refuses (an unknown key of a service) create no
// database and no storage folder.
func TestOpenBadSettingsCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := &singletarget.Config{
		Services: map[string]singletarget.ServiceConfig{"PANSTARRS": {Class: "panstarrs.Service", Extra: map[string]string{"colour": "blue"}}},
		Database: "sqlite://" + filepath.Join(dir, "store.db"), Storage: "file://" + filepath.Join(dir, "files"),
	}
	_, err := builtin.Open(context.Background(), cfg, nil)
	require.ErrorIs(t, err, singletarget.ErrConfig)
	assert.Contains(t, err.Error(), "colour")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is created from settings that do not load")
}

// A river app opened without Worker (a web process) starts without
// running jobs; a worker app on the same job database runs them.
func TestOpenInsertOnly(t *testing.T) {
	dir := t.TempDir()
	cfg := &singletarget.Config{
		Services:     map[string]singletarget.ServiceConfig{"PANSTARRS": {Class: "panstarrs.Service"}},
		ServiceOrder: []string{"PANSTARRS"},
		Database:     "sqlite://" + filepath.Join(dir, "td.db"),
		Storage:      "file://" + filepath.Join(dir, "files"),
		Tasks:        singletarget.TasksConfig{Backend: "river", Workers: 2},
	}
	var stops []func()
	require.NoError(t, builtintest.Simulate(cfg, func(f func()) { stops = append(stops, f) }))
	defer func() {
		for _, f := range stops {
			f()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	web, err := builtin.Open(ctx, cfg, nil)
	require.NoError(t, err)
	defer web.Close()
	require.NoError(t, web.Start(ctx), "an insert-only app starts (it runs nothing)")
	defer func() { assert.NoError(t, web.Stop(ctx)) }()
	id, err := web.Executor.Submit(ctx, singletarget.Request{Service: "PANSTARRS",
		Target: singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}})
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	st, err := web.Executor.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobQueued, st.State, "the web process runs no job")

	worker, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true})
	require.NoError(t, err)
	defer worker.Close()
	require.NoError(t, worker.Start(ctx))
	defer func() { assert.NoError(t, worker.Stop(ctx)) }()
	require.Eventually(t, func() bool {
		st, err = web.Executor.Status(ctx, id)
		return err == nil && st.State.Done()
	}, 50*time.Second, 20*time.Millisecond)
	assert.Equal(t, singletarget.JobSucceeded, st.State, "%+v", st)
	assert.Positive(t, st.Added)
}
