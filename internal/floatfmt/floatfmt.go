// Package floatfmt formats float64s in decimal as strconv does, faster
// for the values the services and stores hold: numbers with a few decimal
// places, such as 17.578, 0.104, 338 or 57201.169085.
//
// Every function gives exactly the bytes of its strconv counterpart for
// every input; a value outside the fast path is handed to strconv.
package floatfmt

import (
	"math"
	"strconv"
)

// maxDecimals is the most decimal places the fast path tries.
const maxDecimals = 8

var pow10 = [maxDecimals + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// exactLimit bounds |v|·10^d on the fast path. Below 2^50 the spacing of
// float64s near v is under a quarter of 10^-d, so at most one number
// with d decimals lies in v's rounding interval, and math.Round(v·10^d)
// finds it when there is one.
const exactLimit = 1 << 50

// AppendShortest appends v as strconv.AppendFloat(b, v, 'f', -1, 64)
// does: the fewest decimal places that read back as v.
//
// The fast path looks for the smallest d ≤ 8 such that the integer
// n = round(v·10^d) gives v back as n/10^d. n and 10^d are exact
// float64s, so that division is correctly rounded, exactly as parsing the
// decimal n·10^-d is: the check is the round trip itself. The first such
// d is the shortest representation strconv finds.
func AppendShortest(b []byte, v float64) []byte {
	if v != 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
		for d := 0; d <= maxDecimals; d++ {
			x := v * pow10[d]
			if !(math.Abs(x) < exactLimit) {
				break
			}
			n := math.Round(x)
			if n/pow10[d] == v {
				return appendDecimal(b, int64(n), d)
			}
		}
	} else if v == 0 && !math.Signbit(v) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// AppendFixed appends v with prec decimal places (0 ≤ prec ≤ 8), as
// strconv.AppendFloat(b, v, 'f', prec, 64) does: v's exact binary value
// rounded half to even.
//
// On the fast path, v·10^prec is computed with an error below 2^-12 (it
// stays under 2^40); when its fraction is not within 2^-10 of one half,
// rounding it gives the digits strconv gives. Other values go to strconv.
func AppendFixed(b []byte, v float64, prec int) []byte {
	if prec >= 0 && prec <= maxDecimals {
		x := v * pow10[prec]
		if math.Abs(x) < 1<<40 && !(v == 0 && math.Signbit(v)) {
			n := math.Round(x)
			if f := math.Abs(x - math.Trunc(x)); math.Abs(f-0.5) > 1.0/1024 {
				if n == 0 && v < 0 {
					b = append(b, '-') // strconv keeps the sign of a negative value rounded to zero
				}
				return appendDecimal(b, int64(n), prec)
			}
		}
	}
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// appendDecimal appends n·10^-d with exactly d decimal places.
func appendDecimal(b []byte, n int64, d int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var buf [24]byte
	i := len(buf)
	for k := 0; k < d; k++ {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if d > 0 {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}
