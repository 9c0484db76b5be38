package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
)

// The settings' refresh section with -refresh-targets: the worker's cycle
// on start refreshes the file's targets, which the web process's
// RefreshCycles shows; without the file the worker refuses to start.
func TestWorkerScheduledRefresh(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
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
database: sqlite://%s
storage: file://%s
refresh:
  every: 24h
  services:
    ATLAS: {min_date_mjd: "60300", max_date_mjd: "60330"}
`, sim.URL, filepath.Join(dir, "td.db"), filepath.Join(dir, "files"))
	path := filepath.Join(dir, "settings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(settings), 0o600))
	t.Setenv("WORKER_TEST_ATLAS_KEY", sim.Token.Reveal())
	targets := filepath.Join(dir, "targets.json")
	require.NoError(t, os.WriteFile(targets, []byte(`[{"id": 1, "name": "SN 2023ixf", "ra": 210.910674, "dec": 54.311686},
		{"id": 2, "name": "SN 2024ggi", "ra": 169.59225, "dec": -32.83814}]`), 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, path, time.Second, "", "", slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "RefreshTargets", "a scheduled refresh needs its targets")
	assert.ErrorContains(t, run(ctx, path, time.Second, "", filepath.Join(dir, "none.json"), nil), "-refresh-targets")

	cfg, err := builtin.LoadConfig(path)
	require.NoError(t, err)
	web, err := builtin.Open(ctx, cfg, nil) // insert-only: the web process (it migrates the job tables)
	require.NoError(t, err)
	defer web.Close()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(wctx, path, 5*time.Second, "", targets, slog.New(slog.DiscardHandler)) }()
	var stopped error
	require.Eventually(t, func() bool {
		select {
		case stopped = <-done:
			return true
		default:
		}
		cs, err := web.River.RefreshCycles(ctx, 5)
		return err == nil && len(cs) == 1 && !cs[0].Finished.IsZero()
	}, time.Minute, 50*time.Millisecond)
	require.NoError(t, stopped, "the worker stopped early")
	cs, err := web.River.RefreshCycles(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, 2, cs[0].Targets)
	assert.Equal(t, 2, cs[0].Progress.Done)
	assert.Positive(t, cs[0].Progress.Added)
	assert.Equal(t, 2, sim.Stats().TasksCreated)
	stop()
	require.NoError(t, <-done)
}
