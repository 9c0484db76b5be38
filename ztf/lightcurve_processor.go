package ztf

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// DefaultBadCatflagsMask is the catflags bit mask whose rows are bad:
// bit 15 (32768), which IRSA sets on epochs of bad quality (bad
// calibration, clouds). It is what clients commonly send as
// BAD_CATFLAGS_MASK, the Form's initial value, and the Processor's
// default.
const DefaultBadCatflagsMask = 32768

// Telescope is the telescope name on every ZTF datum.
const Telescope = "ZTF"

// Processor turns an answer of IRSA's ZTF light-curve API into photometry
// datums. It reads both the CSV and the IPAC-table answers, recognised
// from the content (a first line starting with '\' or '|' is an IPAC
// table), and finds columns by name:
//
//   - timestamp and MJD from mjd (UTC, start of exposure);
//   - filter from filtercode: zg, zr, zi become "g", "r", "i";
//   - magnitude and error from mag and magerr (PSF-fit AB magnitudes
//     calibrated to PS1), with FluxUJy and FluxErrUJy from them
//     (f = 10^((23.9 − mag)/2.5) µJy);
//   - telescope "ZTF", source Source ("ZTF").
//
// Rows whose catflags share a bit with BadCatflagsMask are dropped, as
// IRSA's BAD_CATFLAGS_MASK parameter would have dropped them; rows kept
// with other non-zero catflags carry them in Extra["catflags"], so a
// user can still cut them. IRSA lists detections only (there are no
// upper-limit rows); a row whose mag is empty or null has no datum.
//
// The zero value is ready to use; a Processor is safe for concurrent use.
type Processor struct {
	// Source is the datums' source name. Default "ZTF".
	Source string
	// BadCatflagsMask selects the rows to drop: those with
	// catflags & BadCatflagsMask != 0. 0 means DefaultBadCatflagsMask
	// (32768); a negative value keeps every row.
	BadCatflagsMask int
}

// DataType returns dataproduct.TypePhotometry.
func (Processor) DataType() string { return dataproduct.TypePhotometry }

// Process implements processor.Processor.
func (p Processor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.Collect(p.Stream(ctx, r))
}

// lcColumns are the indexes of the columns the light-curve processor uses.
type lcColumns struct {
	mjd, mag, magerr, filter, catflags int
}

func findLCColumns(names []string) (lcColumns, error) {
	c := lcColumns{mjd: -1, mag: -1, magerr: -1, filter: -1, catflags: -1}
	for i, n := range names {
		switch strings.ToLower(n) {
		case "mjd":
			c.mjd = i
		case "mag":
			c.mag = i
		case "magerr":
			c.magerr = i
		case "filtercode":
			c.filter = i
		case "catflags":
			c.catflags = i
		}
	}
	for _, need := range []struct {
		name string
		idx  int
	}{{"mjd", c.mjd}, {"mag", c.mag}, {"magerr", c.magerr}, {"filtercode", c.filter}} {
		if need.idx < 0 {
			return c, &dataproduct.ParseError{Column: need.name,
				Err: fmt.Errorf("missing column %q (have %s)", need.name, strings.Join(names, ", "))}
		}
	}
	return c, nil
}

// ipacHeader is the header of an IPAC table: column names, their
// boundaries (positions of the '|' of the name line) and null values.
type ipacHeader struct {
	lines int // '|' lines seen
	names []string
	pipes []int
	nulls []string
}

func (h *ipacHeader) add(line []byte) error {
	h.lines++
	cells := pipeCells(line)
	switch h.lines {
	case 1:
		for i, c := range line {
			if c == '|' {
				h.pipes = append(h.pipes, i)
			}
		}
		if len(cells) == 0 {
			return errors.New("empty IPAC header line")
		}
		for _, c := range cells {
			h.names = append(h.names, string(trimSpace(c)))
		}
	case 4:
		for _, c := range cells {
			h.nulls = append(h.nulls, string(trimSpace(c)))
		}
	}
	return nil
}

// pipeCells splits "|a|b|c|" into a, b, c.
func pipeCells(line []byte) [][]byte {
	line = trimSpace(line)
	line = bytes.TrimPrefix(line, []byte("|"))
	line = bytes.TrimSuffix(line, []byte("|"))
	if len(line) == 0 {
		return nil
	}
	return bytes.Split(line, []byte("|"))
}

// cells splits a data row: by white space when that gives one value per
// column (the usual case), else by the header's column boundaries (rows
// with blank cells).
func (h *ipacHeader) cells(dst [][]byte, line []byte) [][]byte {
	dst = splitSpace(dst[:0], line)
	if len(dst) == len(h.names) {
		return dst
	}
	dst = dst[:0]
	for i := range h.names {
		start := h.pipes[i] + 1
		end := len(line)
		if i+1 < len(h.pipes) {
			end = h.pipes[i+1]
		}
		start, end = min(start, len(line)), min(end, len(line))
		dst = append(dst, trimSpace(line[start:end]))
	}
	return dst
}

func (h *ipacHeader) null(col int, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if col < len(h.nulls) && h.nulls[col] != "" && bstr(v) == h.nulls[col] {
		return true
	}
	return bytes.EqualFold(v, []byte("null"))
}

// Stream implements processor.Streamer.
func (p Processor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	source := p.Source
	if source == "" {
		source = Telescope
	}
	mask := int64(p.BadCatflagsMask)
	if mask == 0 {
		mask = DefaultBadCatflagsMask
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		const (
			modeUnknown = iota
			modeCSV
			modeIPAC
		)
		lr := newLineReader(r)
		mode := modeUnknown
		var (
			cols       lcColumns
			ncols      int
			ipac       ipacHeader
			headerLine int
			haveCols   bool
			fields     = make([][]byte, 0, 32)
			floats     processor.Floats
		)
		fail := func(err error) {
			var pe *dataproduct.ParseError
			if errors.As(err, &pe) {
				if pe.Line == 0 {
					pe.Line = lr.line
				}
			} else if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				err = &dataproduct.ParseError{Line: lr.line, Err: err}
			}
			yield(dataproduct.Datum{}, err)
		}
		for {
			line, ok := lr.next()
			if !ok {
				if err := lr.err(); err != nil {
					fail(err)
				} else if mode == modeUnknown || (mode == modeIPAC && ipac.lines == 0) {
					fail(&dataproduct.ParseError{Line: lr.line, Err: errors.New("no header: not a ZTF light-curve table")})
				} else if mode == modeIPAC && !haveCols {
					// A header and no rows: an empty answer, but the columns must be right.
					if _, err := findLCColumns(ipac.names); err != nil {
						err.(*dataproduct.ParseError).Line = headerLine
						fail(err)
					}
				}
				return
			}
			if lr.line%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
			}
			if len(trimSpace(line)) == 0 {
				continue
			}
			switch mode {
			case modeUnknown:
				switch line[0] {
				case '\\':
					mode = modeIPAC
					continue
				case '|':
					mode = modeIPAC
				case '#':
					continue
				default:
					mode = modeCSV
					names := strings.Split(string(line), ",")
					for i := range names {
						names[i] = strings.TrimSpace(names[i])
					}
					var err error
					if cols, err = findLCColumns(names); err != nil {
						fail(err)
						return
					}
					ncols = len(names)
					haveCols = true
					continue
				}
			case modeCSV:
				if line[0] == '#' {
					continue
				}
				if bytes.IndexByte(line, '"') >= 0 {
					rec, err := csv.NewReader(bytes.NewReader(line)).Read()
					if err != nil {
						fail(err)
						return
					}
					fields = fields[:0]
					for _, s := range rec {
						fields = append(fields, []byte(s))
					}
				} else {
					fields = splitComma(fields[:0], line)
				}
				if len(fields) != ncols {
					fail(fmt.Errorf("%d fields, the header has %d", len(fields), ncols))
					return
				}
				d, keep, err := p.row(fields, cols, nil, mask, source, &floats)
				if err != nil {
					fail(err)
					return
				}
				if keep && !yield(d, nil) {
					return
				}
				continue
			}
			// IPAC table.
			if line[0] == '\\' {
				if ipac.lines > 0 {
					fail(errors.New(`a "\" keyword line after the column header`))
					return
				}
				continue
			}
			if line[0] == '|' {
				if haveCols {
					fail(errors.New("a '|' header line after data rows"))
					return
				}
				if ipac.lines == 0 {
					headerLine = lr.line
				}
				if err := ipac.add(line); err != nil {
					fail(err)
					return
				}
				continue
			}
			if ipac.lines == 0 {
				fail(errors.New("a data row before the IPAC column header"))
				return
			}
			if !haveCols {
				var err error
				if cols, err = findLCColumns(ipac.names); err != nil {
					err.(*dataproduct.ParseError).Line = headerLine
					fail(err)
					return
				}
				haveCols = true
			}
			fields = ipac.cells(fields, line)
			d, keep, err := p.row(fields, cols, &ipac, mask, source, &floats)
			if err != nil {
				fail(err)
				return
			}
			if keep && !yield(d, nil) {
				return
			}
		}
	}
}

// row makes the datum of one light-curve row; keep is false for rows
// without a magnitude and rows dropped by the catflags mask.
func (p Processor) row(f [][]byte, c lcColumns, ipac *ipacHeader, mask int64, source string, fl *processor.Floats) (dataproduct.Datum, bool, error) {
	null := func(col int) bool {
		if ipac != nil {
			return ipac.null(col, f[col])
		}
		v := trimSpace(f[col])
		f[col] = v
		return len(v) == 0 || bytes.EqualFold(v, []byte("null"))
	}
	bad := func(col string, err error) error {
		return &dataproduct.ParseError{Column: col, Err: err}
	}
	var flags int64
	if c.catflags >= 0 && !null(c.catflags) {
		v, err := parseInt(f[c.catflags])
		if err != nil {
			return dataproduct.Datum{}, false, bad("catflags", err)
		}
		flags = v
		if mask > 0 && flags&mask != 0 {
			return dataproduct.Datum{}, false, nil
		}
	}
	if null(c.mjd) {
		return dataproduct.Datum{}, false, bad("mjd", errors.New("empty time"))
	}
	mjd, err := parseNum(f[c.mjd])
	if err != nil {
		return dataproduct.Datum{}, false, bad("mjd", err)
	}
	if null(c.mag) {
		return dataproduct.Datum{}, false, nil
	}
	mag, err := parseNum(f[c.mag])
	if err != nil {
		return dataproduct.Datum{}, false, bad("mag", err)
	}
	if null(c.filter) {
		return dataproduct.Datum{}, false, bad("filtercode", errors.New("empty filter"))
	}
	band, ok := bandOf(f[c.filter])
	if !ok {
		return dataproduct.Datum{}, false, bad("filtercode", fmt.Errorf("unknown filter %q (want zg, zr or zi)", string(f[c.filter])))
	}
	flux := processor.FluxUJy(mag)
	ph := dataproduct.Photometry{
		Magnitude: fl.New(mag),
		Filter:    band,
		Telescope: Telescope,
		FluxUJy:   fl.New(flux),
		MJD:       fl.New(mjd),
	}
	if !null(c.magerr) {
		e, err := parseNum(f[c.magerr])
		if err != nil {
			return dataproduct.Datum{}, false, bad("magerr", err)
		}
		ph.Error = fl.New(e)
		ph.FluxErrUJy = fl.New(flux * e / magErrFactor)
	}
	if flags != 0 {
		ph.Extra = map[string]any{"catflags": flags}
	}
	return dataproduct.Datum{
		DataType:  dataproduct.TypePhotometry,
		Timestamp: processor.MJDToTime(mjd),
		Source:    source,
		Value:     ph,
	}, true, nil
}

// magErrFactor is 2.5/ln(10) ≈ 1.0857.
var magErrFactor = 2.5 / math.Ln10

// bandOf maps zg/zr/zi (IRSA), ZTF_g/ZTF_r/ZTF_i (forced photometry) and
// plain g/r/i to "g", "r", "i".
func bandOf(b []byte) (string, bool) {
	switch {
	case len(b) == 2 && (b[0] == 'z' || b[0] == 'Z'):
		b = b[1:]
	case len(b) == 5 && bytes.EqualFold(b[:4], []byte("ztf_")):
		b = b[4:]
	}
	if len(b) != 1 {
		return "", false
	}
	switch b[0] {
	case 'g', 'G':
		return "g", true
	case 'r', 'R':
		return "r", true
	case 'i', 'I':
		return "i", true
	}
	return "", false
}
