package processor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// The files of these tests are written here, after the layouts real
// instruments write (../shared/services/spectra.md "Real files"); none is
// a copy of a real file.

type kv struct {
	k string
	v any
}

// fitsImage builds a primary HDU of BITPIX -32 with the given axes (FITS
// order: NAXIS1 first) and cards; value(i) gives the i-th stored value.
func fitsImage(axes []int, cards []kv, value func(i int) float32) []byte {
	var h strings.Builder
	h.WriteString(card("SIMPLE", true) + card("BITPIX", -32) + card("NAXIS", len(axes)))
	n := 1
	for i, a := range axes {
		h.WriteString(card(fmt.Sprintf("NAXIS%d", i+1), a))
		n *= a
	}
	for _, c := range cards {
		h.WriteString(card(c.k, c.v))
	}
	h.WriteString(fmt.Sprintf("%-80s", "END"))
	for h.Len()%2880 != 0 {
		h.WriteByte(' ')
	}
	data := make([]byte, (4*n+2879)/2880*2880)
	for i := range n {
		binary.BigEndian.PutUint32(data[4*i:], math.Float32bits(value(i)))
	}
	return append([]byte(h.String()), data...)
}

// reportOf processes b with p and in, and returns the datum's spectrum and
// the report.
func reportOf(t *testing.T, p processor.Spectroscopy, b []byte, in processor.Input) (dataproduct.Datum, dataproduct.Spectrum, dataproduct.Report) {
	t.Helper()
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(context.Background(), p, bytes.NewReader(b), in, &rep))
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, 1, rep.Datums)
	return ds[0], ds[0].Value.(dataproduct.Spectrum), rep
}

// An IRAF multispec file as LCO FLOYDS writes it: (4, 1, N), CD1_1, a
// negative CRPIX1 and CUNIT1 = 'deg' on the wavelength axis.
func TestSpectroscopyMultispecWithDegrees(t *testing.T) {
	const n = 50
	cards := []kv{{"CTYPE1", "LINEAR"}, {"CRPIX1", -25.0}, {"CRVAL1", 3155.25331473351}, {"CUNIT1", "deg"},
		{"CD1_1", 1.73825705051422}, {"WAT0_001", "system=equispec"},
		{"WAT1_001", "wtype=linear label=Wavelength units=angstroms"},
		{"DATE-OBS", "2017-03-27T17:02:24.711"}, {"TELESCOP", "2m0-02"}, {"BUNIT", "erg/cm2/s/A"}}
	// Plane k holds k·1e-10 + i·1e-17: only plane 0 is the spectrum.
	file := fitsImage([]int{n, 1, 4}, cards, func(i int) float32 { return float32(float64(i/n)*1e-10 + float64(i%n+1)*1e-17) })
	d, s, rep := reportOf(t, processor.Spectroscopy{}, file, processor.Input{})
	require.Len(t, s.Wavelength, n)
	for i := range n {
		assert.InDelta(t, 3155.25331473351+1.73825705051422*(float64(i+1)+25), s.Wavelength[i], 1e-9, "pixel %d", i+1)
		assert.InDelta(t, float64(float32(float64(i+1)*1e-17)), s.Flux[i], 1e-30, "pixel %d is from [0, 0, :]", i+1)
	}
	assert.Equal(t, time.Date(2017, 3, 27, 17, 2, 24, 711e6, time.UTC), d.Timestamp)
	assert.Equal(t, "2m0-02", d.Source)
	assert.Equal(t, n, rep.Rows)
	require.Len(t, rep.Notes, 2)
	assert.Contains(t, rep.Notes[0], "(4, 1, 50): the spectrum is [0, 0, :]")
	assert.Contains(t, rep.Notes[1], `CUNIT1 "deg" is an angle`)
	assert.Empty(t, rep.Skipped)

	pe := processError(t, processor.Spectroscopy{Strict: true}, file)
	assert.Contains(t, pe.Error(), `CUNIT1 "deg" is an angle`)

	// A 2-D array of more than two rows is still not a spectrum.
	pe = processError(t, processor.Spectroscopy{}, fitsImage([]int{n, 3}, cards, func(int) float32 { return 1 }))
	assert.Contains(t, pe.Error(), "(3, 50) is not a 1-D spectrum")
}

// Magellan MIKE: a date-only DATE-OBS, the start in UT-TIME; IRAF DC-FLAG
// = 1 (log10 wavelengths) and no CUNIT1.
func TestSpectroscopyDateOnlyWithUTTime(t *testing.T) {
	cards := []kv{{"CTYPE1", "LINEAR"}, {"CRPIX1", 1}, {"CRVAL1", 3.48320848395}, {"CDELT1", 3.18703100992e-05},
		{"DC-FLAG", 1}, {"DATE-OBS", "2012-07-12"}, {"UT-DATE", "2012-07-12"}, {"UT-TIME", "08:33:49"}, {"UT-END", "09:23:49"},
		{"TELESCOP", "Clay_Mag_2"}}
	d, s, rep := reportOf(t, processor.Spectroscopy{}, fitsImage([]int{20}, cards, func(i int) float32 { return float32(i) }), processor.Input{})
	assert.Equal(t, time.Date(2012, 7, 12, 8, 33, 49, 0, time.UTC), d.Timestamp)
	assert.InDelta(t, math.Pow(10, 3.48320848395), s.Wavelength[0], 1e-9)
	assert.Equal(t, []string{"HDU 0: no wavelength unit (CUNIT1): wavelengths read as Angstrom"}, rep.Notes)
}

// Plain-text spectra the way four observatories write them (SkyPortal's
// test files): each layout in a few lines.
func TestSpectroscopyObservatoryText(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     []byte
		time   time.Time
		wave   []float64
		flux   []float64
		err    []float64
		source string
		note   string
	}{
		{"Keck LRIS (LPipe): FITS-like cards, a quoted MJD-OBS, names on a ## line",
			text("# OBJECT  = 'ZTF20abpuxna'       / User-specified object name",
				"# TELESCOP= 'Keck I  '           / Telescope name",
				"# DATE    = '2020-09-15T09:47:10' / UT end of last exposure",
				"# UTC     = '09:37:01.33'        / Universal time (excl. day) at start",
				"# MJD-OBS = '59107.400710'       / MJD at start",
				"# EXPTIME =              600.003 / Total exposure time (sec)",
				"# HISTORY Processed by lrisprepare 2020-09-15 10:32:50 UT",
				"# COMMENT Fluxes are erg/cm^2/s/Ang; absolute calibration is approximate",
				"# END",
				"##   wavelen         flux     sky_flux     flux_unc  xpixel",
				"   3087.6265  9.99127e-16  5.10964e-16  1.33611e-16     763",
				"   3089.5828  9.99058e-16  5.09653e-16  1.33760e-16     764"),
			processor.MJDToTime(59107.400710), []float64{3087.6265, 3089.5828}, []float64{9.99127e-16, 9.99058e-16},
			[]float64{1.33611e-16, 1.33760e-16}, "Keck I", ""},
		{"LT SPRAT: # KEY: value, the name line fused with a row, no names",
			text("# TELESCOP: Liverpool Telescope", "# DATE: 2020-09-09", "# DATE-OBS: 2020-09-09T23:10:24.199",
				"# UTSTART: 23:10:24.199", "# EMAIL:", "##  wav   flux4020.00 2.361314", "4029.20 9.990907", "4038.40 9.991240"),
			time.Date(2020, 9, 9, 23, 10, 24, 199e6, time.UTC), []float64{4029.2, 4038.4}, []float64{9.990907, 9.99124}, nil,
			"Liverpool Telescope", "no column names: the first column is read as the wavelength, the second as the flux"},
		{"P60 SEDM: the time only in UTC, three unnamed columns",
			text("# TELESCOP: 60", "# INSTRUME: SEDM-P60", "# UTC: 2020-09-02T07:29:46.962556", "# OBSDATE: 2020-09-02",
				"# OBSTIME: 07:29:46.962556", "# MJD_OBS: 59094.31235999987", "3776.7 9.9988e-16 2.484e-31", "3802.3 9.9932e-16 1.547e-31"),
			time.Date(2020, 9, 2, 7, 29, 46, 962556e3, time.UTC), []float64{3776.7, 3802.3}, []float64{9.9988e-16, 9.9932e-16},
			[]float64{2.484e-31, 1.547e-31}, "60", "no column names: the first column is read as the wavelength, the second as the flux, the third as the flux error"},
		{"SEDM without UTC: MJD_OBS",
			text("# MJD_OBS: 59094.25", "3776.7 9.9988e-16", "3802.3 9.9932e-16"),
			processor.MJDToTime(59094.25), []float64{3776.7, 3802.3}, []float64{9.9988e-16, 9.9932e-16}, nil, "upload",
			"no column names: the first column is read as the wavelength, the second as the flux"},
		{"SEDM with OBSDATE and OBSTIME only",
			text("# OBSDATE: 2020-09-02", "# OBSTIME: 07:29:46.5", "wavelength flux", "3776.7 9.9988e-16"),
			time.Date(2020, 9, 2, 7, 29, 46, 5e8, time.UTC), []float64{3776.7}, []float64{9.9988e-16}, nil, "upload", ""},
		{"UH88 SNIFS: # KEY = value, names only in a comment, a units comment after them",
			text("# TELESCOPE = UH88", "# INSTRUMENT = SNIFS", "# MJD-OBS = 59475.616424", "# DATE-OBS = 2021-09-18T14:48:08",
				"# EXPTIME = 1800.0s", "# wl fl err", "# [A] [erg/s/cm2/A]", "3402.860000 4.050476e-17 5.507403e-17", "3405.860000 3.266665e-19 5.655115e-17"),
			time.Date(2021, 9, 18, 14, 48, 8, 0, time.UTC), []float64{3402.86, 3405.86}, []float64{4.050476e-17, 3.266665e-19},
			[]float64{5.507403e-17, 5.655115e-17}, "UH88", ""},
		{"names as SkyPortal writes them: wavelengths,fluxes",
			text("# DATE-OBS: 2021-01-01T00:00:00", "wavelengths,fluxes", "3315.6,-1.5e-16", "3321.1,1.1e-15"),
			time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), []float64{3315.6, 3321.1}, []float64{-1.5e-16, 1.1e-15}, nil, "upload", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, s, rep := reportOf(t, processor.Spectroscopy{}, c.in, processor.Input{})
			assert.WithinDuration(t, c.time, d.Timestamp, time.Microsecond)
			assertClose(t, c.wave, s.Wavelength, 1e-15, "wavelength")
			assertClose(t, c.flux, s.Flux, 1e-15, "flux")
			if c.err == nil {
				assert.Nil(t, s.Error)
			} else {
				assertClose(t, c.err, s.Error, 1e-15, "error")
			}
			assert.Equal(t, c.source, d.Source)
			assert.Equal(t, "Angstrom", s.WavelengthUnits)
			assert.Equal(t, processor.DefaultFluxUnits, s.FluxUnits, "without units in the file, the TOM's defaults")
			assert.Equal(t, len(c.wave), rep.Rows)
			if c.note == "" {
				assert.Empty(t, rep.Notes)
			} else {
				assert.Equal(t, []string{c.note}, rep.Notes)
			}
		})
	}
}

// A file without a time is refused, unless the caller gives the time; a
// time in the file wins over the caller's.
func TestSpectroscopyObservationTimeFromTheCaller(t *testing.T) {
	noTime := text("wavelength flux", "3249.87 1.17e-14", "3251.61 1.16e-14")
	pe := processError(t, processor.Spectroscopy{}, noTime)
	assert.Contains(t, pe.Error(), "no observation time")
	assert.Contains(t, pe.Error(), "give the observation time with the file")

	given := time.Date(2017, 3, 27, 17, 2, 24, 0, time.FixedZone("CEST", 2*3600))
	d, _, rep := reportOf(t, processor.Spectroscopy{}, noTime, processor.Input{ObservationTime: given})
	assert.Equal(t, given.UTC(), d.Timestamp)
	assert.Equal(t, time.UTC, d.Timestamp.Location())
	assert.Equal(t, []string{"the file gives no observation time: the time given with it is used (2017-03-27T15:02:24Z)"}, rep.Notes)

	withTime := text("# DATE-OBS: 2020-01-01T00:00:00", "wavelength flux", "1 2")
	d, _, rep = reportOf(t, processor.Spectroscopy{}, withTime, processor.Input{ObservationTime: given})
	assert.Equal(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), d.Timestamp, "the file's own time wins")
	assert.Empty(t, rep.Notes)

	// Through Ingest: the time recorded with the product, so that
	// re-processing gives the same datum.
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "spec.txt", DataProductType: "spectroscopy",
		Extra: map[string]string{dataproduct.ExtraObservationTime: given.UTC().Format(time.RFC3339Nano)}}, bytes.NewReader(noTime))
	require.NoError(t, err)
	res, err := processor.Ingest(ctx, store, prod, processor.Spectroscopy{})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	require.Len(t, res.Reports, 1)
	assert.Equal(t, "spec.txt", res.Reports[0].Product)
	again, err := processor.Ingest(ctx, store, prod, processor.Spectroscopy{})
	require.NoError(t, err)
	assert.Equal(t, 0, again.Added, "the same time: nothing new")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, given.UTC(), ds[0].Timestamp)

	prod.Extra = map[string]string{dataproduct.ExtraObservationTime: "yesterday"}
	_, err = processor.Ingest(ctx, store, prod, processor.Spectroscopy{})
	assert.ErrorContains(t, err, `"observation_time"`)
}

// Rows of unknown value are left out and reported with their lines; a
// strict processor refuses the file.
func TestSpectroscopyUnknownRowsReported(t *testing.T) {
	in := text("# DATE-OBS: 2024-01-27T04:05:06", "wavelength,flux,error", "4000,1e-16,1e-18", "4001,nan,1e-18", "4002,3e-16,", "4003,4e-16,4e-18")
	_, s, rep := reportOf(t, processor.Spectroscopy{}, in, processor.Input{})
	assert.Equal(t, []float64{4000, 4003}, s.Wavelength)
	assert.Equal(t, dataproduct.Report{Rows: 4, Datums: 1, Skipped: []dataproduct.SkippedRows{
		{Reason: "no finite wavelength and flux (NaN, infinite, empty or BLANK)", Count: 2, Lines: []int{4, 5}}}}, rep)
	pe := processError(t, processor.Spectroscopy{Strict: true}, in)
	assert.Equal(t, 4, pe.Line)
	assert.Equal(t, "flux", pe.Column)
	assert.ErrorIs(t, pe, processor.ErrNoMeasurement)

	// FITS: the NaN pixels are counted (they have no line).
	_, s, rep = reportOf(t, processor.Spectroscopy{}, fitsSpectrum(2500, true), processor.Input{})
	assert.Len(t, s.Flux, 2498)
	assert.Equal(t, 2500, rep.Rows)
	assert.Equal(t, []dataproduct.SkippedRows{{Reason: "no finite wavelength and flux (NaN, infinite, empty or BLANK)", Count: 2}}, rep.Skipped)
	pe = processError(t, processor.Spectroscopy{Strict: true}, fitsSpectrum(2500, true))
	assert.ErrorIs(t, pe, processor.ErrNoMeasurement)
}

func TestParseObservationTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-01-26T03:14:15":       time.Date(2024, 1, 26, 3, 14, 15, 0, time.UTC),
		"2024-01-26T03:14:15.25Z":   time.Date(2024, 1, 26, 3, 14, 15, 25e7, time.UTC),
		"2024-01-26T05:14:15+02:00": time.Date(2024, 1, 26, 3, 14, 15, 0, time.UTC),
		"2024-01-26 03:14":          time.Date(2024, 1, 26, 3, 14, 0, 0, time.UTC),
		"2024-01-26T03:14":          time.Date(2024, 1, 26, 3, 14, 0, 0, time.UTC),
		"2024-01-26":                time.Date(2024, 1, 26, 0, 0, 0, 0, time.UTC),
		" 60335.5 ":                 time.Date(2024, 1, 26, 12, 0, 0, 0, time.UTC),
		"2460336.0":                 time.Date(2024, 1, 26, 12, 0, 0, 0, time.UTC),
	} {
		got, err := processor.ParseObservationTime(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, time.UTC, got.Location(), in)
	}
	for _, in := range []string{"", "now", "26/01/2024 03:14", "1e9"} {
		_, err := processor.ParseObservationTime(in)
		assert.Error(t, err, in)
	}
}

// A table whose commented header names other columns is not read as a
// spectrum by position: a light curve uploaded as a spectrum is refused.
func TestSpectroscopyOtherTablesRefused(t *testing.T) {
	lightCurve := text("# DATE-OBS: 2024-01-01T00:00:00", "## mjd mag magerr", "60000.1 17.5 0.04", "60000.2 17.6 0.05")
	pe := processError(t, processor.Spectroscopy{}, lightCurve)
	assert.Equal(t, 2, pe.Line)
	assert.Contains(t, pe.Error(), `missing column "wavelength" (the columns are "mjd", "mag", "magerr")`)
	// A comment of prose further up does not count.
	_, s, _ := reportOf(t, processor.Spectroscopy{}, text("# made by hand", "# DATE-OBS: 2024-01-01T00:00:00", "4000 1e-16 1e-18"), processor.Input{})
	assert.Equal(t, []float64{4000}, s.Wavelength)
}
