package fits_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/internal/fits"
)

// FuzzReader reads every HDU and all the data it can of arbitrary input with
// small limits, and checks that nothing panics, that errors are *fits.Error
// values, and that what is returned agrees with the header.
func FuzzReader(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.fits"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, seed := range splitSeeds(f, b) {
			f.Add(seed)
		}
	}
	f.Add(hdu(make([]byte, 16), primary...))
	f.Add(hdu(nil, kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0),
		kv("B", "x&"), "CONTINUE  'y&'", "CONTINUE  'z'", "HIERARCH A B = 1", kv("C", raw("(1, 2)"))))

	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &fits.Options{MaxDataBytes: 1 << 20, MaxHeaderCards: 1000}
		r := fits.NewReader(bytes.NewReader(data), opts)
		for i := 0; ; i++ {
			h, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				checkErr(t, err)
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("Next after error %v = %v", err, err2)
				}
				return
			}
			if h.Index() != i {
				t.Fatalf("HDU index %d, want %d", h.Index(), i)
			}
			fuzzHDU(t, h, i)
		}
	})
}

// splitSeeds returns a file as seeds of at most a few blocks: the whole file
// when small, else its primary HDU alone and followed by each extension in
// turn. (The fuzzer minimizes each new input byte by byte, which takes long
// on inputs of tens of kilobytes.)
func splitSeeds(f *testing.F, b []byte) [][]byte {
	if len(b) <= 4*2880 {
		return [][]byte{b}
	}
	var ends []int64
	r := fits.NewReader(bytes.NewReader(b), nil)
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Fatal(err)
		}
		end := h.DataOffset() + h.DataSize()
		ends = append(ends, end+(2880-end%2880)%2880)
	}
	seeds := [][]byte{b[:ends[0]]}
	for i := 1; i < len(ends); i++ {
		seed := append([]byte(nil), b[:ends[0]]...)
		seeds = append(seeds, append(seed, b[ends[i-1]:ends[i]]...))
	}
	return seeds
}

// FuzzHeader fuzzes headers through a compact text form, which the fuzzer
// mutates and minimizes much faster than whole files: each line is one card
// (padded or cut to 80 characters); after each END card the block is padded
// and one block of patterned data bytes follows. The stream is then read as
// in FuzzReader.
func FuzzHeader(f *testing.F) {
	f.Add("SIMPLE  =                    T\nBITPIX  =                  -32\nNAXIS   =                    1\nNAXIS1  =                  600\nCRVAL1  =               3600.0\nEND")
	f.Add("SIMPLE  = T\nBITPIX  = 16\nNAXIS   = 2\nNAXIS1  = 10\nNAXIS2  = 3\nBZERO   = 32768\nBLANK   = -1\nEND\nXTENSION= 'BINTABLE'\nBITPIX  = 8\nNAXIS   = 2\nNAXIS1  = 12\nNAXIS2  = 3\nPCOUNT  = 0\nGCOUNT  = 1\nTFIELDS = 3\nTTYPE1  = 'flux'\nTFORM1  = 'E'\nTTYPE2  = 'mask'\nTFORM2  = '2I'\nTTYPE3  = 's'\nTFORM3  = '4A'\nTNULL2  = 7\nTSCAL1  = 2.5D0\nEND")
	f.Add("SIMPLE  = T\nBITPIX  = 8\nNAXIS   = 0\nLONG    = 'abc&'\nCONTINUE  'def&' / c1\nCONTINUE  'g' / c2\nHIERARCH ESO A B = 'x''y'\nCPLX    = (1.0, -2D3)\nBIG     = 123456789012345678901\nCOMMENT hello\nEND\nXTENSION= 'IMAGE'\nBITPIX  = 64\nNAXIS   = 1\nNAXIS1  = 100\nBZERO   = 9223372036854775808\nEND")
	f.Fuzz(func(t *testing.T, text string) {
		var b bytes.Buffer
		for _, line := range strings.Split(text, "\n") {
			if len(line) > 80 {
				line = line[:80]
			}
			b.WriteString(line)
			b.WriteString(strings.Repeat(" ", 80-len(line)))
			if strings.TrimRight(line, " ") == "END" {
				for b.Len()%2880 != 0 {
					b.WriteByte(' ')
				}
				for i := 0; i < 2880; i++ {
					b.WriteByte(byte(i * 7))
				}
			}
		}
		r := fits.NewReader(&b, &fits.Options{MaxDataBytes: 1 << 16, MaxHeaderCards: 500})
		for i := 0; ; i++ {
			h, err := r.Next()
			if err != nil {
				if err != io.EOF {
					checkErr(t, err)
				}
				return
			}
			fuzzHDU(t, h, i)
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var fe *fits.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %q (%T) is not a *fits.Error", err, err)
	}
	if !strings.HasPrefix(err.Error(), "fits: ") {
		t.Fatalf("error %q lacks the package prefix", err)
	}
}

func fuzzHDU(t *testing.T, h *fits.HDU, i int) {
	hdr := h.Header()
	for _, c := range hdr.Cards() {
		_ = c.Value()
		_, _ = hdr.String(c.Keyword)
		_, _ = hdr.Float(c.Keyword)
		_, _ = hdr.Int(c.Keyword)
		_, _ = hdr.Bool(c.Keyword)
	}
	n := 1
	for _, a := range h.Shape() {
		n *= a // only used when the data was read, i.e. small
	}
	if len(h.Shape()) == 0 {
		n = 0
	}
	switch h.Type() {
	case fits.PrimaryHDU, fits.ImageHDU:
		var got int
		var err error
		if i%2 == 0 {
			var d []float64
			d, err = h.ReadFloat64()
			got = len(d)
		} else {
			var d []float32
			d, err = h.ReadFloat32()
			got = len(d)
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		if got != n {
			t.Fatalf("HDU %d: %d values for shape %v", i, got, h.Shape())
		}
	case fits.BinTableHDU:
		tab, err := h.Table()
		if err != nil {
			checkErr(t, err)
			return
		}
		for _, c := range tab.Columns() {
			if first, _ := tab.Column(c.Name); first.Number != c.Number {
				continue // a duplicate or unnamed column, not addressable by name
			}
			if c.Type == 'A' {
				s, err := tab.Strings(c.Name)
				if err == nil && int64(len(s)) != tab.Rows() {
					t.Fatalf("column %q: %d strings for %d rows", c.Name, len(s), tab.Rows())
				}
				if err != nil {
					checkErr(t, err)
				}
				continue
			}
			v, err := tab.Float64s(c.Name)
			if err != nil {
				checkErr(t, err)
				continue
			}
			if int64(len(v)) != c.Repeat*tab.Rows() {
				t.Fatalf("column %q: %d values for %d × %d", c.Name, len(v), tab.Rows(), c.Repeat)
			}
			if _, err := tab.Float64Rows(c.Name); err != nil {
				checkErr(t, err)
			}
		}
	}
}
