package processor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
)

// Column names of text spectra (lower case), in order of preference: the
// TOM's names and the aliases observatories write (SkyPortal's).
var (
	textWaveColumns  = []string{"wavelength", "wavelengths", "wave", "wavelen", "wav", "wl", "lambda"}
	textFluxColumns  = []string{"flux", "fluxes", "fl"}
	textErrorColumns = []string{"error", "err", "flux_err", "flux_error", "flux_unc", "fluxerr", "unc", "sigma", "uncertainty"}
)

// delimiters are tried in this order on the first table line, as astropy's
// guessing tries '|', ',' and then whitespace; tab and ';' are accepted too.
// 0 stands for runs of whitespace.
var delimiters = []byte{'|', ',', '\t', ';', 0}

var errBinary = errors.New("binary data: the file is neither a FITS file nor a text table")

// looksBinary reports control characters other than blanks and line ends
// in the start of a file, which no text table has.
func looksBinary(head []byte) bool {
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' || c == 0x7f {
			return true
		}
	}
	return false
}

// textTable is the state of a text spectrum being read.
type textTable struct {
	delim   byte
	fields  []string // scratch
	names   []string
	iw, iF  int // wavelength and flux column indexes
	ie      int // error column index, or -1
	line    int
	comment []comment // comment lines before the first table line that are not keywords
	meta    map[string]comment
	strict  bool
	rep     *dataproduct.Report
}

// readText reads a plain-text spectrum (see the Spectroscopy doc).
func (p Spectroscopy) readText(ctx context.Context, r io.Reader, rep *dataproduct.Report) (*spectrum, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	t := &textTable{ie: -1, meta: map[string]comment{}, strict: p.Strict, rep: rep}
	sp := &spectrum{meta: &metadata{text: t.meta}, checked: true}
	fail := func(col string, err error) error {
		return &dataproduct.ParseError{Line: t.line, Column: col, Err: err}
	}
	header := false
	for sc.Scan() {
		t.line++
		if t.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		raw := sc.Bytes()
		if bytes.IndexByte(raw, 0) >= 0 {
			return nil, fail("", errBinary)
		}
		line := strings.TrimSpace(string(raw))
		if line == "" {
			continue
		}
		if line[0] == '#' {
			t.addComment(strings.TrimSpace(strings.TrimLeft(line, "#")))
			continue
		}
		if !header {
			header = true
			isHeader, err := t.readHeader(line)
			if err != nil {
				return nil, err
			}
			if isHeader {
				continue // else the line is the first row
			}
		}
		if err := t.readRow(line, sp); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &dataproduct.ParseError{Line: t.line + 1, Err: errors.New("line longer than 16 MiB")}
		}
		return nil, &dataproduct.ParseError{Line: t.line, Err: err}
	}
	if !header {
		return nil, &dataproduct.ParseError{Line: t.line, Err: errors.New("not a FITS file, and no table in the text: only comments and blank lines")}
	}
	if len(sp.wave) == 0 {
		if t.rep.Rows > 0 {
			return nil, &dataproduct.ParseError{Line: t.line, Err: fmt.Errorf("spectrum: none of the %d rows has a finite wavelength and flux", t.rep.Rows)}
		}
		return nil, &dataproduct.ParseError{Line: t.line, Err: errors.New("empty table: no rows after the header")}
	}
	if c, ok := t.meta["WAVELENGTH_UNITS"]; ok || t.has("WAVELENGTH_UNIT") {
		if !ok {
			c = t.meta["WAVELENGTH_UNIT"]
		}
		f, err := angstromFactor(c.value)
		if err != nil {
			return nil, &dataproduct.ParseError{Line: c.line, Err: fmt.Errorf("WAVELENGTH_UNITS: %w", err)}
		}
		if f != 1 {
			for i := range sp.wave {
				sp.wave[i] *= f
			}
		}
	}
	for _, k := range []string{"FLUX_UNITS", "FLUX_UNIT", "BUNIT"} {
		if c, ok := t.meta[k]; ok && c.value != "" {
			sp.fluxUnits = c.value
			break
		}
	}
	return sp, nil
}

func (t *textTable) has(key string) bool {
	_, ok := t.meta[key]
	return ok
}

// addComment records a comment line: its keyword when it reads
// "KEY: value" or "KEY = value" (the first occurrence of a key wins), else
// the line itself, a candidate for the column names.
func (t *textTable) addComment(text string) {
	key, v, ok := parseKeyword(text)
	if !ok {
		if t.names == nil {
			t.comment = append(t.comment, comment{value: text, line: t.line})
		}
		return
	}
	if _, dup := t.meta[key]; !dup {
		t.meta[key] = comment{value: v, line: t.line}
	}
}

// parseKeyword reads "KEY: value" and FITS-like "KEY = value / comment"
// comment text. A value in quotes ('...' with two quotes for one, or "...")
// is unquoted; after "=", an unquoted number or logical loses its
// " / comment".
func parseKeyword(text string) (key, value string, ok bool) {
	i := strings.IndexAny(text, ":=")
	if i <= 0 || i > 40 {
		return "", "", false
	}
	key = strings.ToUpper(strings.TrimSpace(text[:i]))
	if key == "" {
		return "", "", false
	}
	for j := 0; j < len(key); j++ {
		c := key[j]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	v := strings.TrimSpace(text[i+1:])
	switch {
	case text[i] == '=' && strings.HasPrefix(v, "'"):
		// A FITS string: up to the closing quote; '' is a quote.
		var b strings.Builder
		for j := 1; j < len(v); j++ {
			if v[j] == '\'' {
				if j+1 < len(v) && v[j+1] == '\'' {
					b.WriteByte('\'')
					j++
					continue
				}
				return key, strings.TrimSpace(b.String()), true
			}
			b.WriteByte(v[j])
		}
		return key, strings.TrimSpace(v[1:]), true // no closing quote
	case len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0]:
		v = strings.TrimSpace(v[1 : len(v)-1])
	case text[i] == '=' && strings.HasPrefix(v, `"`):
		if end := strings.IndexByte(v[1:], '"'); end >= 0 {
			v = strings.TrimSpace(v[1 : end+1])
		}
	case text[i] == '=':
		if j := strings.Index(v, " /"); j > 0 {
			if head := strings.TrimSpace(v[:j]); isNumber(head) || head == "T" || head == "F" {
				v = head
			}
		}
	}
	return key, v, true
}

// split cuts a line at the table's delimiter into t.fields, unquoting
// fields of delimited formats.
func (t *textTable) split(line string) []string {
	f := t.fields[:0]
	if t.delim == 0 {
		for {
			line = strings.TrimLeft(line, " \t")
			if line == "" {
				break
			}
			i := strings.IndexAny(line, " \t")
			if i < 0 {
				f = append(f, line)
				break
			}
			f = append(f, line[:i])
			line = line[i:]
		}
		t.fields = f
		return f
	}
	if t.delim == '|' {
		// astropy's '|' tables may frame rows: "| a | b |".
		line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	}
	for {
		i := strings.IndexByte(line, t.delim)
		cell := line
		if i >= 0 {
			cell = line[:i]
		}
		cell = strings.TrimSpace(cell)
		if len(cell) >= 2 && cell[0] == '"' && cell[len(cell)-1] == '"' {
			cell = cell[1 : len(cell)-1]
		}
		f = append(f, cell)
		if i < 0 {
			break
		}
		line = line[i+1:]
	}
	t.fields = f
	return f
}

// isNumber reports a cell that reads as a number (nan and inf included).
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// readHeader reads the first table line: it fixes the delimiter and finds
// the columns, in this line (then it reports a header) or, when the line
// holds only numbers, in a comment line above it.
func (t *textTable) readHeader(line string) (isHeader bool, err error) {
	t.delim = 0
	for _, d := range delimiters {
		if d == 0 || strings.IndexByte(line, d) >= 0 {
			t.delim = d
			if len(t.split(line)) >= 2 {
				break
			}
		}
	}
	fields := t.split(line)
	numeric := true
	for _, f := range fields {
		numeric = numeric && isNumber(f)
	}
	if !numeric {
		t.names = append([]string(nil), fields...)
		return true, t.findColumns(t.line)
	}
	n := len(fields)
	for i := len(t.comment) - 1; i >= 0; i-- {
		c := t.comment[i]
		names := append([]string(nil), t.split(c.value)...)
		if len(names) != n {
			continue
		}
		t.names = names
		if t.findColumns(c.line) == nil {
			return false, nil
		}
	}
	// A comment right above the table with one name per column, none a
	// wavelength and a flux, names the columns of some other table (an
	// ATLAS light curve): refuse rather than guess.
	if k := len(t.comment) - 1; k >= 0 && t.comment[k].line == t.line-1 {
		c := t.comment[k]
		names := append([]string(nil), t.split(c.value)...)
		if len(names) == n && !slices.ContainsFunc(names, isNumber) {
			t.names = names
			if err := t.findColumns(c.line); err != nil {
				return false, err
			}
		}
	}
	t.split(line) // t.fields again
	if n < 2 {
		t.names = nil
		return false, &dataproduct.ParseError{Line: t.line, Column: "wavelength",
			Err: errors.New("one column and no header line: a spectrum needs a wavelength and a flux column (write a header line such as \"wavelength flux error\")")}
	}
	// No names: SkyPortal's rule, wavelength, flux and error in this order.
	t.names = make([]string, n)
	for i := range t.names {
		t.names[i] = "column " + strconv.Itoa(i+1)
	}
	t.iw, t.iF, t.ie = 0, 1, -1
	what := "the first column is read as the wavelength, the second as the flux"
	if n >= 3 {
		t.ie = 2
		what += ", the third as the flux error"
	}
	t.rep.Note("no column names: " + what)
	return false, nil
}

// findColumns finds the wavelength, flux and error columns in t.names.
func (t *textTable) findColumns(line int) error {
	idx := map[string]int{}
	for i, n := range t.names {
		key := strings.ToLower(strings.TrimSpace(n))
		if _, dup := idx[key]; dup && key != "" {
			return &dataproduct.ParseError{Line: line, Column: n, Err: errors.New("column appears twice")}
		}
		idx[key] = i
	}
	find := func(names []string) int {
		for _, n := range names {
			if i, ok := idx[n]; ok {
				return i
			}
		}
		return -1
	}
	t.iw, t.iF, t.ie = find(textWaveColumns), find(textFluxColumns), find(textErrorColumns)
	for _, c := range []struct {
		i    int
		name string
	}{{t.iw, "wavelength"}, {t.iF, "flux"}} {
		if c.i < 0 {
			return &dataproduct.ParseError{Line: line, Column: c.name,
				Err: fmt.Errorf("missing column %q (the columns are %s)", c.name, listNames(t.names))}
		}
	}
	return nil
}

// readRow reads one table row into sp.
func (t *textTable) readRow(line string, sp *spectrum) error {
	fields := t.split(line)
	if len(fields) != len(t.names) {
		return &dataproduct.ParseError{Line: t.line, Err: fmt.Errorf("%d fields, the header names %d columns", len(fields), len(t.names))}
	}
	if len(sp.wave) >= maxPoints {
		return &dataproduct.ParseError{Line: t.line, Err: fmt.Errorf("more than %d rows, the most a spectrum may have", maxPoints)}
	}
	cell := func(i int) (float64, error) {
		s := fields[i]
		if s == "" {
			return math.NaN(), nil // an empty cell of a delimited table: unknown
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return v, nil // ±Inf or 0: out of float64 range
			}
			return 0, &dataproduct.ParseError{Line: t.line, Column: t.names[i], Err: fmt.Errorf("%q is not a number", s)}
		}
		return v, nil
	}
	w, err := cell(t.iw)
	if err != nil {
		return err
	}
	f, err := cell(t.iF)
	if err != nil {
		return err
	}
	e := 0.0
	if t.ie >= 0 {
		if e, err = cell(t.ie); err != nil {
			return err
		}
	}
	t.rep.Rows++
	// v-v is 0 for finite v and NaN for NaN and ±Inf.
	if w-w != 0 || f-f != 0 || e-e != 0 {
		col := t.names[t.iw]
		switch {
		case f-f != 0:
			col = t.names[t.iF]
		case e-e != 0:
			col = t.names[t.ie]
		}
		return SkipRow(t.rep, t.strict, t.line, col, reasonUnknownPoint)
	}
	sp.wave = append(sp.wave, w)
	sp.flux = append(sp.flux, f)
	if t.ie >= 0 {
		sp.err = append(sp.err, e)
	}
	return nil
}

// listNames lists column names for an error message, shortened.
func listNames(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == 10 {
			fmt.Fprintf(&b, ", and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(n) > 40 {
			n = n[:40] + "..."
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}
