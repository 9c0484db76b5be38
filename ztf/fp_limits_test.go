package ztf_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
)

func TestForcedPhotometryConcurrencyLimit(t *testing.T) {
	creds := ztf.Credentials{Email: "me@example.org", Password: "s3cret-pass"}
	svc, err := ztf.NewForcedPhotometryService("https://example.org/zfps", creds, nil)
	require.NoError(t, err)
	assert.Equal(t, singletarget.ConcurrencyLimit{Max: 100}, svc.ConcurrencyLimit(), "ZFPS's 100 outstanding requests")
	svc, err = ztf.NewForcedPhotometryService("https://example.org/zfps", creds, &ztf.ForcedPhotometryOptions{MaxOutstanding: -1})
	require.NoError(t, err)
	assert.Equal(t, singletarget.ConcurrencyLimit{}, svc.ConcurrencyLimit())
	_, err = ztf.NewForcedPhotometryService("https://example.org/zfps", creds, &ztf.ForcedPhotometryOptions{MaxOutstanding: -2})
	assert.ErrorContains(t, err, "MaxOutstanding")

	r := singletarget.NewRegistry()
	require.NoError(t, ztf.Register(r))
	s, err := r.New(singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService",
		Extra: map[string]string{"email": "me@example.org", "userpass": "s3cret-pass", "max_outstanding": "20"}})
	require.NoError(t, err)
	assert.Equal(t, singletarget.ConcurrencyLimit{Max: 20}, s.(singletarget.ConcurrencyLimiter).ConcurrencyLimit())
	_, err = r.New(singletarget.Settings{Name: "ZTF_FP", Class: "ztf.ForcedPhotometryService",
		Extra: map[string]string{"email": "me@example.org", "userpass": "s3cret-pass", "max_outstanding": "-5"}})
	assert.ErrorIs(t, err, singletarget.ErrConfig)
}
