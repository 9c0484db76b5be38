package processor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
)

// Column names of text spectra (lower case), in order of preference.
var (
	textWaveColumns  = []string{"wavelength", "wave", "lambda"}
	textFluxColumns  = []string{"flux"}
	textErrorColumns = []string{"error", "err", "flux_err", "flux_error", "sigma", "uncertainty"}
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
	comment []comment // comment lines before the first table line
	meta    map[string]comment
}

// readText reads a plain-text spectrum (see the Spectroscopy doc).
func (p Spectroscopy) readText(ctx context.Context, r io.Reader) (*spectrum, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	t := &textTable{ie: -1, meta: map[string]comment{}}
	sp := &spectrum{meta: &metadata{text: t.meta}}
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
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			t.addComment(strings.TrimSpace(rest))
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

// addComment records a comment line and, when it reads "KEY: value" or
// "KEY = value", its keyword (the first occurrence of a key wins).
func (t *textTable) addComment(text string) {
	if t.names == nil {
		t.comment = append(t.comment, comment{value: text, line: t.line})
	}
	i := strings.IndexAny(text, ":=")
	if i <= 0 || i > 40 {
		return
	}
	key := strings.ToUpper(strings.TrimSpace(text[:i]))
	for j := 0; j < len(key); j++ {
		c := key[j]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return
		}
	}
	if _, dup := t.meta[key]; dup || key == "" {
		return
	}
	v := strings.TrimSpace(text[i+1:])
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	t.meta[key] = comment{value: v, line: t.line}
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
	for i := len(t.comment) - 1; i >= 0; i-- {
		c := t.comment[i]
		names := append([]string(nil), t.split(c.value)...)
		if len(names) != len(fields) {
			continue
		}
		t.names = names
		if t.findColumns(c.line) == nil {
			return false, nil
		}
	}
	t.names = nil
	return false, &dataproduct.ParseError{Line: t.line, Column: "wavelength",
		Err: errors.New("no header line naming the columns: the first row holds numbers and no comment above it names wavelength and flux (write a header line such as \"wavelength flux error\")")}
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
	sp.wave = append(sp.wave, w)
	sp.flux = append(sp.flux, f)
	if t.ie >= 0 {
		e, err := cell(t.ie)
		if err != nil {
			return err
		}
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
