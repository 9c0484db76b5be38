package panstarrs

import (
	"bufio"
	"bytes"
	"context"
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

// Names used on datums and products.
const (
	// Telescope is the Photometry.Telescope of every datum.
	Telescope = "PanSTARRS 1"
	// DataProductType is the type of the products the Service stores.
	DataProductType = "panstarrs_photometry"
	// DataProductLabel is the human-readable label of DataProductType.
	DataProductLabel = "PanSTARRS Photometry"
	// DefaultLimitSigma is Processor.LimitSigma's default.
	DefaultLimitSigma = 3
)

// Processor turns a MAST PanSTARRS answer (CSV, or the JSON
// {"info": [...], "data": [...]} form with rows as arrays or objects) into
// photometry datums. It recognises the table by its header, never by
// column positions:
//
//   - detection rows (columns obsTime, filterID, psfFlux, psfFluxErr) give
//     one datum per row: the filter from filterID (1..5 = g r i z y), the
//     time from obsTime (TAI MJD at mid-exposure, converted to UTC with
//     TAIMinusUTC), the flux in µJy from psfFlux (Jy), and either an AB
//     magnitude 8.9 − 2.5·log10(psfFlux) = −2.5·log10(psfFlux/3631 Jy) with
//     error 2.5/ln10·psfFluxErr/psfFlux (when psfFlux/psfFluxErr ≥
//     LimitSigma), or else — also for a zero or negative flux — a
//     LimitSigma-sigma upper limit 8.9 − 2.5·log10(LimitSigma·psfFluxErr).
//     A row whose flux or error is missing (−999, empty, "None") or whose
//     error is not positive gives no datum;
//   - object rows (column epochMean, from the mean, stack or forced_mean
//     tables) give one datum per band with a value, timed at epochMean:
//     the mean table's bMeanPSFMag/bMeanPSFMagErr, the stack's
//     bPSFMag/bPSFMagErr (with bPSFFlux in µJy when present), forced_mean's
//     bFPSFMag/bFPSFMagErr when present, else its bFPSFFlux/bFPSFFluxErr in
//     Jy under the detection rule. Values ≤ −999, empty or "None" are
//     skipped; stack rows with primaryDetection = 0 are duplicates of
//     another row and are skipped; rows without epochMean are skipped.
//
// Rows that give no datum (a missing time, filter or flux, a flux error
// that is not positive, a secondary stack detection, an object row without
// any band) are counted in the dataproduct.Report under the Reason
// constants, with their lines (see StreamReport); Strict refuses a file
// with a row that is no measurement instead (secondary detections, which
// are duplicates, never refuse a file).
//
// Every datum has Telescope "PanSTARRS 1", Source "PANSTARRS", the MJD of
// its timestamp, and Extra {"objID": "<id>"} (a string: ids exceed
// float64 precision). The datums of one object (consecutive rows with the
// same objID) share one Extra map: treat it as read-only, and copy it
// before adding keys. An empty file (MAST's "no data") gives no datums.
//
// The catalog's own magnitude errors are σf/f (spec §4.2); detection
// errors here use the first-order propagation 2.5/ln10·σf/f ≈ 1.0857·σf/f,
// as the PS1 API notebook does.
//
// The zero value is ready to use. A Processor is safe for concurrent use.
type Processor struct {
	// LimitSigma is the signal-to-noise below which a flux becomes an
	// upper limit, and that limit's significance. Default 3.
	LimitSigma float64
	// Strict refuses a file at its first row that is no measurement (a
	// *dataproduct.ParseError wrapping processor.ErrNoMeasurement) instead
	// of skipping and reporting the row.
	Strict bool
}

// Reasons of the rows that give no datum, as reports show them.
const (
	ReasonNoTime      = "no time (obsTime or epochMean missing: −999, empty or None)"
	ReasonNoFilter    = "no filter (filterID missing)"
	ReasonNoFlux      = "no flux (psfFlux or psfFluxErr missing: −999, empty or None)"
	ReasonNoFluxError = "flux error not positive (psfFluxErr ≤ 0)"
	ReasonNoBand      = "no band has a magnitude or flux (all −999, empty or None)"
	ReasonSecondary   = "secondary stack detection of an object listed again (primaryDetection = 0)"
)

// DataType returns dataproduct.TypePhotometry.
func (Processor) DataType() string { return dataproduct.TypePhotometry }

// Process implements processor.Processor.
func (p Processor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.Collect(p.Stream(ctx, r))
}

// Stream implements processor.Streamer: datums one by one, in bounded
// memory. A malformed line gives a *dataproduct.ParseError with its line
// number (counting every line of the file), after which nothing more is
// yielded.
func (p Processor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return p.StreamReport(ctx, r, processor.Input{}, nil)
}

// StreamReport implements processor.Reporter: rep counts the data rows,
// the datums, and the rows that gave no datum under the Reason constants.
func (p Processor) StreamReport(ctx context.Context, r io.Reader, _ processor.Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	sigma := p.LimitSigma
	if !(sigma > 0) {
		sigma = DefaultLimitSigma
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		if err := ctx.Err(); err != nil {
			yield(dataproduct.Datum{}, err)
			return
		}
		br := bufio.NewReaderSize(r, 256<<10)
		first, err := firstByte(br)
		if err == io.EOF {
			return // an empty answer: no data
		}
		if err != nil {
			yield(dataproduct.Datum{}, fmt.Errorf("reading: %w", err))
			return
		}
		rp := &rowProc{sigma: sigma, yield: yield, rep: rep, strict: p.Strict}
		if first == '{' {
			err = rp.json(ctx, br)
		} else {
			err = rp.csv(ctx, br)
		}
		if err != nil && !rp.stopped {
			yield(dataproduct.Datum{}, err)
		}
	}
}

// firstByte skips a UTF-8 byte order mark and returns the first byte
// that is not white space, without consuming it (blank lines still count
// for line numbers). A file of only white space gives io.EOF.
func firstByte(br *bufio.Reader) (byte, error) {
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	b, err := br.Peek(4096)
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
	}
	if err != nil {
		return 0, err
	}
	return ',', nil // a long run of blank lines: treat as CSV
}

// ctxEvery is how many rows pass between context checks.
const ctxEvery = 4096

// rowProc turns rows of cells into datums.
type rowProc struct {
	sigma   float64
	yield   func(dataproduct.Datum, error) bool
	stopped bool // yield returned false
	rep     *dataproduct.Report
	strict  bool
	lay     *layout
	floats  processor.Floats
	rows    int
	// lastObj is the objID of the previous row and lastExtra its Extra
	// map, shared by the datums of consecutive rows of one object.
	lastObj   string
	lastExtra map[string]any
}

// bandCols are the column indexes of one band in an object table; -1
// when absent.
type bandCols struct {
	band               string
	mag, magErr        int
	flux, fluxErr      int
	fluxOnly           bool // no magnitude columns: the detection rule applies
	magName, errName   string
	fluxName, fErrName string
}

// layout is what a header says about a table.
type layout struct {
	header    []string
	detection bool
	objID     int
	// detection tables
	obsTime, filterID, flux, fluxErr int
	// object tables
	epoch, primary int
	bands          []bandCols
	// need is one more than the largest column index used.
	need int
}

// setNeed computes need.
func (l *layout) setNeed() {
	idx := []int{l.objID, l.obsTime, l.filterID, l.flux, l.fluxErr, l.epoch, l.primary}
	for _, b := range l.bands {
		idx = append(idx, b.mag, b.magErr, b.flux, b.fluxErr)
	}
	l.need = 0
	for _, i := range idx {
		l.need = max(l.need, i+1)
	}
}

func index(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	return -1
}

// newLayout recognises the table from its header.
func newLayout(header []string) (*layout, error) {
	seen := make(map[string]bool, len(header))
	for _, h := range header {
		if h == "" {
			return nil, errors.New("the header has an empty column name")
		}
		if seen[h] {
			return nil, fmt.Errorf("column %q appears twice in the header", h)
		}
		seen[h] = true
	}
	l := &layout{header: header, objID: index(header, "objID")}
	if seen["obsTime"] || seen["psfFlux"] {
		l.detection = true
		l.obsTime, l.filterID = index(header, "obsTime"), index(header, "filterID")
		l.flux, l.fluxErr = index(header, "psfFlux"), index(header, "psfFluxErr")
		var missing []string
		for _, c := range requiredColumns(TableDetection) {
			if !seen[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("a detection table needs the columns %s; missing %s", strings.Join(requiredColumns(TableDetection), ", "), strings.Join(missing, ", "))
		}
		l.epoch, l.primary = -1, -1
		l.setNeed()
		return l, nil
	}
	l.epoch, l.primary = index(header, "epochMean"), index(header, "primaryDetection")
	for _, b := range bands {
		bc := bandCols{band: b, mag: -1, magErr: -1, flux: -1, fluxErr: -1}
		for _, names := range [][4]string{
			{"MeanPSFMag", "MeanPSFMagErr", "", ""},              // mean
			{"PSFMag", "PSFMagErr", "PSFFlux", "PSFFluxErr"},     // stack
			{"FPSFMag", "FPSFMagErr", "FPSFFlux", "FPSFFluxErr"}, // forced_mean
		} {
			if i := index(header, b+names[0]); i >= 0 {
				bc.mag, bc.magErr, bc.magName, bc.errName = i, index(header, b+names[1]), b+names[0], b+names[1]
				if names[2] != "" {
					bc.flux, bc.fluxErr, bc.fluxName, bc.fErrName = index(header, b+names[2]), index(header, b+names[3]), b+names[2], b+names[3]
				}
				break
			}
		}
		if bc.mag < 0 {
			if i, j := index(header, b+"FPSFFlux"), index(header, b+"FPSFFluxErr"); i >= 0 && j >= 0 {
				bc.flux, bc.fluxErr, bc.fluxOnly, bc.fluxName, bc.fErrName = i, j, true, b+"FPSFFlux", b+"FPSFFluxErr"
			}
		}
		if bc.mag >= 0 || bc.fluxOnly {
			l.bands = append(l.bands, bc)
		}
	}
	if len(l.bands) == 0 {
		return nil, errors.New("not a PanSTARRS table: no detection columns (obsTime, filterID, psfFlux, psfFluxErr) and no band photometry columns (gMeanPSFMag, gPSFMag, gFPSFFlux, ...)")
	}
	if l.epoch < 0 {
		return nil, errors.New("an object table needs the column epochMean (the time of its mean photometry)")
	}
	l.obsTime, l.filterID, l.flux, l.fluxErr = -1, -1, -1, -1
	l.setNeed()
	return l, nil
}

// notNumber is the cause of a ParseError for a cell that is not a
// number.
func notNumber(s string) error { return fmt.Errorf("%q is not a number", s) }

// num parses a numeric cell: missing reports −999 (or less), an empty
// cell, "None"/"null"/"NULL" and NaN.
func num(s string) (v float64, missing bool, err error) {
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '\t') {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return 0, true, nil
	}
	v, ok := textscan.ParseFloat(s)
	if !ok {
		switch s {
		case "None", "null", "NULL", "none", "NaN", "nan":
			return 0, true, nil
		}
		return 0, false, notNumber(s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= -999 {
		return 0, true, nil
	}
	return v, false, nil
}

func (rp *rowProc) fail(line int, col string, err error) error {
	return &dataproduct.ParseError{Line: line, Column: col, Err: err}
}

// emit yields one datum; it reports false when the consumer stopped.
func (rp *rowProc) emit(d dataproduct.Datum) bool {
	rp.rep.Datums++
	if !rp.yield(d, nil) {
		rp.stopped = true
		return false
	}
	return true
}

// extra returns the Extra map carrying the row's objID, or nil. Rows of
// the same object in a row share one map (a detection file lists an
// object's rows together), which saves an allocation per datum.
func (rp *rowProc) extra(cells []string) map[string]any {
	i := rp.lay.objID
	if i < 0 {
		return nil
	}
	s := cells[i]
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ') {
		s = strings.TrimSpace(s)
	}
	if s == "" || s == "-999" || s == "None" {
		return nil
	}
	if s != rp.lastObj || rp.lastExtra == nil {
		rp.lastObj = strings.Clone(s)
		rp.lastExtra = map[string]any{"objID": rp.lastObj}
	}
	return rp.lastExtra
}

// fluxPhot fills ph from a flux and its error in Jy: a magnitude when
// f/σ ≥ sigma, an upper limit otherwise. It reports false when the flux
// is unusable.
func (rp *rowProc) fluxPhot(ph *dataproduct.Photometry, f, e float64) bool {
	if !(e > 0) {
		return false
	}
	fu, eu := f*1e6, e*1e6
	ph.FluxUJy, ph.FluxErrUJy = rp.floats.New(fu), rp.floats.New(eu)
	if f > 0 && f/e >= rp.sigma {
		ph.Magnitude = rp.floats.New(processor.ABMag(fu))
		ph.Error = rp.floats.New(processor.MagErr(f, e))
		return true
	}
	ph.Limit = rp.floats.New(processor.LimitMag(rp.sigma, eu))
	ph.LimitSigma = rp.sigma
	return true
}

// fieldCount checks a row's number of fields.
func (rp *rowProc) fieldCount(n, line int) error {
	if n != len(rp.lay.header) {
		return rp.fail(line, "", fmt.Errorf("%d fields, the header has %d", n, len(rp.lay.header)))
	}
	return nil
}

// row turns one row into datums; cells holds at least the first
// layout.need fields. It stops early when the consumer stops
// (rp.stopped).
func (rp *rowProc) row(cells []string, line int) error {
	l := rp.lay
	if l.detection {
		return rp.detectionRow(cells, line)
	}
	return rp.objectRow(cells, line)
}

// skip records a row that is no measurement (or refuses the file when
// strict).
func (rp *rowProc) skip(line int, col, reason string) error {
	return processor.SkipRow(rp.rep, rp.strict, line, col, reason)
}

func (rp *rowProc) detectionRow(cells []string, line int) error {
	l := rp.lay
	obs, missing, err := num(cells[l.obsTime])
	if err != nil {
		return rp.fail(line, "obsTime", err)
	}
	if missing {
		return rp.skip(line, "obsTime", ReasonNoTime)
	}
	if err := processor.CheckMJD(obs); err != nil {
		return rp.fail(line, "obsTime", err)
	}
	fid, missing, err := num(cells[l.filterID])
	if err != nil {
		return rp.fail(line, "filterID", err)
	}
	if missing {
		return rp.skip(line, "filterID", ReasonNoFilter)
	}
	if fid != math.Trunc(fid) || fid < 1 || fid > 5 {
		return rp.fail(line, "filterID", fmt.Errorf("filterID %s is not 1..5 (g r i z y)", strings.TrimSpace(cells[l.filterID])))
	}
	f, fMissing, err := num(cells[l.flux])
	if err != nil {
		return rp.fail(line, "psfFlux", err)
	}
	e, eMissing, err := num(cells[l.fluxErr])
	if err != nil {
		return rp.fail(line, "psfFluxErr", err)
	}
	if fMissing || eMissing {
		return rp.skip(line, "psfFlux", ReasonNoFlux)
	}
	ph := dataproduct.Photometry{Filter: bands[int(fid)-1], Telescope: Telescope}
	if !rp.fluxPhot(&ph, f, e) {
		return rp.skip(line, "psfFluxErr", ReasonNoFluxError)
	}
	leap := TAIMinusUTC(obs)
	ph.MJD = rp.floats.New(obs - leap.Seconds()/86400)
	ph.Extra = rp.extra(cells)
	rp.emit(dataproduct.Datum{
		DataType:  dataproduct.TypePhotometry,
		Timestamp: processor.MJDToTime(obs).Add(-leap),
		Source:    ServiceName,
		Value:     ph,
	})
	return nil
}

func isFalse(s string) bool {
	s = strings.TrimSpace(s)
	return s == "0" || s == "0.0" || strings.EqualFold(s, "false")
}

func (rp *rowProc) objectRow(cells []string, line int) error {
	l := rp.lay
	if l.primary >= 0 && isFalse(cells[l.primary]) {
		rp.rep.Skip(line, ReasonSecondary) // a duplicate, not a failed measurement
		return nil
	}
	epoch, missing, err := num(cells[l.epoch])
	if err != nil {
		return rp.fail(line, "epochMean", err)
	}
	if missing {
		return rp.skip(line, "epochMean", ReasonNoTime)
	}
	if err := processor.CheckMJD(epoch); err != nil {
		return rp.fail(line, "epochMean", err)
	}
	ts := processor.MJDToTime(epoch)
	extra := rp.extra(cells)
	made := 0
	for _, b := range l.bands {
		ph := dataproduct.Photometry{Filter: b.band, Telescope: Telescope}
		if b.fluxOnly {
			f, fm, err := num(cells[b.flux])
			if err != nil {
				return rp.fail(line, b.fluxName, err)
			}
			e, em, err := num(cells[b.fluxErr])
			if err != nil {
				return rp.fail(line, b.fErrName, err)
			}
			if fm || em || !rp.fluxPhot(&ph, f, e) {
				continue
			}
		} else {
			m, mm, err := num(cells[b.mag])
			if err != nil {
				return rp.fail(line, b.magName, err)
			}
			if mm {
				continue
			}
			ph.Magnitude = rp.floats.New(m)
			if b.magErr >= 0 {
				e, em, err := num(cells[b.magErr])
				if err != nil {
					return rp.fail(line, b.errName, err)
				}
				if !em {
					ph.Error = rp.floats.New(e)
				}
			}
			if b.flux >= 0 && b.fluxErr >= 0 {
				f, fm, err1 := num(cells[b.flux])
				e, em, err2 := num(cells[b.fluxErr])
				if err1 != nil {
					return rp.fail(line, b.fluxName, err1)
				}
				if err2 != nil {
					return rp.fail(line, b.fErrName, err2)
				}
				if !fm && !em {
					ph.FluxUJy, ph.FluxErrUJy = rp.floats.New(f*1e6), rp.floats.New(e*1e6)
				}
			}
		}
		ph.MJD = rp.floats.New(epoch)
		ph.Extra = extra
		made++
		if !rp.emit(dataproduct.Datum{DataType: dataproduct.TypePhotometry, Timestamp: ts, Source: ServiceName, Value: ph}) {
			return nil
		}
	}
	if made == 0 {
		return rp.skip(line, "", ReasonNoBand)
	}
	return nil
}

// tick counts a row and checks ctx every ctxEvery rows.
func (rp *rowProc) tick(ctx context.Context) error {
	rp.rows++
	rp.rep.Rows++
	if rp.rows%ctxEvery == 0 {
		return ctx.Err()
	}
	return nil
}

// csv reads a CSV answer line by line.
func (rp *rowProc) csv(ctx context.Context, br *bufio.Reader) error {
	lr := textscan.NewLineReader(br, br.Size(), 0) // br itself; lines of any length
	var cells []string
	for {
		buf, ok := lr.Next()
		if !ok {
			if err := lr.Err(); err != nil {
				return fmt.Errorf("reading line %d: %w", lr.Line()+1, err) // an I/O error, not bad input
			}
			return nil // the end (a file of blank lines, or a header only, has no data)
		}
		line := lr.Line()
		// text aliases the reader's buffer and is only valid until the
		// next read: every string kept beyond this line (header names,
		// objID) is cloned, and parse errors quote copies.
		text := textscan.String(buf)
		if text == "" {
			continue
		}
		if rp.lay == nil {
			var serr error
			if cells, serr = splitCSV(text, cells); serr != nil {
				return rp.fail(line, "", serr)
			}
			header := make([]string, len(cells))
			for i, c := range cells {
				header[i] = strings.Clone(strings.TrimSpace(c))
			}
			lay, lerr := newLayout(header)
			if lerr != nil {
				return rp.fail(line, "", lerr)
			}
			rp.lay = lay
			continue
		}
		if cerr := rp.tick(ctx); cerr != nil {
			return cerr
		}
		if strings.IndexByte(text, '"') < 0 {
			// The common case: split only the fields used, count the
			// others.
			var n int
			cells, n = textscan.SplitComma(cells[:0], text, rp.lay.need)
			if ferr := rp.fieldCount(n, line); ferr != nil {
				return ferr
			}
		} else {
			var serr error
			if cells, serr = splitCSV(text, cells); serr != nil {
				return rp.fail(line, "", serr)
			}
			if ferr := rp.fieldCount(len(cells), line); ferr != nil {
				return ferr
			}
		}
		if rerr := rp.row(cells, line); rerr != nil {
			return rerr
		}
		if rp.stopped {
			return nil
		}
	}
}

// lineTracker remembers what a JSON decoder read, so that a decoder
// offset can be turned into a line number. Chunks before the last commit
// are dropped, which keeps memory bounded by the decoder's buffer.
type lineTracker struct {
	r      io.Reader
	chunks [][]byte
	start  int64 // offset of chunks[0][0]
	lines  int   // line breaks before start
	err    error // a read error other than io.EOF
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.chunks = append(t.chunks, bytes.Clone(p[:n]))
	}
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// lineAt returns the 1-based line of byte offset off.
func (t *lineTracker) lineAt(off int64) int {
	lines, pos := t.lines, t.start
	for _, c := range t.chunks {
		if off < pos+int64(len(c)) {
			if off > pos {
				lines += bytes.Count(c[:off-pos], []byte{'\n'})
			}
			return lines + 1
		}
		lines += bytes.Count(c, []byte{'\n'})
		pos += int64(len(c))
	}
	return lines + 1
}

// commit forgets the chunks wholly before off.
func (t *lineTracker) commit(off int64) {
	for len(t.chunks) > 0 && t.start+int64(len(t.chunks[0])) <= off {
		t.lines += bytes.Count(t.chunks[0], []byte{'\n'})
		t.start += int64(len(t.chunks[0]))
		t.chunks[0] = nil
		t.chunks = t.chunks[1:]
	}
}
