package alercetest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/alerce"
)

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// v1Error answers as Flask-RESTX does (spec §11: the exact bodies are
// inferred).
func v1Error(w http.ResponseWriter, status int, field, msg string) {
	body := (&jobj{}).add("message", msg)
	if field != "" {
		body = (&jobj{}).add("errors", (&jobj{}).add(field, msg).raw()).add("message", "Input payload validation failed")
	}
	writeJSON(w, status, append(body.raw(), '\n'))
}

// detail answers FastAPI's {"detail": msg}.
func detail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, (&jobj{}).add("detail", msg).raw())
}

// missing answers FastAPI's 422 for a missing query parameter.
func missing(w http.ResponseWriter, name string) {
	writeJSON(w, http.StatusUnprocessableEntity, []byte(fmt.Sprintf(
		`{"detail":[{"type":"missing","loc":["query",%q],"msg":"Field required","input":null}]}`, name)))
}

func (s *Server) isEmpty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.empty
}

func list(rows []json.RawMessage) json.RawMessage {
	if len(rows) == 0 {
		return json.RawMessage("[]")
	}
	var b []byte
	b = append(b, '[')
	for i, r := range rows {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, r...)
	}
	return append(b, ']')
}

// v1Float parses a float parameter; "" is absent.
func v1Float(q url.Values, name string) (float64, bool, error) {
	v := q.Get(name)
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false, fmt.Errorf("could not convert string to float: '%s'", v)
	}
	return f, true, nil
}

var orderBy = []string{"oid", "ndethist", "ncovhist", "mjdstarthist", "mjdendhist", "corrected", "stellar", "ndet",
	"g_r_max", "g_r_max_corr", "g_r_mean", "g_r_mean_corr", "meanra", "meandec", "sigmara", "sigmadec", "deltajd",
	"firstmjd", "lastmjd", "step_id_corr", "object", "classifier_name", "class", "probability", "ranking"}

// v1Objects is GET /objects/ (spec §3.1).
func (s *Server) v1Objects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ra, hasRA, err1 := v1Float(q, "ra")
	dec, hasDec, err2 := v1Float(q, "dec")
	radius, hasRadius, err3 := v1Float(q, "radius")
	for i, err := range []error{err1, err2, err3} {
		if err != nil {
			v1Error(w, http.StatusBadRequest, []string{"ra", "dec", "radius"}[i], err.Error())
			return
		}
	}
	if !hasRadius {
		radius = 30
	}
	page, pageSize := 1, 10
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &page}, {"page_size", &pageSize}} {
		name, dst := p.name, p.dst
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				v1Error(w, http.StatusBadRequest, name, fmt.Sprintf("invalid literal for int() with base 10: '%s'", v))
				return
			}
			*dst = n
		}
	}
	if ob := q.Get("order_by"); ob != "" && !slices.Contains(orderBy, ob) {
		v1Error(w, http.StatusBadRequest, "order_by", fmt.Sprintf("The value '%s' is not a valid choice for 'order_by'.", ob))
		return
	}
	if om := q.Get("order_mode"); om != "" && om != "ASC" && om != "DESC" {
		v1Error(w, http.StatusBadRequest, "order_mode", fmt.Sprintf("The value '%s' is not a valid choice for 'order_mode'.", om))
		return
	}
	count := strings.EqualFold(q.Get("count"), "true") || q.Get("count") == "1"
	var objs []*object
	switch oids := q["oid"]; {
	case len(oids) > 0:
		for _, o := range s.objectsOf(alerce.SurveyZTF) {
			for _, pat := range oids {
				if p, wild := strings.CutSuffix(pat, "*"); (wild && strings.HasPrefix(o.OID, p)) || o.OID == pat {
					objs = append(objs, o)
					break
				}
			}
		}
	// The real server tests "if ra and dec and radius": a 0 drops the
	// cone and the query lists every object (spec §3.1).
	case hasRA && hasDec && (s.opts.FixZeroCoordinates || (ra != 0 && dec != 0)) && radius != 0:
		s.place(alerce.SurveyZTF, ra, dec)
		for _, o := range s.objectsOf(alerce.SurveyZTF) {
			if separation(ra, dec, o.RA, o.Dec) <= radius {
				objs = append(objs, o)
			}
		}
		// Not sorted by distance: by oid, descending.
		sort.Slice(objs, func(i, j int) bool { return objs[i].OID > objs[j].OID })
	default:
		objs = s.objectsOf(alerce.SurveyZTF)
	}
	total := len(objs)
	lo, hi := min((page-1)*pageSize, total), min(page*pageSize, total)
	items := make([]json.RawMessage, 0, hi-lo)
	for _, o := range objs[lo:hi] {
		items = append(items, s.v1Item(o, true))
	}
	ans := &jobj{}
	if count {
		ans.add("total", min(total, 50001)).add("page", page).add("next", nil).add("has_next", hi < total).
			add("prev", nil).add("has_prev", page > 1)
	} else {
		// Without count, total is null and has_next is always false.
		ans.add("total", nil).add("page", page).add("next", nil).add("has_next", false).add("prev", nil).add("has_prev", page > 1)
	}
	ans.add("items", list(items))
	writeJSON(w, http.StatusOK, append(ans.raw(), '\n'))
}

// v1Item is an object as the v1 API marshals it.
func (s *Server) v1Item(o *object, classified bool) json.RawMessage {
	ndet := 58
	if !o.sample {
		ndet = 2*(s.opts.Epochs+s.addedEpochs()) + 1
	}
	it := (&jobj{}).add("oid", o.OID).add("ndethist", strconv.Itoa(ndet+3)).add("ncovhist", ndet+20).
		add("mjdstarthist", round(o.peak-40, 5)).add("mjdendhist", round(o.peak+60, 5)).add("corrected", true).
		add("stellar", false).add("ndet", ndet).add("g_r_max", 0.12).add("g_r_max_corr", 0.1).add("g_r_mean", 0.2).
		add("g_r_mean_corr", 0.18).add("firstmjd", round(o.peak-6, 5)).add("lastmjd", round(o.peak+40, 5)).
		add("deltajd", 46.0).add("meanra", o.RA).add("meandec", o.Dec).add("sigmara", 0.00004).add("sigmadec", 0.00003)
	if classified {
		it.add("class", "SNIa").add("classifier", "lc_classifier").add("probability", 0.61)
	}
	return it.add("step_id_corr", "correction_1.0.0").raw()
}

// v1Object is GET /objects/{oid}.
func (s *Server) v1Object(w http.ResponseWriter, r *http.Request) {
	o, ok := s.lookup(r.PathValue("oid"))
	if !ok || o.Survey != alerce.SurveyZTF {
		v1Error(w, http.StatusNotFound, "", fmt.Sprintf("Object %s not found", r.PathValue("oid")))
		return
	}
	writeJSON(w, http.StatusOK, append(s.v1Item(o, false), '\n'))
}

// v1LightCurve is GET /objects/{oid}/{lightcurve|detections|non_detections}.
func (s *Server) v1LightCurve(w http.ResponseWriter, r *http.Request) {
	which := r.PathValue("list")
	if which != "lightcurve" && which != "detections" && which != "non_detections" {
		v1Error(w, http.StatusNotFound, "", "The requested URL was not found on the server.")
		return
	}
	switch sid := r.URL.Query().Get("survey_id"); sid {
	case "", "ztf", "atlas":
	default:
		v1Error(w, http.StatusBadRequest, "survey_id", fmt.Sprintf("The value '%s' is not a valid choice for 'survey_id'.", sid))
		return
	}
	o, ok := s.lookup(r.PathValue("oid"))
	if !ok || o.Survey != alerce.SurveyZTF {
		v1Error(w, http.StatusNotFound, "", fmt.Sprintf("Object %s not found", r.PathValue("oid")))
		return
	}
	var det, non []json.RawMessage
	switch {
	case s.isEmpty() || r.URL.Query().Get("survey_id") == "atlas":
	case o.sample:
		if which == "lightcurve" {
			writeJSON(w, http.StatusOK, sampleLightCurve)
			return
		}
		det, non = sampleLists()
	default:
		rows := o.ztf(s.opts.Epochs, s.addedEpochs())
		det, non = rows.detections, rows.nonDetections
	}
	switch which {
	case "detections":
		writeJSON(w, http.StatusOK, list(det))
	case "non_detections":
		writeJSON(w, http.StatusOK, list(non))
	default:
		writeJSON(w, http.StatusOK, (&jobj{}).add("detections", list(det)).add("non_detections", list(non)).raw())
	}
}

// v2ForcedPhotometry is GET /forced-photometry/{oid}?survey_id= (spec §4.2).
func (s *Server) v2ForcedPhotometry(w http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("survey_id")
	switch sid {
	case "", "all", "ztf", "atlas":
	default:
		detail(w, http.StatusBadRequest, "Can't retrieve forced photometry survey id not recognized "+sid)
		return
	}
	o, ok := s.lookup(r.PathValue("oid"))
	if !ok || o.Survey != alerce.SurveyZTF || o.sample || sid == "atlas" || s.isEmpty() {
		writeJSON(w, http.StatusOK, []byte("[]")) // ObjectNotFound is caught: an empty list
		return
	}
	writeJSON(w, http.StatusOK, list(o.ztf(s.opts.Epochs, s.addedEpochs()).forced))
}

// msFloat reads a required float parameter of the multisurvey API.
func msFloat(w http.ResponseWriter, q url.Values, name string) (float64, bool) {
	v := q.Get(name)
	if v == "" {
		missing(w, name)
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		writeJSON(w, http.StatusUnprocessableEntity, []byte(fmt.Sprintf(
			`{"detail":[{"type":"float_parsing","loc":["query",%q],"msg":"Input should be a valid number, unable to parse string as a number","input":%q}]}`, name, v)))
		return 0, false
	}
	return f, true
}

// msConeSearch is the multisurvey cone search (spec §3.2): radius in
// degrees, nearest first, objects of every survey.
func (s *Server) msConeSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v [4]float64
	for i, name := range []string{"ra", "dec", "radius", "neighbors"} {
		var ok bool
		if v[i], ok = msFloat(w, q, name); !ok {
			return
		}
	}
	ra, dec, radius, neighbors := v[0], v[1], v[2], int(v[3])
	switch {
	case ra < 0 || ra > 360:
		detail(w, http.StatusBadRequest, "RA must be greater than 0 and lower than 360")
		return
	case dec < -90 || dec > 90:
		detail(w, http.StatusBadRequest, "Dec must be greater than -90 and lower than 90")
		return
	case radius <= 0:
		detail(w, http.StatusBadRequest, "Radius must be greater than 0")
		return
	case neighbors <= 0:
		detail(w, http.StatusBadRequest, "Neighbors must be greater than 0")
		return
	}
	s.place(alerce.SurveyZTF, ra, dec)
	s.place(alerce.SurveyLSST, ra, dec)
	type hit struct {
		o   *object
		sep float64
	}
	var hits []hit
	for _, survey := range []alerce.Survey{alerce.SurveyZTF, alerce.SurveyLSST} {
		for _, o := range s.objectsOf(survey) {
			if sep := separation(ra, dec, o.RA, o.Dec); sep <= radius*3600 {
				hits = append(hits, hit{o, sep})
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].sep < hits[j].sep })
	items := []json.RawMessage{}
	for _, h := range hits[:min(len(hits), neighbors)] {
		items = append(items, (&jobj{}).add("objectId", h.o.OID).add("survey_id", string(h.o.Survey)).
			add("ra", h.o.RA).add("dec", h.o.Dec).raw())
	}
	writeJSON(w, http.StatusOK, list(items))
}

// msLightCurve is /lightcurve_api/{detections|non_detections|
// forced-photometry|lightcurve}?survey_id=&oid= (spec §5).
func (s *Server) msLightCurve(w http.ResponseWriter, r *http.Request) {
	route := r.PathValue("route")
	if !slices.Contains([]string{"detections", "non_detections", "forced-photometry", "lightcurve"}, route) {
		detail(w, http.StatusNotFound, "Not Found")
		return
	}
	q := r.URL.Query()
	sid := q.Get("survey_id")
	if sid == "" {
		missing(w, "survey_id")
		return
	}
	oids := q["oid"]
	if len(oids) == 0 {
		missing(w, "oid")
		return
	}
	switch sid {
	case "lsst":
	case "ztf":
		// The single-object ZTF paths fail on the real server (spec §5.3).
		switch route {
		case "forced-photometry":
			detail(w, http.StatusBadRequest, "Survey not supported ztf")
		case "non_detections":
			writeJSON(w, http.StatusOK, []byte("[]"))
		default:
			detail(w, http.StatusInternalServerError, "An error occurred")
		}
		return
	default:
		detail(w, http.StatusBadRequest, fmt.Sprintf("Invalid survey ID '%s'. Allowed surveys are: ztf, lsst", sid))
		return
	}
	var det, fp []json.RawMessage
	seen := map[string]bool{}
	for _, oid := range oids {
		if _, err := strconv.ParseInt(oid, 10, 64); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, []byte(fmt.Sprintf(
				`{"detail":[{"type":"int_parsing","loc":["query","oid",0],"msg":"Input should be a valid integer, unable to parse string as an integer","input":%q}]}`, oid)))
			return
		}
		if seen[oid] { // oid IN (X, X) gives X's rows once
			continue
		}
		seen[oid] = true
		o, ok := s.lookup(oid)
		if !ok || o.Survey != alerce.SurveyLSST || s.isEmpty() {
			continue
		}
		rows := o.lsst(s.opts.Epochs, s.addedEpochs())
		det, fp = append(det, rows.detections...), append(fp, rows.forced...)
	}
	if len(oids) == 1 && !s.opts.FixLimitBug && len(fp) > 10 {
		fp = fp[:10] // build_query(...).limit(10) on the single-oid path
	}
	switch route {
	case "detections":
		writeJSON(w, http.StatusOK, list(det))
	case "forced-photometry":
		writeJSON(w, http.StatusOK, list(fp))
	case "non_detections":
		writeJSON(w, http.StatusOK, []byte("[]")) // LSST non-detections not implemented yet
	default:
		writeJSON(w, http.StatusOK, (&jobj{}).add("detections", list(det)).add("non_detections", json.RawMessage("[]")).
			add("forced_photometry", list(fp)).raw())
	}
}
