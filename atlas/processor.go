package atlas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/textscan"
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
//   - S/N > SNThreshold: a detection, Magnitude = m and Error = dm as the
//     server computed them;
//   - otherwise: a non-detection with Limit = 23.9 − 2.5·log10(N·duJy) and
//     LimitSigma = N, where N = SNThreshold, and no magnitude (spec §10, the
//     TOM Toolkit's rule for N = 3). Detection is decided by the S/N of
//     uJy, never by m: a negative m (the magnitude of a negative flux) is
//     never reported as a magnitude.
//
// Rows that are no measurement give no datum (spec §11): a flux error
// duJy ≤ 0, a uJy or duJy that is not finite ("nan"), and, where the file
// has the column, mag5sig < 10 (the ATLAS FAQ: the photometric solution
// failed; such rows carry fluxes of 10⁹–10¹¹ µJy or magnitudes of −5), and
// a detection whose m is not a positive finite number. Each is counted in
// the dataproduct.Report with its line and reason (see StreamReport), and
// the rest of the file is read; Strict refuses the file instead. Rows the
// QualityCuts drop are reported too.
//
// Blank lines and '#' comment lines after the header are skipped. A
// malformed line (wrong number of fields, text where a number must be, an
// MJD outside the years 1–9999) stops the file with a
// *dataproduct.ParseError naming the line (counting every line of the
// file) and the column; Process then returns no datums, so an ingest is
// all or nothing.
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
	// Strict refuses a file at its first row that is no measurement (a
	// *dataproduct.ParseError wrapping processor.ErrNoMeasurement) instead
	// of skipping and reporting the row. Rows the QualityCuts drop never
	// refuse a file.
	Strict bool
}

// Reasons of the rows that give no datum, as reports show them.
const (
	ReasonNoFluxError    = "no flux error (duJy ≤ 0)"
	ReasonFluxNotFinite  = "flux or flux error not a finite number (uJy or duJy nan)"
	ReasonFailedSolution = "failed photometric solution (mag5sig < 10)"
	ReasonBadMagnitude   = "detection without a positive finite magnitude m"
	ReasonQualityCuts    = "fails the ATLAS FAQ quality cuts (QualityCuts)"
)

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
	// mag5sig, near the end of the line, is read from the end (mag5sig).
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
	rest := textscan.TrimSpace(bytes.TrimLeft(line, "#"))
	return len(rest) >= 3 && bytes.EqualFold(rest[:3], []byte("MJD")) && (len(rest) == 3 || textscan.IsSpace(rest[3]))
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
	return p.StreamReport(ctx, r, processor.Input{}, nil)
}

// StreamReport implements processor.Reporter: rep counts the data rows
// (the lines after the header that are not blank or comments), the
// datums, and the rows that gave no datum under the Reason constants.
func (p Processor) StreamReport(ctx context.Context, r io.Reader, _ processor.Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		thr := p.SNThreshold
		if thr == 0 {
			thr = DefaultSNThreshold
		}
		if !(thr > 0) || math.IsInf(thr, 0) {
			yield(dataproduct.Datum{}, fmt.Errorf("atlas: Processor.SNThreshold must be a positive number, not %v", p.SNThreshold))
			return
		}
		lr := textscan.NewLineReader(r, maxLine, maxLine)
		var floats processor.Floats
		var cols *columns
		var fields textscan.Fields
		fail := func(line int, col string, err error) {
			yield(dataproduct.Datum{}, &dataproduct.ParseError{Line: line, Column: col, Err: err})
		}
		for {
			line, ok := lr.Next()
			if !ok {
				if err := lr.Err(); err != nil {
					if _, tooLong := err.(*dataproduct.ParseError); tooLong {
						yield(dataproduct.Datum{}, err)
						return
					}
					if cerr := ctx.Err(); cerr != nil {
						yield(dataproduct.Datum{}, cerr)
						return
					}
					yield(dataproduct.Datum{}, fmt.Errorf("atlas: reading line %d: %w", lr.Line()+1, err))
					return
				}
				// The end lies on a line of its own (an empty one after
				// a final line break), checked for ctx like any other.
				if end := lr.EndLine(); end%4096 == 1 && end > lr.Line() {
					if err := ctx.Err(); err != nil {
						yield(dataproduct.Datum{}, err)
						return
					}
				}
				if cols == nil {
					fail(lr.EndLine(), "", errors.New("empty file: no header line"))
				}
				return
			}
			lineNo := lr.Line()
			if lineNo%4096 == 1 { // the first line, then every 4096
				if err := ctx.Err(); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
			}
			line = textscan.TrimSpace(line)
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
			case line[0] == '#':
				// a comment
			default:
				if count := fields.Split(line, cols.need); count != cols.n {
					fail(lineNo, "", fmt.Errorf("%d fields, the header has %d columns", count, cols.n))
					return
				}
				rep.Rows++
				d, skip, err := p.row(line, &fields, cols, thr, lineNo, &floats)
				if err == nil && skip != "" {
					if skip == ReasonQualityCuts {
						rep.Skip(lineNo, skip)
						continue
					}
					err = processor.SkipRow(rep, p.Strict, lineNo, "", skip)
					if err == nil {
						continue
					}
				}
				if err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
				rep.Datums++
				if !yield(d, nil) {
					return
				}
			}
		}
	}
}

// row turns one data row into a datum, or gives the reason (one of the
// Reason constants) why the row gives none.
func (p Processor) row(line []byte, fields *textscan.Fields, c *columns, thr float64, lineNo int, floats *processor.Floats) (dataproduct.Datum, string, error) {
	// num parses a number, NaN and infinities included (a failed
	// measurement, not a malformed file).
	num := func(i int) (float64, error) {
		v, ok := textscan.ParseFloat(fields.Field(i))
		if !ok {
			return 0, &dataproduct.ParseError{Line: lineNo, Column: c.names[i], Err: fmt.Errorf("%q is not a number", fields.Field(i))}
		}
		return v, nil
	}
	mjd, ok := textscan.ParseFinite(fields.Field(c.mjd))
	if !ok {
		return dataproduct.Datum{}, "", &dataproduct.ParseError{Line: lineNo, Column: c.names[c.mjd], Err: fmt.Errorf("%q is not a finite number", fields.Field(c.mjd))}
	}
	if err := processor.CheckMJD(mjd); err != nil {
		return dataproduct.Datum{}, "", &dataproduct.ParseError{Line: lineNo, Column: c.names[c.mjd], Err: err}
	}
	m, err := num(c.m)
	if err != nil {
		return dataproduct.Datum{}, "", err
	}
	dm, err := num(c.dm)
	if err != nil {
		return dataproduct.Datum{}, "", err
	}
	ujy, err := num(c.ujy)
	if err != nil {
		return dataproduct.Datum{}, "", err
	}
	dujy, err := num(c.dujy)
	if err != nil {
		return dataproduct.Datum{}, "", err
	}
	// v-v is 0 for finite v, NaN for NaN and ±Inf.
	switch {
	case ujy-ujy != 0 || dujy-dujy != 0:
		return dataproduct.Datum{}, ReasonFluxNotFinite, nil
	case dujy <= 0:
		return dataproduct.Datum{}, ReasonNoFluxError, nil
	}
	if c.mag5sig >= 0 {
		m5, err := c.mag5sigOf(line, fields, lineNo)
		if err != nil {
			return dataproduct.Datum{}, "", err
		}
		if m5 < 10 {
			return dataproduct.Datum{}, ReasonFailedSolution, nil
		}
	}
	if p.QualityCuts {
		ok, err := p.passes(fields, c, dujy, num)
		if err != nil {
			return dataproduct.Datum{}, "", err
		}
		if !ok {
			return dataproduct.Datum{}, ReasonQualityCuts, nil
		}
	}
	ph := dataproduct.Photometry{
		Filter:     filterName(fields.Field(c.f)),
		Telescope:  Telescope,
		FluxUJy:    floats.New(ujy),
		FluxErrUJy: floats.New(dujy),
		MJD:        floats.New(mjd),
	}
	// S/N > thr is a detection (duJy > 0 here).
	if ujy > thr*dujy {
		if !(m > 0) || m-m != 0 || dm-dm != 0 {
			return dataproduct.Datum{}, ReasonBadMagnitude, nil
		}
		ph.Magnitude = floats.New(m)
		ph.Error = floats.New(dm)
	} else {
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
	}, "", nil
}

// mag5sigOf reads mag5sig: a field cut out already, or else found by
// walking back from the end of the line (it is the third field from the
// end in ATLAS files), which is cheaper than cutting every field before it.
func (c *columns) mag5sigOf(line []byte, fields *textscan.Fields, lineNo int) (float64, error) {
	var b []byte
	if c.mag5sig < c.need {
		b = fields.Field(c.mag5sig)
	} else {
		end := len(line)
		for k := c.n - 1 - c.mag5sig; ; k-- {
			start := end
			for start > 0 && !textscan.IsSpace(line[start-1]) {
				start--
			}
			if k == 0 {
				b = line[start:end]
				break
			}
			end = start
			for end > 0 && textscan.IsSpace(line[end-1]) {
				end--
			}
		}
	}
	v, ok := textscan.ParseFloat(b)
	if !ok {
		return 0, &dataproduct.ParseError{Line: lineNo, Column: c.names[c.mag5sig], Err: fmt.Errorf("%q is not a number", b)}
	}
	return v, nil
}

// passes applies the FAQ quality cuts.
func (p Processor) passes(fields *textscan.Fields, c *columns, dujy float64, num func(int) (float64, error)) (bool, error) {
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

func extra(fields *textscan.Fields, c *columns) map[string]any {
	out := make(map[string]any, 5)
	if c.obs >= 0 {
		out["obs"] = string(fields.Field(c.obs))
	}
	for _, kv := range [...]struct {
		key string
		col int
	}{{"err", c.err}, {"chi_n", c.chiN}, {"mag5sig", c.mag5sig}, {"sky", c.sky}} {
		if kv.col >= 0 {
			if v, ok := textscan.ParseFinite(fields.Field(kv.col)); ok {
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
