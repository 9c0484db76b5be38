package panstarrstest_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
)

const ra, dec = 230.7155, 41.0503

func get(t *testing.T, s *panstarrstest.Server, path string, v url.Values) (int, http.Header, string) {
	t.Helper()
	u := s.URL + path
	if v != nil {
		u += "?" + v.Encode()
	}
	resp, err := s.Client().Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func cone(r float64) url.Values {
	return url.Values{"ra": {"230.7155"}, "dec": {"41.0503"}, "radius": {strconv.FormatFloat(r, 'g', -1, 64)}}
}

func readCSV(t *testing.T, body string) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	header = recs[0]
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

func TestColumnsAndMetadata(t *testing.T) {
	s := panstarrstest.NewServer(t, nil)
	assert.Len(t, panstarrstest.Columns("mean"), 124, "MeanObjectView has 124 columns")
	assert.Len(t, panstarrstest.Columns("stack"), 302, "StackObjectView has 302 columns plus distance")
	det := panstarrstest.Columns("detection")
	var names []string
	for _, c := range det[:22] {
		names = append(names, c.Name)
	}
	assert.Equal(t, "objID,uniquePspsP2id,detectID,ippObjID,ippDetectID,filterID,surveyID,imageID,randomDetID,dvoRegionID,obsTime,xPos,yPos,xPosErr,yPosErr,pltScale,posAngle,ra,dec,raErr,decErr,extNSigma",
		strings.Join(names, ","), "the documented Detection columns, in order")

	for _, path := range []string{"/dr2/mean/metadata", "/dr2/mean/metadata.json"} {
		code, hdr, body := get(t, s, path, nil)
		require.Equal(t, 200, code)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"))
		var meta []map[string]string
		require.NoError(t, json.Unmarshal([]byte(body), &meta))
		require.Len(t, meta, 124)
		assert.Equal(t, "objName", meta[0]["name"])
		assert.Equal(t, "char", meta[0]["type"])
		assert.Equal(t, "NULL", meta[0]["unit"])
		assert.Equal(t, "-999", meta[4]["default_value"])
	}
	assert.Equal(t, 2, s.Hits("dr2/mean/metadata"))
	code, _, _ := get(t, s, "/dr1/detection/metadata", nil)
	assert.Equal(t, 404, code)
}

func TestConeCSV(t *testing.T) {
	s := panstarrstest.NewServer(t, nil)
	code, hdr, body := get(t, s, "/dr2/mean.csv", cone(30.0/3600))
	require.Equal(t, 200, code, body)
	assert.Contains(t, hdr.Get("Content-Type"), "text/csv")
	header, rows := readCSV(t, body)
	assert.Len(t, header, 125)
	assert.Equal(t, "distance", header[124], "a cone search adds distance to the default columns")
	require.NotEmpty(t, rows)
	want := s.Sky().Cone(ra, dec, 30.0/3600)
	require.Len(t, rows, len(want))
	prev := 0.0
	for i, r := range rows {
		d, err := strconv.ParseFloat(r["distance"], 64)
		require.NoError(t, err)
		assert.LessOrEqual(t, d, 30.0/3600, "distance is in degrees")
		assert.GreaterOrEqual(t, d, prev, "nearest first")
		prev = d
		assert.Equal(t, strconv.FormatInt(want[i].ObjID, 10), r["objID"])
		assert.Greater(t, len(r["objID"]), 16, "ids exceed float64 precision")
	}
	// Determinism: the same cone gives the same bytes.
	_, _, again := get(t, s, "/dr2/mean.csv", cone(30.0/3600))
	assert.Equal(t, body, again)
}

func TestColumnSelectionAndConstraints(t *testing.T) {
	s := panstarrstest.NewServer(t, nil)
	v := cone(60.0 / 3600)
	v.Set("columns", "[objID,nDetections,epochMean]")
	_, _, bracket := get(t, s, "/dr2/mean.csv", v)
	v.Del("columns")
	v["columns"] = []string{"objID", "nDetections", "epochMean"}
	_, _, repeated := get(t, s, "/dr2/mean.csv", v)
	assert.Equal(t, bracket, repeated, "both encodings of columns")
	header, rows := readCSV(t, bracket)
	assert.Equal(t, []string{"objID", "nDetections", "epochMean"}, header, "output follows the requested order")
	artifacts := 0
	for _, r := range rows {
		if r["nDetections"] == "1" {
			artifacts++
		}
	}
	require.Positive(t, artifacts, "the sky has one-detection artifacts")

	v.Set("nDetections.min", "2")
	_, _, body := get(t, s, "/dr2/mean.csv", v)
	_, kept := readCSV(t, body)
	assert.Len(t, kept, len(rows)-artifacts, "nDetections.min removes the artifacts")

	v = url.Values{"objID": {rows[0]["objID"], rows[1]["objID"]}, "columns": {"[objID]"}}
	_, _, body = get(t, s, "/dr2/mean.csv", v)
	_, byID := readCSV(t, body)
	assert.Len(t, byID, 2, "a repeated equality constraint means any of")

	v = url.Values{"objID": {rows[0]["objID"]}, "columns": {"[detectID,obsTime,filterID]"}}
	_, _, body = get(t, s, "/dr2/detection.csv", v)
	_, dets := readCSV(t, body)
	require.NotEmpty(t, dets)
	cut := dets[len(dets)/2]["obsTime"]
	v.Set("obsTime.gt", cut)
	_, _, body = get(t, s, "/dr2/detection.csv", v)
	_, late := readCSV(t, body)
	for _, d := range late {
		x, _ := strconv.ParseFloat(d["obsTime"], 64)
		c, _ := strconv.ParseFloat(cut, 64)
		assert.Greater(t, x, c)
	}
	assert.Less(t, len(late), len(dets))
	v.Set("sort_by", "obsTime.desc")
	_, _, body = get(t, s, "/dr2/detection.csv", v)
	_, sorted := readCSV(t, body)
	for i := 1; i < len(sorted); i++ {
		assert.GreaterOrEqual(t, sorted[i-1]["obsTime"], sorted[i]["obsTime"])
	}

	for _, bad := range []url.Values{
		{"ra": {"1"}, "dec": {"2"}, "radius": {"0.01"}, "columns": {"[objID,noSuchColumn]"}},
		{"ra": {"1"}, "dec": {"2"}, "radius": {"0.01"}, "noSuchColumn.min": {"3"}},
		{"ra": {"1"}, "dec": {"2"}, "radius": {"0.6"}},
		{"ra": {"1"}, "dec": {"2"}},
		{"ra": {"x"}, "dec": {"2"}, "radius": {"0.01"}},
		{"nDetections.min": {"2"}},
		{"ra": {"1"}, "dec": {"2"}, "radius": {"0.01"}, "pagesize": {"0"}},
	} {
		code, _, body := get(t, s, "/dr2/mean.csv", bad)
		assert.Equal(t, 422, code, "%v", bad)
		var d struct {
			Detail []struct {
				Msg string `json:"msg"`
			} `json:"detail"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &d))
		assert.NotEmpty(t, d.Detail)
	}
}

func TestPagingAndEmpty(t *testing.T) {
	s := panstarrstest.NewServer(t, nil)
	v := cone(90.0 / 3600)
	v.Set("columns", "[objID]")
	_, _, all := get(t, s, "/dr2/mean.csv", v)
	_, rows := readCSV(t, all)
	require.Greater(t, len(rows), 5)
	v.Set("pagesize", "4")
	var paged []map[string]string
	for page := 1; ; page++ {
		v.Set("page", strconv.Itoa(page))
		code, _, body := get(t, s, "/dr2/mean.csv", v)
		require.Equal(t, 200, code)
		if body == "" {
			break
		}
		_, r := readCSV(t, body)
		assert.LessOrEqual(t, len(r), 4)
		paged = append(paged, r...)
	}
	assert.Equal(t, rows, paged, "pages concatenate to the whole answer")

	s.SetEmpty(true)
	code, _, body := get(t, s, "/dr2/mean.csv", cone(0.01))
	assert.Equal(t, 200, code)
	assert.Empty(t, body, "an empty result is an empty body")
	code, _, body = get(t, s, "/dr2/mean.json", cone(0.01))
	assert.Equal(t, 200, code)
	var js struct {
		Data []any `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &js))
	assert.Empty(t, js.Data)
	s.SetEmpty(false)

	_, _, body = get(t, s, "/dr2/mean.csv", url.Values{"ra": {"10"}, "dec": {"-45"}, "radius": {"0.05"}})
	assert.Empty(t, body, "PS1 did not observe south of -30°")
}

func TestFormatsAndMethods(t *testing.T) {
	s := panstarrstest.NewServer(t, &panstarrstest.Options{BasePath: "/mast/ps1/"})
	assert.True(t, strings.HasSuffix(s.URL, "/mast/ps1"))
	v := cone(20.0 / 3600)
	v.Set("columns", "[objID,objName,raMean,nDetections]")
	_, _, csvBody := get(t, s, "/dr2/stack.csv", v)
	v.Set("format", "csv")
	_, _, viaParam := get(t, s, "/dr2/stack", v)
	assert.Equal(t, csvBody, viaParam, "format= selects the format")
	v.Del("format")
	_, hdr, def := get(t, s, "/dr2/stack", v)
	assert.Equal(t, "application/json", hdr.Get("Content-Type"), "JSON by default")

	var objRows struct {
		Info []map[string]string `json:"info"`
		Data []map[string]any    `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(def), &objRows))
	require.NotEmpty(t, objRows.Data)
	assert.Len(t, objRows.Info, 4)
	_, isString := objRows.Data[0]["objID"].(string)
	assert.True(t, isString, "64-bit ids are strings")

	v.Set("flatten_response", "true")
	v.Set("raw", "true")
	_, _, flat := get(t, s, "/dr2/stack.json", v)
	dec := json.NewDecoder(strings.NewReader(flat))
	dec.UseNumber()
	var arr struct {
		Data [][]any `json:"data"`
	}
	require.NoError(t, dec.Decode(&arr))
	require.Len(t, arr.Data, len(objRows.Data))
	assert.Equal(t, objRows.Data[0]["objID"], string(arr.Data[0][0].(json.Number)), "raw ids are exact numbers")

	// POST with a JSON body and with form fields answer as GET does.
	body := `{"ra": 230.7155, "dec": 41.0503, "radius": ` + strconv.FormatFloat(20.0/3600, 'g', -1, 64) + `, "columns": ["objID","objName","raMean","nDetections"]}`
	resp, err := s.Client().Post(s.URL+"/dr2/stack.csv", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, csvBody, string(b))
	form := cone(20.0 / 3600)
	form.Set("columns", "[objID,objName,raMean,nDetections]")
	resp, err = s.Client().PostForm(s.URL+"/dr2/stack.csv", form)
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, csvBody, string(b))

	code, _, _ := get(t, s, "/dr1/detection.csv", v)
	assert.Equal(t, 404, code, "dr1 has no detection table")
	code, _, _ = get(t, s, "/dr1/forced_mean.csv", v)
	assert.Equal(t, 404, code)
	code, _, _ = get(t, s, "/dr3/mean.csv", v)
	assert.Equal(t, 404, code)
	assert.Equal(t, 0, s.Hits("dr1/detection"), "refused pairs are no endpoint")
}

func TestStackJSONLikeMAST(t *testing.T) {
	s := panstarrstest.NewServer(t, nil)
	_, _, body := get(t, s, "/dr2/stack.json", cone(60.0/3600))
	var res struct {
		Info []map[string]string `json:"info"`
		Data []map[string]any    `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	assert.Len(t, res.Info, 303)
	var primary, secondary, none int
	for _, r := range res.Data {
		switch r["primaryDetection"] {
		case 1.0:
			primary++
		case 0.0:
			secondary++
		}
		if r["pmra"] == "None" {
			none++
		}
		assert.IsType(t, "", r["uniquePspsOBid"])
	}
	assert.Positive(t, primary)
	assert.Positive(t, secondary, "some objects have a second, non-primary stack row")
	assert.Positive(t, none, `missing proper motions are "None"`)
}

func TestFaults(t *testing.T) {
	s := panstarrstest.NewServer(t, nil)
	v := cone(0.01)
	s.Inject(panstarrstest.Fault{Status: 503})
	code, _, _ := get(t, s, "/dr2/mean.csv", v)
	assert.Equal(t, 503, code)
	code, _, _ = get(t, s, "/dr2/mean.csv", v)
	assert.Equal(t, 200, code, "one fault per request")

	s.ThrottleNext(1500 * time.Millisecond)
	code, hdr, _ := get(t, s, "/dr2/mean.csv", v)
	assert.Equal(t, 429, code)
	assert.Equal(t, "2", hdr.Get("Retry-After"), "whole seconds, rounded up")

	s.Inject(panstarrstest.Fault{Endpoint: "dr2/detection", Status: 500})
	code, _, _ = get(t, s, "/dr2/mean.csv", v)
	assert.Equal(t, 200, code, "a fault for another endpoint waits")
	code, _, _ = get(t, s, "/dr2/detection/metadata", nil)
	assert.Equal(t, 200, code)
	code, _, _ = get(t, s, "/dr2/detection.csv", v)
	assert.Equal(t, 500, code)

	s.Inject(panstarrstest.Fault{Truncate: true, Reset: true})
	resp, err := s.Client().Get(s.URL + "/dr2/mean.csv?" + v.Encode())
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "a truncated body: %v", err)

	s.Inject(panstarrstest.Fault{Reset: true})
	_, err = s.Client().Get(s.URL + "/dr2/mean.csv?" + v.Encode())
	assert.Error(t, err, "a dropped connection")

	s.Inject(panstarrstest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/dr2/mean.csv?"+v.Encode(), nil)
	start := time.Now()
	_, err = s.Client().Do(req)
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)

	req, _ = http.NewRequest("GET", s.URL+"/dr2/mean.csv?"+v.Encode(), nil)
	req.AddCookie(&http.Cookie{Name: "mast_token", Value: "tok-123"})
	resp, err = s.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "tok-123", last.Token)
	assert.Equal(t, "dr2/mean", last.Endpoint)
	assert.Equal(t, "csv", last.Format)
	assert.Equal(t, "0.01", last.Params.Get("radius"))
	assert.Equal(t, 200, last.Status)
	assert.Equal(t, len(reqs), s.TotalHits())
	s.Reset()
	assert.Equal(t, 0, s.TotalHits())
	assert.Equal(t, 0, s.Hits("dr2/mean"))
}

func TestSky(t *testing.T) {
	sky := panstarrstest.NewSky(1)
	objs := sky.Cone(ra, dec, 60.0/3600)
	require.NotEmpty(t, objs)
	for _, o := range objs {
		assert.Greater(t, o.ObjID, int64(1)<<53, "ids exceed float64 precision")
		again, ok := sky.Object(o.ObjID)
		require.True(t, ok)
		assert.Equal(t, o.Name, again.Name)
		assert.Equal(t, o.Mag, again.Mag)
		dets := o.Detections()
		assert.Len(t, dets, o.NDetections)
		kinds := map[string]int{}
		for i, d := range dets {
			kinds[d.Kind]++
			if i > 0 {
				assert.GreaterOrEqual(t, d.ObsTime, dets[i-1].ObsTime)
			}
			assert.True(t, d.FilterID >= 1 && d.FilterID <= 5)
			assert.True(t, d.ObsTime > 55000 && d.ObsTime < 57000, "TAI MJD in 2010-2014")
		}
		if o.Artifact {
			assert.Equal(t, 1, o.NDetections)
			continue
		}
		assert.Equal(t, 1, kinds["missing"], "one -999 detection")
		assert.Equal(t, 1, kinds["low"], "one low-S/N detection")
		for b := range 4 {
			assert.Positive(t, o.N[b], "detections in g r i z")
		}
		for b := range 5 {
			usable := false
			for _, d := range dets {
				usable = usable || (d.FilterID == b+1 && d.PSFFlux > 0 && d.PSFFlux >= 3*d.PSFFluxErr)
			}
			assert.Equal(t, usable, o.Mag[b] != -999, "band %d has a mean magnitude iff it has a usable detection", b)
		}
		if o.N[4] == 0 {
			assert.Equal(t, -999.0, o.Mag[4], "no y detections: y mean is -999")
		}
	}
	_, ok := sky.Object(42)
	assert.False(t, ok)
	other := panstarrstest.NewSky(2).Cone(ra, dec, 60.0/3600)
	assert.NotEqual(t, objs[0].Name, other[0].Name, "another seed, another sky")

	// Any 30" cone north of -30° finds something, also at the poles and
	// across RA 0.
	for _, p := range [][2]float64{{0.0001, 0}, {359.9999, 10}, {123.4, 89.99}, {200, -29}, {17.17, 45.45}} {
		assert.NotEmpty(t, sky.Cone(p[0], p[1], 30.0/3600), "cone at %v", p)
	}
	for _, o := range sky.Cone(0.0001, 0, 60.0/3600) {
		assert.LessOrEqual(t, panstarrstest.Separation(0.0001, 0, o.RA, o.Dec), 60.0/3600)
	}
	assert.InDelta(t, 1.0, panstarrstest.Separation(10, 0, 11, 0), 1e-12)
	assert.InDelta(t, 90.0, panstarrstest.Separation(0, 0, 0, 90), 1e-12)
	assert.False(t, math.IsNaN(panstarrstest.Separation(0, 0, 0, 0)))
}

func TestStartAndBasePath(t *testing.T) {
	s := panstarrstest.Start(&panstarrstest.Options{Seed: 3, Latency: time.Millisecond})
	defer s.Close()
	code, _, body := get(t, s, "/dr2/mean.csv", cone(0.01))
	assert.Equal(t, 200, code)
	assert.NotEmpty(t, body)
	resp, err := s.Client().Get(strings.TrimSuffix(s.URL, "/api/v0.1/panstarrs") + "/dr2/mean.csv")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode, "nothing is served outside the base path")
	s.Close()
	assert.Panics(t, func() { panstarrstest.Start(&panstarrstest.Options{BasePath: "/"}) })
}
