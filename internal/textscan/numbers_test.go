package textscan

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// checkFloat fails t unless ParseFloat and ParseFinite give for s (as a
// string and as bytes) exactly what strconv.ParseFloat gives.
func checkFloat(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseFloat(s, 64)
	wantOK := err == nil
	for _, got := range [2]result[float64]{box(ParseFloat(s)), box(ParseFloat([]byte(s)))} {
		if got.ok != wantOK || math.Float64bits(got.v) != math.Float64bits(want) {
			t.Fatalf("ParseFloat(%q) = %v (%x), %v; strconv: %v (%x), %v", s, got.v, math.Float64bits(got.v), got.ok, want, math.Float64bits(want), err)
		}
	}
	finite := wantOK && !math.IsNaN(want) && !math.IsInf(want, 0)
	for _, got := range [2]result[float64]{box(ParseFinite(s)), box(ParseFinite([]byte(s)))} {
		if got.ok != finite || (finite && math.Float64bits(got.v) != math.Float64bits(want)) {
			t.Fatalf("ParseFinite(%q) = %v, %v; strconv: %v, %v", s, got.v, got.ok, want, err)
		}
	}
}

// result is what a parser returned.
type result[T any] struct {
	v  T
	ok bool
}

func box[T any](v T, ok bool) result[T] { return result[T]{v, ok} }

// floatCases are inputs at the edges of the fast path and beyond it.
var floatCases = []string{
	"", "+", "-", ".", "+.", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1E5", "1.e5", ".5", "+.5", "-.5", "5.", "-5.",
	"0", "-0", "+0", "0.0", "-0.0", "-0e-5", "0e500", "00012.5000", "007", "1_000", "0x1p-2", "0X10", "0b1", "1e5.5", "1.2.3",
	"inf", "+Inf", "-infinity", "NaN", "nan", "1e308", "1e309", "-1e309", "1e-324", "4.9e-324", "2.2250738585072014e-308",
	"123456789012345", "1234567890123456", "999999999999999", "9999999999999999", "9007199254740993",
	"0.000000000000001", "1e22", "1e23", "9.99e22", "123456789012345e22", "123456789012345e-22", "1e-22", "1e-23",
	"2.5e-22", "2.5e-23", "60316.142545", "-17.349", "2458204.705081", "1.62129e-05", "30.", "2280.01876114013",
	"0.1", "0.3", "1.0000000000000002", " 1", "1 ", "1\n", "١", "１", "1e00000000000000000000005", "1e-00000000000000000007",
	"1e99999999999999999999", "-", "--1", "+-1", "1e+-5", "12e", "1.5x", "x1.5",
	"0.000000000000000000000001", "99999.999999", "-.25", "12a", "-4210", "1.", "1.e", "1.e-3", "-.e1", "1e0",
}

func TestParseFloatEdges(t *testing.T) {
	for _, s := range floatCases {
		checkFloat(t, s)
	}
	// The fast path takes the plain decimals the services write.
	for _, s := range []string{"60316.142545", "-17.349", "1.62129e-05", "30.", "+.5", "2280.01876114013", "1E+05"} {
		assert.True(t, fastPath(s), s)
	}
	for _, s := range []string{"1234567890123456", "1e23", "1e-23", "inf", "0x10", "1_0"} {
		assert.False(t, fastPath(s), s)
	}
}

// fastPath reports whether ParseFloat(s) takes the fast path.
func fastPath(s string) bool {
	slow := false
	slowHook = func() { slow = true }
	defer func() { slowHook = nil }()
	ParseFloat(s)
	return !slow
}

// randomDecimal writes a number in the decimal forms JSON and CSV files
// use, well formed or (sometimes) not: an optional sign, digits with an
// optional point anywhere, an optional exponent.
func randomDecimal(r *rand.Rand) string {
	var b strings.Builder
	switch r.IntN(8) {
	case 0:
		b.WriteByte('-')
	case 1:
		b.WriteByte('+')
	case 2, 3:
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
	}
	nd := r.IntN(20)
	dot := r.IntN(nd + 2)
	for i := range nd + 1 {
		if i == dot {
			b.WriteByte('.')
		}
		if i < nd {
			d := r.IntN(10)
			if i == 0 && r.IntN(3) > 0 {
				d = 1 + r.IntN(9)
			}
			b.WriteByte(byte('0' + d))
		}
	}
	if r.IntN(3) == 0 {
		b.WriteByte("eE"[r.IntN(2)])
		switch r.IntN(3) {
		case 0:
			b.WriteByte('-')
		case 1:
			b.WriteByte('+')
		}
		for range r.IntN(4) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	return b.String()
}

// TestParseFloatProperty: for random JSON/CSV decimals (and near-misses),
// the same bits as strconv.ParseFloat, and the same refusals.
func TestParseFloatProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 300000
	if testing.Short() {
		n = 30000
	}
	fast := 0
	for range n {
		s := randomDecimal(r)
		checkFloat(t, s)
		if fastPath(s) {
			fast++
		}
	}
	// The generator must exercise the fast path, not only strconv.
	assert.Greater(t, fast, n/3)
	// Shortest representations of random doubles (what Go and Python
	// write) and fixed-point renderings of them.
	for range n / 3 {
		v := math.Float64frombits(r.Uint64())
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		checkFloat(t, strconv.FormatFloat(v, 'g', -1, 64))
		x := r.NormFloat64() * math.Pow(10, float64(r.IntN(12)-4))
		checkFloat(t, strconv.FormatFloat(x, 'f', r.IntN(12), 64))
		checkFloat(t, strconv.FormatFloat(x, 'e', r.IntN(10), 64))
	}
}

// FuzzParseFloat: for any input, ParseFloat gives strconv's bits and
// strconv's refusals; ParseFinite refuses besides NaN and ±Inf.
func FuzzParseFloat(f *testing.F) {
	for _, s := range floatCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFloat(t, s)
	})
}

func checkInt(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseInt(s, 10, 64)
	for _, got := range [2]result[int64]{box(ParseInt(s)), box(ParseInt([]byte(s)))} {
		if got.ok != (err == nil) || got.v != want {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv: %d, %v", s, got.v, got.ok, want, err)
		}
	}
}

var intCases = []string{"", "+", "-", "0", "-0", "+7", "007", "4.0", "1e3", "1_0", "0x10", " 1", "1 ",
	"999999999999999999", "-999999999999999999", "1000000000000000000", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "-9223372036854775809", "32768", "١"}

func TestParseInt(t *testing.T) {
	for _, s := range intCases {
		checkInt(t, s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		checkInt(t, randomDecimal(r))
		checkInt(t, strconv.FormatInt(int64(r.Uint64())>>r.IntN(64), 10))
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range intCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInt(t, s)
	})
}

// TestParseNoAlloc: numbers in bytes parse without allocating, on the
// fast path and on strconv's (errors allocate, in strconv).
func TestParseNoAlloc(t *testing.T) {
	slow, fast, integer := []byte("1.7976931348623157e308"), []byte("-17.349"), []byte("12345678901234567890")
	allocs := testing.AllocsPerRun(100, func() {
		if v, ok := ParseFloat(slow); !ok || v != math.MaxFloat64 {
			panic("slow")
		}
		if v, ok := ParseFinite(fast); !ok || v != -17.349 {
			panic("fast")
		}
		if _, ok := ParseInt(integer[1:]); !ok {
			panic("int")
		}
	})
	assert.Zero(t, allocs)
}

var sinkF float64

func BenchmarkParseFloat(b *testing.B) {
	for _, s := range []string{"60316.142545", "-17.349", "1.62129e-05", "2458204.6740542"} {
		bs := []byte(s)
		b.Run(s+"/textscan", func(b *testing.B) {
			for b.Loop() {
				sinkF, _ = ParseFinite(bs)
			}
		})
		b.Run(s+"/strconv", func(b *testing.B) {
			for b.Loop() {
				sinkF, _ = strconv.ParseFloat(String(bs), 64)
			}
		})
	}
}

var sinkI int64

func BenchmarkParseInt(b *testing.B) {
	bs := []byte("32768")
	b.Run("textscan", func(b *testing.B) {
		for b.Loop() {
			sinkI, _ = ParseInt(bs)
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for b.Loop() {
			sinkI, _ = strconv.ParseInt(String(bs), 10, 64)
		}
	})
}
