package fits_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tomgo/targetdata/internal/fits"
)

type spectrum1D struct {
	Shape      []int          `json:"shape"`
	Keywords   map[string]any `json:"keywords"`
	DateObs    string         `json:"date_obs"`
	Flux       []float64      `json:"flux"`
	Wavelength []float64      `json:"wavelength"`
}

func loadSpectrum1D(t *testing.T) spectrum1D {
	t.Helper()
	var s spectrum1D
	b, err := os.ReadFile(filepath.Join("testdata", "expected_spectrum_1d.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Flux) != 600 || len(s.Wavelength) != 600 {
		t.Fatalf("expected_spectrum_1d.json: %d flux, %d wavelengths", len(s.Flux), len(s.Wavelength))
	}
	return s
}

// TestSpectrum1D reads the shared sample spectrum_1d.fits (astropy 5.2.1) and
// compares it with astropy's arrays from spectra_expected.json.
func TestSpectrum1D(t *testing.T) {
	want := loadSpectrum1D(t)
	// One byte per Read call: the reader must not depend on full reads.
	r := fits.NewReader(iotest.OneByteReader(bytes.NewReader(readTestFile(t, "spectrum_1d.fits"))), nil)
	h := mustNext(t, r)
	if h.Type() != fits.PrimaryHDU || h.Bitpix() != -32 || !equalInts(h.Shape(), want.Shape) {
		t.Fatalf("type %v bitpix %d shape %v; want primary, -32, %v", h.Type(), h.Bitpix(), h.Shape(), want.Shape)
	}
	if h.DataSize() != 2400 || h.DataOffset() != 2880 {
		t.Errorf("DataSize %d at %d, want 2400 at 2880", h.DataSize(), h.DataOffset())
	}
	hdr := h.Header()
	for _, key := range []string{"CRVAL1", "CDELT1", "CRPIX1"} {
		got, err := hdr.Float(key)
		if err != nil || got != want.Keywords[key].(float64) {
			t.Errorf("%s = %v, %v; want %v", key, got, err, want.Keywords[key])
		}
	}
	for _, key := range []string{"CTYPE1", "CUNIT1", "BUNIT", "DATE-OBS", "OBJECT"} {
		got, err := hdr.String(key)
		if err != nil || got != want.Keywords[key].(string) {
			t.Errorf("%s = %q, %v; want %q", key, got, err, want.Keywords[key])
		}
	}
	if d, _ := hdr.String("DATE-OBS"); d != "2024-01-26T03:14:15" || d != want.DateObs {
		t.Errorf("DATE-OBS = %q", d)
	}
	flux, err := h.ReadFloat64()
	if err != nil {
		t.Fatal(err)
	}
	if len(flux) != 600 {
		t.Fatalf("%d values, want 600", len(flux))
	}
	if flux[0] != 3.27370399059025e-16 || flux[0] != want.Flux[0] || flux[599] != want.Flux[599] {
		t.Errorf("first/last flux %v %v, want %v %v", flux[0], flux[599], want.Flux[0], want.Flux[599])
	}
	for i := range flux {
		if flux[i] != want.Flux[i] {
			t.Fatalf("flux[%d] = %v, want %v", i, flux[i], want.Flux[i])
		}
	}
	// The wavelengths astropy computed follow from the keywords read.
	crval, _ := hdr.Float("CRVAL1")
	cdelt, _ := hdr.Float("CDELT1")
	crpix, _ := hdr.Float("CRPIX1")
	for i, w := range want.Wavelength {
		got := crval + cdelt*(float64(i+1)-crpix)
		if math.Abs(got-w) > 1e-9 {
			t.Fatalf("wavelength[%d] = %v, astropy %v", i, got, w)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the primary HDU: %v, want io.EOF", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next again: %v, want io.EOF", err)
	}
}

func TestSpectrum1DFloat32(t *testing.T) {
	want := loadSpectrum1D(t)
	h := mustNext(t, openTestFile(t, "spectrum_1d.fits", nil))
	flux, err := h.ReadFloat32()
	if err != nil {
		t.Fatal(err)
	}
	if len(flux) != len(want.Flux) {
		t.Fatalf("%d values", len(flux))
	}
	for i := range flux {
		// BITPIX -32 without scaling: exact, and exactly astropy's values.
		if float64(flux[i]) != want.Flux[i] {
			t.Fatalf("flux[%d] = %v, want %v", i, flux[i], want.Flux[i])
		}
	}
}

// TestHeaderCards checks the header conventions of header_cards.fits one by
// one (the generic comparison with astropy is in TestAstropyFiles).
func TestHeaderCards(t *testing.T) {
	h := mustNext(t, openTestFile(t, "header_cards.fits", nil))
	hdr := h.Header()
	if len(h.Shape()) != 0 || h.DataSize() != 0 {
		t.Errorf("NAXIS = 0 header: shape %v, size %d", h.Shape(), h.DataSize())
	}
	str := func(key, want string) {
		t.Helper()
		if got, err := hdr.String(key); err != nil || got != want {
			t.Errorf("String(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	str("LONGSTR", "This is a long string value that does not fit in one card, so astropy continues it on CONTINUE cards; it keeps going for a while & ends here.")
	str("QUOTES", "O'Brien's 'quoted' text")
	str("LEADING", "   leading blanks kept")
	str("TRAILING", "trailing blanks dropped")
	str("EMPTY", "")
	str("AMPONLY", "ends with ampersand &") // no CONTINUE follows: the '&' stays
	str("date-obs", "2024-01-26T03:14:15.250")
	str("HIERARCH ESO DET CHIP NAME", "CCD #1")
	str("eso det  chip name", "CCD #1")

	c, _ := hdr.Get("LONGSTR")
	if c.Index != 4 || c.Comment != "and a comment that is also rather long, so that it has to be split over cards" {
		t.Errorf("LONGSTR card %d comment %q", c.Index, c.Comment)
	}
	// The CONTINUE cards are merged: the next card is number 9.
	if c, _ := hdr.Get("QUOTES"); c.Index != 9 || c.RawValue != "'O''Brien''s ''quoted'' text'" {
		t.Errorf("QUOTES card %d raw %q", c.Index, c.RawValue)
	}
	for key, want := range map[string]float64{"DEXP1": 1e-3, "DEXP2": -250, "DEXP3": 300, "FLOATE": 1.5e-300, "FLOATNEG": -0.125, "ESO TEL AIRM START": 1.234, "INTNEG": -42} {
		if got, err := hdr.Float(key); err != nil || got != want {
			t.Errorf("Float(%s) = %v, %v; want %v", key, got, err, want)
		}
	}
	if v, err := hdr.Int("INT64MAX"); err != nil || v != math.MaxInt64 {
		t.Errorf("INT64MAX = %d, %v", v, err)
	}
	if b, err := hdr.Bool("LOGIC_F"); err != nil || b {
		t.Errorf("LOGIC_F = %v, %v", b, err)
	}
	if c, _ := hdr.Get("CPLX"); c.Kind != fits.KindComplex || c.Complex != complex(1.5, -2) || c.Value() != complex(1.5, -2) {
		t.Errorf("CPLX = %+v", c)
	}
	if c, _ := hdr.Get("UNDEF"); c.Kind != fits.KindUndefined || c.Value() != nil || c.Comment != "undefined value" {
		t.Errorf("UNDEF = %+v", c)
	}
	if got := hdr.Commentary("COMMENT"); len(got) != 2 || got[1] != "Another comment card with 'quotes' and / slashes." {
		t.Errorf("COMMENT = %q", got)
	}
	if got := hdr.Commentary("history"); len(got) != 1 || got[0] != "Created by gen.py for internal/fits tests." {
		t.Errorf("HISTORY = %q", got)
	}
	if got := hdr.Commentary(""); len(got) != 1 || got[0] != "text under a blank keyword" {
		t.Errorf("blank keyword = %q", got)
	}

	// Errors name the keyword and say what is wrong.
	_, err := hdr.Int("BIGINT")
	var ce *fits.CardError
	if !errors.Is(err, fits.ErrOverflow) || !errors.As(err, &ce) || ce.Keyword != "BIGINT" || ce.Card != 18 {
		t.Errorf("Int(BIGINT) = %v (%+v)", err, ce)
	}
	if f, err := hdr.Float("BIGINT"); err != nil || f != 1.2345678901234568e29 {
		t.Errorf("Float(BIGINT) = %v, %v", f, err)
	}
	_, err = hdr.String("NAXIS")
	if !errors.Is(err, fits.ErrWrongType) || !strings.Contains(err.Error(), "card 3 (NAXIS)") || !strings.Contains(err.Error(), "not a string") {
		t.Errorf("String(NAXIS) = %v", err)
	}
	_, err = hdr.Int("DEXP1")
	if !errors.Is(err, fits.ErrWrongType) || !strings.Contains(err.Error(), "DEXP1") {
		t.Errorf("Int(DEXP1) = %v", err)
	}
	_, err = hdr.Float("NO-SUCH")
	if !errors.Is(err, fits.ErrNotFound) || errors.Is(err, fits.ErrWrongType) || err.Error() != "fits: keyword NO-SUCH: not found" {
		t.Errorf("Float(NO-SUCH) = %v", err)
	}
	if _, err := hdr.Bool("COMMENT"); !errors.Is(err, fits.ErrWrongType) {
		t.Errorf("Bool(COMMENT) = %v", err)
	}
}

// TestSkipUnread walks files without reading data: Next must skip data,
// heaps and ASCII tables by their declared sizes.
func TestSkipUnread(t *testing.T) {
	for name, types := range map[string][]fits.HDUType{
		"sdss_speclite.fits": {fits.PrimaryHDU, fits.BinTableHDU, fits.BinTableHDU},
		"vla_skip.fits":      {fits.PrimaryHDU, fits.BinTableHDU, fits.ASCIITableHDU, fits.ImageHDU},
		"bitpix.fits":        {fits.PrimaryHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU, fits.ImageHDU},
	} {
		data := readTestFile(t, name)
		r := fits.NewReader(iotest.HalfReader(bytes.NewReader(data)), nil)
		var end int64
		for i, want := range types {
			h := mustNext(t, r)
			if h.Type() != want || h.Index() != i {
				t.Errorf("%s HDU %d: %v, want %v", name, h.Index(), h.Type(), want)
			}
			end = h.DataOffset() + h.DataSize()
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("%s: Next after the last HDU = %v", name, err)
		}
		if pad := (2880 - end%2880) % 2880; end+pad != int64(len(data)) {
			t.Errorf("%s: last data ends at %d (+%d padding), file has %d bytes", name, end, pad, len(data))
		}
	}
}

// TestVariableLengthArrays: the fixed columns of a table with a P column
// are read, the P column is reported unsupported, and the heap (PCOUNT) is
// skipped so that the following ASCII table and image are found.
func TestVariableLengthArrays(t *testing.T) {
	want := loadExpected(t).Files["vla_skip.fits"]
	r := openTestFile(t, "vla_skip.fits", nil)
	mustNext(t, r)
	h := mustNext(t, r)
	if h.PCount() != want.HDUs[1].PCount || h.PCount() != 88 || h.GCount() != 1 {
		t.Errorf("PCOUNT %d GCOUNT %d, want %d 1", h.PCount(), h.GCount(), want.HDUs[1].PCount)
	}
	if h.DataSize() != 15*3+88 {
		t.Errorf("DataSize = %d, want %d", h.DataSize(), 15*3+88)
	}
	tab, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := tab.Column("vla"); !ok || c.Type != 'P' || c.Width != 8 || c.Offset != 4 {
		t.Errorf("VLA column %+v", c)
	}
	_, err = tab.Float64s("VLA")
	if !errors.Is(err, fits.ErrUnsupported) || !strings.Contains(err.Error(), "variable-length") || !strings.Contains(err.Error(), "HDU 1 (BINTABLE)") {
		t.Errorf("Float64s(VLA) = %v", err)
	}
	ids, err := tab.Float64s("id")
	if err != nil || len(ids) != 3 || ids[0] != 1 || ids[2] != 3 {
		t.Errorf("ID = %v, %v", ids, err)
	}
	names, err := tab.Strings("NAME")
	if err != nil || strings.Join(names, ",") != "a,bb,ccc" {
		t.Errorf("NAME = %q, %v", names, err)
	}
	if _, err := tab.Strings("ID"); !errors.Is(err, fits.ErrWrongType) {
		t.Errorf("Strings(ID) = %v", err)
	}
	if _, err := tab.Float64s("NAME"); !errors.Is(err, fits.ErrWrongType) {
		t.Errorf("Float64s(NAME) = %v", err)
	}
	if _, err := tab.Float64s("nope"); !errors.Is(err, fits.ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Float64s(nope) = %v", err)
	}

	a := mustNext(t, r)
	if a.Type() != fits.ASCIITableHDU || a.Extension() != "TABLE" {
		t.Errorf("HDU 2 = %v %q", a.Type(), a.Extension())
	}
	if _, err := a.Table(); !errors.Is(err, fits.ErrUnsupported) {
		t.Errorf("ASCII Table() = %v", err)
	}
	if _, err := a.ReadFloat64(); !errors.Is(err, fits.ErrUnsupported) {
		t.Errorf("ASCII ReadFloat64 = %v", err)
	}
	img := mustNext(t, r)
	got, err := img.ReadFloat64()
	if err != nil || len(got) != 12 || got[0] != -6 || got[11] != 5 || !equalInts(img.Shape(), []int{4, 3}) {
		t.Errorf("image after the tables: %v %v shape %v", got, err, img.Shape())
	}
}

// TestSDSSSpecLite reads the spec-lite shaped COADD table as a spectrum
// processor would: loglam, flux and ivar by name, any case.
func TestSDSSSpecLite(t *testing.T) {
	r := openTestFile(t, "sdss_speclite.fits", nil)
	p := mustNext(t, r)
	c0, err0 := p.Header().Float("COEFF0")
	c1, err1 := p.Header().Float("COEFF1")
	if err0 != nil || err1 != nil || c0 != 3.5798 || c1 != 1e-4 {
		t.Errorf("COEFF0/1 = %v %v (%v %v)", c0, c1, err0, err1)
	}
	h := mustNext(t, r)
	if name, _ := h.Header().String("EXTNAME"); name != "COADD" {
		t.Errorf("EXTNAME = %q", name)
	}
	tab, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows() != 50 || tab.RowBytes() != 32 || len(tab.Columns()) != 8 {
		t.Fatalf("rows %d, row bytes %d, %d columns", tab.Rows(), tab.RowBytes(), len(tab.Columns()))
	}
	loglam, err := tab.Float64s("LOGLAM")
	if err != nil {
		t.Fatal(err)
	}
	flux, err := tab.Float64s("Flux")
	if err != nil {
		t.Fatal(err)
	}
	ivar, err := tab.Float64s("ivar")
	if err != nil {
		t.Fatal(err)
	}
	if len(loglam) != 50 || len(flux) != 50 || len(ivar) != 50 {
		t.Fatalf("lengths %d %d %d", len(loglam), len(flux), len(ivar))
	}
	if loglam[0] != float64(float32(3.5798)) || flux[0] != 10 || ivar[3] != 0 {
		t.Errorf("loglam[0] %v flux[0] %v ivar[3] %v", loglam[0], flux[0], ivar[3])
	}
	if w := math.Pow(10, loglam[1]); math.Abs(w-3801.0186) > 0.01 {
		t.Errorf("wavelength[1] = %v", w)
	}
	m, _ := tab.Float64s("model")
	if !math.IsNaN(m[7]) {
		t.Errorf("model[7] = %v, want NaN", m[7])
	}
	// Reading the next HDU after the table works (its heap is empty).
	h2 := mustNext(t, r)
	tab2, err := h2.Table()
	if err != nil {
		t.Fatal(err)
	}
	flags, err := tab2.Float64s("FLAGS")
	if err != nil || len(flags) != 4 || flags[0] != 1 || flags[1] != 0 {
		t.Errorf("FLAGS = %v, %v", flags, err)
	}
	sc, _ := tab2.Column("SCALED")
	if sc.Scale != 0.5 || sc.Zero != 10 {
		t.Errorf("SCALED TSCAL/TZERO = %v %v", sc.Scale, sc.Zero)
	}
	pl, _ := tab2.Column("PLATE")
	if !pl.HasNull || pl.Null != -1 {
		t.Errorf("PLATE TNULL = %v %v", pl.HasNull, pl.Null)
	}
	rows, err := tab2.Float64Rows("SPECTROFLUX")
	if err != nil || len(rows) != 4 || len(rows[1]) != 5 || rows[1][0] != 7.5 {
		t.Errorf("SPECTROFLUX rows = %v, %v", rows, err)
	}
}

// TestStaleAndConsumed: data can be read once, and only while the HDU is
// the current one.
func TestStaleAndConsumed(t *testing.T) {
	r := openTestFile(t, "vla_skip.fits", nil)
	p := mustNext(t, r)
	if d, err := p.ReadFloat64(); err != nil || len(d) != 0 {
		t.Errorf("NAXIS = 0 primary: %v, %v", d, err)
	}
	h := mustNext(t, r)
	tab, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	mustNext(t, r)
	_, err = tab.Float64s("ID")
	var fe *fits.Error
	if !errors.Is(err, fits.ErrConsumed) || !errors.As(err, &fe) || fe.HDU != 1 {
		t.Errorf("column of a passed HDU: %v", err)
	}
	img := mustNext(t, r)
	if _, err := img.ReadFloat32(); err != nil {
		t.Fatal(err)
	}
	if _, err := img.ReadFloat64(); !errors.Is(err, fits.ErrConsumed) {
		t.Errorf("second read: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next = %v", err)
	}
}

func TestLimits(t *testing.T) {
	// 600 float64 = 4800 bytes; 600 float32 = 2400 bytes.
	h := mustNext(t, openTestFile(t, "spectrum_1d.fits", &fits.Options{MaxDataBytes: 2400}))
	if _, err := h.ReadFloat64(); !errors.Is(err, fits.ErrLimit) || !strings.Contains(err.Error(), "MaxDataBytes") {
		t.Errorf("ReadFloat64 over the cap: %v", err)
	}
	// Nothing was consumed by the refused read.
	if d, err := h.ReadFloat32(); err != nil || len(d) != 600 {
		t.Errorf("ReadFloat32 at the cap: %d, %v", len(d), err)
	}

	r := openTestFile(t, "sdss_speclite.fits", &fits.Options{MaxDataBytes: 1000})
	mustNext(t, r)
	tab, err := mustNext(t, r).Table()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Float64s("flux"); !errors.Is(err, fits.ErrLimit) { // 50 × 32 bytes of rows
		t.Errorf("table rows over the cap: %v", err)
	}
	if _, err := r.Next(); err != nil { // the refused table is still skipped
		t.Errorf("Next after a refused table: %v", err)
	}

	_, err = openTestFile(t, "header_cards.fits", &fits.Options{MaxHeaderCards: 30}).Next()
	if !errors.Is(err, fits.ErrLimit) || !strings.Contains(err.Error(), "MaxHeaderCards") {
		t.Errorf("header over the card cap: %v", err)
	}
	if _, err := openTestFile(t, "header_cards.fits", &fits.Options{MaxHeaderCards: 33}).Next(); err != nil {
		t.Errorf("header of 33 cards with a cap of 33: %v", err)
	}
}

// be encodes values big-endian.
func be(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		if err := binary.Write(&b, binary.BigEndian, v); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// TestHandMade covers rules that astropy does not exercise.
func TestHandMade(t *testing.T) {
	t.Run("BLANK with the unsigned convention", func(t *testing.T) {
		f := hdu(be(int16(-32768), int16(0), int16(32767)),
			kv("SIMPLE", true), kv("BITPIX", 16), kv("NAXIS", 1), kv("NAXIS1", 3),
			kv("BZERO", 32768), kv("BLANK", 32767))
		d, err := mustNext(t, fits.NewReader(bytes.NewReader(f), nil)).ReadFloat64()
		if err != nil || len(d) != 3 || d[0] != 0 || d[1] != 32768 || !math.IsNaN(d[2]) {
			t.Errorf("got %v, %v; want [0 32768 NaN]", d, err)
		}
	})
	t.Run("BLANK ignored for float data", func(t *testing.T) {
		f := hdu(be(float32(0), float32(math.NaN())),
			kv("SIMPLE", true), kv("BITPIX", -32), kv("NAXIS", 1), kv("NAXIS1", 2), kv("BLANK", 0))
		d, err := mustNext(t, fits.NewReader(bytes.NewReader(f), nil)).ReadFloat32()
		if err != nil || len(d) != 2 || d[0] != 0 || !math.IsNaN(float64(d[1])) {
			t.Errorf("got %v, %v", d, err)
		}
	})
	t.Run("uint64 convention exact", func(t *testing.T) {
		// Stored values near -2^63 are small unsigned numbers: computing
		// float64(stored) + 2^63 would round them to multiples of 2048.
		f := hdu(be(int64(math.MaxInt64), int64(math.MinInt64), int64(math.MinInt64+1), int64(math.MinInt64+12345)),
			kv("SIMPLE", true), kv("BITPIX", 64), kv("NAXIS", 1), kv("NAXIS1", 4), kv("BZERO", raw("9223372036854775808")))
		d, err := mustNext(t, fits.NewReader(bytes.NewReader(f), nil)).ReadFloat64()
		if want := []float64{float64(uint64(math.MaxUint64)), 0, 1, 12345}; err != nil || !equalFloats(d, want) {
			t.Errorf("got %v, %v; want %v", d, err, want)
		}
	})
	t.Run("CONTINUE without ampersand is commentary", func(t *testing.T) {
		f := hdu(nil, kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0),
			kv("A", "no ampersand"), "CONTINUE  'more'", kv("B", "x&"), "CONTINUE  'y&'", "CONTINUE  'z'  / c", kv("C", "last&"))
		hdr := mustNext(t, fits.NewReader(bytes.NewReader(f), nil)).Header()
		if s, _ := hdr.String("A"); s != "no ampersand" {
			t.Errorf("A = %q", s)
		}
		if c := hdr.Commentary("CONTINUE"); len(c) != 1 || c[0] != "  'more'" {
			t.Errorf("CONTINUE commentary = %q", c)
		}
		if c, _ := hdr.Get("B"); c.Str != "xyz" || c.Comment != "c" {
			t.Errorf("B = %q / %q", c.Str, c.Comment)
		}
		if s, _ := hdr.String("C"); s != "last&" {
			t.Errorf("C = %q", s)
		}
	})
	t.Run("lower-case keyword, free-format values", func(t *testing.T) {
		f := hdu(nil, kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0),
			"object  = 'x'", "VAL     =   -.5e+2/no blank before slash", "INT     = +007", "CPLX    = (1, 2.5D1)")
		hdr := mustNext(t, fits.NewReader(bytes.NewReader(f), nil)).Header()
		if s, err := hdr.String("OBJECT"); s != "x" || err != nil {
			t.Errorf("OBJECT = %q, %v", s, err)
		}
		if c, _ := hdr.Get("VAL"); c.Float != -50 || c.Comment != "no blank before slash" {
			t.Errorf("VAL = %+v", c)
		}
		if v, err := hdr.Int("INT"); v != 7 || err != nil {
			t.Errorf("INT = %d, %v", v, err)
		}
		if c, _ := hdr.Get("CPLX"); c.Complex != complex(1, 25) {
			t.Errorf("CPLX = %v", c.Complex)
		}
	})
	t.Run("trailing bytes and missing final padding", func(t *testing.T) {
		base := readTestFile(t, "spectrum_1d.fits")
		for name, data := range map[string][]byte{
			"special records": append(append([]byte(nil), base...), bytes.Repeat([]byte{0}, 2880)...),
			"partial junk":    append(append([]byte(nil), base...), "junk"...),
			"unpadded":        base[:2880+2400],
		} {
			r := fits.NewReader(bytes.NewReader(data), nil)
			h := mustNext(t, r)
			if d, err := h.ReadFloat64(); err != nil || len(d) != 600 {
				t.Errorf("%s: %d values, %v", name, len(d), err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("%s: Next = %v, want io.EOF", name, err)
			}
		}
	})
	t.Run("X and L columns, TNULL and TSCAL", func(t *testing.T) {
		row := func(l byte, x byte, i int16) []byte { return append([]byte{l, x}, be(i)...) }
		data := append(append(row('T', 0b10100000, 5), row('F', 0b01000000, -1)...), row(0, 0xff, 7)...)
		f := append(hdu(nil, kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0), kv("EXTEND", true)),
			hdu(data, kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 4), kv("NAXIS2", 3),
				kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 3),
				kv("TTYPE1", "L"), kv("TFORM1", "L"), kv("TTYPE2", "X"), kv("TFORM2", "3X"),
				kv("TTYPE3", "I"), kv("TFORM3", "1I"), kv("TSCAL3", 2.0), kv("TZERO3", 1.0), kv("TNULL3", -1))...)
		r := fits.NewReader(bytes.NewReader(f), nil)
		mustNext(t, r)
		tab, err := mustNext(t, r).Table()
		if err != nil {
			t.Fatal(err)
		}
		l, _ := tab.Float64s("l")
		x, _ := tab.Float64s("x")
		i, _ := tab.Float64s("i")
		if len(l) != 3 || l[0] != 1 || l[1] != 0 || !math.IsNaN(l[2]) {
			t.Errorf("L = %v", l)
		}
		if want := []float64{1, 0, 1, 0, 1, 0, 1, 1, 1}; len(x) != 9 || !equalFloats(x, want) {
			t.Errorf("X = %v, want %v", x, want)
		}
		if len(i) != 3 || i[0] != 11 || !math.IsNaN(i[1]) || i[2] != 15 {
			t.Errorf("I = %v, want [11 NaN 15]", i)
		}
	})
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameFloat(a[i], b[i]) {
			return false
		}
	}
	return true
}
