package panstarrs

import "time"

// leapSeconds lists TAI−UTC from each UTC date (as an MJD) on, from the
// IERS Bulletin C table. PS1 observed from 2009 (TAI−UTC = 34 s) and DR2
// ends in 2015 (35 s after 2012-07-01, 36 s after 2015-07-01), as the spec
// says; the full table keeps any other date right.
var leapSeconds = [...]struct {
	mjd     float64
	seconds int
}{
	{41317, 10}, {41499, 11}, {41683, 12}, {42048, 13}, {42413, 14}, {42778, 15}, {43144, 16},
	{43509, 17}, {43874, 18}, {44239, 19}, {44786, 20}, {45151, 21}, {45516, 22}, {46247, 23},
	{47161, 24}, {47892, 25}, {48257, 26}, {48804, 27}, {49169, 28}, {49534, 29}, {50083, 30},
	{50630, 31}, {51179, 32}, {53736, 33}, {54832, 34}, {56109, 35}, {57204, 36}, {57754, 37},
}

// TAIMinusUTC returns TAI−UTC at a TAI Modified Julian Date: 37 s today,
// 34–36 s during PS1's survey years, 10 s in 1972; before 1972 (when UTC
// had no whole-second steps) it returns 10 s.
func TAIMinusUTC(taiMJD float64) time.Duration {
	// Search from the newest step: PS1 data need three or four compares.
	for i := len(leapSeconds) - 1; i >= 0; i-- {
		l := leapSeconds[i]
		// The step happens at UTC midnight, i.e. at TAI midnight plus the
		// new offset.
		if taiMJD >= l.mjd+float64(l.seconds)/86400 {
			return time.Duration(l.seconds) * time.Second
		}
	}
	return time.Duration(leapSeconds[0].seconds) * time.Second
}
