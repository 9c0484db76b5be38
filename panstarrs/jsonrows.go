package panstarrs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tomgo/targetdata/dataproduct"
)

// json reads MAST's JSON answer, {"info": [...], "data": [...]}, with
// rows as arrays in info order (flatten_response=true) or as objects
// keyed by column name (what the 2026 service sends by default). Values
// may be numbers, strings (64-bit ids, "None"), booleans or null.
func (rp *rowProc) json(ctx context.Context, r io.Reader) error {
	t := &lineTracker{r: r}
	dec := json.NewDecoder(t)
	dec.UseNumber()
	failAt := func(err error) error {
		if t.err != nil {
			return fmt.Errorf("reading: %w", t.err) // an I/O error, not bad input
		}
		var se *json.SyntaxError
		off := dec.InputOffset()
		if errors.As(err, &se) {
			off = se.Offset
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the JSON answer ends early (truncated?)")
		}
		return rp.fail(t.lineAt(off), "", err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return failAt(err)
	}
	var info []string
	sawData := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return failAt(err)
		}
		key, _ := tok.(string)
		switch key {
		case "info":
			var entries []map[string]any
			if err := dec.Decode(&entries); err != nil {
				return failAt(fmt.Errorf("info: %w", err))
			}
			info = make([]string, 0, len(entries))
			for i, e := range entries {
				name, _ := e["name"].(string)
				if name == "" {
					name, _ = e["column_name"].(string)
				}
				if name == "" {
					return rp.fail(t.lineAt(dec.InputOffset()), "", fmt.Errorf("info entry %d has no name", i+1))
				}
				info = append(info, name)
			}
		case "data":
			sawData = true
			if err := rp.jsonData(ctx, dec, t, info, failAt); err != nil || rp.stopped {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return failAt(err)
			}
		}
		t.commit(dec.InputOffset())
	}
	if err := expectDelim(dec, '}'); err != nil {
		return failAt(err)
	}
	if !sawData {
		return rp.fail(t.lineAt(dec.InputOffset()), "", errors.New(`not a MAST answer: no "data" key`))
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", string(want), tok)
	}
	return nil
}

// scalar turns a JSON value token into cell text.
func scalar(tok json.Token) (string, error) {
	switch v := tok.(type) {
	case string:
		return v, nil
	case json.Number:
		return string(v), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("a row holds a nested value (%v)", tok)
}

// jsonData reads the rows of "data".
func (rp *rowProc) jsonData(ctx context.Context, dec *json.Decoder, t *lineTracker, info []string, failAt func(error) error) error {
	if err := expectDelim(dec, '['); err != nil {
		return failAt(fmt.Errorf("data: %w", err))
	}
	var (
		cells   []string
		keys    map[string]int
		rowKeys []string
		rowVals []string
	)
	setLayout := func(header []string, line int) error {
		lay, err := newLayout(header)
		if err != nil {
			return rp.fail(line, "", err)
		}
		rp.lay = lay
		keys = make(map[string]int, len(header))
		for i, h := range header {
			keys[h] = i
		}
		return nil
	}
	for n := 0; dec.More(); n++ {
		tok, err := dec.Token()
		if err != nil {
			return failAt(err)
		}
		line := t.lineAt(dec.InputOffset() - 1)
		d, _ := tok.(json.Delim)
		switch d {
		case '[':
			if rp.lay == nil {
				if info == nil {
					return rp.fail(line, "", errors.New(`rows are arrays but no "info" names the columns`))
				}
				if err := setLayout(info, line); err != nil {
					return err
				}
			}
			cells = cells[:0]
			for dec.More() {
				v, err := dec.Token()
				if err != nil {
					return failAt(err)
				}
				s, err := scalar(v)
				if err != nil {
					return rp.fail(line, "", err)
				}
				cells = append(cells, s)
			}
		case '{':
			rowKeys, rowVals = rowKeys[:0], rowVals[:0]
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return failAt(err)
				}
				v, err := dec.Token()
				if err != nil {
					return failAt(err)
				}
				s, err := scalar(v)
				if err != nil {
					return rp.fail(line, fmt.Sprint(k), err)
				}
				rowKeys, rowVals = append(rowKeys, fmt.Sprint(k)), append(rowVals, s)
			}
			if rp.lay == nil {
				header := info
				if header == nil {
					header = append([]string(nil), rowKeys...)
				}
				if err := setLayout(header, line); err != nil {
					return err
				}
			}
			cells = cells[:0]
			for range rp.lay.header {
				cells = append(cells, "")
			}
			for i, k := range rowKeys {
				if j, ok := keys[k]; ok {
					cells[j] = rowVals[i]
				}
			}
		default:
			return rp.fail(line, "", fmt.Errorf("data row %d is not an array or an object", n+1))
		}
		if _, err := dec.Token(); err != nil { // the row's closing delimiter
			return failAt(err)
		}
		if err := rp.tick(ctx); err != nil {
			return err
		}
		if err := rp.fieldCount(len(cells), line); err != nil {
			return err
		}
		if err := rp.row(cells, line); err != nil {
			var pe *dataproduct.ParseError
			if errors.As(err, &pe) {
				// A JSON answer is often one long line: name the row too.
				pe.Err = fmt.Errorf("data row %d: %w", n+1, pe.Err)
			}
			return err
		}
		if rp.stopped {
			return nil
		}
		t.commit(dec.InputOffset())
	}
	if err := expectDelim(dec, ']'); err != nil {
		return failAt(err)
	}
	return nil
}
