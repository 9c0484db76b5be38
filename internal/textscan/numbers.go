package textscan

import (
	"math"
	"strconv"
)

// pow10 are the powers of ten a float64 holds exactly (and zeros, so that
// an index masked with 31 needs no bounds check).
var pow10 = [32]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ParseFloat parses s as strconv.ParseFloat(s, 64) does and reports
// whether that succeeds: the value has the same bits, and ok is false
// exactly when strconv returns an error (then the value is strconv's too:
// ±Inf for a number out of range). NaN and infinities written as such
// ("NaN", "Inf") parse, as in strconv; see ParseFinite.
//
// A decimal with at most 15 digits and a power of ten within ±22 (such as
// "60316.142545", "-17.349", "30.", "1.62129e-05") takes an exact fast
// path and does not allocate; anything else goes to strconv, also without
// copying s.
func ParseFloat[S Text](s S) (v float64, ok bool) { return parseFloat(view(s), false) }

// ParseFinite parses a finite number: ParseFloat refusing, besides what
// strconv refuses, NaN and ±Inf (written so or out of range).
func ParseFinite[S Text](s S) (float64, bool) { return parseFloat(view(s), true) }

// slowHook, when set (by tests), is called on each use of strconv.
var slowHook func()

// parseSlow is strconv.ParseFloat, refusing NaN and ±Inf when finite.
func parseSlow(s string, finite bool) (float64, bool) {
	if slowHook != nil {
		slowHook()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return v, false
	}
	if finite && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return 0, false
	}
	return v, true
}

// parseFloat parses s, finite or not. Its fast path parses
// [+-]?digits[.digits][(e|E)[+-]?digits] with at most 15 digits in all
// and a resulting power of ten within ±22, and leaves anything else to
// strconv (parseSlow). The digits form an integer below
// 10^15 < 2^53 and the power of ten is exact, so the single rounding of
// the product or quotient gives the correctly rounded value: the bits
// strconv returns.
func parseFloat(s string, finite bool) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		i = 1
	}
	var mant uint64
	start := i
	for ; i < len(s); i++ { // the integer part
		d := s[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	digits, frac := i-start, 0
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for ; i < len(s); i++ { // the fraction
			d := s[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		frac = i - start
		digits += frac
	}
	if digits == 0 || digits > 15 {
		return parseSlow(s, finite)
	}
	if i == len(s) { // no exponent: the usual case
		f := float64(mant)
		if frac > 0 {
			f /= pow10[frac&31] // frac ≤ 15
		}
		if neg {
			f = -f
		}
		return f, true
	}
	// The exponent.
	if s[i] != 'e' && s[i] != 'E' {
		return parseSlow(s, finite)
	}
	i++
	eneg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		eneg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return parseSlow(s, finite)
	}
	e := 0
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return parseSlow(s, finite)
		}
		if e < 1000 { // beyond, the power is out of the fast range anyway
			e = e*10 + int(d)
		}
	}
	if eneg {
		e = -e
	}
	exp := e - frac
	f := float64(mant)
	switch {
	case exp == 0:
	case exp > 0 && exp <= 22:
		f *= pow10[exp&31]
	case exp < 0 && exp >= -22:
		f /= pow10[-exp&31]
	default:
		return parseSlow(s, finite)
	}
	if neg {
		f = -f
	}
	return f, true
}

// ParseInt parses s as strconv.ParseInt(s, 10, 64) does and reports
// whether that succeeds: an optional sign and decimal digits, within the
// int64 range. Up to 18 digits take a fast path; anything else goes to
// strconv, without copying s.
func ParseInt[S Text](s S) (int64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		i = 1
	}
	if n := len(s) - i; n > 0 && n <= 18 {
		var v int64
		for ; i < len(s); i++ {
			d := s[i] - '0'
			if d > 9 {
				return 0, false // strconv refuses any other byte too
			}
			v = v*10 + int64(d)
		}
		if neg {
			v = -v
		}
		return v, true
	}
	v, err := strconv.ParseInt(view(s), 10, 64)
	return v, err == nil
}
