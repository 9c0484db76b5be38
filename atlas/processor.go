package atlas

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// DefaultSNThreshold is the signal-to-noise ratio at or below which a row is
// a non-detection: the TOM Toolkit's rule and the ATLAS result description's
// "m and dm are not meaningful for S/N ≲ 3".
const DefaultSNThreshold = 3

// Processor reads ATLAS forced-photometry result files (the
// whitespace-separated table whose header line is
// "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky
// Obs", spec §9) into photometry datums, one per row, in bounded memory.
//
// Columns are found by header name (the leading "###" stripped, names
// matched case-insensitively), so extra or reordered columns such as the
// documented PA_DEG are tolerated; MJD, m, dm, uJy, duJy and F are
// required. Each row gives a dataproduct.Photometry with Telescope and
// Source "ATLAS", Filter from F ("c", "o", occasionally others such as "H"),
// FluxUJy and FluxErrUJy from uJy and duJy, MJD, and a timestamp from MJD
// (UTC, exposure start). Then, with S/N = uJy/duJy:
//
//   - S/N > SNThreshold (and m > 0): a detection, Magnitude = m and
//     Error = dm as the server computed them;
//   - otherwise: a non-detection with Limit = 23.9 − 2.5·log10(N·duJy) and
//     LimitSigma = N, where N = SNThreshold, and no magnitude (spec §10, the
//     TOM Toolkit's rule for N = 3). A negative m (the magnitude of a negative
//     flux) is never reported as a magnitude.
//
// Blank lines and '#' comment lines after the header are skipped. A
// malformed line (wrong number of fields, a number that does not parse, a
// negative duJy) stops the file with a *dataproduct.ParseError naming the
// line (counting every line of the file) and the column; Process then
// returns no datums, so an ingest is all or nothing.
//
// The zero value is the TOM Toolkit's processor. A Processor is a plain
// value, safe for concurrent use.
type Processor struct {
	// SNThreshold is the S/N at or below which a row becomes an
	// SNThreshold-sigma limit. Zero means DefaultSNThreshold (3); 5 gives
	// 5-sigma limits for rows with S/N ≤ 5. Negative values are refused.
	SNThreshold float64
	// QualityCuts drops rows that fail the ATLAS FAQ's "common-sense"
	// filters (spec §11): kept are rows with duJy < 10000, err = 0,
	// 100 < x < 10460, 100 < y < 10460, 1.6 < maj < 5, 1.6 < min < 5,
	// −1 < apfit < −0.1, mag5sig > 17 and Sky > 17. The columns err, x, y,
	// maj, min, apfit, mag5sig and Sky are then required. Default false:
	// every row is kept, as the TOM Toolkit does.
	QualityCuts bool
	// KeepExtra keeps the exposure name and the fit-quality columns in each
	// value's Extra: "obs" (Obs, e.g. "04a60316o0180o"), "err" (the tphot
	// error code), "chi_n" (chi/N), "mag5sig" and "sky" (Sky), for the
	// columns the file has. It costs a map per row (about three times
	// slower) and changes the de-duplication keys, so it is off by default.
	KeepExtra bool
}

// Telescope is the telescope and source name of ATLAS datums.
const Telescope = "ATLAS"

// DataType returns dataproduct.TypePhotometry.
func (Processor) DataType() string { return dataproduct.TypePhotometry }

// Process implements processor.Processor.
func (p Processor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.Collect(p.Stream(ctx, r))
}

// maxLine caps one line of a result file.
const maxLine = 64 << 10

// header indexes: -1 when the column is absent.
type columns struct {
	n                                                   int
	mjd, m, dm, ujy, dujy, f                            int
	err, chiN, x, y, maj, min, apfit, mag5sig, sky, obs int
	names                                               []string
	need                                                int // fields to cut out: up to the last one used
}

var requiredColumns = []string{"MJD", "m", "dm", "uJy", "duJy", "F"}
var qualityColumns = []string{"err", "x", "y", "maj", "min", "apfit", "mag5sig", "Sky"}

func (c *columns) index(name string) *int {
	switch name {
	case "mjd":
		return &c.mjd
	case "m":
		return &c.m
	case "dm":
		return &c.dm
	case "ujy":
		return &c.ujy
	case "dujy":
		return &c.dujy
	case "f":
		return &c.f
	case "err":
		return &c.err
	case "chi/n":
		return &c.chiN
	case "x":
		return &c.x
	case "y":
		return &c.y
	case "maj":
		return &c.maj
	case "min":
		return &c.min
	case "apfit":
		return &c.apfit
	case "mag5sig":
		return &c.mag5sig
	case "sky":
		return &c.sky
	case "obs":
		return &c.obs
	}
	return nil
}

// neededFields is one more than the index of the last column a row needs.
func (c *columns) neededFields(quality, extra bool) int {
	last := max(c.mjd, c.m, c.dm, c.ujy, c.dujy, c.f)
	if quality {
		last = max(last, c.err, c.x, c.y, c.maj, c.min, c.apfit, c.mag5sig, c.sky)
	}
	if extra {
		last = max(last, c.obs, c.err, c.chiN, c.mag5sig, c.sky)
	}
	return last + 1
}

// isHeader reports whether line is the header: its first name, after any
// leading '#', is MJD.
func isHeader(line []byte) bool {
	rest := trimSpace(bytes.TrimLeft(line, "#"))
	return len(rest) >= 3 && bytes.EqualFold(rest[:3], []byte("MJD")) && (len(rest) == 3 || isSpace(rest[3]))
}

// parseHeader reads the column names of a header line (with its leading
// '#'s).
func parseHeader(line []byte, lineNo int, quality bool) (*columns, error) {
	c := &columns{mjd: -1, m: -1, dm: -1, ujy: -1, dujy: -1, f: -1, err: -1, chiN: -1, x: -1, y: -1,
		maj: -1, min: -1, apfit: -1, mag5sig: -1, sky: -1, obs: -1}
	fields := bytes.Fields(bytes.TrimLeft(line, "#"))
	seen := map[string]bool{}
	for i, f := range fields {
		name := string(f)
		key := string(bytes.ToLower(f))
		if seen[key] {
			return nil, &dataproduct.ParseError{Line: lineNo, Column: name, Err: errors.New("column appears twice in the header")}
		}
		seen[key] = true
		c.names = append(c.names, name)
		if p := c.index(key); p != nil {
			*p = i
		}
	}
	c.n = len(fields)
	need := requiredColumns
	if quality {
		need = append(append([]string(nil), need...), qualityColumns...)
	}
	for _, name := range need {
		if p := c.index(string(bytes.ToLower([]byte(name)))); *p < 0 {
			return nil, &dataproduct.ParseError{Line: lineNo, Column: name,
				Err: fmt.Errorf("header has no %q column (have %v)", name, c.names)}
		}
	}
	return c, nil
}

// Stream implements processor.Streamer.
func (p Processor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		thr := p.SNThreshold
		if thr == 0 {
			thr = DefaultSNThreshold
		}
		if !(thr > 0) || math.IsInf(thr, 0) {
			yield(dataproduct.Datum{}, fmt.Errorf("atlas: Processor.SNThreshold must be a positive number, not %v", p.SNThreshold))
			return
		}
		br := bufio.NewReaderSize(r, maxLine)
		var floats processor.Floats
		var cols *columns
		var fields [][]byte
		fail := func(line int, col string, err error) {
			yield(dataproduct.Datum{}, &dataproduct.ParseError{Line: line, Column: col, Err: err})
		}
		for lineNo := 1; ; lineNo++ {
			line, rerr := br.ReadSlice('\n')
			if rerr == bufio.ErrBufferFull {
				fail(lineNo, "", fmt.Errorf("line longer than %d bytes", maxLine))
				return
			}
			if rerr != nil && rerr != io.EOF {
				if cerr := ctx.Err(); cerr != nil {
					yield(dataproduct.Datum{}, cerr)
					return
				}
				yield(dataproduct.Datum{}, fmt.Errorf("atlas: reading line %d: %w", lineNo, rerr))
				return
			}
			if lineNo%4096 == 1 { // the first line, then every 4096
				if err := ctx.Err(); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
			}
			line = trimSpace(line)
			switch {
			case len(line) == 0:
				// blank
			case cols == nil && !isHeader(line):
				if line[0] != '#' {
					fail(lineNo, "", fmt.Errorf("no header line (###MJD m dm uJy duJy F ...) before the data"))
					return
				}
				// a comment before the header
			case cols == nil:
				c, err := parseHeader(line, lineNo, p.QualityCuts)
				if err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
				cols = c
				cols.need = c.neededFields(p.QualityCuts, p.KeepExtra)
				fields = make([][]byte, 0, c.n)
			case line[0] == '#':
				// a comment
			default:
				var count int
				fields, count = splitFields(line, fields[:0], cols.need)
				if count != cols.n {
					fail(lineNo, "", fmt.Errorf("%d fields, the header has %d columns", count, cols.n))
					return
				}
				d, keep, err := p.row(fields, cols, thr, lineNo, &floats)
				if err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
				if keep && !yield(d, nil) {
					return
				}
			}
			if rerr == io.EOF {
				if cols == nil {
					fail(lineNo, "", errors.New("empty file: no header line"))
				}
				return
			}
		}
	}
}

// row turns one data row into a datum; keep is false for a row the quality
// cuts drop.
func (p Processor) row(fields [][]byte, c *columns, thr float64, lineNo int, floats *processor.Floats) (dataproduct.Datum, bool, error) {
	num := func(i int) (float64, error) {
		v, ok := parseNumber(fields[i])
		if !ok {
			return 0, &dataproduct.ParseError{Line: lineNo, Column: c.names[i], Err: fmt.Errorf("%q is not a finite number", fields[i])}
		}
		return v, nil
	}
	mjd, err := num(c.mjd)
	if err != nil {
		return dataproduct.Datum{}, false, err
	}
	if err := processor.CheckMJD(mjd); err != nil {
		return dataproduct.Datum{}, false, &dataproduct.ParseError{Line: lineNo, Column: c.names[c.mjd], Err: err}
	}
	m, err := num(c.m)
	if err != nil {
		return dataproduct.Datum{}, false, err
	}
	dm, err := num(c.dm)
	if err != nil {
		return dataproduct.Datum{}, false, err
	}
	ujy, err := num(c.ujy)
	if err != nil {
		return dataproduct.Datum{}, false, err
	}
	dujy, err := num(c.dujy)
	if err != nil {
		return dataproduct.Datum{}, false, err
	}
	if dujy < 0 {
		return dataproduct.Datum{}, false, &dataproduct.ParseError{Line: lineNo, Column: c.names[c.dujy], Err: fmt.Errorf("negative flux error %v", dujy)}
	}
	if p.QualityCuts {
		ok, err := p.passes(fields, c, dujy, num)
		if err != nil || !ok {
			return dataproduct.Datum{}, false, err
		}
	}
	ph := dataproduct.Photometry{
		Filter:     filterName(fields[c.f]),
		Telescope:  Telescope,
		FluxUJy:    floats.New(ujy),
		FluxErrUJy: floats.New(dujy),
		MJD:        floats.New(mjd),
	}
	// S/N > thr is a detection; ujy/0 is +Inf for a positive flux.
	if ujy > 0 && m > 0 && ujy > thr*dujy {
		ph.Magnitude = floats.New(m)
		ph.Error = floats.New(dm)
	} else {
		if dujy == 0 {
			return dataproduct.Datum{}, false, &dataproduct.ParseError{Line: lineNo, Column: c.names[c.dujy],
				Err: errors.New("zero flux error with a non-positive flux: neither a detection nor a limit")}
		}
		ph.Limit = floats.New(processor.LimitMag(thr, dujy))
		ph.LimitSigma = thr
	}
	if p.KeepExtra {
		ph.Extra = extra(fields, c)
	}
	return dataproduct.Datum{
		DataType:  dataproduct.TypePhotometry,
		Timestamp: processor.MJDToTime(mjd),
		Source:    Telescope,
		Value:     ph,
	}, true, nil
}

// passes applies the FAQ quality cuts.
func (p Processor) passes(fields [][]byte, c *columns, dujy float64, num func(int) (float64, error)) (bool, error) {
	var v [8]float64
	for i, col := range [8]int{c.err, c.x, c.y, c.maj, c.min, c.apfit, c.mag5sig, c.sky} {
		x, err := num(col)
		if err != nil {
			return false, err
		}
		v[i] = x
	}
	e, x, y, maj, mn, apfit, mag5sig, sky := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	return dujy < 10000 && e == 0 &&
		100 < x && x < 10460 && 100 < y && y < 10460 &&
		1.6 < maj && maj < 5 && 1.6 < mn && mn < 5 &&
		-1 < apfit && apfit < -0.1 &&
		mag5sig > 17 && sky > 17, nil
}

func extra(fields [][]byte, c *columns) map[string]any {
	out := make(map[string]any, 5)
	if c.obs >= 0 {
		out["obs"] = string(fields[c.obs])
	}
	for _, kv := range [...]struct {
		key string
		col int
	}{{"err", c.err}, {"chi_n", c.chiN}, {"mag5sig", c.mag5sig}, {"sky", c.sky}} {
		if kv.col >= 0 {
			if v, ok := parseNumber(fields[kv.col]); ok {
				out[kv.key] = v
			}
		}
	}
	return out
}

// filterName returns F as a string without allocating for the usual bands.
func filterName(b []byte) string {
	if len(b) == 1 {
		switch b[0] {
		case 'c':
			return "c"
		case 'o':
			return "o"
		case 'H':
			return "H"
		}
	}
	return string(b)
}

// trimSpace trims ASCII white space (including a CR of a CRLF line).
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func isSpace(c byte) bool { return spaceTab[c] }

// spaceTab marks the ASCII white-space bytes.
var spaceTab = [256]bool{' ': true, '\t': true, '\r': true, '\n': true, '\v': true, '\f': true}

// spaceBit is spaceTab as 0/1 bytes, for branch-free counting.
var spaceBit = func() (t [256]uint8) {
	for i, sp := range spaceTab {
		if sp {
			t[i] = 1
		}
	}
	return t
}()

// splitFields appends the first need white-space separated fields of line
// to dst and returns them with the number of fields of the whole line
// (the rest are only counted, which is cheaper than cutting them out).
func splitFields(line []byte, dst [][]byte, need int) ([][]byte, int) {
	n := len(line)
	i := 0
	for len(dst) < need {
		for i < n && spaceTab[line[i]] {
			i++
		}
		if i == n {
			return dst, len(dst)
		}
		start := i
		for i < n && !spaceTab[line[i]] {
			i++
		}
		dst = append(dst, line[start:i:i])
	}
	count := len(dst)
	prev := uint8(1) // after a field: the next non-space byte starts one
	for _, c := range line[i:] {
		sp := spaceBit[c]
		count += int(prev &^ sp)
		prev = sp
	}
	return dst, count
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a finite decimal number. Plain decimals with at most
// 15 digits (every number of an ATLAS file) take an exact fast path: the
// integer mantissa and the power of ten are both exact float64s, so one
// division gives the correctly rounded result, the same bits as
// strconv.ParseFloat. Anything else goes to strconv.ParseFloat.
func parseNumber(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var mant uint64
	digits, frac := 0, 0
	dot := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return parseSlow(b)
		}
	}
	if digits == 0 || digits > 15 {
		return parseSlow(b)
	}
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
}

func parseSlow(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
