package builtin_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/singletarget"
)

// The settings' refresh section runs on a river worker whose program
// names the targets: the cycle on start refreshes them from every
// listed service, with the section's form values.
func TestOpenScheduledRefresh(t *testing.T) {
	dir := t.TempDir()
	cfg, err := singletarget.ParseConfig([]byte(`
single_target_data_services:
  PANSTARRS: {class: panstarrs.Service}
  ZTF: {class: ztf.Service, refresh_overlap: 2d}
tasks: {backend: river, workers: 2}
refresh:
  every: 24h
  services:
    PANSTARRS: {catalog: detection, radius_arcsec: "20"}
`), nil)
	require.NoError(t, err)
	cfg.Database = "sqlite://" + filepath.Join(dir, "td.db")
	cfg.Storage = "file://" + filepath.Join(dir, "files")
	var stops []func()
	require.NoError(t, builtintest.Simulate(cfg, func(f func()) { stops = append(stops, f) }))
	defer func() {
		for _, f := range stops {
			f()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err = builtin.Open(ctx, cfg, &builtin.Options{Worker: true})
	require.ErrorIs(t, err, singletarget.ErrConfig, "a worker must name the targets")
	assert.ErrorContains(t, err, "RefreshTargets")
	assert.NoFileExists(t, filepath.Join(dir, "td.db"), "the mistake is found before the store is created")

	targets := []singletarget.Target{{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686}}
	app, err := builtin.Open(ctx, cfg, &builtin.Options{Worker: true,
		RefreshTargets: func(context.Context) ([]singletarget.Target, error) { return targets, nil }})
	require.NoError(t, err)
	defer app.Close()
	d, err := app.Manager.RefreshOverlap("ZTF")
	require.NoError(t, err)
	assert.Equal(t, 48*time.Hour, d)
	require.NoError(t, app.Start(ctx))
	defer func() { assert.NoError(t, app.Stop(ctx)) }()
	require.Eventually(t, func() bool {
		cs, err := app.River.RefreshCycles(ctx, 5)
		return err == nil && len(cs) == 1 && !cs[0].Finished.IsZero()
	}, 50*time.Second, 50*time.Millisecond, "the cycle on start runs")
	cs, err := app.River.RefreshCycles(ctx, 5)
	require.NoError(t, err)
	c := cs[0]
	assert.Equal(t, 1, c.Targets)
	require.Len(t, c.Services, 1, "only the listed service")
	assert.Equal(t, "PANSTARRS", c.Services[0].Service)
	assert.Equal(t, 1, c.Progress.Done)
	assert.Positive(t, c.Progress.Added)
	sts, err := app.River.BatchStatuses(ctx, c.Services[0].Batch)
	require.NoError(t, err)
	require.Len(t, sts, 1)
	assert.Equal(t, "detection", sts[0].Request.Params.Get("catalog"))
	require.NotNil(t, sts[0].Window)
	assert.False(t, sts[0].Window.All, "the detection table is narrowed")
}
