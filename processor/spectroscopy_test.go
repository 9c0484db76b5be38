package processor_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
)

const spectraDir = "testdata/spectra"

func readSpectrumFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(spectraDir, name))
	require.NoError(t, err)
	return b
}

// processSpectrum runs p over b and returns its one datum.
func processSpectrum(t testing.TB, p processor.Spectroscopy, b []byte) (dataproduct.Datum, dataproduct.Spectrum) {
	t.Helper()
	ds, err := p.Process(context.Background(), bytes.NewReader(b))
	require.NoError(t, err)
	require.Len(t, ds, 1, "one datum per spectrum")
	d := ds[0]
	require.Equal(t, dataproduct.TypeSpectroscopy, d.DataType)
	s, ok := d.Value.(dataproduct.Spectrum)
	require.True(t, ok, "the value is a dataproduct.Spectrum, not %T", d.Value)
	require.NoError(t, s.Check())
	return d, s
}

// processError runs p over b and returns its *dataproduct.ParseError.
func processError(t testing.TB, p processor.Spectroscopy, b []byte) *dataproduct.ParseError {
	t.Helper()
	ds, err := p.Process(context.Background(), bytes.NewReader(b))
	require.Error(t, err)
	assert.Empty(t, ds)
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe, "a *dataproduct.ParseError: %v", err)
	return pe
}

func assertClose(t *testing.T, want, got []float64, rel float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if math.Abs(got[i]-want[i]) > rel*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// The two shared samples give the arrays astropy reads
// (spectra_expected.json, the acceptance check's reference).
func TestSpectroscopySamples(t *testing.T) {
	var exp []struct {
		File       string    `json:"file"`
		DateObs    string    `json:"date_obs"`
		Wavelength []float64 `json:"wavelength"`
		Flux       []float64 `json:"flux"`
	}
	require.NoError(t, json.Unmarshal(readSpectrumFile(t, "spectra_expected.json"), &exp))
	require.Len(t, exp, 2)
	for _, e := range exp {
		t.Run(e.File, func(t *testing.T) {
			d, s := processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, e.File))
			assertClose(t, e.Wavelength, s.Wavelength, 1e-12, "wavelength")
			assertClose(t, e.Flux, s.Flux, 0, "flux") // exact: float32 values read exactly, text parsed exactly
			want, err := time.Parse("2006-01-02T15:04:05", e.DateObs)
			require.NoError(t, err)
			assert.Equal(t, want, d.Timestamp)
			assert.Equal(t, "Angstrom", s.WavelengthUnits)
			assert.Equal(t, "upload", d.Source)
		})
	}
	_, s := processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "spectrum_1d.fits"))
	assert.Equal(t, "erg/cm2/s/Angstrom", s.FluxUnits, "BUNIT")
	assert.Len(t, s.Wavelength, 600)
	assert.Equal(t, 3600.0, s.Wavelength[0])
	assert.Equal(t, 8991.0, s.Wavelength[599])
	assert.Equal(t, 3.27370399059025e-16, s.Flux[0])
	assert.Nil(t, s.Error)

	_, s = processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "spectrum.txt"))
	assert.Equal(t, processor.DefaultFluxUnits, s.FluxUnits)
	assert.Len(t, s.Wavelength, 400)
	assert.Equal(t, 3800.0, s.Wavelength[0])
	assert.Equal(t, 9200.0, s.Wavelength[399])
	assert.Equal(t, 2.9366551e-16, s.Flux[0])
	require.Len(t, s.Error, 400, "the error column is kept")
	assert.Equal(t, 1.174662e-17, s.Error[0])

	// The datum's JSON is the TOM's spectroscopy value.
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"wavelength", "flux", "wavelength_units", "flux_units", "error"} {
		assert.Contains(t, m, k)
	}
}

// Every FITS file of testdata/spectra gives what astropy reads from it
// (expected.json, written by gen.py), or the expected error.
func TestSpectroscopyFITSFiles(t *testing.T) {
	var exp struct {
		Files map[string]struct {
			Wavelength []float64 `json:"wavelength"`
			Flux       []float64 `json:"flux"`
			Error      []float64 `json:"error"`
			FluxUnits  string    `json:"flux_units"`
			Time       time.Time `json:"time"`
			Source     string    `json:"source"`
			Err        string    `json:"error_text"`
		} `json:"files"`
	}
	raw := readSpectrumFile(t, "expected.json")
	// "error" is an array for spectra and a string for refused files.
	var probe struct {
		Files map[string]map[string]json.RawMessage `json:"files"`
	}
	require.NoError(t, json.Unmarshal(raw, &probe))
	for name, fields := range probe.Files {
		if e, ok := fields["error"]; ok && len(e) > 0 && e[0] == '"' {
			fields["error_text"] = e
			delete(fields, "error")
		}
		probe.Files[name] = fields
	}
	raw, err := json.Marshal(probe)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &exp))
	require.GreaterOrEqual(t, len(exp.Files), 15)

	for name, e := range exp.Files {
		t.Run(name, func(t *testing.T) {
			b := readSpectrumFile(t, name)
			if e.Err != "" {
				pe := processError(t, processor.Spectroscopy{}, b)
				assert.Contains(t, pe.Error(), e.Err)
				return
			}
			d, s := processSpectrum(t, processor.Spectroscopy{}, b)
			assertClose(t, e.Wavelength, s.Wavelength, 1e-12, "wavelength")
			// 1e-7: astropy scales 16-bit integers in float32 (BSCALE/BZERO).
			assertClose(t, e.Flux, s.Flux, 1e-7, "flux")
			if e.Error != nil {
				assertClose(t, e.Error, s.Error, 1e-15, "error")
			} else {
				assert.Nil(t, s.Error)
			}
			assert.Equal(t, e.FluxUnits, s.FluxUnits)
			assert.Equal(t, "Angstrom", s.WavelengthUnits)
			assert.WithinDuration(t, e.Time, d.Timestamp, time.Microsecond)
			assert.Equal(t, time.UTC, d.Timestamp.Location())
			assert.Equal(t, e.Source, d.Source)
		})
	}
}

func TestSpectroscopyFITSDetails(t *testing.T) {
	// spec_1x1xn: negative CDELT1, fractional CRPIX1, nm: descending Å in file order.
	_, s := processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "spec_1x1xn.fits"))
	assert.InDelta(t, 10*(650.0-0.25*(1-10.5)), s.Wavelength[0], 1e-9)
	assert.Greater(t, s.Wavelength[0], s.Wavelength[1], "descending wavelengths are kept in file order")

	// spec_2xn: the first of two rows; CD1_1; MJD-OBS; TELESCOP.
	d, s := processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "spec_2xn.fits"))
	assert.Len(t, s.Flux, 40)
	assert.InDelta(t, 4000+2.5*(1-0.75), s.Wavelength[0], 1e-9)
	assert.Equal(t, processor.MJDToTime(60345.123456789), d.Timestamp)
	assert.Equal(t, "FTN", d.Source)

	// SDSS spec-lite: ivar = 0 drops the point from every array; the flux
	// unit's factor is applied.
	_, s = processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "sdss_speclite.fits"))
	assert.Len(t, s.Flux, 49, "50 rows, one with ivar = 0")
	assert.Len(t, s.Error, 49)
	assert.InDelta(t, 10e-17, s.Flux[0], 1e-30)
	assert.Equal(t, "erg/cm^2/s/Ang", s.FluxUnits)

	// micron_nan: two NaN pixels are left out.
	_, s = processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "micron_nan.fits"))
	assert.Len(t, s.Flux, 38)

	// Options: Source overrides the file's facility; FluxUnits is only a default.
	d, s = processSpectrum(t, processor.Spectroscopy{Source: "MY_ARCHIVE", FluxUnits: "mJy"}, readSpectrumFile(t, "spec_2xn.fits"))
	assert.Equal(t, "MY_ARCHIVE", d.Source)
	assert.Equal(t, "erg/cm2/s/Angstrom", s.FluxUnits)

	// TimeKeywords replaces the default keywords.
	pe := processError(t, processor.Spectroscopy{TimeKeywords: []string{"DATE-END"}}, readSpectrumFile(t, "spectrum_1d.fits"))
	assert.Contains(t, pe.Error(), "none of DATE-END is given")
	assert.Contains(t, pe.Error(), "never taken from the clock")

	// A truncated file is refused with the reader's reason.
	full := readSpectrumFile(t, "spectrum_1d.fits")
	pe = processError(t, processor.Spectroscopy{}, full[:3000])
	assert.Contains(t, pe.Error(), "unexpected EOF")
	// A damaged card.
	bad := bytes.Replace(full, []byte("NAXIS1  =                  600"), []byte("NAXIS1  =                  6x0"), 1)
	pe = processError(t, processor.Spectroscopy{}, bad)
	assert.Contains(t, pe.Error(), "NAXIS1")
}

// text builds a text spectrum from lines.
func text(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func TestSpectroscopyText(t *testing.T) {
	p := processor.Spectroscopy{}
	cases := []struct {
		name  string
		in    []byte
		wave  []float64
		flux  []float64
		err   []float64
		units string
	}{
		{"whitespace, any column order, extra columns", text("# DATE-OBS: 2024-01-27T04:05:06", "flux  wavelength  sky", "1e-16   4000  3", "2e-16\t4001 4"),
			[]float64{4000, 4001}, []float64{1e-16, 2e-16}, nil, processor.DefaultFluxUnits},
		{"csv with quoted names and an error column", text("# DATE-OBS = '2024-01-27T04:05:06'", `"Wavelength","FLUX","flux_err"`, "4000,1e-16,1e-18", "4001, 2e-16 , 2e-18"),
			[]float64{4000, 4001}, []float64{1e-16, 2e-16}, []float64{1e-18, 2e-18}, processor.DefaultFluxUnits},
		{"commented header", text("# DATE-OBS: 2024-01-27T04:05:06", "# wavelength flux uncertainty", "4000 1e-16 1e-18", "4001 2e-16 2e-18"),
			[]float64{4000, 4001}, []float64{1e-16, 2e-16}, []float64{1e-18, 2e-18}, processor.DefaultFluxUnits},
		{"commented csv header after other comments", text("# DATE-OBS: 2024-01-27T04:05:06", "# wavelength,flux", "# made by hand", "4000,1e-16"),
			[]float64{4000}, []float64{1e-16}, nil, processor.DefaultFluxUnits},
		{"framed pipes", text("# DATE-OBS: 2024-01-27T04:05:06", "| wave | flux |", "| 4000 | 1e-16 |", "| 4001 | 2e-16 |"),
			[]float64{4000, 4001}, []float64{1e-16, 2e-16}, nil, processor.DefaultFluxUnits},
		{"tabs", text("# DATE-OBS: 2024-01-27T04:05:06", "wavelength\tflux", "4000\t1e-16"),
			[]float64{4000}, []float64{1e-16}, nil, processor.DefaultFluxUnits},
		{"semicolons, CRLF and blank lines", []byte("# DATE-OBS: 2024-01-27T04:05:06\r\n\r\nwavelength;flux\r\n4000;1e-16\r\n\r\n4001;2e-16\r\n"),
			[]float64{4000, 4001}, []float64{1e-16, 2e-16}, nil, processor.DefaultFluxUnits},
		{"unknown values drop their point", text("# DATE-OBS: 2024-01-27T04:05:06", "wavelength,flux,error", "4000,1e-16,1e-18", "4001,nan,1e-18", "4002,3e-16,", "4003,4e-16,4e-18", "4004,inf,1e-18"),
			[]float64{4000, 4003}, []float64{1e-16, 4e-16}, []float64{1e-18, 4e-18}, processor.DefaultFluxUnits},
		{"units in comments; the flux factor is applied", text("# DATE-OBS: 2024-01-27T04:05:06", "# WAVELENGTH_UNITS: nm", "# FLUX_UNITS: 1E-17 erg/cm^2/s/Ang", "wavelength flux", "400 2", "400.5 3"),
			[]float64{4000, 4005}, []float64{2e-17, 3e-17}, nil, "erg/cm^2/s/Ang"},
		{"comments between rows", text("# DATE-OBS: 2024-01-27T04:05:06", "wavelength flux", "4000 1", "# a note", "4001 2"),
			[]float64{4000, 4001}, []float64{1, 2}, nil, processor.DefaultFluxUnits},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, s := processSpectrum(t, p, c.in)
			assertClose(t, c.wave, s.Wavelength, 1e-15, "wavelength")
			assertClose(t, c.flux, s.Flux, 1e-15, "flux")
			if c.err == nil {
				assert.Nil(t, s.Error)
			} else {
				assertClose(t, c.err, s.Error, 1e-15, "error")
			}
			assert.Equal(t, c.units, s.FluxUnits)
			assert.Equal(t, time.Date(2024, 1, 27, 4, 5, 6, 0, time.UTC), d.Timestamp)
		})
	}
}

func TestSpectroscopyTextMetadata(t *testing.T) {
	p := processor.Spectroscopy{}
	body := []string{"wavelength flux", "4000 1"}
	for _, c := range []struct {
		comments []string
		want     time.Time
		source   string
	}{
		{[]string{"# DATE-OBS: 2024-01-27T04:05:06.25", "# FACILITY: LCO 1m"}, time.Date(2024, 1, 27, 4, 5, 6, 250e6, time.UTC), "LCO 1m"},
		{[]string{"# date-obs: 2024-01-27 04:05:06", "# TELESCOPE: NOT"}, time.Date(2024, 1, 27, 4, 5, 6, 0, time.UTC), "NOT"},
		{[]string{"# TELESCOP: FTN", "# DATE-OBS: 2024-01-27 04:05:06", "# Facility: LCO"}, time.Date(2024, 1, 27, 4, 5, 6, 0, time.UTC), "LCO"},
		{[]string{"# MJD-OBS: 60336.5"}, time.Date(2024, 1, 27, 12, 0, 0, 0, time.UTC), "upload"},
		{[]string{"# DATE-OBS: 2460337.0"}, time.Date(2024, 1, 27, 12, 0, 0, 0, time.UTC), "upload"},
		{[]string{"# DATE-OBS: 2024-01-27", "# MJD-OBS: 60336.25"}, time.Date(2024, 1, 27, 6, 0, 0, 0, time.UTC), "upload"},
		{[]string{"# DATE-OBS: 2024-01-27", "# TIME-OBS: 01:02:03"}, time.Date(2024, 1, 27, 1, 2, 3, 0, time.UTC), "upload"},
		{[]string{"# DATE-OBS: 2024-01-27"}, time.Date(2024, 1, 27, 0, 0, 0, 0, time.UTC), "upload"},
		{[]string{"# DATE-OBS: 27/01/98"}, time.Date(1998, 1, 27, 0, 0, 0, 0, time.UTC), "upload"},
		{[]string{"# DATE-OBS: 2024-01-27T04:05:06", "# DATE-OBS: 2020-01-01T00:00:00"}, time.Date(2024, 1, 27, 4, 5, 6, 0, time.UTC), "upload"},
	} {
		d, _ := processSpectrum(t, p, text(append(c.comments, body...)...))
		assert.Equal(t, c.want, d.Timestamp, "%v", c.comments)
		assert.Equal(t, c.source, d.Source, "%v", c.comments)
	}
	d, _ := processSpectrum(t, processor.Spectroscopy{Source: "SVC"}, text("# FACILITY: X", "# DATE-OBS: 2024-01-27", "wavelength flux", "1 2"))
	assert.Equal(t, "SVC", d.Source)
	d, _ = processSpectrum(t, processor.Spectroscopy{TimeKeywords: []string{"OBSDATE"}}, text("# OBSDATE: 2024-01-27T10:00:00", "wavelength flux", "1 2"))
	assert.Equal(t, time.Date(2024, 1, 27, 10, 0, 0, 0, time.UTC), d.Timestamp)
}

func TestSpectroscopyErrors(t *testing.T) {
	p := processor.Spectroscopy{}
	for _, c := range []struct {
		name   string
		in     []byte
		line   int
		column string
		msg    string
	}{
		{"no date", text("wavelength flux", "4000 1"), 0, "", "no observation time: none of DATE-OBS, MJD-OBS, DATE-BEG, MJD-BEG, UTC, MJD_OBS, OBSDATE is given"},
		{"bad date", text("# DATE-OBS: yesterday", "wavelength flux", "4000 1"), 1, "", `DATE-OBS: "yesterday" is not a date`},
		{"bad time of day", text("# DATE-OBS: 2024-01-01", "# UT: noon", "wavelength flux", "4000 1"), 2, "", `UT: "noon" is not a time of day`},
		{"MJD out of range", text("# MJD-OBS: 3e7", "wavelength flux", "4000 1"), 1, "", "neither an MJD nor a JD"},
		{"missing flux", text("# DATE-OBS: 2024-01-01", "", "wavelength fnu", "4000 1"), 3, "flux", `missing column "flux" (the columns are "wavelength", "fnu")`},
		{"missing wavelength", text("# DATE-OBS: 2024-01-01", "freq,flux", "4000,1"), 2, "wavelength", `missing column "wavelength"`},
		{"duplicate column", text("wavelength flux FLUX", "4000 1 2"), 1, "FLUX", "column appears twice"},
		{"not a number", text("# DATE-OBS: 2024-01-01", "wavelength flux", "4000 1", "4001 abc", "4002 3"), 4, "flux", `"abc" is not a number`},
		{"too few fields", text("# DATE-OBS: 2024-01-01", "wavelength flux error", "4000 1 2", "4001 2"), 4, "", "2 fields, the header names 3 columns"},
		{"one column, no header", text("# DATE-OBS: 2024-01-01", "4000", "4001"), 2, "wavelength", "one column and no header line"},
		{"empty table", text("# DATE-OBS: 2024-01-01", "wavelength flux"), 2, "", "empty table"},
		{"only comments", text("# DATE-OBS: 2024-01-01", "#"), 2, "", "only comments and blank lines"},
		{"empty file", nil, 0, "", "empty file"},
		{"binary", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0, "", "neither a FITS file nor a text table"},
		{"NUL after the start", append(text("# DATE-OBS: 2024-01-01", "wavelength flux", strings.Repeat("1 2\n", 200)), 0), 204, "", "binary data"},
		{"all unknown", text("# DATE-OBS: 2024-01-01", "wavelength,flux", "4000,nan", "4001,"), 4, "", "none of the 2 rows has a finite wavelength and flux"},
		{"bad wavelength unit", text("# DATE-OBS: 2024-01-01", "# WAVELENGTH_UNITS: GHz", "wavelength flux", "1 2"), 2, "", `unit "GHz" is not a length`},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, 0, "", "gzip-compressed file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pe := processError(t, p, c.in)
			assert.Equal(t, c.line, pe.Line, "%v", pe)
			assert.Equal(t, c.column, pe.Column, "%v", pe)
			assert.Contains(t, pe.Error(), c.msg)
		})
	}
}

func TestSpectroscopyGzip(t *testing.T) {
	_, plain := processSpectrum(t, processor.Spectroscopy{}, readSpectrumFile(t, "spectrum.txt"))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(readSpectrumFile(t, "spectrum.txt"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	_, zipped := processSpectrum(t, processor.Spectroscopy{}, buf.Bytes())
	assert.Equal(t, plain, zipped)
}

// The format comes from the content: a FITS file stored under a text name
// and a text file under a FITS name are both read; Ingest names the
// product in errors.
func TestSpectroscopyIngest(t *testing.T) {
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	p := processor.Spectroscopy{}
	for name, file := range map[string]string{"upload.txt": "spectrum_1d.fits", "upload.fits": "spectrum.txt"} {
		prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 7, Name: name, DataProductType: "spectroscopy"}, bytes.NewReader(readSpectrumFile(t, file)))
		require.NoError(t, err)
		res, err := processor.Ingest(ctx, store, prod, p)
		require.NoError(t, err)
		assert.Equal(t, 1, res.Added)
		again, err := processor.Ingest(ctx, store, prod, p)
		require.NoError(t, err)
		assert.Equal(t, 0, again.Added, "re-processing adds nothing")
	}
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 7})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	for _, d := range ds {
		s, ok := d.Value.(dataproduct.Spectrum)
		if !ok {
			v, err := dataproduct.DecodeValue(d.DataType, mustJSON(t, d.Value))
			require.NoError(t, err)
			s = v.(dataproduct.Spectrum)
		}
		assert.NotEmpty(t, s.Wavelength)
	}

	prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 7, Name: "photo.png", DataProductType: "spectroscopy"}, strings.NewReader("\x89PNG\r\n\x1a\n\x00\x00"))
	require.NoError(t, err)
	_, err = processor.Ingest(ctx, store, prod, p)
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "photo.png", pe.File)
	assert.Contains(t, err.Error(), "photo.png")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// largeText is a text spectrum of n rows.
func largeText(n int) []byte {
	var b bytes.Buffer
	b.WriteString("# DATE-OBS: 2024-01-27T04:05:06\nwavelength flux error\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%.4f %.6e %.4e\n", 3000+0.01*float64(i), 1e-16*(1+math.Sin(float64(i)/50)), 1e-18)
	}
	return b.Bytes()
}

func TestSpectroscopyConformanceText(t *testing.T) {
	in := readSpectrumFile(t, "spectrum.txt")
	lines := strings.SplitAfter(string(in), "\n")
	lines[9] = "3908.2707 2.78x13127e-16 1.1125251e-17\n" // line 10
	processortest.Run(t, processortest.Harness{
		Processor:  processor.Spectroscopy{},
		Input:      in,
		WantDatums: 1,
		Bad:        []byte(strings.Join(lines, "")),
		BadLine:    10,
		Large:      largeText(50_000),
	})
}

func TestSpectroscopyConformanceFITS(t *testing.T) {
	in := readSpectrumFile(t, "spectrum_1d.fits")
	processortest.Run(t, processortest.Harness{
		Processor:  processor.Spectroscopy{},
		Input:      in,
		WantDatums: 1,
		Bad:        in[:4000], // truncated in the data
		Large:      fitsSpectrum(1_000_000, false),
	})
}

func TestSpectroscopyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, in := range [][]byte{largeText(10), fitsSpectrum(100, false)} {
		_, err := processor.Spectroscopy{}.Process(ctx, bytes.NewReader(in))
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	}
}
