package panstarrstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// controlParams are the parameters that are not column constraints.
var controlParams = map[string]bool{
	"ra": true, "dec": true, "radius": true, "columns": true, "pagesize": true, "page": true, "sort_by": true,
	"format": true, "raw": true, "flatten_response": true, "include_info": true,
}

var rangeOps = []string{"min", "max", "gt", "gte", "lt", "lte"}

type constraint struct {
	col    column
	op     string // "" for equality
	values []string
}

// result is a search's answer before rendering.
type result struct {
	cols []column
	rows []*rowData
}

// search runs one search.
func (s *Server) search(release, table string, p url.Values, empty bool) (*result, *httpError) {
	cols := schema(table)
	byName := make(map[string]column, len(cols)+1)
	for _, c := range cols {
		byName[c.name] = c
	}
	// The cone.
	var cone bool
	var ra, dec, radius float64
	have := 0
	for _, k := range []string{"ra", "dec", "radius"} {
		if p.Get(k) != "" {
			have++
		}
	}
	switch have {
	case 0:
	case 3:
		cone = true
		var herr *httpError
		num := func(k string, lo, hi float64) float64 {
			v, err := strconv.ParseFloat(p.Get(k), 64)
			if herr == nil && (err != nil || math.IsNaN(v) || v < lo || v > hi) {
				herr = unprocessable(k, fmt.Sprintf("%s must be a number in [%g, %g], not %q", k, lo, hi, p.Get(k)))
			}
			return v
		}
		ra, dec, radius = num("ra", 0, 360), num("dec", -90, 90), num("radius", 0, math.Inf(1))
		if herr != nil {
			return nil, herr
		}
		if !(radius > 0) || radius > s.opts.MaxRadius {
			return nil, unprocessable("radius", fmt.Sprintf("radius must be greater than 0 and at most %g degrees", s.opts.MaxRadius))
		}
		byName["distance"] = distanceColumn
	default:
		return nil, unprocessable("radius", "a cone search needs ra, dec and radius")
	}
	// Constraints.
	var where []constraint
	var ids []int64
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range p {
			if !yield(k) {
				return
			}
		}
	}) {
		if controlParams[key] {
			continue
		}
		name, op := key, ""
		if i := strings.LastIndexByte(key, '.'); i >= 0 && slices.Contains(rangeOps, key[i+1:]) {
			name, op = key[:i], key[i+1:]
		}
		c, ok := byName[name]
		if !ok {
			return nil, unprocessable(key, fmt.Sprintf("unknown parameter or column %q for %s/%s", key, release, table))
		}
		vals := p[key]
		if op != "" && (len(vals) != 1 || !c.numeric()) {
			return nil, unprocessable(key, "a range constraint needs one number on a numeric column")
		}
		for _, v := range vals {
			if c.numeric() {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					return nil, unprocessable(key, fmt.Sprintf("%q is not a number", v))
				}
			}
		}
		where = append(where, constraint{col: c, op: op, values: vals})
		if name == "objID" && op == "" {
			for _, v := range vals {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, unprocessable(key, fmt.Sprintf("%q is not an object id", v))
				}
				ids = append(ids, id)
			}
		}
	}
	if !cone && ids == nil {
		return nil, unprocessable("ra", "give ra, dec and radius for a cone search, or objID")
	}
	// Output columns.
	var out []column
	if raw, ok := p["columns"]; ok {
		var unknown []string
		for _, v := range raw {
			v = strings.TrimSpace(v)
			v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
			for _, name := range strings.Split(v, ",") {
				name = strings.Trim(strings.TrimSpace(name), `"'`)
				if name == "" {
					continue
				}
				c, ok := byName[name]
				if !ok {
					unknown = append(unknown, name)
					continue
				}
				out = append(out, c)
			}
		}
		if len(unknown) > 0 {
			return nil, unprocessable("columns", fmt.Sprintf("unknown columns for %s/%s: %s", release, table, strings.Join(unknown, ", ")))
		}
		if len(out) == 0 {
			return nil, unprocessable("columns", "no columns named")
		}
	} else {
		out = slices.Clone(cols)
		if cone {
			out = append(out, distanceColumn)
		}
	}
	// Sort terms.
	type sortTerm struct {
		col  column
		desc bool
	}
	var sorts []sortTerm
	for _, v := range p["sort_by"] {
		for _, term := range strings.Split(strings.Trim(v, "[]"), ",") {
			term = strings.TrimSpace(term)
			if term == "" {
				continue
			}
			name, dir, _ := strings.Cut(term, ".")
			c, ok := byName[name]
			if !ok || (dir != "" && dir != "asc" && dir != "desc") {
				return nil, unprocessable("sort_by", fmt.Sprintf("cannot sort by %q", term))
			}
			sorts = append(sorts, sortTerm{c, dir == "desc"})
		}
	}
	pageSize, page := s.opts.DefaultPageSize, 1
	if v := p.Get("pagesize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, unprocessable("pagesize", fmt.Sprintf("pagesize must be a positive integer, not %q", v))
		}
		pageSize = n
	}
	if v := p.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, unprocessable("page", fmt.Sprintf("page must be a positive integer, not %q", v))
		}
		page = n
	}

	// Rows.
	var objs []Object
	switch {
	case empty:
	case ids != nil:
		for _, id := range ids {
			if o, ok := s.sky.Object(id); ok && (!cone || Separation(ra, dec, o.RA, o.Dec) <= radius) {
				objs = append(objs, o)
			}
		}
	default:
		objs = s.sky.Cone(ra, dec, radius)
	}
	var rows []*rowData
	for i := range objs {
		o := &objs[i]
		dist := math.NaN()
		if cone {
			dist = Separation(ra, dec, o.RA, o.Dec)
		}
		switch table {
		case "detection":
			dets := o.Detections()
			for j := range dets {
				d := &dets[j]
				dd := math.NaN()
				if cone {
					if dd = Separation(ra, dec, d.RA, d.Dec); dd > radius {
						continue
					}
				}
				rows = append(rows, &rowData{obj: o, det: d, dist: dd})
			}
		case "stack":
			rows = append(rows, &rowData{obj: o, dist: dist})
			if o.SecondaryStack {
				rows = append(rows, &rowData{obj: o, secondary: true, dist: dist})
			}
		default:
			rows = append(rows, &rowData{obj: o, dist: dist})
		}
	}
	rows = slices.DeleteFunc(rows, func(r *rowData) bool {
		for _, k := range where {
			if !k.match(r) {
				return true
			}
		}
		return false
	})
	if table == "detection" {
		// The service's order is not by time: index order, by filter.
		slices.SortStableFunc(rows, func(a, b *rowData) int {
			if c := cmpInt(a.obj.ObjID, b.obj.ObjID); c != 0 {
				return c
			}
			if c := a.det.FilterID - b.det.FilterID; c != 0 {
				return c
			}
			return cmpInt(a.det.DetectID, b.det.DetectID)
		})
	}
	if len(sorts) > 0 {
		slices.SortStableFunc(rows, func(a, b *rowData) int {
			for _, t := range sorts {
				c := compareValues(t.col.get(a), t.col.get(b))
				if t.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	from := (page - 1) * pageSize
	switch {
	case from >= len(rows):
		rows = nil
	default:
		rows = rows[from:min(len(rows), from+pageSize)]
	}
	return &result{cols: out, rows: rows}, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// number returns a cell as a number, when it is one.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

func compareValues(a, b any) int {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return cmpInt(x, y)
		}
	}
	fa, oka := number(a)
	fb, okb := number(b)
	switch {
	case oka && okb:
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// match reports whether a row passes the constraint.
func (k constraint) match(r *rowData) bool {
	v := k.col.get(r)
	if k.op == "" {
		for _, want := range k.values {
			if i, ok := v.(int64); ok {
				if w, err := strconv.ParseInt(want, 10, 64); err == nil && w == i {
					return true
				}
				continue
			}
			if k.col.numeric() {
				x, ok := number(v)
				w, _ := strconv.ParseFloat(want, 64)
				if ok && x == w {
					return true
				}
				continue
			}
			if s, ok := v.(string); ok && s == want {
				return true
			}
		}
		return false
	}
	x, ok := number(v)
	if !ok {
		return false
	}
	w, _ := strconv.ParseFloat(k.values[0], 64)
	switch k.op {
	case "min", "gte":
		return x >= w
	case "max", "lte":
		return x <= w
	case "gt":
		return x > w
	case "lt":
		return x < w
	}
	return false
}

// csvValue renders a cell in MAST's CSV.
func csvValue(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if v == missing {
			return "-999.0"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		if strings.ContainsAny(v, ",\"\r\n") {
			return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		return v
	}
	return "" // None
}

// csv renders the result: a header line and one line per row; no rows is
// an empty body.
func (res *result) csv(header bool) []byte {
	if len(res.rows) == 0 {
		return nil
	}
	var b bytes.Buffer
	if header {
		for i, c := range res.cols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.name)
		}
		b.WriteByte('\n')
	}
	for _, r := range res.rows {
		for i, c := range res.cols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(csvValue(c.get(r)))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// jsonValue renders a cell as the service's JSON does: 64-bit ids as
// strings unless raw, "None" for missing newer columns.
func jsonValue(c column, v any, raw bool) string {
	switch v := v.(type) {
	case int64:
		if c.typ == "long" && !raw {
			return `"` + strconv.FormatInt(v, 10) + `"`
		}
		return strconv.FormatInt(v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "null"
		}
		if v == missing {
			return "-999.0"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return jsonString(v)
	}
	return `"None"`
}

// json renders the result as {"info": [...], "data": [...]}.
func (res *result) json(flatten, raw, info bool) []byte {
	var b bytes.Buffer
	b.WriteString("{")
	if info {
		b.WriteString(`"info": `)
		b.Write(metadata(res.cols))
		b.WriteString(", ")
	}
	b.WriteString(`"data": [`)
	for i, r := range res.rows {
		if i > 0 {
			b.WriteString(",\n")
		} else {
			b.WriteString("\n")
		}
		if flatten {
			b.WriteByte('[')
		} else {
			b.WriteByte('{')
		}
		for j, c := range res.cols {
			if j > 0 {
				b.WriteString(", ")
			}
			if !flatten {
				b.WriteString(jsonString(c.name))
				b.WriteString(": ")
			}
			b.WriteString(jsonValue(c, c.get(r), raw))
		}
		if flatten {
			b.WriteByte(']')
		} else {
			b.WriteByte('}')
		}
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
