package fits_test

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"sort"
	"strconv"
	"testing"

	"github.com/tomgo/targetdata/internal/fits"
)

// TestAstropyFiles reads every file written by testdata/gen.py and compares
// each HDU (type, BITPIX, shape, every header card, image values, table
// columns) with what astropy read from it (testdata/expected.json).
func TestAstropyFiles(t *testing.T) {
	e := loadExpected(t)
	names := make([]string, 0, len(e.Files))
	for n := range e.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want := e.Files[name]
			r := openTestFile(t, name, nil)
			for _, wh := range want.HDUs {
				h := mustNext(t, r)
				checkHDU(t, h, wh)
			}
			if h, err := r.Next(); err != io.EOF {
				t.Fatalf("after %d HDUs: Next = %v, %v; want io.EOF", len(want.HDUs), h, err)
			}
		})
	}
}

func checkHDU(t *testing.T, h *fits.HDU, want expHDU) {
	t.Helper()
	if h.Index() != want.Index {
		t.Errorf("Index = %d, want %d", h.Index(), want.Index)
	}
	gotType := h.Type().String()
	if h.Type() == fits.PrimaryHDU {
		gotType = "primary"
	}
	if gotType != want.Type {
		t.Errorf("HDU %d: Type = %s, want %s", want.Index, gotType, want.Type)
	}
	if h.Type() != fits.PrimaryHDU && h.Extension() != want.Type {
		t.Errorf("HDU %d: Extension = %q, want %q", want.Index, h.Extension(), want.Type)
	}
	if h.Bitpix() != want.Bitpix {
		t.Errorf("HDU %d: Bitpix = %d, want %d", want.Index, h.Bitpix(), want.Bitpix)
	}
	if !equalInts(h.Shape(), want.Shape) {
		t.Errorf("HDU %d: Shape = %v, want %v", want.Index, h.Shape(), want.Shape)
	}
	checkCards(t, h.Header(), want.Header)
	if want.Data != nil {
		got, err := h.ReadFloat64()
		if err != nil {
			t.Fatalf("HDU %d: ReadFloat64: %v", want.Index, err)
		}
		compareValues(t, "HDU "+strconv.Itoa(want.Index)+" data", got, want.Data, want.Dtype)
		if _, err := h.ReadFloat32(); !errors.Is(err, fits.ErrConsumed) {
			t.Errorf("HDU %d: second read: err = %v, want ErrConsumed", want.Index, err)
		}
	}
	if want.Columns != nil {
		checkColumns(t, h, want.Columns)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compareValues compares at the precision astropy computed in: exactly for
// its float64 and integer results; for its float32 results within 2 units in
// the last place of float32, because astropy scales 8- and 16-bit integers
// in float32 arithmetic (two float32 roundings) where this package computes
// in float64 and rounds once.
func compareValues(t *testing.T, what string, got []float64, want []jnum, dtype string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	f32 := dtype == "float32" || dtype == ">f4" || dtype == "<f4"
	bad := 0
	for i := range got {
		g, w := got[i], float64(want[i])
		ok := sameFloat(g, w)
		if f32 {
			ok = closeFloat32(float32(g), float32(w), 2)
		}
		if !ok {
			if bad++; bad <= 5 {
				t.Errorf("%s[%d] = %v, want %v (astropy dtype %s)", what, i, got[i], float64(want[i]), dtype)
			}
		}
	}
}

// closeFloat32 reports a and b equal (NaN equal to NaN) or within ulps
// units in the last place, with the same sign.
func closeFloat32(a, b float32, ulps int64) bool {
	if a == b || a != a && b != b {
		return true
	}
	if math.Signbit(float64(a)) != math.Signbit(float64(b)) {
		return false
	}
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	return d >= -ulps && d <= ulps
}

func checkCards(t *testing.T, hdr *fits.Header, want []expCard) {
	t.Helper()
	cards := hdr.Cards()
	if len(cards) != len(want) {
		t.Errorf("%d cards, astropy has %d", len(cards), len(want))
	}
	for i := 0; i < len(cards) && i < len(want); i++ {
		c, w := cards[i], want[i]
		where := "card " + strconv.Itoa(c.Index) + " " + w.Keyword
		if c.Keyword != w.Keyword {
			t.Errorf("%s: keyword %q, want %q", where, c.Keyword, w.Keyword)
			continue
		}
		if c.Comment != w.Comment {
			t.Errorf("%s: comment %q, want %q", where, c.Comment, w.Comment)
		}
		var wantKind fits.Kind
		switch w.Kind {
		case "commentary":
			wantKind = fits.KindCommentary
			var s string
			mustUnmarshal(t, w.Value, &s)
			if c.Str != s {
				t.Errorf("%s: text %q, want %q", where, c.Str, s)
			}
		case "undefined":
			wantKind = fits.KindUndefined
		case "logical":
			wantKind = fits.KindLogical
			var b bool
			mustUnmarshal(t, w.Value, &b)
			if got, err := hdr.Bool(w.Keyword); err != nil || got != b {
				t.Errorf("%s: Bool = %v, %v; want %v", where, got, err, b)
			}
		case "integer":
			wantKind = fits.KindInteger
			var s string
			mustUnmarshal(t, w.Value, &s)
			v, perr := strconv.ParseInt(s, 10, 64)
			got, err := hdr.Int(w.Keyword)
			if perr != nil { // too large for int64: must be reported, as a float
				if !errors.Is(err, fits.ErrOverflow) {
					t.Errorf("%s: Int(%s) err = %v, want ErrOverflow", where, s, err)
				}
				f, _ := strconv.ParseFloat(s, 64)
				if gf, err := hdr.Float(w.Keyword); err != nil || gf != f {
					t.Errorf("%s: Float = %v, %v; want %v", where, gf, err, f)
				}
			} else if err != nil || got != v {
				t.Errorf("%s: Int = %d, %v; want %d", where, got, err, v)
			}
		case "real":
			wantKind = fits.KindFloat
			var f jnum
			mustUnmarshal(t, w.Value, &f)
			if got, err := hdr.Float(w.Keyword); err != nil || got != float64(f) {
				t.Errorf("%s: Float = %v, %v; want %v", where, got, err, float64(f))
			}
		case "complex":
			wantKind = fits.KindComplex
			var f [2]float64
			mustUnmarshal(t, w.Value, &f)
			if c.Complex != complex(f[0], f[1]) {
				t.Errorf("%s: Complex = %v, want %v", where, c.Complex, f)
			}
		case "string":
			wantKind = fits.KindString
			var s string
			mustUnmarshal(t, w.Value, &s)
			if got, err := hdr.String(w.Keyword); err != nil || got != s {
				t.Errorf("%s: String = %q, %v; want %q", where, got, err, s)
			}
		default:
			t.Fatalf("%s: unknown kind %q in expected.json", where, w.Kind)
		}
		if c.Kind != wantKind {
			t.Errorf("%s: kind %v, want %v", where, c.Kind, wantKind)
		}
	}
}

func mustUnmarshal(t *testing.T, b json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("expected.json value %s: %v", b, err)
	}
}

func checkColumns(t *testing.T, h *fits.HDU, want map[string]expColumn) {
	t.Helper()
	tab, err := h.Table()
	if err != nil {
		t.Fatalf("HDU %d: Table: %v", h.Index(), err)
	}
	if len(tab.Columns()) != len(want) {
		t.Errorf("HDU %d: %d columns, want %d", h.Index(), len(tab.Columns()), len(want))
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		w := want[name]
		c, ok := tab.Column(name)
		if !ok {
			t.Errorf("column %s missing", name)
			continue
		}
		if c.Format != w.Format || c.Unit != w.Unit || c.Dim != w.Dim {
			t.Errorf("column %s: format %q unit %q dim %q, want %q %q %q", name, c.Format, c.Unit, c.Dim, w.Format, w.Unit, w.Dim)
		}
		if w.Strings != nil {
			got, err := tab.Strings(name)
			if err != nil {
				t.Errorf("Strings(%s): %v", name, err)
				continue
			}
			if len(got) != len(w.Strings) {
				t.Errorf("Strings(%s): %d rows, want %d", name, len(got), len(w.Strings))
				continue
			}
			for i := range got {
				if got[i] != w.Strings[i] {
					t.Errorf("Strings(%s)[%d] = %q, want %q", name, i, got[i], w.Strings[i])
				}
			}
			continue
		}
		if c.Repeat != w.Repeat {
			t.Errorf("column %s: repeat %d, want %d", name, c.Repeat, w.Repeat)
		}
		got, err := tab.Float64s(name)
		if err != nil {
			t.Errorf("Float64s(%s): %v", name, err)
			continue
		}
		compareValues(t, "column "+name, got, w.Values, w.Dtype)
		rows, err := tab.Float64Rows(name)
		if err != nil {
			t.Errorf("Float64Rows(%s): %v", name, err)
			continue
		}
		if int64(len(rows)) != tab.Rows() {
			t.Errorf("Float64Rows(%s): %d rows, want %d", name, len(rows), tab.Rows())
		}
		for i, row := range rows {
			if int64(len(row)) != w.Repeat || !sameFloat(row[0], got[int64(i)*w.Repeat]) {
				t.Errorf("Float64Rows(%s)[%d] = %v, not row %d of the flat values", name, i, row, i)
				break
			}
		}
	}
}

// TestSpectraWCS checks the header numbers of the spectrum files through the
// wavelengths astropy.wcs computed from them, using the rules of the TOM's
// spectroscopy processor (linear CRVAL1 + CDELT1 × (p − CRPIX1), CD1_1 in
// place of CDELT1, WAVE-LOG, and SDSS COEFF0/COEFF1 log10 wavelengths).
func TestSpectraWCS(t *testing.T) {
	e := loadExpected(t)
	for _, name := range []string{"spec_1x1xn.fits", "spec_2xn.fits", "spec_wavelog.fits", "spec_sdss_coeff.fits"} {
		t.Run(name, func(t *testing.T) {
			want := e.Files[name].Wavelength
			if len(want) == 0 {
				t.Fatal("no expected wavelengths")
			}
			h := mustNext(t, openTestFile(t, name, nil))
			flux, err := h.ReadFloat64()
			if err != nil {
				t.Fatal(err)
			}
			n := h.Shape()[0]
			if n != len(want) || len(flux) < n {
				t.Fatalf("NAXIS1 = %d, %d values; want %d wavelengths", n, len(flux), len(want))
			}
			got := wavelengths(t, h.Header(), n)
			for i := range got {
				if math.Abs(got[i]-float64(want[i])) > 1e-12*math.Abs(float64(want[i])) {
					t.Errorf("wavelength[%d] = %.15g, astropy %.15g", i, got[i], float64(want[i]))
				}
			}
		})
	}
}

// wavelengths is the spectral axis as a spectrum processor would compute it.
func wavelengths(t *testing.T, hdr *fits.Header, n int) []float64 {
	t.Helper()
	out := make([]float64, n)
	if c0, err := hdr.Float("COEFF0"); err == nil {
		c1, err := hdr.Float("COEFF1")
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			out[i] = math.Pow(10, c0+c1*float64(i))
		}
		return out
	}
	crval, err := hdr.Float("CRVAL1")
	if err != nil {
		t.Fatal(err)
	}
	crpix, err := hdr.Float("CRPIX1")
	if err != nil {
		t.Fatal(err)
	}
	cdelt, err := hdr.Float("CDELT1")
	if errors.Is(err, fits.ErrNotFound) {
		cdelt, err = hdr.Float("CD1_1")
	}
	if err != nil {
		t.Fatal(err)
	}
	ctype, _ := hdr.String("CTYPE1")
	for i := range out {
		p := float64(i + 1)
		if ctype == "WAVE-LOG" {
			out[i] = crval * math.Exp(cdelt*(p-crpix)/crval)
		} else {
			out[i] = crval + cdelt*(p-crpix)
		}
	}
	return out
}
