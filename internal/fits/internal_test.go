package fits

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestGrow(t *testing.T) {
	s := make([]int, 0, 2)
	s = grow(s, 1, 10)
	if cap(s) != 2 {
		t.Errorf("no growth needed: cap %d", cap(s))
	}
	s = append(s, 1, 2)
	s = grow(s, 1, 10)
	if cap(s) != 4 || len(s) != 2 || s[1] != 2 {
		t.Errorf("doubling: len %d cap %d %v", len(s), cap(s), s)
	}
	s = grow(s[:4], 5, 10)
	if cap(s) != 9 {
		t.Errorf("growth to the need: cap %d", cap(s))
	}
	s = grow(s[:9], 1, 10)
	if cap(s) != 10 {
		t.Errorf("growth capped at the limit: cap %d", cap(s))
	}
}

func testHeader(cards ...string) []byte {
	var b strings.Builder
	for _, c := range append(cards, "END") {
		b.WriteString(c + strings.Repeat(" ", 80-len(c)))
	}
	for b.Len()%blockSize != 0 {
		b.WriteByte(' ')
	}
	return []byte(b.String())
}

// TestGrowingReads reads arrays and tables larger than eagerElems, so that
// the output grows while the data arrives, and checks every value.
func TestGrowingReads(t *testing.T) {
	defer func(v int64) { eagerElems = v }(eagerElems)
	eagerElems = 1000
	const n = 100_000 // > 1 chunk of 64 KiB at 2 bytes a value
	data := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint16(data[2*i:], uint16(i))
	}
	f := append(testHeader("SIMPLE  = T", "BITPIX  = 16", "NAXIS   = 1", fmt.Sprintf("NAXIS1  = %d", n), "BZERO   = 32768"), data...)
	for _, f32 := range []bool{false, true} {
		h, err := NewReader(bytes.NewReader(f), nil).Next()
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		if f32 {
			v, err := h.ReadFloat32()
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range v {
				got = append(got, float64(x))
			}
		} else if got, err = h.ReadFloat64(); err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d values", len(got))
		}
		for i, v := range got {
			if want := float64(uint16(i) ^ 0x8000); v != want {
				t.Fatalf("float32=%v: value %d = %v, want %v", f32, i, v, want)
			}
		}
	}

	tab := append(testHeader("SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 0"),
		testHeader("XTENSION= 'BINTABLE'", "BITPIX  = 8", "NAXIS   = 2", "NAXIS1  = 2", fmt.Sprintf("NAXIS2  = %d", n),
			"PCOUNT  = 0", "GCOUNT  = 1", "TFIELDS = 1", "TTYPE1  = 'V'", "TFORM1  = 'I'")...)
	tab = append(tab, data...)
	r := NewReader(bytes.NewReader(tab), nil)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	h, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	v, err := tb.Float64s("v")
	if err != nil || len(v) != n {
		t.Fatalf("table: %d values, %v", len(v), err)
	}
	for i, x := range v {
		if want := float64(int16(uint16(i))); x != want {
			t.Fatalf("table value %d = %v, want %v", i, x, want)
		}
	}
}

// TestLyingHeader: a header that claims 30 MB of data (240 MB of results)
// in a stream that holds 3 blocks fails with io.ErrUnexpectedEOF after
// allocating the first 2^21 values (16 MB) at most, not what the header
// claimed.
func TestLyingHeader(t *testing.T) {
	const claimed = 30_000_000 // 240 MB of float64, under the default cap
	f := append(testHeader("SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 1", fmt.Sprintf("NAXIS1  = %d", claimed)), make([]byte, 2*blockSize)...)
	tab := append(testHeader("SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 0"),
		testHeader("XTENSION= 'BINTABLE'", "BITPIX  = 8", "NAXIS   = 2", "NAXIS1  = 1", fmt.Sprintf("NAXIS2  = %d", claimed),
			"PCOUNT  = 0", "GCOUNT  = 1", "TFIELDS = 1", "TTYPE1  = 'V'", "TFORM1  = 'B'")...)
	tab = append(tab, make([]byte, 2*blockSize)...)
	for name, file := range map[string][]byte{"image": f, "table": tab} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := NewReader(bytes.NewReader(file), nil)
		var err error
		for {
			var h *HDU
			if h, err = r.Next(); err != nil {
				break
			}
			if h.Type() == PrimaryHDU && h.DataSize() > 0 {
				_, err = h.ReadFloat64()
				break
			}
			if h.Type() == BinTableHDU {
				var tb *Table
				if tb, err = h.Table(); err == nil {
					_, err = tb.Float64s("V")
				}
				break
			}
		}
		runtime.ReadMemStats(&after)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: err = %v", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 40<<20 {
			t.Errorf("%s: allocated %d MB for a %d-byte stream", name, alloc>>20, len(file))
		}
	}
}
