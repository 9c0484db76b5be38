package singletarget_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/internal/fuzzcheck"
	"github.com/tomgo/targetdata/singletarget"
)

// fuzzSecret is the value of every environment variable the settings
// fuzzer's files may name: it must never show in an error.
const fuzzSecret = "S3cr3t-Fuzz-Value-9x7"

// FuzzParseConfig parses arbitrary settings files: an error matching
// ErrConfig whose parts are *ConfigError values naming a key, the same
// error for the same file, and never the value of an environment variable
// in the error text; or settings whose services all have a class.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		settingsYAML,
		"single_target_data_services:\n  ATLAS:\n    class: atlas.ForcedPhotometryService\n    api_key: ${ATLAS_KEY}\n    url: ${ATLAS_URL}\n",
		"tasks:\n  backend: ${BACKEND}\n  workers: ${WORKERS}\n  database: ${DB}\n",
		"tasks: {backend: river, workers: 0, rescue_after: 1s}\n",
		"database: ${DB:-sqlite://x.db}\nstorage: $${NOT}\nunknown: 1\n",
		`{"single_target_data_services": {"P": {"class": "panstarrs.Service", "url": "ftp://x"}}, "data_product_types": {"a": "A"}}`,
		"a: &x [1, 2]\nb: *x\n",
		"single_target_data_services:\n  Z:\n    class: ztf.ForcedPhotometryService\n    userpass: ${PASS}\n    email: ${EMAIL\n",
		"data_processors:\n  t: ${P}\ndata_product_types:\n  u: U\n",
	} {
		f.Add([]byte(s))
	}
	env := func(string) (string, bool) { return fuzzSecret, true }
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 || strings.Contains(string(data), fuzzSecret) {
			return
		}
		cfg, err := singletarget.ParseConfig(data, env)
		_, err2 := singletarget.ParseConfig(data, env)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("the same file gave %v, then %v", err, err2)
		}
		if err != nil {
			if !errors.Is(err, singletarget.ErrConfig) {
				t.Fatalf("error does not match ErrConfig: %v", err)
			}
			parts := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				parts = j.Unwrap()
			}
			for _, p := range parts {
				var ce *singletarget.ConfigError
				if !errors.As(p, &ce) || ce.Key == "" || ce.Msg == "" {
					t.Fatalf("not a *ConfigError with a key and a message: %T %v", p, p)
				}
			}
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("the error shows an environment value: %v", err)
			}
			return
		}
		for name, sc := range cfg.Services {
			if sc.Class == "" {
				t.Fatalf("service %q without a class", name)
			}
		}
		if len(cfg.ServiceOrder) != len(cfg.Services) {
			t.Fatalf("ServiceOrder %v for %d services", cfg.ServiceOrder, len(cfg.Services))
		}
		_ = fuzzcheck.MaxInput
	})
}
