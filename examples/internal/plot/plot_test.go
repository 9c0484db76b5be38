package plot

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg"

	"github.com/tomgo/targetdata/dataproduct"
)

func TestLightcurve(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ds := []dataproduct.Datum{
		{DataType: "photometry", Timestamp: t0, Value: dataproduct.Photometry{Magnitude: dataproduct.Float(17), Error: dataproduct.Float(0.1), Filter: "g"}},
		{DataType: "photometry", Timestamp: t0.Add(24 * time.Hour), Value: dataproduct.Photometry{Limit: dataproduct.Float(19), Filter: "g"}},
		{DataType: "photometry", Timestamp: t0.Add(48 * time.Hour), Value: dataproduct.Photometry{Magnitude: dataproduct.Float(16.5), Filter: "weird"}},
		{DataType: "spectroscopy", Timestamp: t0, Value: dataproduct.Spectrum{}},
	}
	var buf bytes.Buffer
	sum, err := Lightcurve(&buf, "test", ds, 6*vg.Inch, 4*vg.Inch)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Detections)
	assert.Equal(t, 1, sum.Limits)
	assert.ElementsMatch(t, []string{"g", "weird"}, sum.Filters)
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, 576, img.Bounds().Dx(), "6 inches at 96 dpi")

	_, err = Lightcurve(&buf, "none", ds[3:], 6*vg.Inch, 4*vg.Inch)
	assert.ErrorIs(t, err, ErrNoData)
}

func TestSpectrum(t *testing.T) {
	var buf bytes.Buffer
	s := dataproduct.Spectrum{Wavelength: []float64{5000, 4000, 6000}, Flux: []float64{2e-15, 1e-15, 3e-15},
		WavelengthUnits: "Angstrom", FluxUnits: "erg / (Angstrom s cm2)"}
	require.NoError(t, Spectrum(&buf, "spec", s, 5*vg.Inch, 3*vg.Inch))
	_, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.ErrorIs(t, Spectrum(&buf, "x", dataproduct.Spectrum{}, vg.Inch, vg.Inch), ErrNoData)
	for _, tk := range (shortTicks{}).Ticks(6.49316e-16, 4.90651e-15) {
		assert.LessOrEqual(t, len(tk.Label), 8, "short labels: %q", tk.Label)
	}
}

// Two sources with the same telescope and filter are two series: the
// one named like the telescope keeps the plain label.
func TestLightcurveSeriesBySource(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	det := func(source string, mag float64) dataproduct.Datum {
		return dataproduct.Datum{DataType: "photometry", Timestamp: t0, Source: source,
			Value: dataproduct.Photometry{Magnitude: dataproduct.Float(mag), Error: dataproduct.Float(0.1), Filter: "g", Telescope: "ZTF"}}
	}
	ds := []dataproduct.Datum{det("ALERCE", 17), det("ZTF", 17.1), det("ALERCE_FP", 17.2), det("ALERCE", 17.3),
		{DataType: "photometry", Timestamp: t0, Source: "ATLAS", Value: dataproduct.Photometry{Magnitude: dataproduct.Float(17), Filter: "o", Telescope: "ATLAS"}}}
	var buf bytes.Buffer
	sum, err := Lightcurve(&buf, "test", ds, 6*vg.Inch, 4*vg.Inch)
	require.NoError(t, err)
	assert.Equal(t, 5, sum.Detections)
	assert.Equal(t, []string{"ATLAS o", "ZTF g", "ZTF g · ALERCE", "ZTF g · ALERCE_FP"}, sum.Filters)
}
