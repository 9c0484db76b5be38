package singletarget_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

const refreshYAML = `
single_target_data_services:
  FAKE:
    class: fake.Service
    refresh_overlap: 2d
  OTHER:
    class: fake.Service
data_processors:
  fake_photometry: fake.Processor
tasks:
  backend: river
refresh:
  every: 12h
  services:
    FAKE:
      table: mean
    OTHER:
`

func TestRefreshSettings(t *testing.T) {
	cfg, err := singletarget.ParseConfig([]byte(refreshYAML), nil)
	require.NoError(t, err)
	require.NotNil(t, cfg.Services["FAKE"].RefreshOverlap)
	assert.Equal(t, 48*time.Hour, *cfg.Services["FAKE"].RefreshOverlap)
	assert.Nil(t, cfg.Services["OTHER"].RefreshOverlap, "the service's default")
	assert.Equal(t, 12*time.Hour, cfg.Refresh.Every)
	assert.Equal(t, []string{"FAKE", "OTHER"}, cfg.Refresh.ServiceOrder)
	assert.Equal(t, url.Values{"table": {"mean"}}, cfg.Refresh.Services["FAKE"])
	assert.Nil(t, cfg.Refresh.Services["OTHER"])

	// Registry.Load applies the overlap and checks the refresh's values.
	reg := singletarget.NewRegistry()
	require.NoError(t, reg.Register("fake.Service", func(s singletarget.Settings) (singletarget.Service, error) {
		svc := &refreshService{archive: &epochArchive{}, overlap: time.Hour}
		if s.Name != fakeName {
			return namedService{svc, s.Name}, nil
		}
		return svc, nil
	}))
	require.NoError(t, reg.RegisterProcessor("fake.Processor", processor.PhotometryTable{}))
	m, err := reg.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	require.NoError(t, err)
	d, err := m.RefreshOverlap(fakeName)
	require.NoError(t, err)
	assert.Equal(t, 48*time.Hour, d)
	d, err = m.RefreshOverlap("OTHER")
	require.NoError(t, err)
	assert.Equal(t, time.Hour, d)

	bad := *cfg
	bad.Refresh.Services = map[string]url.Values{fakeName: {"table": {"nope"}}}
	_, err = reg.Load(&bad, dataproduct.NewMemoryStore(nil), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	assert.Contains(t, err.Error(), "refresh.services.FAKE")

	// Day units and the list form of services.
	cfg, err = singletarget.ParseConfig([]byte(`
single_target_data_services:
  FAKE: {class: fake.Service, refresh_overlap: 36h}
tasks: {backend: river}
refresh: {every: 1d, services: [FAKE]}
`), nil)
	require.NoError(t, err)
	assert.Equal(t, 36*time.Hour, *cfg.Services["FAKE"].RefreshOverlap)
	assert.Equal(t, 24*time.Hour, cfg.Refresh.Every)
	assert.Equal(t, []string{"FAKE"}, cfg.Refresh.ServiceOrder)

	for _, tc := range []struct{ yaml, key string }{
		{"single_target_data_services:\n  FAKE: {class: fake.Service, refresh_overlap: soon}\n", "single_target_data_services.FAKE.refresh_overlap"},
		{"single_target_data_services:\n  FAKE: {class: fake.Service, refresh_overlap: -1h}\n", "single_target_data_services.FAKE.refresh_overlap"},
		{"tasks: {backend: river}\nrefresh: {every: 10s}\n", "refresh.every"},
		{"refresh: {every: 24h}\n", "refresh.every"}, // not on river
		{"tasks: {backend: river}\nrefresh: {every: 24h, services: [NOPE]}\n", "refresh.services.NOPE"},
		{"tasks: {backend: river}\nrefresh: {every: 24h, often: yes}\n", "refresh.often"},
	} {
		_, err := singletarget.ParseConfig([]byte(tc.yaml), nil)
		require.Error(t, err, tc.yaml)
		assert.ErrorIs(t, err, singletarget.ErrConfig)
		assert.Contains(t, err.Error(), tc.key, tc.yaml)
	}
}

// namedService renames a service (a second entry of the same class).
type namedService struct {
	*refreshService
	name string
}

func (n namedService) Name() string { return n.name }

// ServiceNames keeps file order when ServiceOrder lists every service once,
// and falls back to name order for a Config built in code without it (or
// with a stale one), so that nothing iterating the services misses one.
func TestServiceNames(t *testing.T) {
	cfg := &singletarget.Config{Services: map[string]singletarget.ServiceConfig{"ZTF": {}, "ATLAS": {}, "PANSTARRS": {}}}
	assert.Equal(t, []string{"ATLAS", "PANSTARRS", "ZTF"}, cfg.ServiceNames(), "no ServiceOrder: name order")
	cfg.ServiceOrder = []string{"ZTF", "ATLAS", "PANSTARRS"}
	assert.Equal(t, []string{"ZTF", "ATLAS", "PANSTARRS"}, cfg.ServiceNames(), "file order")
	cfg.ServiceOrder = []string{"ZTF", "ZTF", "ATLAS"}
	assert.Equal(t, []string{"ATLAS", "PANSTARRS", "ZTF"}, cfg.ServiceNames(), "a stale order is not trusted")

	rc := &singletarget.RefreshConfig{Services: map[string]url.Values{"ZTF": nil, "ATLAS": {"min_date_mjd": {"60000"}}}}
	assert.Equal(t, []string{"ATLAS", "ZTF"}, rc.ServiceNames())
	rc.ServiceOrder = []string{"ZTF", "ATLAS"}
	assert.Equal(t, []string{"ZTF", "ATLAS"}, rc.ServiceNames())
}
