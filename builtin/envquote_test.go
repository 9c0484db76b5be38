package builtin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/singletarget"
)

// A settings error about a value that came from the environment quotes
// ${NAME}, never the value: a duration, a URL with userinfo, a key=value
// PostgreSQL connection string, a job database URL (issue 20 item 10).
func TestSettingsErrorsQuoteNamesNotValues(t *testing.T) {
	const (
		deadline = "Dl-5ecret-9Kq"
		urlPass  = "UrlPw-5ecret-4Tz"
		dsnPass  = "DsnPw-5ecret-7Wc"
		ztfPass  = "ZtfQs-5ecret-2Pp"
	)
	environ := map[string]string{
		"ATLAS_KEY":      "AtlasKey-5ecret-0000",
		"ATLAS_DEADLINE": deadline,
		"ATLAS_URL":      "https://someone:" + urlPass + "@fallingstar-data.com/forcedphot",
		"PS_URL":         "https://someone:" + urlPass + "@catalogs.mast.stsci.edu/api/v0.1/panstarrs?x=" + urlPass,
		"ZTF_URL":        "https://irsa.ipac.caltech.edu/cgi-bin/ZTF/nph_light_curves?userpass=" + ztfPass,
		"DSN":            "host=localhost user=tom password=" + dsnPass + " dbname=targetdata",
		"JOBS":           "postgres://tom:" + dsnPass + "@127.0.0.1:notaport/jobs",
	}
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	secrets := []string{deadline, urlPass, dsnPass, ztfPass}
	check := func(t *testing.T, err error, names ...string) {
		t.Helper()
		require.Error(t, err)
		msg := err.Error()
		for _, s := range secrets {
			assert.NotContains(t, msg, s)
		}
		for _, n := range names {
			assert.Contains(t, msg, "${"+n+"}")
		}
		assert.ErrorIs(t, err, singletarget.ErrConfig)
	}

	t.Run("service settings", func(t *testing.T) {
		cfg, err := singletarget.ParseConfig([]byte(`
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    api_key: ${ATLAS_KEY}
    deadline: ${ATLAS_DEADLINE}
  ATLAS2:
    class: atlas.ForcedPhotometryService
    url: ${ATLAS_URL}
    api_key: ${ATLAS_KEY}
  PANSTARRS:
    class: panstarrs.Service
    url: ${PS_URL}
  ZTF:
    class: ztf.Service
    url: ${ZTF_URL}
`), lookup)
		require.NoError(t, err)
		_, err = builtin.Open(context.Background(), cfg, nil)
		check(t, err, "ATLAS_DEADLINE", "ATLAS_URL", "PS_URL", "ZTF_URL")
	})

	t.Run("key=value DSN", func(t *testing.T) {
		cfg, err := singletarget.ParseConfig([]byte("database: ${DSN}\n"), lookup)
		require.NoError(t, err)
		_, err = builtin.Open(context.Background(), cfg, nil)
		check(t, err, "DSN")
	})

	t.Run("job database", func(t *testing.T) {
		cfg, err := singletarget.ParseConfig([]byte("database: sqlite://"+strings.ReplaceAll(t.TempDir(), "\\", "/")+"/td.db\ntasks:\n  backend: river\n  database: ${JOBS}\n"), lookup)
		require.NoError(t, err)
		_, err = builtin.Open(context.Background(), cfg, nil)
		check(t, err, "JOBS")
	})

	// A password written in the file itself is not quoted either.
	t.Run("literal URL", func(t *testing.T) {
		cfg, err := singletarget.ParseConfig([]byte(`
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: https://someone:`+urlPass+`@fallingstar-data.com/forcedphot
    api_key: x-literal-key
database: host=localhost password=`+dsnPass+`
`), lookup)
		require.NoError(t, err)
		_, err = builtin.Open(context.Background(), cfg, nil)
		check(t, err)
		_, _, err = builtin.OpenStore(context.Background(), "host=localhost password="+dsnPass, "")
		check(t, err)
	})
}
