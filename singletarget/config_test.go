package singletarget_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

const settingsYAML = `
single_target_data_services:
  DEMO:
    class: demo.Service
    api_key: ${DEMO_KEY}
    poll_ms: ${DEMO_POLL:-5}
data_product_types:
  demo_photometry: Demo Photometry
data_processors:
  demo_photometry: demo.Processor
tasks:
  backend: pool
  workers: 2
  job_timeout: 20m
  rescue_after: 45m
database: sqlite://targetdata.db
storage: file://./data
`

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfig(t *testing.T) {
	cfg, err := singletarget.ParseConfig([]byte(settingsYAML), env(map[string]string{"DEMO_KEY": "k-123456"}))
	require.NoError(t, err)
	sc := cfg.Services["DEMO"]
	assert.Equal(t, "demo.Service", sc.Class)
	assert.Equal(t, singletarget.Secret("k-123456"), sc.APIKey)
	assert.Equal(t, map[string]string{"poll_ms": "5"}, sc.Extra, "the default applies")
	assert.Equal(t, []string{"DEMO"}, cfg.ServiceOrder)
	assert.Equal(t, "Demo Photometry", cfg.DataProductTypes["demo_photometry"])
	assert.Equal(t, "demo.Processor", cfg.DataProcessors["demo_photometry"])
	assert.Equal(t, singletarget.TasksConfig{Backend: "pool", Workers: 2, JobTimeout: 20 * time.Minute, RescueAfter: 45 * time.Minute}, cfg.Tasks)
	assert.Equal(t, "sqlite://targetdata.db", cfg.Database)
	assert.Equal(t, "file://./data", cfg.Storage)

	// The same settings as JSON.
	js := `{"single_target_data_services": {"DEMO": {"class": "demo.Service", "api_key": "${DEMO_KEY}"}},
	        "data_product_types": {"demo_photometry": "Demo"}, "data_processors": {"demo_photometry": "demo.Processor"}}`
	cfg, err = singletarget.ParseConfig([]byte(js), env(map[string]string{"DEMO_KEY": "k"}))
	require.NoError(t, err)
	assert.Equal(t, singletarget.Secret("k"), cfg.Services["DEMO"].APIKey)
}

func TestParseConfigReportsEveryMistake(t *testing.T) {
	bad := `
single_target_data_services:
  ATLAS:
    url: ftp://example.org
    api_key: ${NOT_SET}
  PS:
    class: panstarrs.Service
    url: [1, 2]
data_product_types:
  atlas_photometry: Atlas
data_processors:
  other_type: x.Processor
tasks:
  backend: celery
  workers: many
  rescue_after: soon
  colour: blue
storag: file://x
`
	_, err := singletarget.ParseConfig([]byte(bad), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	msg := err.Error()
	for _, want := range []string{
		"single_target_data_services.ATLAS.class: missing",
		`single_target_data_services.ATLAS.url: "ftp://example.org" is not an absolute http(s) URL`,
		"single_target_data_services.ATLAS.api_key: environment variable NOT_SET is not set",
		"single_target_data_services.PS.url: must be a single value",
		`tasks.backend: "celery" is not one of immediate, pool, river`,
		"tasks.workers:",
		"tasks.colour: unknown key",
		"tasks.rescue_after:",
		"storag: unknown key",
		"data_processors.other_type",
		"data_product_types.atlas_photometry: no processor",
		"line ",
	} {
		assert.Contains(t, msg, want)
	}
	var ce *singletarget.ConfigError
	assert.True(t, errors.As(err, &ce))

	_, err = singletarget.ParseConfig([]byte("a: [unclosed"), nil)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
}

func TestExpandEnv(t *testing.T) {
	look := env(map[string]string{"A": "1", "EMPTY": ""})
	for in, want := range map[string]string{
		"${A}":           "1",
		"x${A}y${A}":     "x1y1",
		"${B:-dflt}":     "dflt",
		"${EMPTY:-dflt}": "dflt",
		"${EMPTY}":       "",
		"$$HOME":         "$HOME",
		"no refs $ here": "no refs $ here",
		"${A:-}":         "1",
	} {
		got, err := singletarget.ExpandEnv(in, look)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := singletarget.ExpandEnv("${B}", look)
	assert.EqualError(t, err, "environment variable B is not set")
	_, err = singletarget.ExpandEnv("${1bad}", look)
	assert.ErrorContains(t, err, "malformed")
}

func TestLoadConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(settingsYAML), 0o600))
	t.Setenv("DEMO_KEY", "from-env-1234")
	cfg, err := singletarget.LoadConfig(path)
	require.NoError(t, err)
	assert.Equal(t, singletarget.Secret("from-env-1234"), cfg.Services["DEMO"].APIKey)
	_, err = singletarget.LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, singletarget.ErrConfig)
}

func TestRegistryLoad(t *testing.T) {
	r := singletarget.NewRegistry()
	require.NoError(t, demo.Register(r, demo.NewArchive("k-123456", 1)))
	assert.Error(t, demo.Register(r, demo.NewArchive("k", 1)), "a duplicate class is an error")
	assert.Equal(t, []string{"demo.Service"}, r.Classes())
	assert.Equal(t, []string{"demo.Processor"}, r.ProcessorClasses())

	cfg, err := singletarget.ParseConfig([]byte(settingsYAML), env(map[string]string{"DEMO_KEY": "k-123456"}))
	require.NoError(t, err)
	m, err := r.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"DEMO"}, m.Services())
	info, err := m.Info("DEMO")
	require.NoError(t, err)
	assert.Equal(t, "demo_photometry", info.DataProductType)
	_, err = m.Service("ATLAS")
	assert.ErrorIs(t, err, singletarget.ErrUnknown)
	assert.ErrorContains(t, err, "configured: DEMO")

	// Mistakes found only with the registry: unknown classes, a factory's
	// refusal, a processor class not registered.
	cfg2, err := singletarget.ParseConfig([]byte(strings.Replace(settingsYAML, "class: demo.Service", "class: atlas.Nope", 1)), env(map[string]string{"DEMO_KEY": "k"}))
	require.NoError(t, err)
	cfg2.DataProcessors["demo_photometry"] = "demo.Nope"
	cfg2.Services["EXTRA"] = singletarget.ServiceConfig{Class: "demo.Service", Extra: map[string]string{"colour": "blue", "poll_ms": "x"}}
	cfg2.ServiceOrder = append(cfg2.ServiceOrder, "EXTRA")
	_, err = r.Load(cfg2, dataproduct.NewMemoryStore(nil), nil)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `single_target_data_services.DEMO.class: unknown class "atlas.Nope" (registered: demo.Service)`)
	assert.Contains(t, msg, `data_processors.demo_photometry`)
	assert.Contains(t, msg, `processor class "demo.Nope" (registered: demo.Processor)`)
	assert.Contains(t, msg, `single_target_data_services.EXTRA.colour: unknown key for class demo.Service (known: class, url, api_key, poll_ms)`)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
}

// With the registry, every mistake of a file is reported in one pass, the
// ones only the registry can find included, each with its line, in line
// order; a Load of settings parsed without the registry names lines too.
func TestRegistryParseConfigOnePass(t *testing.T) {
	r := singletarget.NewRegistry()
	require.NoError(t, demo.Register(r, demo.NewArchive("k-123456", 1)))
	const file = `single_target_data_services:
  DEMO:
    class: demo.Service
    api_key: ${DEMO_KEY}
    colour: blue
  OTHER:
    class: atlas.Nope
  THIRD:
    url: ftp://example.org
data_product_types:
  demo_photometry: Demo Photometry
data_processors:
  demo_photometry: demo.Nope
tasks:
  backend: threads
`
	_, err := r.ParseConfig([]byte(file), env(map[string]string{"DEMO_KEY": "k-123456"}), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, singletarget.ErrConfig)
	var lines []int
	var keys []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *singletarget.ConfigError
		require.ErrorAs(t, e, &ce)
		lines = append(lines, ce.Line)
		keys = append(keys, ce.Key)
	}
	assert.Equal(t, []string{
		"single_target_data_services.DEMO.colour", // the factory's refusal
		"single_target_data_services.OTHER.class", // an unknown class
		"single_target_data_services.THIRD.class", // a missing class, once
		"single_target_data_services.THIRD.url",   // not http(s), once
		"data_processors.demo_photometry",         // an unknown processor class
		"tasks.backend",                           // an unknown backend
	}, keys, "%v", err)
	assert.Equal(t, []int{5, 7, 8, 9, 13, 15}, lines, "%v", err)
	assert.Contains(t, err.Error(), `settings line 7: single_target_data_services.OTHER.class: unknown class "atlas.Nope" (registered: demo.Service)`)

	// The same file, parsed without the registry, then loaded: the
	// registry's mistakes carry their lines too.
	fixed := strings.NewReplacer("url: ftp://example.org", "class: demo.Service", "backend: threads", "backend: pool").Replace(file)
	cfg, err := singletarget.ParseConfig([]byte(fixed), env(map[string]string{"DEMO_KEY": "k-123456"}))
	require.NoError(t, err)
	_, err = r.Load(cfg, dataproduct.NewMemoryStore(nil), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "settings line 5: single_target_data_services.DEMO.colour: unknown key")
	assert.Contains(t, err.Error(), "settings line 7: single_target_data_services.OTHER.class: unknown class")
	assert.Contains(t, err.Error(), "settings line 13: data_processors.demo_photometry:")
	assert.Equal(t, 9, cfg.Line("single_target_data_services.THIRD.class"))
	assert.Equal(t, 8, cfg.Line("single_target_data_services.THIRD.url"), "a key the file lacks: its enclosing key's line")
	assert.Zero(t, (&singletarget.Config{}).Line("tasks"))

	// A good file passes, and LoadConfig reads it the same way.
	path := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(settingsYAML), 0o600))
	t.Setenv("DEMO_KEY", "k-123456")
	cfg, err = r.LoadConfig(path, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"DEMO"}, cfg.ServiceOrder)
}

func TestSettingsDecodeExtra(t *testing.T) {
	var dst struct {
		Email    string              `setting:"email" validate:"required,email"`
		Password singletarget.Secret `setting:"password"`
		Retries  int                 `setting:"retries" validate:"gte=0,lte=10"`
		Poll     time.Duration       `setting:"poll"`
	}
	s := singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService",
		Extra: map[string]string{"email": "me@example.org", "password": "hunter22", "retries": "3", "poll": "1m30s"}}
	require.NoError(t, s.DecodeExtra(&dst))
	assert.Equal(t, 90*time.Second, dst.Poll)
	assert.Equal(t, "me@example.org", dst.Email)
	assert.Equal(t, "hunter22", dst.Password.Reveal())
	assert.NotContains(t, s.String(), "hunter22", "Settings print without values")

	s.Extra = map[string]string{"email": "not-an-email", "retries": "99"}
	err := s.DecodeExtra(&dst)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "single_target_data_services.ZTF_FP.email: Enter a valid email address.")
	assert.Contains(t, err.Error(), "single_target_data_services.ZTF_FP.retries: Ensure this value is less than or equal to 10.")
	s.Extra = map[string]string{"retries": "three"}
	assert.ErrorContains(t, s.DecodeExtra(&dst), `single_target_data_services.ZTF_FP.retries: cannot use "three"`)
	s.Extra = map[string]string{"poll": "soon"}
	assert.ErrorContains(t, s.DecodeExtra(&dst), `single_target_data_services.ZTF_FP.poll: cannot use "soon"`)
}
