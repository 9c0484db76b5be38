package floatfmt

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// values are the kinds of numbers the processors and stores format:
// decimals of every length and scale, integers, halves, extremes, and
// random bit patterns.
func values(r *rand.Rand, n int) []float64 {
	out := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 1.5, 2.5, 0.1, 0.2, 0.3, 1e-6, 1e-7, 9.999999e-7,
		123456789.123456789, 57201.169085, 17.578, 0.104, 338, -35, 1 << 50, 1<<50 - 1, 1 << 53, 1e21, 1e22, 5e-324,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0.0000005, 0.0000015,
		0.00000049999999, 2.675, 1.0000000005, 60335.09323, 23.9 - 2.5*math.Log10(3*35)}
	for range n {
		var v float64
		switch r.IntN(5) {
		case 0: // a decimal with a few places
			v = float64(r.Int64N(1e12)-5e11) / math.Pow(10, float64(r.IntN(10)))
		case 1: // parsed from text, as a processor does
			s := strconv.FormatFloat(r.Float64()*math.Pow(10, float64(r.IntN(12)-4)), 'f', r.IntN(9), 64)
			v, _ = strconv.ParseFloat(s, 64)
		case 2: // any bits
			v = math.Float64frombits(r.Uint64())
		case 3: // near a half at some precision
			d := math.Pow(10, float64(r.IntN(9)))
			v = (float64(r.Int64N(1e9)) + 0.5) / d
			v = math.Nextafter(v, v+float64(r.IntN(3)-1))
		default: // arithmetic results with long expansions
			v = 23.9 - 2.5*math.Log10(r.Float64()*1000)
		}
		out = append(out, v)
	}
	return out
}

func TestAppendShortestMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, v := range values(r, 400_000) {
		want := strconv.FormatFloat(v, 'f', -1, 64)
		if got := string(AppendShortest(nil, v)); got != want {
			t.Fatalf("AppendShortest(%v) = %q, strconv gives %q", v, got, want)
		}
	}
}

func TestAppendFixedMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, v := range values(r, 100_000) {
		for prec := 0; prec <= 9; prec++ {
			want := strconv.FormatFloat(v, 'f', prec, 64)
			if got := string(AppendFixed(nil, v, prec)); got != want {
				t.Fatalf("AppendFixed(%v, %d) = %q, strconv gives %q", v, prec, got, want)
			}
		}
	}
	if got := string(AppendFixed([]byte("x="), -1e-9, 6)); got != "x=-0.000000" {
		t.Errorf("a negative value rounded to zero keeps its sign: %q", got)
	}
}

func BenchmarkAppendShortest(b *testing.B) {
	vs := []float64{17.578, 0.104, 338, 35, 19.123456}
	buf := make([]byte, 0, 64)
	b.Run("floatfmt", func(b *testing.B) {
		for b.Loop() {
			for _, v := range vs {
				buf = AppendShortest(buf[:0], v)
			}
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for b.Loop() {
			for _, v := range vs {
				buf = strconv.AppendFloat(buf[:0], v, 'f', -1, 64)
			}
		}
	})
}
