package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real ALeRCE sample through the command line: 5 detections and 3
// limits (shared/services/samples/README.md).
func TestProcessALeRCESample(t *testing.T) {
	out, errOut, code := runCLI(t, "-process", "alerce_photometry", "-file", "../../alerce/alercetest/data/ztf20aaelulu_lightcurve.json", "-format", "json")
	require.Equal(t, 0, code, errOut)
	ls := parseLines(t, out)
	require.Len(t, ls, 8)
	var det, lim int
	for _, l := range ls {
		assert.Equal(t, "ALERCE", l.Source)
		assert.Equal(t, "ZTF", l.Value["telescope"])
		if _, ok := l.Value["magnitude"]; ok {
			det++
		} else {
			lim++
		}
	}
	assert.Equal(t, 5, det)
	assert.Equal(t, 3, lim)
	assert.Equal(t, 17.279879, ls[2].Value["magnitude"])
	assert.Equal(t, 58855.54229169991, ls[2].MJD)
	assert.Contains(t, errOut, "converted 8 datums (no -db")
}

func TestQuerySimulatedALeRCE(t *testing.T) {
	for _, survey := range []string{"ztf", "lsst"} {
		out, errOut, code := runCLI(t, "-simulate", "-service", "ALERCE", "-name", "SN 2025xyz", "-ra", "150.12", "-dec", "2.23",
			"-param", "survey="+survey)
		require.Equal(t, 0, code, errOut)
		ls := parseLines(t, out)
		require.NotEmpty(t, ls)
		sources := map[string]bool{}
		for _, l := range ls {
			sources[l.Source] = true
		}
		assert.Equal(t, map[string]bool{"ALERCE": true, "ALERCE_FP": true}, sources, survey)
		assert.Contains(t, errOut, "product alerce-SN_2025xyz-")
		assert.True(t, strings.Contains(out, `"telescope":"ZTF"`) == (survey == "ztf"), survey)
	}
	_, errOut, code := runCLI(t, "-simulate", "-service", "ALERCE", "-name", "x", "-ra", "1", "-dec", "1", "-param", "object_id=SN1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "object_id")
}
