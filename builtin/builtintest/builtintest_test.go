package builtintest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/builtin/builtintest"
	"github.com/tomgo/targetdata/singletarget"
)

// Every built-in service gets a running simulator; stopping them stops
// them; a class without a simulator is a settings error.
func TestSimulate(t *testing.T) {
	cfg := &singletarget.Config{Services: map[string]singletarget.ServiceConfig{}}
	for _, name := range builtin.ServiceNames() {
		class, _ := builtin.Class(name)
		cfg.Services[name] = singletarget.ServiceConfig{Class: class}
		cfg.ServiceOrder = append(cfg.ServiceOrder, name)
	}
	var stops []func()
	require.NoError(t, builtintest.Simulate(cfg, func(stop func()) { stops = append(stops, stop) }))
	assert.Len(t, stops, len(cfg.ServiceOrder))
	for _, name := range cfg.ServiceOrder {
		u := cfg.Services[name].URL
		require.NotEmpty(t, u, name)
		resp, err := http.Get(u)
		require.NoError(t, err, "%s's simulator answers", name)
		resp.Body.Close()
	}
	assert.NotEmpty(t, cfg.Services["ATLAS"].APIKey.Reveal(), "ATLAS gets the simulator's token")
	for _, stop := range stops {
		stop()
	}
	_, err := http.Get(cfg.Services["PANSTARRS"].URL)
	assert.Error(t, err, "a stopped simulator is gone")

	bad := &singletarget.Config{Services: map[string]singletarget.ServiceConfig{"SDSS": {Class: "sdss.Service"}}, ServiceOrder: []string{"SDSS"}}
	err = builtintest.Simulate(bad, func(func()) { t.Error("nothing to stop") })
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	assert.ErrorContains(t, err, `no bundled simulator for class "sdss.Service"`)
}

// A Config built in code may leave ServiceOrder empty (Registry.Load then
// takes the services in name order): every service is still pointed at a
// simulator, never left at its real archive's URL.
func TestSimulateWithoutServiceOrder(t *testing.T) {
	cfg := &singletarget.Config{Services: map[string]singletarget.ServiceConfig{
		"ATLAS":     {Class: "atlas.ForcedPhotometryService", URL: "https://fallingstar-data.com/forcedphot"},
		"PANSTARRS": {Class: "panstarrs.Service", URL: "https://catalogs.mast.stsci.edu/api/v0.1/panstarrs"},
	}}
	var stops []func()
	require.NoError(t, builtintest.Simulate(cfg, func(stop func()) { stops = append(stops, stop) }))
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
	})
	assert.Len(t, stops, 2)
	for name, sc := range cfg.Services {
		assert.Contains(t, sc.URL, "127.0.0.1", "%s points at its simulator", name)
	}
}
