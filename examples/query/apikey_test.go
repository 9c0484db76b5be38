package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tomgo/targetdata/atlas/atlastest"
)

// The key can come from a file or the environment, where ps does not show
// it; -api-key still works but warns (issue 20 item 11).
func TestAPIKeySources(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	token := sim.Token.Reveal()
	base := []string{"-service", "ATLAS", "-url", sim.URL, "-name", "SN 2023ixf", "-ra", "210.910674", "-dec", "54.311686",
		"-timeout", "300ms"}
	t.Setenv("ATLAS_FORCED_PHOTOMETRY_API_KEY", "")
	t.Setenv("TARGETDATA_API_KEY", "")

	// A file, as a secret manager or a 0600 file gives it (trailing newline).
	keyFile := writeFile(t, "atlas.key", token+"\n")
	_, errOut, _ := runCLI(t, append(base, "-api-key-file", keyFile)...)
	assert.Equal(t, 1, sim.CreatedBy(sim.Token), "the key from the file was used: %s", errOut)
	assert.NotContains(t, errOut, "warning")
	assert.NotContains(t, errOut, token)

	// The service's environment variable.
	t.Setenv("ATLAS_FORCED_PHOTOMETRY_API_KEY", token)
	_, errOut, _ = runCLI(t, base...)
	assert.Equal(t, 2, sim.CreatedBy(sim.Token), "the key from the environment was used: %s", errOut)
	assert.NotContains(t, errOut, "warning")
	t.Setenv("ATLAS_FORCED_PHOTOMETRY_API_KEY", "")

	// The generic variable.
	t.Setenv("TARGETDATA_API_KEY", token)
	_, errOut, _ = runCLI(t, base...)
	assert.Equal(t, 3, sim.CreatedBy(sim.Token), "the key from TARGETDATA_API_KEY was used: %s", errOut)
	t.Setenv("TARGETDATA_API_KEY", "")

	// The flag still works, with a warning.
	_, errOut, _ = runCLI(t, append(base, "-api-key", token)...)
	assert.Equal(t, 4, sim.CreatedBy(sim.Token), "the key from the flag was used: %s", errOut)
	assert.Contains(t, errOut, "warning: -api-key")
	assert.Contains(t, errOut, "-api-key-file")
	assert.NotContains(t, errOut, token)

	// Mistakes.
	_, errOut, code := runCLI(t, append(base, "-api-key", token, "-api-key-file", keyFile)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-api-key-file")
	_, errOut, code = runCLI(t, append(base, "-api-key-file", keyFile+".missing")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-api-key-file")
	empty := writeFile(t, "empty.key", "\n")
	_, errOut, code = runCLI(t, append(base, "-api-key-file", empty)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "empty")
	assert.Equal(t, 4, sim.CreatedBy(sim.Token), "no mistake reached the server")
}

// Without -config and without a key, the error says where the command
// line takes the key from (the settings' api_key means nothing to a user
// who wrote no settings).
func TestMissingAPIKeySaysWhereFrom(t *testing.T) {
	t.Setenv("ATLAS_FORCED_PHOTOMETRY_API_KEY", "")
	t.Setenv("TARGETDATA_API_KEY", "")
	_, errOut, code := runCLI(t, "-service", "ATLAS", "-name", "SN 2023ixf", "-ra", "210.910674", "-dec", "54.311686")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "api_key")
	assert.Contains(t, errOut, "give the key with -api-key-file FILE or $ATLAS_FORCED_PHOTOMETRY_API_KEY")
}
