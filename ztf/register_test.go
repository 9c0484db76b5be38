package ztf_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

const settingsYAML = `
single_target_data_services:
  ZTF:
    class: ztf.Service
    url: %s
    request_interval: "off"
    timeout: 30s
  ZTF_FP:
    class: ztf.ForcedPhotometryService
    url: %s
    email: ${ZFPS_EMAIL}
    userpass: ${ZFPS_USERPASS}
    poll_interval: 5ms
    max_poll_interval: 20ms
    deadline: 1h
data_product_types:
  ztf_photometry: ZTF Photometry
  ztf_forced_photometry: ZTF Forced Photometry
data_processors:
  ztf_photometry: ztf.Processor
  ztf_forced_photometry: ztf.ForcedPhotometryProcessor
`

func TestRegisterAndLoad(t *testing.T) {
	r := singletarget.NewRegistry()
	require.NoError(t, ztf.Register(r))
	assert.Equal(t, []string{"ztf.ForcedPhotometryService", "ztf.Service"}, r.Classes())
	assert.Equal(t, []string{"ztf.ForcedPhotometryProcessor", "ztf.Processor"}, r.ProcessorClasses())
	assert.Error(t, ztf.Register(r), "registering twice is an error")
	assert.Equal(t, []string{"ztf_photometry", "ZTF Photometry", "ztf_forced_photometry", "ZTF Forced Photometry"},
		[]string{ztf.DataProductType, ztf.DataProductLabel, ztf.ForcedPhotometryDataProductType, ztf.ForcedPhotometryDataProductLabel})

	sim := ztftest.NewServer(t, nil)
	env := map[string]string{"ZFPS_EMAIL": ztftest.DefaultEmail, "ZFPS_USERPASS": ztftest.DefaultUserpass}
	cfg, err := singletarget.ParseConfig([]byte(fmt.Sprintf(settingsYAML, sim.LightCurveURL, sim.ForcedPhotometryURL)),
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	store := dataproduct.NewMemoryStore(nil)
	m, err := r.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	require.NoError(t, err)
	assert.Equal(t, []string{"ZTF", "ZTF_FP"}, m.Services())

	ctx := context.Background()
	res, err := m.Run(ctx, singletarget.Request{Service: "ZTF", Target: target})
	require.NoError(t, err)
	assert.Positive(t, res.Added)
	res, err = m.Run(ctx, singletarget.Request{Service: "ZTF_FP", Target: target, Params: window})
	require.NoError(t, err)
	assert.Positive(t, res.Added)
	assert.Equal(t, 1, sim.Submissions(ztftest.DefaultEmail))
	fromFP, err := store.ListDatums(ctx, dataproduct.DatumFilter{Source: "ZTF_FP"})
	require.NoError(t, err)
	assert.Len(t, fromFP, res.Added)
}

func TestSettingsErrors(t *testing.T) {
	r := singletarget.NewRegistry()
	require.NoError(t, ztf.Register(r))
	for name, c := range map[string]struct {
		s    singletarget.Settings
		keys []string
	}{
		"unknown key": {singletarget.Settings{Name: "ZTF", Class: "ztf.Service", Extra: map[string]string{"radius": "3"}},
			[]string{"single_target_data_services.ZTF.radius"}},
		"api key": {singletarget.Settings{Name: "ZTF", Class: "ztf.Service", APIKey: "abcd1234"},
			[]string{"single_target_data_services.ZTF.api_key"}},
		"bad interval": {singletarget.Settings{Name: "ZTF", Class: "ztf.Service", Extra: map[string]string{"request_interval": "fast"}},
			[]string{"single_target_data_services.ZTF.request_interval"}},
		"bad url": {singletarget.Settings{Name: "ZTF", Class: "ztf.Service", URL: "irsa"},
			[]string{"single_target_data_services.ZTF"}},
		"no account": {singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService"},
			[]string{"single_target_data_services.ZTF_FP.email", "single_target_data_services.ZTF_FP.userpass"}},
		"fp api key and durations": {singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService", APIKey: "abcd1234",
			Extra: map[string]string{"email": "me@example.org", "userpass": "s3cret-pass", "deadline": "-1h", "poll_interval": "soon"}},
			[]string{"ZTF_FP.api_key", "ZTF_FP.deadline", "ZTF_FP.poll_interval"}},
		"fp bad option": {singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService",
			Extra: map[string]string{"email": "me@example.org", "userpass": "s3cret-pass", "poll_interval": "1h", "max_poll_interval": "1m"}},
			[]string{"single_target_data_services.ZTF_FP"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.New(c.s)
			require.Error(t, err)
			assert.True(t, errors.Is(err, singletarget.ErrConfig), "%v", err)
			for _, k := range c.keys {
				assert.Contains(t, err.Error(), k)
			}
			assert.NotContains(t, err.Error(), "s3cret-pass")
			assert.NotContains(t, err.Error(), "abcd1234")
		})
	}
	svc, err := r.New(singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService",
		Extra: map[string]string{"email": "me@example.org", "userpass": "s3cret-pass", "http_user": "other", "http_password": "pw2"}})
	require.NoError(t, err)
	assert.Equal(t, "ZTF_FP", svc.Name())
	svc, err = r.New(singletarget.Settings{Name: "ZTF_PARTNER", Class: "ztf.Service", Extra: map[string]string{"username": "me", "password": "pw"}})
	require.NoError(t, err)
	assert.Equal(t, "ZTF_PARTNER", svc.Name(), "the settings key names the service")
}
