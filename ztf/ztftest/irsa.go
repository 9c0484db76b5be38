package ztftest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// lcColumns are IRSA's 24 light-curve columns in order (spec A.3), with
// IPAC types and units.
var lcColumns = []struct{ name, typ, unit string }{
	{"oid", "long", ""}, {"expid", "long", ""}, {"hjd", "double", "day"}, {"mjd", "double", "day"},
	{"mag", "double", "mag"}, {"magerr", "double", "mag"}, {"catflags", "int", ""}, {"filtercode", "char", ""},
	{"ra", "double", "deg"}, {"dec", "double", "deg"}, {"chi", "double", ""}, {"sharp", "double", ""},
	{"filefracday", "long", ""}, {"field", "int", ""}, {"ccdid", "int", ""}, {"qid", "int", ""},
	{"limitmag", "double", "mag"}, {"magzp", "double", "mag"}, {"magzprms", "double", "mag"},
	{"clrcoeff", "double", ""}, {"clrcounc", "double", ""}, {"exptime", "double", "s"},
	{"airmass", "double", ""}, {"programid", "int", ""},
}

// surveyStartMJD is the first night of the simulated survey.
const surveyStartMJD = 58204.0

// lastMJD is the last epoch of the simulated light curves (latest release).
const lastMJD = 60600.0

// star is a simulated source; its light curves follow from its position.
type star struct {
	ra, dec float64
	seed    uint64
}

func newStar(ra, dec float64) star {
	h := fnv.New64a()
	fmt.Fprintf(h, "%.7f %.7f", ra, dec)
	return star{ra: ra, dec: dec, seed: h.Sum64()}
}

// object is one light curve: a star seen in one field, CCD quadrant and
// filter.
type object struct {
	oid            int64
	field, ccd, q  int
	filter         byte
	n              int
	offset, median float64
	star           star
}

// mix is splitmix64 over a seed and salts, for deterministic noise.
func mix(seed uint64, salts ...uint64) uint64 {
	x := seed
	for _, s := range salts {
		x ^= s + 0x9e3779b97f4a7c15 + (x << 6) + (x >> 2)
		x += 0x9e3779b97f4a7c15
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
		x = (x ^ (x >> 27)) * 0x94d049bb133111eb
		x ^= x >> 31
	}
	return x
}

// frac is a deterministic number in [0, 1).
func frac(seed uint64, salts ...uint64) float64 {
	return float64(mix(seed, salts...)>>11) / (1 << 53)
}

var filterDigit = map[byte]int64{'g': 1, 'r': 2, 'i': 3}

// objects returns the star's light curves: g, r and i in its main field,
// g and r in an overlapping field.
func (s *Server) objects(st star) []object {
	field := 200 + int(st.seed%600)
	ccd := 1 + int(st.seed>>10%16)
	q := 1 + int(st.seed>>20%4)
	serial := int64(st.seed >> 24 % 100000000)
	base := 17.5 + 3*frac(st.seed, 1)
	n := s.opts.Epochs
	var out []object
	add := func(field, ccd, q int, f byte, n int) {
		oid := int64(field)*1e12 + filterDigit[f]*1e11 + int64(ccd)*1e9 + int64(q)*1e8 + serial
		med := base + map[byte]float64{'g': 0.45, 'r': 0, 'i': -0.2}[f]
		out = append(out, object{oid: oid, field: field, ccd: ccd, q: q, filter: f, n: max(n, 1),
			offset: frac(st.seed, uint64(oid)), median: med, star: st})
	}
	add(field, ccd, q, 'g', n)
	add(field, ccd, q, 'r', n)
	add(field, ccd, q, 'i', n/3)
	ccd2 := ccd%16 + 1
	add(field+1, ccd2, 5-q, 'g', n/3)
	add(field+1, ccd2, 5-q, 'r', n/3)
	return out
}

// ObjectIDs returns the ZTF object ids (oid) of the simulated star at
// (ra, dec), as a cone search there would list them; they can then be
// queried by ID. Nil where the sky has no data.
func (s *Server) ObjectIDs(ra, dec float64) []int64 {
	if !s.opts.HasData(ra, dec) {
		return nil
	}
	var ids []int64
	for _, o := range s.remember(newStar(ra, dec)) {
		ids = append(ids, o.oid)
	}
	return ids
}

// remember records the star's objects for ID queries.
func (s *Server) remember(st star) []object {
	objs := s.objects(st)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		s.stars[o.oid] = st
	}
	return objs
}

// lcPoint is one row of a light curve.
type lcPoint struct {
	o        *object
	mjd      float64
	mag      float64
	magerr   float64
	catflags int
	ra, dec  float64
	k        int
}

// points returns the object's epochs up to lastMJD, in time order.
func (o *object) points(last float64) []lcPoint {
	step := (lastMJD - surveyStartMJD) / float64(o.n)
	var pts []lcPoint
	for k := range o.n {
		mjd := surveyStartMJD + (float64(k)+0.5*o.offset)*step
		mjd = math.Floor(mjd) + 0.15 + 0.3*frac(uint64(o.oid), uint64(k), 2)
		if mjd > last {
			break
		}
		mag := o.median + 0.08*math.Sin(2*math.Pi*float64(k)/7.3) + 0.03*(frac(uint64(o.oid), uint64(k), 3)-0.5)
		cat := 0
		switch {
		case k%17 == 16:
			cat = 32768
		case k%11 == 5:
			cat = 4
		}
		pts = append(pts, lcPoint{
			o: o, k: k, mjd: mjd, mag: mag, catflags: cat,
			magerr: 0.015 + 0.02*math.Pow(10, 0.4*(mag-18)),
			ra:     o.star.ra + (frac(uint64(o.oid), uint64(k), 4)-0.5)*0.1/3600/math.Max(math.Cos(o.star.dec*math.Pi/180), 0.01),
			dec:    o.star.dec + (frac(uint64(o.oid), uint64(k), 5)-0.5)*0.1/3600,
		})
	}
	return pts
}

// lcQuery is a parsed light-curve request.
type lcQuery struct {
	ids           []int64
	cone          bool
	ra, dec, rad  float64
	bands         []byte
	band          [2]float64
	hasBand       bool
	mag           [2]float64
	hasMag        bool
	nobsMin       int
	time          [2]float64
	hasTime       bool
	mask          int
	collection    int // index in Options.Collections
	format        string
	formatDefault bool
}

var lcParams = []string{"ID", "POS", "CIRCLE", "BAND", "BANDNAME", "MAG", "NOBS_MIN", "TIME", "BAD_CATFLAGS_MASK", "COLLECTION", "FORMAT"}

// numbers parses n white-space separated numbers (±Inf allowed when inf).
func numbers(v string, min, max int, inf bool) ([]float64, error) {
	f := strings.Fields(v)
	if len(f) < min || len(f) > max {
		return nil, fmt.Errorf("expected %d to %d numbers, got %q", min, max, v)
	}
	out := make([]float64, len(f))
	for i, s := range f {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || (!inf && math.IsInf(x, 0)) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		out[i] = x
	}
	return out, nil
}

func (s *Server) parseLC(v url.Values) (*lcQuery, error) {
	q := &lcQuery{mask: 0, collection: len(s.opts.Collections) - 1}
	for k, vals := range v {
		if !slices.Contains(lcParams, k) {
			return nil, fmt.Errorf("unknown parameter %q (parameters: %s)", k, strings.Join(lcParams, ", "))
		}
		if k != "ID" && len(vals) > 1 {
			return nil, fmt.Errorf("parameter %s given %d times", k, len(vals))
		}
	}
	for _, raw := range v["ID"] {
		for _, p := range strings.Split(raw, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil || id <= 0 {
				return nil, fmt.Errorf("ID: %q is not an object id", p)
			}
			q.ids = append(q.ids, id)
		}
	}
	pos, circle := v.Get("POS"), v.Get("CIRCLE")
	if pos != "" && circle != "" {
		return nil, fmt.Errorf("give POS or CIRCLE, not both")
	}
	if pos != "" {
		f := strings.Fields(pos)
		if len(f) == 0 || !strings.EqualFold(f[0], "CIRCLE") {
			return nil, fmt.Errorf("POS: only the CIRCLE shape is supported: %q", pos)
		}
		circle = strings.Join(f[1:], " ")
		if circle == "" {
			return nil, fmt.Errorf("POS: CIRCLE needs ra dec radius")
		}
	}
	if circle != "" {
		n, err := numbers(circle, 3, 3, false)
		if err != nil {
			return nil, fmt.Errorf("POS: %v", err)
		}
		q.cone, q.ra, q.dec, q.rad = true, n[0], n[1], n[2]
		switch {
		case q.ra < 0 || q.ra >= 360:
			return nil, fmt.Errorf("POS: ra %v is not in [0, 360)", q.ra)
		case q.dec < -90 || q.dec > 90:
			return nil, fmt.Errorf("POS: dec %v is not in [-90, 90]", q.dec)
		case q.rad <= 0 || q.rad > 0.1667:
			return nil, fmt.Errorf("POS: radius %v is not in (0, 0.1667] degrees", q.rad)
		}
	}
	switch {
	case len(q.ids) > 0 && q.cone:
		return nil, fmt.Errorf("ID cannot be combined with POS or CIRCLE")
	case len(q.ids) == 0 && !q.cone:
		return nil, fmt.Errorf("the query must select objects: give ID or POS")
	}
	if len(q.ids) > 0 {
		for _, k := range []string{"BAND", "BANDNAME", "NOBS_MIN", "MAG"} {
			if v.Get(k) != "" {
				return nil, fmt.Errorf("ID cannot be combined with %s", k)
			}
		}
	}
	if b := v.Get("BANDNAME"); b != "" {
		for _, p := range strings.Split(b, ",") {
			switch strings.TrimSpace(p) {
			case "g", "1":
				q.bands = append(q.bands, 'g')
			case "r", "2":
				q.bands = append(q.bands, 'r')
			case "i", "3":
				q.bands = append(q.bands, 'i')
			default:
				return nil, fmt.Errorf("BANDNAME: %q is not g, r, i (or 1, 2, 3)", p)
			}
		}
	}
	if b := v.Get("BAND"); b != "" {
		n, err := numbers(b, 1, 2, true)
		if err != nil {
			return nil, fmt.Errorf("BAND: %v", err)
		}
		q.hasBand, q.band = true, [2]float64{n[0], n[len(n)-1]}
	}
	if m := v.Get("MAG"); m != "" {
		n, err := numbers(m, 2, 2, true)
		if err != nil {
			return nil, fmt.Errorf("MAG: %v", err)
		}
		q.hasMag, q.mag = true, [2]float64{n[0], n[1]}
	}
	if nm := v.Get("NOBS_MIN"); nm != "" {
		n, err := strconv.Atoi(nm)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("NOBS_MIN: %q is not a count", nm)
		}
		q.nobsMin = n
	}
	if t := v.Get("TIME"); t != "" {
		n, err := numbers(t, 1, 2, true)
		if err != nil {
			return nil, fmt.Errorf("TIME: %v", err)
		}
		q.hasTime, q.time = true, [2]float64{n[0], n[len(n)-1]}
		if q.time[0] > q.time[1] {
			return nil, fmt.Errorf("TIME: %v is after %v", q.time[0], q.time[1])
		}
	}
	if m := v.Get("BAD_CATFLAGS_MASK"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("BAD_CATFLAGS_MASK: %q is not a 16-bit mask", m)
		}
		q.mask = n
	}
	if c := v.Get("COLLECTION"); c != "" {
		i := slices.Index(s.opts.Collections, c)
		if i < 0 {
			return nil, fmt.Errorf("COLLECTION: %q is not available (available: %s)", c, strings.Join(s.opts.Collections, ", "))
		}
		q.collection = i
	}
	q.format = strings.ToLower(v.Get("FORMAT"))
	switch q.format {
	case "":
		q.format, q.formatDefault = "votable", true
	case "csv", "tsv", "ipac_table", "votable":
	case "html":
		return nil, fmt.Errorf("FORMAT: HTML is not simulated (use csv, tsv, ipac_table or votable)")
	default:
		return nil, fmt.Errorf("FORMAT: %q is not VOTABLE, IPAC_TABLE, HTML, CSV or TSV", v.Get("FORMAT"))
	}
	return q, nil
}

// filterWave is each filter's wavelength range in metres.
var filterWave = map[byte][2]float64{'g': {4.1e-7, 5.5e-7}, 'r': {5.6e-7, 7.3e-7}, 'i': {7.0e-7, 8.9e-7}}

func (s *Server) lightCurves(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q, err := s.parseLC(r.URL.Query())
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(s.opts.InvalidStatus)
		fmt.Fprintf(w, "ERROR: %v\n", err)
		return
	}
	var objs []object
	if q.cone {
		if s.opts.HasData(q.ra, q.dec) {
			objs = s.remember(newStar(q.ra, q.dec))
		}
	} else {
		s.mu.Lock()
		stars := map[int64]star{}
		for _, id := range q.ids {
			if st, ok := s.stars[id]; ok {
				stars[id] = st
			}
		}
		s.mu.Unlock()
		for id, st := range stars {
			for _, o := range s.objects(st) {
				if o.oid == id {
					objs = append(objs, o)
				}
			}
		}
	}
	last := lastMJD - 120*float64(len(s.opts.Collections)-1-q.collection)
	var rows []lcPoint
	for i := range objs {
		o := &objs[i]
		if len(q.bands) > 0 && !slices.Contains(q.bands, o.filter) {
			continue
		}
		if q.hasBand {
			wr := filterWave[o.filter]
			if q.band[1] < wr[0] || q.band[0] > wr[1] {
				continue
			}
		}
		if q.hasMag && (o.median < q.mag[0] || o.median > q.mag[1]) {
			continue
		}
		if o.n < q.nobsMin {
			continue
		}
		for _, p := range o.points(last) {
			if q.hasTime && (p.mjd < q.time[0] || p.mjd > q.time[1]) {
				continue
			}
			if p.catflags&q.mask != 0 {
				continue
			}
			rows = append(rows, p)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].o.oid != rows[j].o.oid {
			return rows[i].o.oid < rows[j].o.oid
		}
		return rows[i].mjd < rows[j].mjd
	})
	cells := make([][]string, len(rows))
	for i, p := range rows {
		cells[i] = p.cells()
	}
	var body []byte
	ct := "text/plain; charset=utf-8"
	switch q.format {
	case "csv":
		body, ct = delimited(cells, ","), "text/csv; charset=utf-8"
	case "tsv":
		body, ct = delimited(cells, "\t"), "text/tab-separated-values; charset=utf-8"
	case "ipac_table":
		body = ipacTable(cells)
	default:
		body, ct = voTable(cells, s.opts.Collections[q.collection]), "text/xml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// cells renders a point as the 24 column values.
func (p lcPoint) cells() []string {
	o := p.o
	f := func(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	r := func(salt uint64) float64 { return frac(uint64(o.oid), uint64(p.k), salt) }
	t := mjdTime(p.mjd)
	day := t.Format("20060102")
	fracDay := (p.mjd - math.Floor(p.mjd)) * 1e6
	hjd := p.mjd + 2400000.5 + 15.0/86400 + 0.0044*math.Cos(2*math.Pi*(p.mjd-58300)/365.25)
	programid := 1
	if p.k%3 == 2 {
		programid = 2
	}
	return []string{
		strconv.FormatInt(o.oid, 10),
		strconv.FormatInt(int64(math.Floor((p.mjd-57754)*1e5)), 10),
		f(hjd, 9), f(p.mjd, 9), f(p.mag, 7), f(p.magerr, 10),
		strconv.Itoa(p.catflags), "z" + string(o.filter),
		strconv.FormatFloat(p.ra, 'f', -1, 64), strconv.FormatFloat(p.dec, 'f', -1, 64),
		f(0.6+0.9*r(6), 7), f((r(7)-0.5)*0.1, 7),
		day + fmt.Sprintf("%06d", int(fracDay)),
		strconv.Itoa(o.field), strconv.Itoa(o.ccd), strconv.Itoa(o.q),
		f(20+r(8), 7), f(26+0.3*r(9), 7), f(0.02+0.02*r(10), 7),
		f(map[byte]float64{'g': -0.09, 'r': 0.11, 'i': 0.19}[o.filter]+0.03*(r(11)-0.5), 7),
		strconv.FormatFloat(2e-5+4e-5*r(12), 'e', 6, 64),
		"30.0", f(1+0.6*r(13), 7), strconv.Itoa(programid),
	}
}

func mjdTime(mjd float64) time.Time {
	return time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC).Add(time.Duration(mjd * 86400 * float64(time.Second)))
}

func delimited(rows [][]string, sep string) []byte {
	var b bytes.Buffer
	for i, c := range lcColumns {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(c.name)
	}
	b.WriteByte('\n')
	for _, r := range rows {
		b.WriteString(strings.Join(r, sep))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ipacTable renders rows as an IPAC table: keywords, the four header
// lines, fixed-width rows aligned under the header cells.
func ipacTable(rows [][]string) []byte {
	width := make([]int, len(lcColumns))
	for i, c := range lcColumns {
		width[i] = max(len(c.name), len(c.typ), len(c.unit), len("null"))
		for _, r := range rows {
			width[i] = max(width[i], len(r[i]))
		}
	}
	var b bytes.Buffer
	b.WriteString("\\fixlen = T\n")
	fmt.Fprintf(&b, "\\RowsRetrieved = %d\n", len(rows))
	for _, line := range []func(int) string{
		func(i int) string { return lcColumns[i].name },
		func(i int) string { return lcColumns[i].typ },
		func(i int) string { return lcColumns[i].unit },
		func(int) string { return "null" },
	} {
		for i := range lcColumns {
			fmt.Fprintf(&b, "|%*s", width[i], line(i))
		}
		b.WriteString("|\n")
	}
	for _, r := range rows {
		for i, v := range r {
			fmt.Fprintf(&b, " %*s", width[i], v)
		}
		b.WriteString(" \n")
	}
	return b.Bytes()
}

// voTable renders rows as a VOTable with TABLEDATA (IRSA's default).
func voTable(rows [][]string, collection string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<VOTABLE version="1.3" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">` + "\n")
	fmt.Fprintf(&b, "<RESOURCE type=\"results\">\n<DESCRIPTION>ZTF light curves for %s</DESCRIPTION>\n<TABLE>\n", collection)
	for _, c := range lcColumns {
		dt := c.typ
		if dt == "char" {
			dt = `char" arraysize="*`
		}
		fmt.Fprintf(&b, `<FIELD name="%s" datatype="%s"`, c.name, dt)
		if c.unit != "" {
			fmt.Fprintf(&b, ` unit="%s"`, c.unit)
		}
		b.WriteString("/>\n")
	}
	b.WriteString("<DATA><TABLEDATA>\n")
	for _, r := range rows {
		b.WriteString("<TR>")
		for _, v := range r {
			b.WriteString("<TD>")
			xml.EscapeText(&b, []byte(v))
			b.WriteString("</TD>")
		}
		b.WriteString("</TR>\n")
	}
	b.WriteString("</TABLEDATA></DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n")
	return b.Bytes()
}
