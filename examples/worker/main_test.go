package main

import (
	"context"
	"fmt"
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
	err := run(context.Background(), path, time.Second, nil)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	assert.ErrorContains(t, run(context.Background(), "", time.Second, nil), "-config is required")
}
