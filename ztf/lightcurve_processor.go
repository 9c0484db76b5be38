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
	"github.com/tomgo/targetdata/internal/textscan"
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
// upper-limit rows); a row whose mag is empty or null has no datum. Both
// kinds of row are counted in the dataproduct.Report with their lines
// (ReasonBadCatflags, ReasonNoMagnitude; see StreamReport); Strict refuses
// a file with a row without a magnitude instead (the catflags mask is a
// filter, and never refuses a file).
//
// The zero value is ready to use; a Processor is safe for concurrent use.
type Processor struct {
	// Source is the datums' source name. Default "ZTF".
	Source string
	// BadCatflagsMask selects the rows to drop: those with
	// catflags & BadCatflagsMask != 0. 0 means DefaultBadCatflagsMask
	// (32768); a negative value keeps every row.
	BadCatflagsMask int
	// Strict refuses a file at its first row without a magnitude (a
	// *dataproduct.ParseError wrapping processor.ErrNoMeasurement) instead
	// of skipping and reporting the row.
	Strict bool
}

// Reasons of the rows that give no datum, as reports show them.
const (
	ReasonBadCatflags = "bad epoch (catflags & BadCatflagsMask ≠ 0)"
	ReasonNoMagnitude = "no magnitude (mag empty or null)"
)

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
	i, err := findColumns(names, 4, "mjd", "mag", "magerr", "filtercode", "catflags")
	return lcColumns{mjd: i[0], mag: i[1], magerr: i[2], filter: i[3], catflags: i[4]}, err
}

// findColumns returns the index of each wanted column in names, found
// case-insensitively (the last one when a name repeats), -1 when absent.
// The first required names of want must be there: the first missing one
// gives a *dataproduct.ParseError naming it and listing the columns.
func findColumns(names []string, required int, want ...string) ([]int, error) {
	idx := make([]int, len(want))
	for w, name := range want {
		idx[w] = -1
		for i, n := range names {
			if strings.EqualFold(n, name) {
				idx[w] = i
			}
		}
		if idx[w] < 0 && w < required {
			return idx, &dataproduct.ParseError{Column: name,
				Err: fmt.Errorf("missing column %q (have %s)", name, strings.Join(names, ", "))}
		}
	}
	return idx, nil
}

// ipacHeader is the header of an IPAC table: column names, their
// boundaries (positions of the '|' of the name line) and null values.
type ipacHeader struct {
	lines  int // '|' lines seen
	names  []string
	pipes  []int
	nulls  []string
	tokens [][]byte // scratch
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
			h.names = append(h.names, string(textscan.TrimSpace(c)))
		}
	case 4:
		for _, c := range cells {
			h.nulls = append(h.nulls, string(textscan.TrimSpace(c)))
		}
	}
	return nil
}

// pipeCells splits "|a|b|c|" into a, b, c.
func pipeCells(line []byte) [][]byte {
	line = textscan.TrimSpace(line)
	line = bytes.TrimPrefix(line, []byte("|"))
	line = bytes.TrimSuffix(line, []byte("|"))
	if len(line) == 0 {
		return nil
	}
	return bytes.Split(line, []byte("|"))
}

// cells cuts the used cells of a data row at the header's column
// boundaries (the IPAC layout: each value under its header cell, a blank
// at each '|' position). A row whose values overrun the boundaries is
// split on white space instead, when that gives one value per column.
func (h *ipacHeader) cells(v *lcVals, line []byte, idx [5]int) {
	aligned := true
	for _, col := range idx {
		if col < 0 {
			continue
		}
		for _, p := range [2]int{h.pipes[col], h.boundary(col + 1)} {
			if p < len(line) && line[p] != ' ' {
				aligned = false
			}
		}
	}
	if !aligned {
		h.tokens = textscan.AppendFields(h.tokens[:0], line)
		if len(h.tokens) == len(h.names) {
			for i, col := range idx {
				v[i] = nil
				if col >= 0 && !h.null(col, h.tokens[col]) {
					v[i] = h.tokens[col]
				}
			}
			return
		}
	}
	for i, col := range idx {
		v[i] = nil
		if col < 0 {
			continue
		}
		start, end := min(h.pipes[col]+1, len(line)), min(h.boundary(col+1), len(line))
		if c := textscan.TrimSpace(line[start:end]); !h.null(col, c) {
			v[i] = c
		}
	}
}

// boundary returns the position of the '|' before column i (the line's
// end for the last).
func (h *ipacHeader) boundary(i int) int {
	if i < len(h.pipes) {
		return h.pipes[i]
	}
	return math.MaxInt
}

// csvLayout tells which CSV columns fill which lcVals cell.
type csvLayout struct {
	ncols int
	slot  []int8   // per column: the lcVals index + 1, or 0
	last  int      // the highest used column
	cells [][]byte // scratch: the cells of a row up to last
}

func newCSVLayout(ncols int, idx [5]int) *csvLayout {
	l := &csvLayout{ncols: ncols, slot: make([]int8, ncols)}
	for i, col := range idx {
		if col >= 0 {
			l.slot[col] = int8(i + 1)
			l.last = max(l.last, col)
		}
	}
	return l
}

// csvCells fills v from a CSV row (IRSA writes no quotes; a row with
// quotes goes through encoding/csv).
func csvCells(v *lcVals, line []byte, l *csvLayout) error {
	*v = lcVals{}
	set := func(col int, cell []byte) {
		if s := l.slot[col]; s > 0 {
			cell = textscan.TrimSpace(cell)
			if len(cell) > 0 && !isNull(cell) {
				v[s-1] = cell
			}
		}
	}
	if bytes.IndexByte(line, '"') >= 0 {
		rec, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil {
			return err
		}
		if len(rec) != l.ncols {
			return fmt.Errorf("%d fields, the header has %d", len(rec), l.ncols)
		}
		for i, c := range rec {
			set(i, []byte(c))
		}
		return nil
	}
	cells, n := textscan.SplitComma(l.cells[:0], line, l.last+1)
	l.cells = cells
	if n != l.ncols {
		return fmt.Errorf("%d fields, the header has %d", n, l.ncols)
	}
	for col, cell := range cells {
		set(col, cell)
	}
	return nil
}

func (h *ipacHeader) null(col int, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if col < len(h.nulls) && h.nulls[col] != "" && string(v) == h.nulls[col] {
		return true
	}
	return isNull(v)
}

// Stream implements processor.Streamer.
func (p Processor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return p.StreamReport(ctx, r, processor.Input{}, nil)
}

// StreamReport implements processor.Reporter: rep counts the data rows,
// the datums, and the rows that gave no datum under the Reason constants.
func (p Processor) StreamReport(ctx context.Context, r io.Reader, _ processor.Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	source := p.Source
	if source == "" {
		source = Telescope
	}
	mask := int64(p.BadCatflagsMask)
	if mask == 0 {
		mask = DefaultBadCatflagsMask
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		const (
			modeUnknown = iota
			modeCSV
			modeIPAC
		)
		lr := textscan.NewLineReader(r, 256<<10, maxLine)
		mode := modeUnknown
		var (
			cols       lcColumns
			layout     *csvLayout
			ipac       ipacHeader
			headerLine int
			haveCols   bool
			idx        [5]int
			vals       lcVals
			floats     processor.Floats
		)
		fail := func(err error) {
			var pe *dataproduct.ParseError
			if errors.As(err, &pe) {
				if pe.Line == 0 {
					pe.Line = lr.Line()
				}
			} else if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				err = &dataproduct.ParseError{Line: lr.Line(), Err: err}
			}
			yield(dataproduct.Datum{}, err)
		}
		// emit yields the datum of the row in vals, or records why the row
		// gives none; false when the stream stops (the consumer is done,
		// or an error was yielded).
		emit := func() bool {
			rep.Rows++
			d, skip, err := p.row(&vals, mask, source, &floats)
			if err == nil && skip == "" {
				rep.Datums++
				return yield(d, nil)
			}
			line := lr.Line()
			if err == nil {
				if skip == ReasonBadCatflags {
					rep.Skip(line, skip)
					return true
				}
				if err = processor.SkipRow(rep, p.Strict, line, "mag", skip); err == nil {
					return true
				}
			}
			var pe *dataproduct.ParseError
			if errors.As(err, &pe) && pe.Line == 0 {
				pe.Line = line
			}
			yield(dataproduct.Datum{}, err)
			return false
		}
		for {
			line, ok := lr.Next()
			if !ok {
				if err := readErr(lr); err != nil {
					fail(err)
				} else if mode == modeUnknown || (mode == modeIPAC && ipac.lines == 0) {
					fail(&dataproduct.ParseError{Line: lr.Line(), Err: errors.New("no header: not a ZTF light-curve table")})
				} else if mode == modeIPAC && !haveCols {
					// A header and no rows: an empty answer, but the columns must be right.
					if _, err := findLCColumns(ipac.names); err != nil {
						err.(*dataproduct.ParseError).Line = headerLine
						fail(err)
					}
				}
				return
			}
			if lr.Line()%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
			}
			if len(textscan.TrimSpace(line)) == 0 {
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
					layout = newCSVLayout(len(names), cols.indexes())
					haveCols = true
					continue
				}
			case modeCSV:
				if line[0] == '#' {
					continue
				}
				if err := csvCells(&vals, line, layout); err != nil {
					fail(err)
					return
				}
				if !emit() {
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
					headerLine = lr.Line()
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
				idx = cols.indexes()
				haveCols = true
			}
			ipac.cells(&vals, line, idx)
			if !emit() {
				return
			}
		}
	}
}

// lcVals are the cells of the columns the processor uses, in the order
// of lcColumns.indexes (mjd, mag, magerr, filtercode, catflags); a nil
// cell is null or absent.
type lcVals [5][]byte

// indexes returns the column indexes in lcVals order (catflags may be −1).
func (c lcColumns) indexes() [5]int { return [5]int{c.mjd, c.mag, c.magerr, c.filter, c.catflags} }

// row makes the datum of one light-curve row, or says why the row gives
// none (ReasonNoMagnitude, ReasonBadCatflags).
func (p Processor) row(v *lcVals, mask int64, source string, fl *processor.Floats) (dataproduct.Datum, string, error) {
	bad := func(col string, err error) error {
		return &dataproduct.ParseError{Column: col, Err: err}
	}
	var flags int64
	if v[4] != nil {
		f, err := parseInt(v[4])
		if err != nil {
			return dataproduct.Datum{}, "", bad("catflags", err)
		}
		flags = f
		if mask > 0 && flags&mask != 0 {
			return dataproduct.Datum{}, ReasonBadCatflags, nil
		}
	}
	if v[0] == nil {
		return dataproduct.Datum{}, "", bad("mjd", errors.New("empty time"))
	}
	mjd, err := parseNum(v[0])
	if err != nil {
		return dataproduct.Datum{}, "", bad("mjd", err)
	}
	if err := processor.CheckMJD(mjd); err != nil {
		return dataproduct.Datum{}, "", bad("mjd", err)
	}
	if v[1] == nil {
		return dataproduct.Datum{}, ReasonNoMagnitude, nil
	}
	mag, err := parseNum(v[1])
	if err != nil {
		return dataproduct.Datum{}, "", bad("mag", err)
	}
	if v[3] == nil {
		return dataproduct.Datum{}, "", bad("filtercode", errors.New("empty filter"))
	}
	band, ok := bandOf(v[3])
	if !ok {
		return dataproduct.Datum{}, "", bad("filtercode", fmt.Errorf("unknown filter %q (want zg, zr or zi)", string(v[3])))
	}
	flux := math.Exp((processor.ABZeroPointMicroJansky - mag) * (0.4 * math.Ln10))
	ph := dataproduct.Photometry{
		Magnitude: fl.New(mag),
		Filter:    band,
		Telescope: Telescope,
		FluxUJy:   fl.New(flux),
		MJD:       fl.New(mjd),
	}
	if v[2] != nil {
		e, err := parseNum(v[2])
		if err != nil {
			return dataproduct.Datum{}, "", bad("magerr", err)
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
	}, "", nil
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
