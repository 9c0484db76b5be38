package textscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// refFields is the reference white-space splitter: strings.Fields on
// ASCII white space only.
func refFields(line string) []string {
	return strings.FieldsFunc(line, func(r rune) bool { return r < 0x80 && IsSpace(byte(r)) })
}

// checkFields fails t unless Fields, AppendFields and TrimSpace agree with
// the reference for line and every need.
func checkFields(t *testing.T, f *Fields, line string) {
	t.Helper()
	want := refFields(line)
	got := []string{}
	for _, b := range AppendFields([][]byte{[]byte("keep")}, []byte(line)) {
		got = append(got, string(b))
	}
	if !assert.Equal(t, append([]string{"keep"}, want...), got, "AppendFields(%q)", line) {
		t.FailNow()
	}
	trimmed := string(TrimSpace([]byte(line)))
	if want := strings.TrimFunc(line, func(r rune) bool { return r < 0x80 && IsSpace(byte(r)) }); trimmed != want {
		t.Fatalf("TrimSpace(%q) = %q, want %q", line, trimmed, want)
	}
	for need := range 2*len(want) + 6 {
		f := f
		if need%2 == 0 {
			f = new(Fields) // the fast path is tried
		}
		need := need / 2
		n := f.Split([]byte(line), need)
		if n != len(want) || f.Len() != n {
			t.Fatalf("Split(%q, %d) = %d fields, want %d", line, need, n, len(want))
		}
		for i := range min(need, n) {
			if g := string(f.Field(i)); g != want[i] {
				t.Fatalf("Split(%q, %d): field %d = %q, want %q (fast %v)", line, need, i, g, want[i], f.fast)
			}
		}
		if n > 0 {
			if g := string(f.Field(n - 1)); g != want[n-1] {
				t.Fatalf("Split(%q, %d): last field = %q, want %q (fast %v)", line, need, g, want[n-1], f.fast)
			}
		}
	}
}

var fieldCases = []string{
	"", " ", "a", " a b  c ", "a\tb c", "1 2 3", "  lead trail  ", "a  b c d", "abcdefg  h", "abcdefgh  ij",
	"abcdefg h", "abcdefgh ij", "abcdefgh i", "a b c d e f g h i j k l m n o p q r s t", "a b c d e f g h i j k l m n o p q  r",
	"0123456789 abcdefghij klmnopqrstuvwxyz 1 2 3  4", "a\x00b c", "a\x01b c d", "a\vb", "a\fb", "a\rb c", "x\x7fy z",
	"é à  ü", "a\u00a0b", "a\u0085b", strings.TrimSpace(strings.Repeat("x ", 200)), strings.Repeat("ab ", 60) + " z",
	" 0 663 10 3 ZTF_g 450205083915 0 2.7828 167.763 14.4719 26.3092 1.62129e-05 0.0378869 -0.098545 3.82766e-05 715 30. 0.046036",
	"60316.142545  17.349  0.089   417   37 o  0  28.03  65.00165 -54.93795  9674.06  2072.74 2.51 1.85  76.9 -0.504 19.34 20.82 04a60316o0180o",
}

func TestFields(t *testing.T) {
	var f Fields
	for _, line := range fieldCases {
		checkFields(t, &f, line)
	}
	// The fast path serves single-space lines, the other layouts do not.
	ztf := []byte(" 0 663 10 3 ZTF_g 450205083915 0 2.7828")
	f = Fields{}
	f.Split(ztf, 4)
	assert.True(t, f.fast)
	for _, line := range []string{"60316.142545  17.349  0.089", "a\tb", "a\x01b c"} {
		f = Fields{}
		f.Split([]byte(line), 2)
		assert.False(t, f.fast, "%q", line)
	}
	// After a line of another layout, the fast path rests for 63 lines.
	for i := range 64 {
		assert.Equal(t, 8, f.Split(ztf, 4))
		assert.Equal(t, "3", string(f.Field(3)))
		assert.Equal(t, "2.7828", string(f.Field(7)))
		assert.Equal(t, i == 63, f.fast, "line %d", i)
	}
	// need beyond what the fast path records: still right.
	long := strings.TrimSpace(strings.Repeat("f ", 300))
	assert.Equal(t, 300, f.Split([]byte(long), 250))
	assert.Equal(t, "f", string(f.Field(249)))
}

func TestFieldsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("ab1.-  \t\x00\x01\v\r,é")
	var f Fields
	for range 20000 {
		b := make([]byte, r.IntN(100))
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = "xyz0123 "[r.IntN(8)]
			}
		}
		checkFields(t, &f, string(b))
	}
}

func FuzzFields(f *testing.F) {
	for _, s := range fieldCases {
		f.Add(s)
	}
	var fl Fields
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		checkFields(t, &fl, line)
	})
}

func TestFieldPanicsForFieldsNotCut(t *testing.T) {
	var f Fields
	for _, line := range []string{"a b c d", "a  b  c  d"} {
		assert.Equal(t, 4, f.Split([]byte(line), 1))
		assert.Equal(t, "a", string(f.Field(0)))
		assert.Equal(t, "d", string(f.Field(3)))
		assert.Panics(t, func() { f.Field(1) }, "%q", line)
		assert.Panics(t, func() { f.Field(4) }, "%q", line)
	}
}

func TestSplitComma(t *testing.T) {
	for _, line := range []string{"", ",", "a", "a,,b,", ",a", "a,b,c,d,e", "1,2.5,,x y,\"q\""} {
		want := strings.Split(line, ",")
		for need := range len(want) + 2 {
			got, n := SplitComma([]string{"keep"}, line, need)
			assert.Equal(t, len(want), n, "%q need %d", line, need)
			assert.Equal(t, append([]string{"keep"}, want[:min(need, len(want))]...), got, "%q need %d", line, need)
			gotB, nB := SplitComma(nil, []byte(line), need)
			assert.Equal(t, n, nB)
			for i, c := range gotB {
				assert.Equal(t, want[i], string(c))
			}
		}
	}
}

func TestString(t *testing.T) {
	assert.Equal(t, "", String(nil))
	b := []byte("abc")
	s := String(b)
	assert.Equal(t, "abc", s)
	b[0] = 'x'
	assert.Equal(t, "xbc", s, "a view, not a copy")
}

// Lines as the services write them.
var (
	ztfLine   = []byte(" 0 663 10 3 ZTF_g 450205083915 0 2.7828 167.763 14.4719 26.3092 1.62129e-05 0.0378869 -0.098545 3.82766e-05 715 30. 0.046036 0.045751 19.2832 26.3092 1 2458204.705081 663120139 2280.01876114013 80.548 108.117 5.36 0.961 -1.64 1.51 0.2 1.2 4.3 1.5 0.9 0.1 5.4 0.6 null")
	atlasLine = []byte("60316.142545  17.349  0.089   417   37 o  0  28.03  65.00165 -54.93795  9674.06  2072.74 2.51 1.85  76.9 -0.504 19.34 20.82 04a60316o0180o")
	irsaLine  = []byte("717113200012345,45017096,2458204.674054207,58204.170968943,19.6117459,0.0648211637,0,zg,230.71551541186807,41.05027841743933,0.7593054,-0.0298959,20180327170969,717,13,2,20.4654325,26.0690294,0.0376493,-0.1042418,2.786212e-05,30.0,1.3099678,1")
)

func BenchmarkFields(b *testing.B) {
	for _, bc := range []struct {
		name string
		line []byte
		need int
	}{{"ztf-fp", ztfLine, 26}, {"atlas", atlasLine, 6}, {"atlas-all", atlasLine, 19}} {
		b.Run(bc.name, func(b *testing.B) {
			var f Fields
			b.SetBytes(int64(len(bc.line)))
			for b.Loop() {
				f.Split(bc.line, bc.need)
			}
			_ = f.Field(f.Len() - 1)
		})
	}
	b.Run("AppendFields", func(b *testing.B) {
		dst := make([][]byte, 0, 64)
		b.SetBytes(int64(len(ztfLine)))
		for b.Loop() {
			dst = AppendFields(dst[:0], ztfLine)
		}
	})
}

func BenchmarkSplitComma(b *testing.B) {
	dst := make([][]byte, 0, 32)
	b.SetBytes(int64(len(irsaLine)))
	for b.Loop() {
		dst, _ = SplitComma(dst[:0], irsaLine, 8)
	}
	if len(dst) != 8 {
		b.Fatal(fmt.Sprint(len(dst)))
	}
}

func BenchmarkTrimSpace(b *testing.B) {
	line := append(append([]byte("  "), ztfLine...), "\r"...)
	for b.Loop() {
		if len(TrimSpace(line)) == 0 {
			b.Fatal()
		}
	}
	_ = bytes.TrimSpace(line)
}

// TestSpaceMask checks the eight-byte white-space test on every byte
// value in every position.
func TestSpaceMask(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			w := uint64(0x41) * ones                    // "AAAAAAAA"
			w = w&^(0xff<<(8*pos)) | uint64(c)<<(8*pos) // c at pos
			want := uint64(0)
			if IsSpace(byte(c)) {
				want = 0x80 << (8 * pos)
			}
			if got := spaceMask(w); got != want {
				t.Fatalf("spaceMask(byte %#x at %d) = %#x, want %#x", c, pos, got, want)
			}
			w2 := ^uint64(0)&^(0xff<<(8*pos)) | uint64(c)<<(8*pos) // among 0xff bytes
			if got := spaceMask(w2); got != want {
				t.Fatalf("spaceMask(byte %#x at %d among 0xff) = %#x, want %#x", c, pos, got, want)
			}
			w3 := uint64(' ')*ones&^(0xff<<(8*pos)) | uint64(c)<<(8*pos) // among spaces
			want3 := uint64(high)&^(0x80<<(8*pos)) | want
			if got := spaceMask(w3); got != want3 {
				t.Fatalf("spaceMask(byte %#x at %d among spaces) = %#x, want %#x", c, pos, got, want3)
			}
		}
	}
}
