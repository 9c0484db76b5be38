package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// syncBuffer is a log buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run serves the default settings on the simulators until cancelled, then
// stops gracefully; the targets stay in -dir for the next run.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		ctx, cancel := context.WithCancel(context.Background())
		urls := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, options{addr: "127.0.0.1:0", dir: dir, grace: 10 * time.Second}, logger, func(u string) { urls <- u })
		}()
		var base string
		select {
		case base = <-urls:
		case err := <-done:
			t.Fatalf("run ended: %v", err)
		case <-time.After(time.Minute):
			t.Fatal("the server did not start")
		}
		resp, err := http.Get(base + "/targets")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		if round == 0 {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "targets.json"), []byte(`[{"id":1,"name":"SN 2023ixf","ra":210.910674,"dec":54.311686}]`), 0o644))
			assert.Contains(t, string(body), "No targets yet")
		} else {
			assert.Contains(t, string(body), `<a href="/targets/1">SN 2023ixf</a>`, "the targets file is read at start")
		}
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the server did not stop")
		}
		assert.Contains(t, logs.String(), `services="[ATLAS PANSTARRS ZTF ZTF_FP ALERCE]"`)
		assert.Contains(t, logs.String(), `mode="simulated services"`)
		assert.Contains(t, logs.String(), "webtom stopped")
		_, err = http.Get(base + "/targets")
		assert.Error(t, err, "the listener is closed")
	}
	assert.FileExists(t, filepath.Join(dir, "targetdata.db"))
}

func TestRunErrors(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	err := run(context.Background(), options{config: filepath.Join(t.TempDir(), "missing.yaml")}, logger, nil)
	assert.ErrorContains(t, err, "missing.yaml")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("single_target_data_services:\n  X:\n    class: nope.Service\n"), 0o644))
	err = run(context.Background(), options{config: bad, addr: "127.0.0.1:0", dir: t.TempDir()}, logger, nil)
	assert.ErrorContains(t, err, "nope.Service")
	err = run(context.Background(), options{addr: "256.0.0.1:http", dir: t.TempDir()}, logger, nil)
	assert.Error(t, err, "a bad address")
}

// Live default settings leave out the services whose keys are missing;
// -config is taken as it is.
func TestSettings(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	for _, k := range []string{"ATLAS_FORCED_PHOTOMETRY_API_KEY", "ZTF_FPS_EMAIL", "ZTF_FPS_USERPASS"} {
		t.Setenv(k, "")
	}
	cfg, err := settings(options{live: true}, logger)
	require.NoError(t, err)
	assert.Equal(t, []string{"PANSTARRS", "ZTF", "ALERCE"}, cfg.ServiceOrder)
	assert.NotContains(t, cfg.Services, "ATLAS")
	assert.Contains(t, logs.String(), "environment=ATLAS_FORCED_PHOTOMETRY_API_KEY")

	t.Setenv("ATLAS_FORCED_PHOTOMETRY_API_KEY", "k3y")
	t.Setenv("ZTF_FPS_EMAIL", "me@example.org")
	t.Setenv("ZTF_FPS_USERPASS", "pw")
	cfg, err = settings(options{live: true}, logger)
	require.NoError(t, err)
	assert.Equal(t, []string{"ATLAS", "PANSTARRS", "ZTF", "ZTF_FP", "ALERCE"}, cfg.ServiceOrder)
	assert.Equal(t, "k3y", cfg.Services["ATLAS"].APIKey.Reveal())
	assert.Equal(t, "pool", cfg.Tasks.Backend)
	assert.NotEmpty(t, cfg.DataProcessors["atlas_photometry"], "the built-in processors are there")

	p := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(p, []byte("single_target_data_services:\n  PANSTARRS:\n    class: panstarrs.Service\ntasks:\n  backend: immediate\n"), 0o644))
	cfg, err = settings(options{config: p, live: true}, logger)
	require.NoError(t, err)
	assert.Equal(t, []string{"PANSTARRS"}, cfg.ServiceOrder)
	assert.Equal(t, "immediate", cfg.Tasks.Backend)
	assert.False(t, strings.Contains(logs.String(), "k3y"), "no key in the logs")
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
