package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// Offline (the default), the command runs the whole flow against the
// simulator with the bundled settings.
func TestOffline(t *testing.T) {
	out, errOut, code := runCLI(t)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "2010-12-25T05:43:21Z SDSS_SPECTRA spectroscopy: 3839 points, 3805.4-9210.9 Angstrom, flux 1.4e-16-5.68e-16 erg/cm^2/s/Ang\n", out)
	assert.Contains(t, errOut, "offline: SDSS simulator at http://127.0.0.1:")
	assert.Contains(t, errOut, "stored sdss_SDSS_J140338.56_541842.1_spec-4242-55555-0123.fits (141120 bytes): GALAXY at z = 0.1, 0 arcmin away")
	assert.Contains(t, errOut, "added 1, skipped 0")

	out, errOut, code = runCLI(t, "-json")
	require.Equal(t, 0, code, errOut)
	var d struct {
		DataType string `json:"data_type"`
		Value    struct {
			Wavelength []float64 `json:"wavelength"`
			Flux       []float64 `json:"flux"`
			Error      []float64 `json:"error"`
		} `json:"value"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	assert.Equal(t, "spectroscopy", d.DataType)
	assert.Equal(t, 3839, len(d.Value.Flux))
	assert.Equal(t, 3839, len(d.Value.Error))
}

func TestErrors(t *testing.T) {
	_, errOut, code := runCLI(t, "-ra", "10", "-dec", "-10")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no SDSS spectrum within 3 arcsec")

	_, errOut, code = runCLI(t, "-radius", "0")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "radius")

	bad := filepath.Join(t.TempDir(), "settings.yaml")
	settings, err := os.ReadFile("settings.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(settings), "max_retries", "retries", 1)), 0o600))
	_, errOut, code = runCLI(t, "-config", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "single_target_data_services.SDSS_SPECTRA.retries")

	_, _, code = runCLI(t, "-bogus")
	assert.Equal(t, 2, code)
}
