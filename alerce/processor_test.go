package alerce_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/processor/processortest"
)

// sample is the real v1 light curve of ZTF20aaelulu
// (shared/services/samples/alerce_ztf20aaelulu_lightcurve.json).
func sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("alercetest/data/ztf20aaelulu_lightcurve.json")
	require.NoError(t, err)
	return b
}

func process(t *testing.T, p alerce.Processor, input string) []dataproduct.Photometry {
	t.Helper()
	ds, err := p.Process(context.Background(), strings.NewReader(input))
	require.NoError(t, err)
	out := make([]dataproduct.Photometry, len(ds))
	for i, d := range ds {
		out[i] = d.Value.(dataproduct.Photometry)
	}
	return out
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// The samples README: 6 detections with one exposure twice → 5
// detections (g 3, r 2) and 3 limits (19.2005 g, 18.8942 r, 20.6648 r);
// the sigmapsf_corr = 100 sentinel is never used.
func TestProcessorRealSample(t *testing.T) {
	ds, err := alerce.Processor{}.Process(context.Background(), bytes.NewReader(sample(t)))
	require.NoError(t, err)
	require.Len(t, ds, 8)
	type point struct {
		mjd       float64
		filter    string
		mag, err  float64
		limit     float64
		source    string
		telescope string
	}
	var got []point
	for i, d := range ds {
		ph := d.Value.(dataproduct.Photometry)
		assert.Equal(t, dataproduct.TypePhotometry, d.DataType)
		assert.Equal(t, processor.MJDToTime(val(ph.MJD)), d.Timestamp, "datum %d: the timestamp is the row's MJD (UTC)", i)
		if i > 0 {
			assert.False(t, d.Timestamp.Before(ds[i-1].Timestamp), "sorted by time")
		}
		if ph.Magnitude != nil {
			assert.Nil(t, ph.Limit, "a detection is never also a limit")
			assert.Less(t, val(ph.Error), 1.0, "never the sigmapsf_corr = 100 sentinel")
		}
		got = append(got, point{val(ph.MJD), ph.Filter, val(ph.Magnitude), val(ph.Error), val(ph.Limit), d.Source, ph.Telescope})
	}
	nan := math.NaN()
	want := []point{
		{58828.547824100126, "g", nan, nan, 19.2005, "ALERCE", "ZTF"},
		{58834.52370369993, "r", nan, nan, 18.8942, "ALERCE", "ZTF"},
		{58855.54229169991, "r", 17.279879, 0.056197107, nan, "ALERCE", "ZTF"},
		{58859.5222800998, "g", 14.916227, 0.028132094, nan, "ALERCE", "ZTF"},
		{58906.44592589978, "r", 16.5989, 0.042522, nan, "ALERCE", "ZTF"},
		// The exposure listed twice: the row with rfid is kept.
		{58908.3409258998, "g", 17.035381, 0.049207658, nan, "ALERCE", "ZTF"},
		{58964.26945600007, "r", nan, nan, 20.6648, "ALERCE", "ZTF"},
		{58967.22704860009, "g", 18.60753, 0.102947116, nan, "ALERCE", "ZTF"},
	}
	require.Len(t, got, len(want))
	for i := range want {
		g, w := got[i], want[i]
		assert.Equal(t, w.mjd, g.mjd, "row %d", i)
		assert.Equal(t, w.filter, g.filter, "row %d", i)
		for _, c := range [][3]any{{"magnitude", w.mag, g.mag}, {"error", w.err, g.err}, {"limit", w.limit, g.limit}} {
			wv, gv := c[1].(float64), c[2].(float64)
			if math.IsNaN(wv) {
				assert.True(t, math.IsNaN(gv), "row %d: no %s", i, c[0])
			} else {
				assert.Equal(t, wv, gv, "row %d: %s", i, c[0])
			}
		}
		assert.Equal(t, w.source, g.source)
		assert.Equal(t, w.telescope, g.telescope)
	}
	det, lim, bands := 0, 0, map[string]int{}
	for _, p := range got {
		if !math.IsNaN(p.mag) {
			det++
			bands[p.filter]++
		} else {
			lim++
		}
	}
	assert.Equal(t, 5, det)
	assert.Equal(t, 3, lim)
	assert.Equal(t, map[string]int{"g": 3, "r": 2}, bands)
}

func TestProcessorConformance(t *testing.T) {
	good := sample(t)
	// Line 4 of the sample holds the first row's mjd.
	bad := bytes.Replace(good, []byte(`"mjd": 58855.54229169991`), []byte(`"mjd": "yesterday"`), 1)
	require.NotEqual(t, good, bad)
	processortest.Run(t, processortest.Harness{
		Processor:  alerce.Processor{},
		Input:      good,
		WantDatums: 8,
		Bad:        bad,
		BadLine:    4,
		Large:      largeLightCurve(20000),
	})
}

// largeLightCurve is a LightCurve of n ZTF non-detections.
func largeLightCurve(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"survey": "ztf", "oid": "ZTF20aaaaaaa", "detections": [], "non_detections": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"tid": "ztf", "mjd": %v, "fid": %d, "diffmaglim": 20.1}`, 58300+float64(i)*0.01, 1+i%2)
	}
	b.WriteString(`], "forced_photometry": []}`)
	return b.Bytes()
}

func TestProcessorApparentMagnitudes(t *testing.T) {
	// With magnitude_kind apparent, only the detections ALeRCE corrected
	// give a datum: magpsf_corr ± sigmapsf_corr_ext, never the
	// sigmapsf_corr = 100 sentinel.
	b := bytes.Replace(sample(t), []byte(`{`), []byte(`{"processing": {"magnitude_kind": "apparent"},`), 1)
	phs := process(t, alerce.Processor{}, string(b))
	var det []dataproduct.Photometry
	for _, p := range phs {
		if p.Magnitude != nil {
			det = append(det, p)
		}
	}
	require.Len(t, det, 3, "the three corrected g detections (the duplicate pair counts once); the r ones are not corrected")
	assert.Equal(t, []float64{14.601364, 15.716652, 15.996292}, []float64{*det[0].Magnitude, *det[1].Magnitude, *det[2].Magnitude})
	assert.Equal(t, 0.021050232, *det[0].Error)
	for _, p := range det {
		assert.Equal(t, "apparent", p.Extra["magnitude_kind"])
		assert.Less(t, *p.Error, 1.0)
	}
	// The processor's own setting does the same for a file without a
	// processing block.
	phs2 := process(t, alerce.Processor{MagnitudeKind: alerce.MagnitudeApparent}, string(sample(t)))
	assert.Equal(t, phs, phs2)
}

// row builders for the rules tests.
func ztfFile(det, non, fp string) string {
	return fmt.Sprintf(`{"survey": "ztf", "oid": "ZTF20aaaaaaa", "detections": [%s], "non_detections": [%s], "forced_photometry": [%s]}`, det, non, fp)
}

func lsstFile(det, fp string) string {
	return fmt.Sprintf(`{"survey": "lsst", "oid": "169298433191444991", "detections": [%s], "non_detections": [], "forced_photometry": [%s]}`, det, fp)
}

func TestProcessorNegativeDetectionIsNoMagnitude(t *testing.T) {
	phs := process(t, alerce.Processor{}, ztfFile(
		`{"mjd": 60000.1, "fid": 2, "pid": 1, "isdiffpos": -1, "magpsf": 19.0, "sigmapsf": 0.1, "diffmaglim": 20.5}`, "", ""))
	require.Len(t, phs, 1)
	p := phs[0]
	assert.Nil(t, p.Magnitude, "isdiffpos = -1 is not a magnitude")
	require.NotNil(t, p.Limit)
	assert.InDelta(t, 19.0-2.5*math.Log10(5*0.1/1.0857), *p.Limit, 1e-12)
	assert.Equal(t, 5.0, p.LimitSigma)
	assert.InDelta(t, -math.Pow(10, 0.4*(23.9-19)), *p.FluxUJy, 1e-9, "the flux is negative")
	assert.Equal(t, -1, p.Extra["isdiffpos"])
}

func TestProcessorZTFForcedPhotometry(t *testing.T) {
	fp := func(mjd float64, pid int, mag, emag float64, sign int, status string) string {
		return fmt.Sprintf(`{"candid": "ZTF20aaaaaaa%d", "tid": "ztf", "pid": %d, "mjd": %v, "fid": 1, "mag": %v, "e_mag": %v, "isdiffpos": %d, "extra_fields": {"procstatus": %q}}`,
			pid, pid, mjd, mag, emag, sign, status)
	}
	rows := strings.Join([]string{
		fp(60001, 1, 17.5, 1.0857/50, 1, "0"),   // S/N 50: a detection
		fp(60002, 2, 20.9, 1.0857/2, 1, "0"),    // S/N 2: a limit
		fp(60003, 3, 20.0, 1.0857/10, -1, "57"), // negative S/N 10: a limit, flux negative (57 is clean)
		fp(60004, 4, 21.0, 100, 1, "0"),         // e_mag = 100: the sentinel
		fp(60005, 5, 99.0, 0.1, 1, "0"),         // mag = 99: the sentinel
		fp(60006, 6, 18.0, 0.05, 1, "56"),       // procstatus 56: dropped by default
		fp(60001, 1, 17.5, 1.0857/50, 1, "0"),   // the first row again
	}, ",")
	phs := process(t, alerce.Processor{}, ztfFile("", "", rows))
	require.Len(t, phs, 3)
	assert.Equal(t, 17.5, *phs[0].Magnitude)
	assert.InDelta(t, 1.0857/50, *phs[0].Error, 1e-15)
	assert.InDelta(t, math.Pow(10, 0.4*(23.9-17.5)), *phs[0].FluxUJy, 1e-9)
	assert.InDelta(t, *phs[0].FluxUJy/50, *phs[0].FluxErrUJy, 1e-9)
	assert.Nil(t, phs[1].Magnitude)
	assert.InDelta(t, 20.9-2.5*math.Log10(5.0/2), *phs[1].Limit, 1e-12, "limit = mag − 2.5·log10(5·e_mag/1.0857)")
	assert.Nil(t, phs[2].Magnitude, "a negative flux is never a magnitude")
	assert.InDelta(t, 20.0-2.5*math.Log10(5.0/10), *phs[2].Limit, 1e-12)
	assert.Negative(t, *phs[2].FluxUJy)
	for _, p := range phs {
		assert.Equal(t, "forced_photometry", p.Extra["kind"])
		assert.Equal(t, "ZTF", p.Telescope)
	}

	kept := process(t, alerce.Processor{KeepFlagged: true}, ztfFile("", "", rows))
	require.Len(t, kept, 4)
	assert.Equal(t, "56", kept[3].Extra["procstatus"])

	strict := process(t, alerce.Processor{SNRDetect: 60}, ztfFile("", "", rows))
	assert.Nil(t, strict[0].Magnitude, "SNRDetect 60 makes the S/N 50 point a limit")
}

// The worked example of lasair.md §7 holds for ALeRCE's LSST rows: the
// rules and the 31.4 zero point are the same.
func TestProcessorLSST(t *testing.T) {
	src := func(id int64, mjd, flux, err float64, extra string) string {
		return fmt.Sprintf(`{"oid": 169298433191444991, "measurement_id": %d, "mjd": %v, "band": 1, "band_map": {"6": "u", "1": "g", "2": "r", "3": "i", "4": "z", "5": "y"}, "psfFlux": %v, "psfFluxErr": %v, "survey_id": "lsst"%s}`,
			id, mjd, flux, err, extra)
	}
	det := strings.Join([]string{
		src(313853770024124417, 60934.119182507566, 848.316, 153.881, ""),
		src(313853770024124418, 60937.25321089846, -636.984, 122.344, `, "isNegative": true`),
		src(313853770024124419, 60938.1, 900, 100, `, "timeWithdrawnMjdTai": 60940.0`),
		src(313853770024124417, 60934.119182507566, 848.316, 153.881, ""), // sent twice (oid=X&oid=X)
	}, ",")
	fps := strings.Join([]string{
		src(413853770024124417, 60934.119182507566, 700, 150, ""),
		src(413853770024124418, 60935.1, 0, 0, ""), // 0.0 ± 0.0: missing
	}, ",")
	ds, err := alerce.Processor{}.Process(context.Background(), strings.NewReader(lsstFile(det, fps)))
	require.NoError(t, err)
	require.Len(t, ds, 3, "ids 313853770024124417 and …418 are one apart: equal as float64, two datums here")
	first := ds[0].Value.(dataproduct.Photometry)
	assert.Equal(t, "ALERCE", ds[0].Source, "the alert detection sorts before the forced point of the same visit")
	assert.InDelta(t, 24.0786, *first.Magnitude, 5e-5)
	assert.InDelta(t, 0.1969, *first.Error, 5e-5)
	assert.InDelta(t, 0.848316, *first.FluxUJy, 1e-12)
	assert.InDelta(t, 60934.118754, *first.MJD, 1e-6, "TAI − 37 s")
	assert.Equal(t, processor.MJDToTime(60934.119182507566-37.0/86400), ds[0].Timestamp)
	assert.Equal(t, "Rubin", first.Telescope)
	assert.Equal(t, "g", first.Filter)

	forced := ds[1].Value.(dataproduct.Photometry)
	assert.Equal(t, "ALERCE_FP", ds[1].Source)
	assert.Equal(t, ds[0].Timestamp, ds[1].Timestamp, "the same visit in both lists")
	assert.Equal(t, "forced_photometry", forced.Extra["kind"])

	neg := ds[2].Value.(dataproduct.Photometry)
	assert.Nil(t, neg.Magnitude)
	assert.InDelta(t, 24.4336, *neg.Limit, 5e-5)
	assert.InDelta(t, -0.636984, *neg.FluxUJy, 1e-12)

	// The forced point and the alert detection of one visit are two datums
	// in a store.
	store := dataproduct.NewMemoryStore(nil)
	for i := range ds {
		ds[i].TargetID = 1
	}
	res, err := store.AddDatums(context.Background(), dataproduct.Datums(ds))
	require.NoError(t, err)
	assert.Equal(t, 3, res.Added)
}

func TestProcessorInputShapes(t *testing.T) {
	// The v2 forced-photometry answer alone (a bare list).
	v2 := `[{"tid": "ztf", "pid": 7, "mjd": 60001.5, "fid": 2, "mag": 18, "e_mag": 0.05, "isdiffpos": 1, "extra_fields": {"procstatus": "0"}},
	        {"tid": "atlas", "mjd": 60001.6, "fid": 1, "mag": 18, "e_mag": 0.05, "isdiffpos": 1}]`
	phs := process(t, alerce.Processor{}, v2)
	require.Len(t, phs, 1, "ATLAS rows of survey_id=all are skipped")
	assert.Equal(t, "forced_photometry", phs[0].Extra["kind"])
	assert.Equal(t, "r", phs[0].Filter)

	// The v1 detections answer alone; unsorted rows come out sorted.
	v1 := `[{"mjd": 60003, "fid": 1, "magpsf": 18, "sigmapsf": 0.1, "isdiffpos": 1},
	        {"mjd": 60002, "fid": 2, "magpsf": 18.5, "sigmapsf": 0.1, "isdiffpos": "t"}]`
	phs = process(t, alerce.Processor{}, v1)
	require.Len(t, phs, 2)
	assert.Equal(t, 60002.0, *phs[0].MJD)
	assert.Equal(t, "detection", phs[0].Extra["kind"])

	// Tokens JSON does not allow (Flask writes Infinity) are no data.
	inf := ztfFile(`{"mjd": 60003, "fid": 1, "magpsf": 18, "sigmapsf": 0.1, "isdiffpos": 1, "sigmapsf_corr": Infinity, "magap": NaN, "rb": -Infinity, "rbversion": "NaN Infinity"}`, "", "")
	phs = process(t, alerce.Processor{}, inf)
	require.Len(t, phs, 1)
	assert.Equal(t, 18.0, *phs[0].Magnitude)

	// A ZTF row in the multisurvey shape (band, band_map).
	ms := ztfFile(`{"survey_id": "ztf", "mjd": 60003, "band": 3, "band_map": {"1": "g", "2": "r", "3": "i"}, "magpsf": 18, "sigmapsf": 0.1, "isdiffpos": 1}`, "", "")
	phs = process(t, alerce.Processor{}, ms)
	require.Len(t, phs, 1)
	assert.Equal(t, "i", phs[0].Filter)
}

func TestProcessorRefusesWhatIsNotALightCurve(t *testing.T) {
	for name, c := range map[string]struct {
		input  string
		line   int
		column string
		msg    string
	}{
		"empty":          {"", 1, "", "empty"},
		"not JSON":       {"oid,mjd\nZTF20aaelulu,58855\n", 1, "", "not"},
		"HTML":           {"<html><body>502 Bad Gateway</body></html>", 1, "", "not"},
		"no lists":       {`{"oid": "ZTF20aaelulu"}`, 1, "", "no detections"},
		"a number":       {`42`, 1, "", "not an object or a list"},
		"cut short":      {"{\"detections\": [\n{\"mjd\": 58855.5, \"fid\": 1,\n", 3, "", "ends early"},
		"fid as text":    {"{\"detections\": [\n{\"mjd\": 58855.5,\n \"fid\": \"g\"}]}", 3, "fid", "fid"},
		"row not object": {"{\"detections\": [\n42]}", 2, "", "not a JSON object"},
		"mjd too large":  {"{\"detections\": [\n{\"mjd\": 1e12, \"fid\": 1, \"magpsf\": 18}]}", 2, "mjd", ""},
		"bare LSST list": {"[\n{\"mjd\": 60934.1, \"band\": 1, \"psfFlux\": 800, \"psfFluxErr\": 100}]", 2, "", "LSST"},
		"trailing data":  {"{\"detections\": []}\n{}", 2, "", "more data"},
		"bad processing": {`{"processing": {"magnitude_kind": "total"}, "detections": []}`, 1, "processing", "magnitude_kind"},
		"list not list":  {`{"detections": {"mjd": 1}}`, 1, "detections", "not a list"},
		// The line of an error after the first row (the decoder's offsets
		// count from other places than the file's start).
		"syntax error in a later row": {"[" + strings.Repeat("{\"mjd\": 58855.5, \"fid\": 1, \"magpsf\": 18},\n", 3) +
			" {\"mjd\": 58855.6, \"fid\": 1, \"magpsf\": 18 x},\n" + strings.Repeat("{\"mjd\": 58855.5, \"fid\": 1, \"magpsf\": 18},\n", 50) + "{}]", 4, "", "not JSON"},
		"type error in an indented row": {"{\"detections\": [\n  {\n    \"mjd\": 58855.5,\n    \"fid\": 1\n  },\n  {\n    \"mjd\": \"x\",\n    \"fid\": 1\n  }\n]}", 7, "mjd", "mjd"},
		"syntax error in processing":    {"{\"detections\": [{\"mjd\": 58855.5, \"fid\": 1}],\n \"processing\":\n  {\"snr_detect\" 3}}", 3, "", "not JSON"},
		"type error in processing":      {"{\"detections\": [{\"mjd\": 58855.5, \"fid\": 1}],\n \"processing\":   \n\n {\"snr_detect\": \"3\"}}", 4, "snr_detect", "snr_detect"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := alerce.Processor{}.Process(context.Background(), strings.NewReader(c.input))
			var pe *dataproduct.ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, c.line, pe.Line, "%v", err)
			assert.Equal(t, c.column, pe.Column, "%v", err)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}
