package fits_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/internal/fits"
)

// readAll reads every HDU and all its data, returning the first error
// (io.EOF at the end is not an error).
func readAll(data []byte, opts *fits.Options) error {
	r := fits.NewReader(bytes.NewReader(data), opts)
	for {
		h, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch h.Type() {
		case fits.PrimaryHDU, fits.ImageHDU:
			if !h.RandomGroups() {
				if _, err := h.ReadFloat64(); err != nil {
					return err
				}
			}
		case fits.BinTableHDU:
			tab, err := h.Table()
			if err != nil {
				return err
			}
			for _, c := range tab.Columns() {
				switch c.Type {
				case 'A':
					_, err = tab.Strings(c.Name)
				case 'P', 'Q', 'C', 'M':
					continue
				default:
					_, err = tab.Float64s(c.Name)
				}
				if err != nil {
					return err
				}
			}
		}
	}
}

var primary = []string{kv("SIMPLE", true), kv("BITPIX", -32), kv("NAXIS", 1), kv("NAXIS1", 4)}

func replaceCard(cards []string, i int, c string) []string {
	out := append([]string(nil), cards...)
	out[i] = c
	return out
}

// TestMalformed: each malformed input gives an error of the right kind that
// names where the problem is, and none panics.
func TestMalformed(t *testing.T) {
	good := hdu(make([]byte, 16), primary...)
	spec := readTestFile(t, "spectrum_1d.fits")
	sdss := readTestFile(t, "sdss_speclite.fits")
	noEnd := []byte(strings.Repeat(card(kv("SIMPLE", true)), 36))
	hugeCards := append([]string(nil), primary[:2]...)
	hugeCards = append(hugeCards, kv("NAXIS", 3), kv("NAXIS1", 4000000), kv("NAXIS2", 4000000), kv("NAXIS3", 4000000))

	tests := []struct {
		name     string
		data     []byte
		opts     *fits.Options
		is       error    // errors.Is target
		contains []string // parts of the message
	}{
		{"empty", nil, nil, fits.ErrNotFITS, []string{"HDU 0", "empty"}},
		{"empty is unexpected EOF", nil, nil, io.ErrUnexpectedEOF, nil},
		{"not FITS", []byte("hello, world\n"), nil, fits.ErrNotFITS, []string{"SIMPLE"}},
		{"SIMPLE = F", hdu(nil, kv("SIMPLE", false), kv("BITPIX", 8), kv("NAXIS", 0)), nil, fits.ErrNotFITS, []string{"SIMPLE = F"}},
		{"truncated first block", spec[:1000], nil, io.ErrUnexpectedEOF, []string{"HDU 0 (primary)", "header", "1000 of 2880"}},
		{"truncated in the first card", spec[:5], nil, io.ErrUnexpectedEOF, []string{"HDU 0"}},
		{"truncated image data", spec[:2880+1000], nil, io.ErrUnexpectedEOF, []string{"HDU 0 (primary)", "reading image data", "1000 of the 2400 data bytes"}},
		{"truncated extension header", sdss[:2880+100], nil, io.ErrUnexpectedEOF, []string{"HDU 1 (extension)", "header"}},
		{"truncated table rows", sdss[:2*2880+500], nil, io.ErrUnexpectedEOF, []string{"HDU 1 (BINTABLE)", "reading table rows"}},
		{"truncated last header", sdss[:len(sdss)-2880-100], nil, io.ErrUnexpectedEOF, []string{"HDU 2 (extension)", "no END card"}},
		{"missing END then EOF", noEnd, nil, io.ErrUnexpectedEOF, []string{"no END card after 36 cards"}},
		{"missing END then binary data", append(bytes.ReplaceAll(spec[:2880], []byte(card("END")), []byte(card(""))), spec[2880:]...), nil, fits.ErrInvalid, []string{"card 37", "not printable ASCII"}},
		{"bad BITPIX 12", hdu(nil, replaceCard(primary, 1, kv("BITPIX", 12))...), nil, fits.ErrInvalid, []string{"card 2 (BITPIX)", "BITPIX 12"}},
		{"BITPIX string", hdu(nil, replaceCard(primary, 1, kv("BITPIX", "-32"))...), nil, fits.ErrWrongType, []string{"card 2 (BITPIX)", "not an integer"}},
		{"BITPIX missing", hdu(nil, replaceCard(primary, 1, "COMMENT no BITPIX")...), nil, fits.ErrNotFound, []string{"keyword BITPIX"}},
		{"BITPIX real", hdu(nil, replaceCard(primary, 1, kv("BITPIX", "-32.0"))...), nil, fits.ErrWrongType, []string{"BITPIX"}},
		{"NAXIS negative", hdu(nil, replaceCard(primary, 2, kv("NAXIS", -1))...), nil, fits.ErrInvalid, []string{"card 3 (NAXIS)", "outside 0..999"}},
		{"NAXIS 1000", hdu(nil, replaceCard(primary, 2, kv("NAXIS", 1000))...), nil, fits.ErrInvalid, []string{"NAXIS"}},
		{"NAXIS1 missing", hdu(nil, primary[:3]...), nil, fits.ErrNotFound, []string{"keyword NAXIS1"}},
		{"NAXIS1 negative", hdu(nil, replaceCard(primary, 3, kv("NAXIS1", -4))...), nil, fits.ErrInvalid, []string{"card 4 (NAXIS1)"}},
		{"NAXIS1 real", hdu(nil, replaceCard(primary, 3, kv("NAXIS1", raw("4.0")))...), nil, fits.ErrWrongType, []string{"NAXIS1"}},
		{"NAXIS1 overflows int64", hdu(nil, replaceCard(primary, 3, kv("NAXIS1", raw("99999999999999999999")))...), nil, fits.ErrOverflow, []string{"card 4 (NAXIS1)"}},
		{"NAXIS1 garbage value", hdu(nil, replaceCard(primary, 3, "NAXIS1  = 4 garbage")...), nil, fits.ErrInvalid, []string{"card 4 (NAXIS1)", "unexpected text"}},
		{"NAXIS product overflows", hdu(nil, hugeCards...), nil, fits.ErrOverflow, []string{"overflows"}},
		{"NAXIS product huge, stream short", hdu(nil, replaceCard(primary, 3, kv("NAXIS1", int64(1)<<50))...), nil, fits.ErrLimit, []string{"MaxDataBytes"}},
		{"keyword with embedded blank", hdu(nil, append(primary, "NA XIS  = 1")...), nil, fits.ErrInvalid, []string{"card 5", `"NA XIS"`, "character ' '"}},
		{"keyword with odd character", hdu(nil, append(primary, "NAXIS*  = 1")...), nil, fits.ErrInvalid, []string{"card 5", `"NAXIS*"`}},
		{"control character", hdu(nil, append(primary, "OBJECT  = 'a\tb'")...), nil, fits.ErrInvalid, []string{"card 5 (OBJECT)", "0x09", "column 13"}},
		{"non-ASCII byte", hdu(nil, append(primary, "OBJECT  = 'caf\xc3\xa9'")...), nil, fits.ErrInvalid, []string{"card 5 (OBJECT)", "0xc3"}},
		{"card cap", good, &fits.Options{MaxHeaderCards: 3}, fits.ErrLimit, []string{"more than 3 cards"}},
		{"XTENSION not a string", append(append([]byte(nil), good...), header(kv("XTENSION", 5), kv("BITPIX", 8), kv("NAXIS", 0))...), nil, fits.ErrWrongType, []string{"HDU 1", "XTENSION"}},
		{"extension PCOUNT negative", append(append([]byte(nil), good...), header(kv("XTENSION", "IMAGE"), kv("BITPIX", 8), kv("NAXIS", 0), kv("PCOUNT", -1))...), nil, fits.ErrInvalid, []string{"HDU 1 (IMAGE)", "PCOUNT"}},
		{"bad TFORM", append(append([]byte(nil), good...), hdu(make([]byte, 4), kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 4), kv("NAXIS2", 1), kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 1), kv("TFORM1", "3Z"))...), nil, fits.ErrInvalid, []string{"HDU 1 (BINTABLE)", "TFORM1", "unknown data type code 'Z'"}},
		{"TFORM wider than NAXIS1", append(append([]byte(nil), good...), hdu(make([]byte, 4), kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 4), kv("NAXIS2", 1), kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 1), kv("TFORM1", "2E"))...), nil, fits.ErrInvalid, []string{"need 8 bytes but NAXIS1 is 4"}},
		{"TFORM missing", append(append([]byte(nil), good...), hdu(make([]byte, 4), kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 4), kv("NAXIS2", 1), kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 1))...), nil, fits.ErrNotFound, []string{"TFORM1"}},
		{"TSCAL not a number", append(append([]byte(nil), good...), hdu(make([]byte, 4), kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 4), kv("NAXIS2", 1), kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 1), kv("TTYPE1", "A"), kv("TFORM1", "J"), kv("TSCAL1", "x"))...), nil, fits.ErrWrongType, []string{"column \"A\"", "TSCAL1"}},
		{"BINTABLE with NAXIS 1", append(append([]byte(nil), good...), hdu(make([]byte, 4), kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 1), kv("NAXIS1", 4), kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 0))...), nil, fits.ErrInvalid, []string{"NAXIS = 2"}},
		{"BSCALE not a number", hdu(make([]byte, 16), append(primary, kv("BSCALE", "two"))...), nil, fits.ErrWrongType, []string{"BSCALE", "reading image data"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll(tc.data, tc.opts)
			if err == nil {
				t.Fatalf("no error; want %v", tc.is)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			var fe *fits.Error
			if !errors.As(err, &fe) {
				t.Errorf("error %q is not a *fits.Error", err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "fits: HDU ") {
				t.Errorf("error %q does not start with \"fits: HDU \"", err)
			}
		})
	}
	if err := readAll(good, nil); err != nil {
		t.Errorf("the well-formed base case fails: %v", err)
	}
}

// TestTruncatedWhileSkipping: data the caller does not read is still
// checked to be there.
func TestTruncatedWhileSkipping(t *testing.T) {
	sdss := readTestFile(t, "sdss_speclite.fits")
	r := fits.NewReader(bytes.NewReader(sdss[:2*2880+500]), nil)
	mustNext(t, r)
	mustNext(t, r)
	_, err := r.Next()
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "HDU 1 (BINTABLE): skipping data at byte 5760: stream ends after 500 of the 1600 data bytes") {
		t.Errorf("Next = %v", err)
	}
}

// TestZeroWidthRows: a table of 2^40 rows of 0 bytes reads at once. (The
// reader used to loop over the rows; found while looking into a stalled
// fuzzing run.)
func TestZeroWidthRows(t *testing.T) {
	f := append(hdu(nil, kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0)),
		hdu(nil, kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 0), kv("NAXIS2", int64(1)<<40),
			kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 2), kv("TTYPE1", "Z"), kv("TFORM1", "0E"), kv("TTYPE2", "S"), kv("TFORM2", "0A"))...)
	r := fits.NewReader(bytes.NewReader(f), nil)
	mustNext(t, r)
	tab, err := mustNext(t, r).Table()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tab.Float64s("Z"); err != nil || len(v) != 0 {
		t.Errorf("Float64s = %d values, %v", len(v), err)
	}
	if _, err := tab.Float64Rows("Z"); !errors.Is(err, fits.ErrLimit) {
		t.Errorf("Float64Rows of 2^40 rows: %v, want ErrLimit", err)
	}
	if _, err := tab.Strings("S"); !errors.Is(err, fits.ErrLimit) {
		t.Errorf("Strings of 2^40 rows: %v, want ErrLimit", err)
	}
}

// TestErrorIsFinal: after a failure Next keeps returning the same error.
func TestErrorIsFinal(t *testing.T) {
	spec := readTestFile(t, "spectrum_1d.fits")
	r := fits.NewReader(bytes.NewReader(spec[:2880+100]), nil)
	h := mustNext(t, r)
	_, err := h.ReadFloat64()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFloat64 = %v", err)
	}
	_, err2 := r.Next()
	if err2 != err {
		t.Errorf("Next after a data error = %v, want the same error %v", err2, err)
	}
}

// TestInvalidOptionalValue: a malformed value in a card the reader does not
// need leaves the header readable; asking for it gives the card's error.
func TestInvalidOptionalValue(t *testing.T) {
	f := hdu(make([]byte, 16), append(primary, "OBJECT  = 'unterminated", "EXPTIME = 12..5", "FLAG    = TRUE")...)
	h := mustNext(t, fits.NewReader(bytes.NewReader(f), nil))
	hdr := h.Header()
	for key, part := range map[string]string{
		"OBJECT":  "card 5 (OBJECT): invalid value \"'unterminated\": string has no closing quote",
		"EXPTIME": "card 6 (EXPTIME): invalid value \"12..5\"",
		"FLAG":    "card 7 (FLAG): invalid value \"TRUE\"",
	} {
		c, ok := hdr.Get(key)
		if !ok || c.Kind != fits.KindInvalid || c.Err() == nil {
			t.Errorf("%s: %+v", key, c)
		}
		_, err := hdr.String(key)
		if !errors.Is(err, fits.ErrInvalid) || !strings.Contains(err.Error(), part) {
			t.Errorf("String(%s) = %v, want it to contain %q", key, err, part)
		}
	}
	if d, err := h.ReadFloat64(); err != nil || len(d) != 4 {
		t.Errorf("data: %v, %v", d, err)
	}
}
