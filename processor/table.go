package processor

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tomgo/targetdata/dataproduct"
)

// PhotometryTable is the processor for a user's photometry table, the
// TOM's generic photometry upload: a CSV file with a header row naming the
// columns, found by name in any order (case-insensitive):
//
//   - time: the MJD (UTC) of the observation, required;
//   - filter: the band, required;
//   - magnitude and error: a detection, or
//   - limit: the limiting magnitude of a non-detection (a row needs a
//     magnitude or a limit);
//   - telescope, flux_ujy, flux_err_ujy, limit_sigma: optional, as in
//     dataproduct.Photometry (a column named mjd is ignored: time wins);
//   - any other column is kept in the value's Extra under its header name
//     (numbers as numbers, other text as strings, empty cells left out).
//
// Lines starting with '#' and blank lines are skipped. A row longer than
// 1 MiB or of more than 1000 fields stops the file with a
// *dataproduct.ParseError naming its line, before the row is held in
// memory. A row with neither a magnitude nor a limit (both cells empty)
// gives no datum and is reported (ReasonNoMagnitudeOrLimit; see
// StreamReport). The zero value is ready to use and safe for concurrent
// use.
type PhotometryTable struct {
	// Source is the datums' source name; default "upload".
	Source string
	// Strict refuses a file with a row that has neither a magnitude nor a
	// limit (a *dataproduct.ParseError wrapping ErrNoMeasurement) instead
	// of skipping and reporting the row.
	Strict bool
}

// ReasonNoMagnitudeOrLimit is the report's reason for a row of a
// photometry table with neither a magnitude nor a limit.
const ReasonNoMagnitudeOrLimit = "neither a magnitude nor a limit"

// DataType returns dataproduct.TypePhotometry.
func (PhotometryTable) DataType() string { return dataproduct.TypePhotometry }

// Process implements Processor.
func (p PhotometryTable) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return Collect(p.Stream(ctx, r))
}

// Stream implements Streamer.
func (p PhotometryTable) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return p.StreamReport(ctx, r, Input{}, nil)
}

// StreamReport implements Reporter: rep counts the data rows, the datums
// and the rows without a magnitude or a limit.
func (p PhotometryTable) StreamReport(ctx context.Context, r io.Reader, _ Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	source := p.Source
	if source == "" {
		source = "upload"
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		cr := csv.NewReader(newRowLimiter(SkipBOM(r)))
		cr.Comment = '#'
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = true
		cr.ReuseRecord = true
		fail := func(line int, col string, err error) {
			yield(dataproduct.Datum{}, &dataproduct.ParseError{Line: line, Column: col, Err: err})
		}
		header, err := cr.Read()
		if err != nil {
			if err == io.EOF {
				fail(0, "", errors.New("empty file: no header row"))
			} else {
				yield(dataproduct.Datum{}, readError(cr, err))
			}
			return
		}
		names := make([]string, len(header))
		idx := map[string]int{}
		for i, h := range header {
			names[i] = strings.TrimSpace(h)
			key := strings.ToLower(names[i])
			if !utf8.ValidString(names[i]) {
				line, _ := cr.FieldPos(i)
				fail(line, strconv.Quote(names[i]), errors.New("column name is not valid UTF-8"))
				return
			}
			if _, dup := idx[key]; dup {
				line, _ := cr.FieldPos(i)
				fail(line, names[i], errors.New("column appears twice"))
				return
			}
			idx[key] = i
		}
		hline, _ := cr.FieldPos(0)
		for _, need := range []string{"time", "filter"} {
			if _, ok := idx[need]; !ok {
				fail(hline, need, fmt.Errorf("missing required column %q (have %s)", need, strings.Join(names, ", ")))
				return
			}
		}
		_, hasMag := idx["magnitude"]
		_, hasLim := idx["limit"]
		if !hasMag && !hasLim {
			fail(hline, "magnitude", fmt.Errorf("missing column \"magnitude\" or \"limit\" (have %s)", strings.Join(names, ", ")))
			return
		}
		known := map[string]bool{"time": true, "filter": true, "magnitude": true, "error": true, "limit": true,
			"telescope": true, "flux_ujy": true, "flux_err_ujy": true, "limit_sigma": true, "mjd": true}
		var floats Floats
		for n := 0; ; n++ {
			rec, err := cr.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(dataproduct.Datum{}, readError(cr, err))
				return
			}
			line, _ := cr.FieldPos(0)
			rep.Rows++
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
			}
			if len(rec) != len(names) {
				fail(line, "", fmt.Errorf("%d fields, header has %d", len(rec), len(names)))
				return
			}
			cell := func(name string) string {
				if i, ok := idx[name]; ok {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			num := func(name string) (*float64, error) {
				s := cell(name)
				if s == "" {
					return nil, nil
				}
				v, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, &dataproduct.ParseError{Line: line, Column: name, Err: fmt.Errorf("%q is not a finite number", s)}
				}
				return floats.New(v), nil
			}
			mjd, err := num("time")
			if err == nil && mjd == nil {
				err = &dataproduct.ParseError{Line: line, Column: "time", Err: errors.New("empty time")}
			}
			if err == nil {
				if cerr := CheckMJD(*mjd); cerr != nil {
					err = &dataproduct.ParseError{Line: line, Column: "time", Err: cerr}
				}
			}
			var ph dataproduct.Photometry
			if err == nil {
				ph.Magnitude, err = num("magnitude")
			}
			if err == nil {
				ph.Error, err = num("error")
			}
			if err == nil {
				ph.Limit, err = num("limit")
			}
			if err == nil {
				ph.FluxUJy, err = num("flux_ujy")
			}
			if err == nil {
				ph.FluxErrUJy, err = num("flux_err_ujy")
			}
			var sigma *float64
			if err == nil {
				sigma, err = num("limit_sigma")
			}
			if err != nil {
				yield(dataproduct.Datum{}, err)
				return
			}
			if sigma != nil {
				ph.LimitSigma = *sigma
			}
			if ph.Magnitude == nil && ph.Limit == nil {
				if err := SkipRow(rep, p.Strict, line, "magnitude", ReasonNoMagnitudeOrLimit); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
				continue
			}
			if ph.Magnitude == nil {
				ph.Error = nil
			}
			ph.Filter = cell("filter")
			if ph.Filter == "" {
				fail(line, "filter", errors.New("empty filter"))
				return
			}
			ph.Telescope = cell("telescope")
			ph.MJD = mjd
			for i, name := range names {
				if known[strings.ToLower(name)] {
					continue
				}
				s := strings.TrimSpace(rec[i])
				if s == "" {
					continue
				}
				if ph.Extra == nil {
					ph.Extra = make(map[string]any, len(names)-len(known))
				}
				if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
					ph.Extra[name] = v
				} else {
					ph.Extra[name] = s
				}
			}
			d := dataproduct.Datum{
				DataType:  dataproduct.TypePhotometry,
				Timestamp: MJDToTime(*mjd),
				Source:    source,
				Value:     ph,
			}
			rep.Datums++
			if !yield(d, nil) {
				return
			}
		}
	}
}

// readError is the error to report for a failed cr.Read: the row
// limiter's own *dataproduct.ParseError, or csv's error on its line.
func readError(cr *csv.Reader, err error) error {
	var pe *dataproduct.ParseError
	if errors.As(err, &pe) {
		return pe
	}
	return &dataproduct.ParseError{Line: lineOf(cr, err), Err: err}
}

// lineOf extracts the line from a csv error, or the reader's position.
func lineOf(cr *csv.Reader, err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Line
	}
	line, _ := cr.FieldPos(0)
	return line
}
