package alercetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
)

type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

func get(t *testing.T, sim *alercetest.Server, u string) answer {
	t.Helper()
	c := sim.Client()
	c.Timeout = 2 * time.Second
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(u)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func TestV1Objects(t *testing.T) {
	sim := alercetest.NewServer(t, nil)
	u := sim.URLs().ZTF
	obj, ok := sim.ObjectAt(alerce.SurveyZTF, 150, 2)
	require.True(t, ok)

	a := get(t, sim, u+"/objects/?ra=150&dec=2&radius=10")
	require.Equal(t, 200, a.status, a.body)
	var page struct {
		Total   *int `json:"total"`
		HasNext bool `json:"has_next"`
		Items   []struct {
			OID      string `json:"oid"`
			NDetHist any    `json:"ndethist"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &page))
	assert.Nil(t, page.Total, "total is null without count")
	assert.False(t, page.HasNext)
	require.Len(t, page.Items, 2, "the transient and its neighbour 8″ north")
	assert.NotEqual(t, obj.OID, page.Items[1].OID, "not sorted by distance here")
	assert.IsType(t, "", page.Items[0].NDetHist, "ndethist is a string")

	a = get(t, sim, u+"/objects/?ra=150&dec=2&radius=10&count=true&page_size=1")
	require.NoError(t, json.Unmarshal([]byte(a.body), &page))
	require.NotNil(t, page.Total)
	assert.Equal(t, 2, *page.Total)
	assert.True(t, page.HasNext)
	assert.Len(t, page.Items, 1)

	a = get(t, sim, u+"/objects/?ra=150&dec=2")
	require.NoError(t, json.Unmarshal([]byte(a.body), &page))
	assert.Len(t, page.Items, 2, "the default radius is 30 arcsec")

	// The quirk, and the switch that fixes it.
	a = get(t, sim, u+"/objects/?ra=0.0&dec=2&radius=2")
	assert.Contains(t, a.body, alercetest.SampleOID, "a cone at RA 0 is ignored")
	fixed := alercetest.NewServer(t, &alercetest.Options{FixZeroCoordinates: true})
	a = get(t, fixed, fixed.URLs().ZTF+"/objects/?ra=0.0&dec=2&radius=2")
	assert.NotContains(t, a.body, alercetest.SampleOID)
	assert.Contains(t, a.body, `"oid": "ZTF`)

	a = get(t, sim, u+"/objects/?oid="+obj.OID)
	assert.Contains(t, a.body, obj.OID)
	a = get(t, sim, u+"/objects/"+obj.OID)
	assert.Equal(t, 200, a.status)
	assert.NotContains(t, a.body, `"class"`, "the single object has no classification fields")
	for path, status := range map[string]int{
		"/objects/ZTF18zzzzzzz":                                   404,
		"/objects/ZTF18zzzzzzz/lightcurve":                        404,
		"/objects/?order_by=colour":                               400,
		"/objects/?ra=abc&dec=1":                                  400,
		"/objects/" + obj.OID + "/features":                       404,
		"/objects/" + obj.OID + "/lightcurve?survey_id=panstarrs": 400,
	} {
		a := get(t, sim, u+path)
		assert.Equal(t, status, a.status, path)
		assert.True(t, json.Valid([]byte(a.body)), "%s: %s", path, a.body)
	}
}

func TestV1LightCurve(t *testing.T) {
	sim := alercetest.NewServer(t, nil)
	u := sim.URLs().ZTF
	obj, _ := sim.ObjectAt(alerce.SurveyZTF, 150, 2)
	a := get(t, sim, u+"/objects/"+obj.OID+"/lightcurve")
	require.Equal(t, 200, a.status)
	var lc struct {
		Detections    []map[string]any `json:"detections"`
		NonDetections []map[string]any `json:"non_detections"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &lc))
	assert.Len(t, lc.Detections, 25)
	assert.Len(t, lc.NonDetections, 13)
	assert.NotContains(t, a.body, "null", "skip_none: null attributes are left out")
	pids := map[float64]int{}
	negative, sentinel := 0, 0
	for _, d := range lc.Detections {
		pids[d["pid"].(float64)]++
		if d["isdiffpos"].(float64) < 0 {
			negative++
		}
		if d["sigmapsf_corr"].(float64) == 100 {
			sentinel++
		}
		assert.IsType(t, "", d["candid"], "candid is a string")
	}
	assert.Len(t, pids, 24, "one exposure is listed twice")
	assert.Equal(t, 1, negative)
	assert.Equal(t, 25, sentinel)

	det := get(t, sim, u+"/objects/"+obj.OID+"/detections")
	non := get(t, sim, u+"/objects/"+obj.OID+"/non_detections")
	assert.Equal(t, a.body, `{"detections": `+det.body+`, "non_detections": `+non.body+`}`)

	// The sample object answers the real bytes.
	a = get(t, sim, u+"/objects/"+alercetest.SampleOID+"/lightcurve")
	real, err := os.ReadFile("data/ztf20aaelulu_lightcurve.json")
	require.NoError(t, err)
	assert.Equal(t, string(real), a.body)

	sim.SetEmpty(true)
	a = get(t, sim, u+"/objects/"+obj.OID+"/lightcurve")
	assert.Equal(t, `{"detections": [], "non_detections": []}`, a.body)
}

func TestV2ForcedPhotometry(t *testing.T) {
	sim := alercetest.NewServer(t, nil)
	u := sim.URLs().LightCurve
	obj, _ := sim.ObjectAt(alerce.SurveyZTF, 150, 2)
	a := get(t, sim, u+"/forced-photometry/"+obj.OID+"?survey_id=ztf")
	require.Equal(t, 200, a.status)
	var rows []struct {
		Mag         float64 `json:"mag"`
		EMag        float64 `json:"e_mag"`
		IsDiffPos   int     `json:"isdiffpos"`
		ExtraFields struct {
			Procstatus string `json:"procstatus"`
		} `json:"extra_fields"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &rows))
	require.Len(t, rows, 36)
	minSNR, maxSNR, neg := 1e9, 0.0, 0
	status := map[string]int{}
	for _, r := range rows {
		status[r.ExtraFields.Procstatus]++
		if r.EMag >= 100 {
			continue
		}
		snr := 1.0857 / r.EMag
		minSNR, maxSNR = min(minSNR, snr), max(maxSNR, snr)
		if r.IsDiffPos < 0 {
			neg++
		}
	}
	assert.Less(t, minSNR, 0.5)
	assert.Greater(t, maxSNR, 40.0)
	assert.Positive(t, neg)
	assert.Equal(t, map[string]int{"0": 34, "56": 1, "57": 1}, status)

	assert.Equal(t, "[]", get(t, sim, u+"/forced-photometry/ZTF18zzzzzzz?survey_id=ztf").body, "unknown: an empty list")
	assert.Equal(t, "[]", get(t, sim, u+"/forced-photometry/"+alercetest.SampleOID).body, "2020: before forced photometry in alerts")
	a = get(t, sim, u+"/forced-photometry/"+obj.OID+"?survey_id=lsst")
	assert.Equal(t, 400, a.status)
	assert.Contains(t, a.body, `"detail"`)
}

func TestMultisurvey(t *testing.T) {
	sim := alercetest.NewServer(t, nil)
	u := sim.URLs().Multisurvey + "/lightcurve_api"
	a := get(t, sim, u+"/conesearch/objects_by_coordinates?ra=150&dec=2&radius=0.001&neighbors=5")
	require.Equal(t, 200, a.status, a.body)
	var hits []struct {
		ObjectID string  `json:"objectId"`
		SurveyID string  `json:"survey_id"`
		RA       float64 `json:"ra"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &hits))
	require.Len(t, hits, 2, "3.6″: the ZTF and the LSST transient, not the neighbour")
	lsst := hits[0]
	if lsst.SurveyID != "lsst" {
		lsst = hits[1]
	}
	assert.Equal(t, "lsst", lsst.SurveyID)
	assert.True(t, alerce.ValidLSSTID(lsst.ObjectID))

	oid := lsst.ObjectID
	count := func(body string) int {
		var rows []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(body), &rows), body)
		return len(rows)
	}
	assert.Equal(t, 10, count(get(t, sim, u+"/forced-photometry?survey_id=lsst&oid="+oid).body), "the LIMIT 10 bug")
	assert.Equal(t, 64, count(get(t, sim, u+"/forced-photometry?survey_id=lsst&oid="+oid+"&oid="+oid).body))
	assert.Equal(t, 52, count(get(t, sim, u+"/detections?survey_id=lsst&oid="+oid).body))
	assert.Equal(t, 0, count(get(t, sim, u+"/non_detections?survey_id=lsst&oid="+oid).body))
	assert.Equal(t, 0, count(get(t, sim, u+"/detections?survey_id=lsst&oid=12345").body), "unknown: an empty list")
	a = get(t, sim, u+"/detections?survey_id=lsst&oid="+oid)
	assert.Contains(t, a.body, `"oid": `+oid+`,`, "the oid is a JSON number, above 2^53")
	assert.Contains(t, a.body, `"band_map": {"6": "u"`)

	a = get(t, sim, u+"/lightcurve?survey_id=lsst&oid="+oid)
	var lc map[string][]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(a.body), &lc))
	assert.Len(t, lc["forced_photometry"], 10)
	assert.Len(t, lc["detections"], 52)

	for path, c := range map[string]struct {
		status int
		body   string
	}{
		"/detections?oid=1":                                                    {422, `"missing"`},
		"/detections?survey_id=lsst":                                           {422, `"oid"`},
		"/detections?survey_id=atlas&oid=1":                                    {400, "Invalid survey ID 'atlas'. Allowed surveys are: ztf, lsst"},
		"/detections?survey_id=ztf&oid=ZTF20aaelulu":                           {500, "An error occurred"},
		"/forced-photometry?survey_id=ztf&oid=ZTF20aaelulu":                    {400, "Survey not supported ztf"},
		"/detections?survey_id=lsst&oid=ZTF20aaelulu":                          {422, "int_parsing"},
		"/conesearch/objects_by_coordinates?ra=400&dec=0&radius=1&neighbors=1": {400, "RA must be"},
		"/conesearch/objects_by_coordinates?ra=1&dec=0&radius=1":               {422, "neighbors"},
		"/features?survey_id=lsst&oid=1":                                       {404, "Not Found"},
	} {
		a := get(t, sim, u+path)
		assert.Equal(t, c.status, a.status, path)
		assert.Contains(t, a.body, c.body, path)
	}

	fixed := alercetest.NewServer(t, &alercetest.Options{FixLimitBug: true})
	fixed.ObjectAt(alerce.SurveyLSST, 150, 2)
	assert.Equal(t, 64, count(get(t, fixed, fixed.URLs().Multisurvey+"/lightcurve_api/forced-photometry?survey_id=lsst&oid="+oid).body))
}

func TestFaults(t *testing.T) {
	sim := alercetest.Start(nil)
	defer sim.Close()
	u := sim.URLs().ZTF + "/objects/" + alercetest.SampleOID + "/lightcurve"
	fp := sim.URLs().LightCurve + "/forced-photometry/" + alercetest.SampleOID

	sim.Inject(alercetest.Fault{Endpoint: alercetest.EndpointLightCurve, Status: 502, Times: 2})
	for range 2 {
		a := get(t, sim, u)
		assert.Equal(t, 502, a.status)
		assert.Contains(t, a.body, "<h1>502 Bad Gateway</h1>")
	}
	assert.Equal(t, 200, get(t, sim, u).status, "Times 2: the third request is answered")

	sim.Inject(alercetest.Fault{Endpoint: alercetest.EndpointForcedPhotometry, Status: 500})
	assert.Equal(t, 200, get(t, sim, u).status, "another endpoint's fault")
	a := get(t, sim, fp)
	assert.Equal(t, 500, a.status)
	assert.JSONEq(t, `{"detail": "An error occurred"}`, a.body)

	sim.Inject(alercetest.Fault{Status: 503, RetryAfter: 1500 * time.Millisecond, Body: "busy"})
	a = get(t, sim, fp)
	assert.Equal(t, 503, a.status)
	assert.Equal(t, "2", a.header.Get("Retry-After"))
	assert.Equal(t, "busy", a.body)

	sim.ThrottleNext(3 * time.Second)
	a = get(t, sim, u)
	assert.Equal(t, 429, a.status)
	assert.Equal(t, "3", a.header.Get("Retry-After"))

	whole := get(t, sim, u).body
	sim.Inject(alercetest.Fault{Endpoint: alercetest.EndpointLightCurve, Truncate: true, Reset: true})
	a = get(t, sim, u)
	require.Error(t, a.err, "the body breaks off")
	assert.True(t, a.err == io.ErrUnexpectedEOF || strings.Contains(a.err.Error(), "EOF"), "%v", a.err)

	sim.Inject(alercetest.Fault{Endpoint: alercetest.EndpointLightCurve, Truncate: true})
	a = get(t, sim, u)
	require.NoError(t, a.err, "cut on the server: a whole answer")
	assert.Equal(t, 200, a.status)
	assert.Less(t, len(a.body), len(whole))
	assert.True(t, strings.HasPrefix(whole, a.body))
	assert.False(t, json.Valid([]byte(a.body)))

	// Twice: net/http sends a GET again by itself when a reused
	// connection drops it.
	sim.Inject(alercetest.Fault{Reset: true, Times: 2})
	a = get(t, sim, u)
	assert.Error(t, a.err, "no answer")
	sim.ClearFaults()

	sim.Inject(alercetest.Fault{Delay: 50 * time.Millisecond})
	start := time.Now()
	assert.Equal(t, 200, get(t, sim, u).status)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	sim.Inject(alercetest.Fault{Status: 500, Times: 5})
	sim.ClearFaults()
	assert.Equal(t, 200, get(t, sim, u).status)

	before := sim.Requests(alercetest.EndpointLightCurve)
	get(t, sim, u)
	assert.Equal(t, before+1, sim.Requests(alercetest.EndpointLightCurve))
	assert.Equal(t, sim.Requests(alercetest.EndpointAny), sim.Requests(alercetest.EndpointLightCurve)+sim.Requests(alercetest.EndpointForcedPhotometry))

	// The official client's double slash: counted and redirected.
	a = get(t, sim, sim.URLs().ZTF+"//objects/"+alercetest.SampleOID+"/lightcurve")
	assert.Equal(t, http.StatusPermanentRedirect, a.status)
	assert.Equal(t, "/ztf/v1/objects/"+alercetest.SampleOID+"/lightcurve", a.header.Get("Location"))
	assert.Equal(t, 1, sim.DoubleSlashes())
}

// TestAddEpochs: new epochs come after the last, one detection and one
// forced point per ZTF band and one forced source per LSST band each, and
// every row served before is served again unchanged.
func TestAddEpochs(t *testing.T) {
	sim := alercetest.NewServer(t, &alercetest.Options{FixLimitBug: true})
	ztf, ok := sim.ObjectAt(alerce.SurveyZTF, 150, 2)
	require.True(t, ok)
	lsst, ok := sim.ObjectAt(alerce.SurveyLSST, 150, 2)
	require.True(t, ok)
	urls := sim.URLs()
	lists := func() map[string][]string {
		out := map[string][]string{}
		for name, u := range map[string]string{
			"ztf":    urls.ZTF + "/objects/" + ztf.OID + "/lightcurve",
			"ztf fp": urls.LightCurve + "/forced-photometry/" + ztf.OID + "?survey_id=ztf",
			"lsst":   urls.Multisurvey + "/lightcurve_api/lightcurve?survey_id=lsst&oid=" + lsst.OID,
		} {
			a := get(t, sim, u)
			require.Equal(t, 200, a.status, a.body)
			var lc map[string][]json.RawMessage
			if name == "ztf fp" {
				var rows []json.RawMessage
				require.NoError(t, json.Unmarshal([]byte(a.body), &rows))
				lc = map[string][]json.RawMessage{"forced_photometry": rows}
			} else {
				require.NoError(t, json.Unmarshal([]byte(a.body), &lc))
			}
			for kind, rows := range lc {
				for _, r := range rows {
					out[name+" "+kind] = append(out[name+" "+kind], string(r))
				}
			}
		}
		return out
	}
	mjds := func(rows []string) []float64 {
		var out []float64
		for _, r := range rows {
			var row struct{ MJD float64 }
			require.NoError(t, json.Unmarshal([]byte(r), &row))
			out = append(out, row.MJD)
		}
		return out
	}
	before := lists()
	sim.AddEpochs(2)
	after := lists()
	for kind, want := range map[string]int{"ztf detections": 4, "ztf non_detections": 0, "ztf fp forced_photometry": 4,
		"lsst forced_photometry": 8, "lsst non_detections": 0} {
		assert.Len(t, after[kind], len(before[kind])+want, kind)
	}
	assert.Greater(t, len(after["lsst detections"]), len(before["lsst detections"]), "the bright new visits are detected")
	for kind, rows := range before {
		assert.Subset(t, after[kind], rows, "%s: the rows served before are unchanged", kind)
		var added []string
		for _, r := range after[kind] {
			if !slices.Contains(rows, r) {
				added = append(added, r)
			}
		}
		if len(added) > 0 {
			assert.Less(t, slices.Max(mjds(rows)), slices.Min(mjds(added)), "%s: the new epochs come after the last", kind)
		}
	}
	sample := get(t, sim, urls.ZTF+"/objects/"+alercetest.SampleOID+"/lightcurve")
	raw, err := os.ReadFile("data/ztf20aaelulu_lightcurve.json")
	require.NoError(t, err)
	assert.Equal(t, string(raw), sample.body, "the real sample does not change")
}
