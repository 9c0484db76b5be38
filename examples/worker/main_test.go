package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/singletarget"
)

// The web process inserts a job; a separate worker process (this command,
// built and started for real) runs it; SIGTERM stops the worker cleanly.
func TestWorkerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the worker binary; skipped with -short")
	}
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 200 * time.Millisecond, RunTime: 300 * time.Millisecond})
	dir := t.TempDir()
	settings := fmt.Sprintf(`
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: %s
    api_key: ${WORKER_TEST_ATLAS_KEY}
    poll_queued: 50ms
    poll_running: 50ms
tasks:
  backend: river
  workers: 2
database: sqlite://%s
storage: file://%s
`, sim.URL, filepath.Join(dir, "td.db"), filepath.Join(dir, "files"))
	path := filepath.Join(dir, "settings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(settings), 0o600))
	t.Setenv("WORKER_TEST_ATLAS_KEY", sim.Token.Reveal())

	bin := filepath.Join(dir, "worker")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := singletarget.LoadConfig(path)
	require.NoError(t, err)
	web, err := builtin.Open(ctx, cfg, nil) // insert-only: the web process
	require.NoError(t, err)
	defer web.Close()
	id, err := web.Executor.Submit(ctx, singletarget.Request{Service: "ATLAS",
		Target: singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}})
	require.NoError(t, err)

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "-config", path)
	cmd.Env = os.Environ()
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	var st singletarget.JobStatus
	require.Eventually(t, func() bool {
		st, err = web.Executor.Status(ctx, id)
		return err == nil && st.State.Done()
	}, time.Minute, 50*time.Millisecond, "logs:\n%s", logs)
	require.Equal(t, singletarget.JobSucceeded, st.State, "%+v\n%s", st, logs)
	assert.Positive(t, st.Added)
	assert.Equal(t, 1, sim.Stats().TasksCreated, "one remote task")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		require.NoError(t, err, "a clean exit on SIGTERM\n%s", logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("the worker did not stop on SIGTERM\n%s", logs)
	}
	assert.Contains(t, logs.String(), "worker stopped")
	assert.NotContains(t, logs.String(), sim.Token.Reveal(), "the key never reaches the logs")
}

func TestWorkerRefusesOtherBackends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte("tasks:\n  backend: pool\n"), 0o600))
	err := run(context.Background(), path, time.Second, "", "", nil)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	assert.ErrorContains(t, run(context.Background(), "", time.Second, "", "", nil), "-config is required")
}

// With -callback-addr the worker serves the ATLAS completion callback:
// a job inserted by the web process, whose next poll is an hour away,
// finishes as soon as its task does.
func TestWorkerServesCallbacks(t *testing.T) {
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 300 * time.Millisecond, RunTime: 200 * time.Millisecond, AllowHTTPCallbacks: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // the worker listens on it
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(`
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: %s
    api_key: %s
    poll_queued: 1h
    poll_running: 1h
    poll_max: 1h
    callback_url: http://%s/cb/atlas
tasks:
  backend: river
  workers: 2
database: sqlite://%s
storage: file://%s
`, sim.URL, sim.Token.Reveal(), addr, filepath.Join(dir, "td.db"), filepath.Join(dir, "files"))), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := singletarget.LoadConfig(path)
	require.NoError(t, err)
	web, err := builtin.Open(ctx, cfg, nil)
	require.NoError(t, err)
	defer web.Close()

	logs := &syncBuffer{}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(wctx, path, 5*time.Second, addr, "", slog.New(slog.NewTextHandler(logs, nil))) }()
	id, err := web.Executor.Submit(ctx, singletarget.Request{Service: "ATLAS",
		Target: singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params: map[string][]string{"min_date_mjd": {"60000"}, "max_date_mjd": {"60030"}}})
	require.NoError(t, err)
	var st singletarget.JobStatus
	require.Eventually(t, func() bool {
		st, err = web.Executor.Status(ctx, id)
		return err == nil && st.State.Done()
	}, 30*time.Second, 50*time.Millisecond, "logs:\n%s", logs)
	require.Equal(t, singletarget.JobSucceeded, st.State, "%+v\n%s", st, logs)
	assert.Equal(t, 1, sim.Stats().CallbacksSent)
	assert.Contains(t, logs.String(), "serving completion callbacks")
	stop()
	require.NoError(t, <-done)

	// Without a callback_url there is nothing to serve.
	plain := filepath.Join(dir, "plain.yaml")
	require.NoError(t, os.WriteFile(plain, []byte(fmt.Sprintf("single_target_data_services:\n  ATLAS:\n    class: atlas.ForcedPhotometryService\n    url: %s\n    api_key: k\ntasks:\n  backend: river\ndatabase: sqlite://%s\n",
		sim.URL, filepath.Join(dir, "p.db"))), 0o600))
	err = run(ctx, plain, time.Second, addr, "", slog.New(slog.DiscardHandler))
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	assert.ErrorContains(t, err, "no service has a callback_url")
}
