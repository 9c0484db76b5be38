package atlas

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// parseNumber must give the bits strconv.ParseFloat gives.
func TestParseNumberMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "+1", "60316.142545", "-17.672", "0.089", "417", "-4210", "14322", "1e3", "1.5E-3",
		"123456789012345", "1234567890123456", "0.000000000000000000000001", "99999.999999", ".5", "5.", "-.25",
		"nan", "inf", "-Inf", "", "-", ".", "1.2.3", "12a", "0x1p-2", "1_000"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		v := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(12)-3))
		cases = append(cases, strconv.FormatFloat(v, 'f', r.IntN(9), 64))
	}
	for _, s := range cases {
		got, ok := parseNumber([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		valid := err == nil && !math.IsNaN(want) && !math.IsInf(want, 0)
		if ok != valid {
			t.Errorf("parseNumber(%q) ok=%v, strconv err=%v value %v", s, ok, err, want)
			continue
		}
		if ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseNumber(%q) = %v, strconv %v", s, got, want)
		}
	}
}

func TestSplitFields(t *testing.T) {
	for _, tc := range []struct {
		line  string
		need  int
		want  []string
		count int
	}{
		{"a b  c\td", 2, []string{"a", "b"}, 4},
		{"a b  c\td", 9, []string{"a", "b", "c", "d"}, 4},
		{"  a  ", 1, []string{"a"}, 1},
		{"", 3, nil, 0},
		{"a b c ", 0, nil, 3},
	} {
		got, n := splitFields([]byte(tc.line), nil, tc.need)
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		if n != tc.count || len(gs) != len(tc.want) {
			t.Errorf("splitFields(%q, %d) = %q, %d; want %q, %d", tc.line, tc.need, gs, n, tc.want, tc.count)
			continue
		}
		for i := range gs {
			if gs[i] != tc.want[i] {
				t.Errorf("splitFields(%q) field %d = %q, want %q", tc.line, i, gs[i], tc.want[i])
			}
		}
	}
}
