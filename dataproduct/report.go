package dataproduct

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxReportLines is how many line numbers a Report keeps per skip reason
// (the first ones); Count still counts every row.
const MaxReportLines = 5

// Report says what a processor made of one file: how many data rows it
// read, how many datums it made, which rows gave no datum and why, and what
// it assumed about the file. A processor refuses a file that is not its
// format (a *ParseError, nothing stored); a row that is no measurement
// (no flux, a failed photometric solution, a flagged epoch) only gives no
// datum, and is counted here under its reason.
//
// processor.StreamReport fills a Report while it streams, processor.Ingest
// returns one per file in IngestResult.Reports, and the Manager's results
// and job statuses carry them. A Report is JSON-encodable. Its methods
// accept a nil *Report (and then do nothing), so a processor can record
// skips whether or not its caller asked for a report.
type Report struct {
	// Product names the file, when known (the product's name).
	Product string `json:"product,omitempty"`
	// Rows is the number of data rows read (not headers, comments or blank
	// lines); for a spectrum, its points.
	Rows int `json:"rows"`
	// Datums is the number of datums made.
	Datums int `json:"datums"`
	// Skipped groups the rows that gave no datum by reason, in the order
	// the reasons first appeared.
	Skipped []SkippedRows `json:"skipped,omitempty"`
	// Notes say what the processor assumed about the file as a whole, e.g.
	// "CUNIT1 'deg' is not a wavelength unit: wavelengths read as Angstrom".
	Notes []string `json:"notes,omitempty"`
}

// SkippedRows counts the rows of a file skipped for one reason.
type SkippedRows struct {
	// Reason says, for a user, why these rows gave no datum, e.g.
	// "failed photometric solution (mag5sig < 10)".
	Reason string `json:"reason"`
	// Count is the number of rows skipped for Reason.
	Count int `json:"count"`
	// Lines are the first MaxReportLines line numbers (1-based, counting
	// every line of the file) of those rows; empty when the format has no
	// lines (a FITS spectrum).
	Lines []int `json:"lines,omitempty"`
}

// Skip records that the row on line (1-based; 0 when the format has no
// lines) gave no datum, for reason. Reasons are grouped by equal text, so
// use a fixed text per cause. Skip on a nil *Report does nothing.
func (r *Report) Skip(line int, reason string) {
	if r == nil {
		return
	}
	i := len(r.Skipped) - 1
	for ; i >= 0; i-- {
		if r.Skipped[i].Reason == reason {
			break
		}
	}
	if i < 0 {
		r.Skipped = append(r.Skipped, SkippedRows{Reason: reason})
		i = len(r.Skipped) - 1
	}
	s := &r.Skipped[i]
	s.Count++
	if line > 0 && len(s.Lines) < MaxReportLines {
		s.Lines = append(s.Lines, line)
	}
}

// Note records an assumption about the whole file, once. Note on a nil
// *Report does nothing.
func (r *Report) Note(note string) {
	if r == nil || slices.Contains(r.Notes, note) {
		return
	}
	r.Notes = append(r.Notes, note)
}

// SkippedCount returns the number of rows that gave no datum.
func (r *Report) SkippedCount() int {
	if r == nil {
		return 0
	}
	n := 0
	for _, s := range r.Skipped {
		n += s.Count
	}
	return n
}

// String summarises the report on one line, e.g. "1790 rows, 1770 datums;
// 20 rows skipped: 2 no flux error (duJy ≤ 0) (lines 79, 1217); 18 failed
// photometric solution (mag5sig < 10) (lines 637, 640, 641, 700, 702, ...)".
func (r *Report) String() string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	if r.Product != "" {
		b.WriteString(r.Product)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s, %d %s", r.Rows, plural(r.Rows, "row", "rows"), r.Datums, plural(r.Datums, "datum", "datums"))
	if n := r.SkippedCount(); n > 0 {
		fmt.Fprintf(&b, "; %d %s skipped:", n, plural(n, "row", "rows"))
		for i, s := range r.Skipped {
			if i > 0 {
				b.WriteByte(';')
			}
			fmt.Fprintf(&b, " %d %s", s.Count, s.Reason)
			if len(s.Lines) > 0 {
				b.WriteString(" (")
				b.WriteString(plural(len(s.Lines), "line ", "lines "))
				for j, l := range s.Lines {
					if j > 0 {
						b.WriteString(", ")
					}
					b.WriteString(strconv.Itoa(l))
				}
				if s.Count > len(s.Lines) {
					b.WriteString(", ...")
				}
				b.WriteByte(')')
			}
		}
	}
	for _, n := range r.Notes {
		b.WriteString("; note: ")
		b.WriteString(n)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
