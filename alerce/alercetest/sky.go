package alercetest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/tomgo/targetdata/alerce"
)

// SampleOID is the object whose light curve is the real v1 answer of
// shared/services/samples/alerce_ztf20aaelulu_lightcurve.json (6
// detections with one exposure listed twice, 3 non-detections).
const SampleOID = "ZTF20aaelulu"

// SampleRA and SampleDec are the sample object's position.
const (
	SampleRA  = 185.7288549
	SampleDec = 15.8236255
)

//go:embed data/ztf20aaelulu_lightcurve.json
var sampleLightCurve []byte

// Object is a simulated ALeRCE object.
type Object struct {
	// OID is its ALeRCE id (ZTF oid, or LSST diaObjectId as text).
	OID string
	// Survey is "ztf" or "lsst".
	Survey alerce.Survey
	// RA and Dec are its position (degrees).
	RA, Dec float64
}

// object is a simulated object and what its light curve is made from.
type object struct {
	Object
	seed   uint64
	peak   float64 // MJD of maximum light (UTC for ZTF, TAI for LSST)
	mpeak  float64 // g magnitude at maximum
	sample bool
}

// arcsec is one arcsecond in degrees.
const arcsec = 1.0 / 3600

func (s *Server) addSample() {
	s.objects[SampleOID] = &object{Object: Object{OID: SampleOID, Survey: alerce.SurveyZTF, RA: SampleRA, Dec: SampleDec}, sample: true,
		peak: 58859, mpeak: 14.9}
}

// seedOf hashes a position rounded to 1e-5° (0.036″), so that nearby
// cones find the same objects.
func seedOf(ra, dec float64, salt string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%.5f %.5f %s", ra, dec, salt)
	return h.Sum64()
}

// ztfOID makes a ZTF oid from a seed: ZTF + year 18–24 + 7 letters.
func ztfOID(seed uint64) string {
	b := []byte(fmt.Sprintf("ZTF%02d", 18+seed%7))
	seed /= 7
	for range 7 {
		b = append(b, byte('a'+seed%26))
		seed /= 26
	}
	return string(b)
}

// lsstOID makes an odd diaObjectId above 2^53 (not a float64) from a seed.
func lsstOID(seed uint64) string {
	return strconv.FormatUint(169298433191444991+2*(seed%1_000_000_000), 10)
}

func wrapRA(ra float64) float64 {
	ra = math.Mod(ra, 360)
	if ra < 0 {
		ra += 360
	}
	return ra
}

// place registers (once) and returns the objects the sky has near (ra,
// dec): for ZTF the transient and its neighbour 8″ north, for LSST the
// transient.
func (s *Server) place(survey alerce.Survey, ra, dec float64) []*object {
	s.mu.Lock()
	defer s.mu.Unlock()
	cosd := math.Max(math.Cos(dec*math.Pi/180), 1e-6)
	var made []*object
	add := func(o *object) {
		if old, ok := s.objects[o.OID]; ok {
			made = append(made, old)
			return
		}
		s.objects[o.OID] = o
		made = append(made, o)
	}
	switch survey {
	case alerce.SurveyZTF:
		if !s.opts.HasZTF(ra, dec) {
			return nil
		}
		seed := seedOf(ra, dec, "ztf")
		add(&object{Object: Object{OID: ztfOID(seed), Survey: alerce.SurveyZTF, RA: wrapRA(ra + 0.25*arcsec/cosd), Dec: math.Min(90, dec+0.1*arcsec)},
			seed: seed, peak: 60100 + float64(seed%600), mpeak: 16.5 + float64(seed%20)/10})
		nseed := seedOf(ra, dec, "neighbour")
		add(&object{Object: Object{OID: ztfOID(nseed), Survey: alerce.SurveyZTF, RA: wrapRA(ra), Dec: math.Min(90, dec+8*arcsec)},
			seed: nseed, peak: 59500 + float64(nseed%600), mpeak: 18.5})
	case alerce.SurveyLSST:
		if !s.opts.HasLSST(ra, dec) {
			return nil
		}
		seed := seedOf(ra, dec, "lsst")
		add(&object{Object: Object{OID: lsstOID(seed), Survey: alerce.SurveyLSST, RA: wrapRA(ra - 0.2*arcsec/cosd), Dec: math.Max(-90, dec-0.15*arcsec)},
			seed: seed, peak: 61000 + float64(seed%300), mpeak: 20 + float64(seed%15)/10})
	}
	return made
}

// ObjectAt returns the object of survey the simulated sky has at (ra,
// dec) (the transient, not its neighbour), registering it so that it can
// be asked for by id; false when the survey has nothing there.
func (s *Server) ObjectAt(survey alerce.Survey, ra, dec float64) (Object, bool) {
	objs := s.place(survey, ra, dec)
	if len(objs) == 0 {
		return Object{}, false
	}
	return objs[0].Object, true
}

// lookup returns a registered object.
func (s *Server) lookup(oid string) (*object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[oid]
	return o, ok
}

// objectsOf lists the registered objects of a survey sorted by oid.
func (s *Server) objectsOf(survey alerce.Survey) []*object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*object
	for _, o := range s.objects {
		if o.Survey == survey {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OID < out[j].OID })
	return out
}

// separation is the angular distance in arcseconds.
func separation(ra1, dec1, ra2, dec2 float64) float64 {
	rad := math.Pi / 180
	dra, ddec := (ra2-ra1)*rad, (dec2-dec1)*rad
	h := math.Pow(math.Sin(ddec/2), 2) + math.Cos(dec1*rad)*math.Cos(dec2*rad)*math.Pow(math.Sin(dra/2), 2)
	return 2 * math.Asin(math.Sqrt(math.Min(1, h))) / rad * 3600
}

// jobj writes a JSON object with its keys in order, as the real servers
// do.
type jobj struct{ b []byte }

func (o *jobj) add(k string, v any) *jobj {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ", "...)
	}
	key, _ := json.Marshal(k)
	o.b = append(o.b, key...)
	o.b = append(o.b, ": "...)
	switch x := v.(type) {
	case nil:
		o.b = append(o.b, "null"...)
	case json.RawMessage:
		o.b = append(o.b, x...)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			o.b = append(o.b, "null"...) // NotNanFloat
			break
		}
		val, _ := json.Marshal(x)
		o.b = append(o.b, val...)
	default:
		val, err := json.Marshal(x)
		if err != nil {
			panic(err)
		}
		o.b = append(o.b, val...)
	}
	return o
}

func (o *jobj) raw() json.RawMessage {
	if len(o.b) == 0 {
		return json.RawMessage("{}")
	}
	return json.RawMessage(append(o.b, '}'))
}

// round keeps n decimals, as the servers' float32 columns show.
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}

// lightModel is the transient's magnitude in a band t days after maximum
// (fid 1 g, 2 r, LSST bands by letter offset).
func (o *object) magAt(t, bandOffset float64) float64 {
	m := o.mpeak + bandOffset
	if t < 0 {
		return m + 0.5*(t/5)*(t/5)
	}
	return m + 0.035*t
}

// ztfRows are a generated ZTF object's v1 detections and non-detections
// and its v2 forced photometry.
type ztfRows struct {
	detections, nonDetections, forced []json.RawMessage
}

// ztfBandOffset is r − g at the transient.
var ztfBandOffset = map[int]float64{1: 0, 2: -0.2}

func pidOf(mjd float64, fid int) int64 {
	nid := int64(math.Floor(mjd - 58000 + 1100))
	frac := int64((mjd - math.Floor(mjd)) * 1e6)
	return nid*1_000_000_000 + frac*1000 + 15 + int64(fid)*100
}

// exposure is a generated ZTF exposure of the object.
type exposure struct {
	mjd   float64
	fid   int
	pid   int64
	lim   float64
	kind  int // 0 before the rise (non-detection), 1 detection
	n     int
	added bool // a new epoch (Server.AddEpochs): no quirks
}

// ztf generates the object's rows (deterministic): epochs detections per
// band, then added new ones, each from a generator of its own, so that
// adding epochs leaves the earlier rows as they were.
func (o *object) ztf(epochs, added int) ztfRows {
	rng := rand.New(rand.NewPCG(o.seed, 0xa1e7ce))
	var out ztfRows
	var exps []exposure
	for _, fid := range []int{1, 2} {
		for i := range 6 {
			t := -34 + 4*float64(i)
			mjd := round(o.peak+t+0.04*float64(fid)+rng.Float64()*0.01, 8)
			exps = append(exps, exposure{mjd: mjd, fid: fid, pid: pidOf(mjd, fid), lim: round(20.2+rng.Float64()*0.5, 4), n: i})
		}
		for i := range epochs {
			t := -6 + 4*float64(i)
			mjd := round(o.peak+t+0.04*float64(fid)+rng.Float64()*0.01, 8)
			exps = append(exps, exposure{mjd: mjd, fid: fid, pid: pidOf(mjd, fid), lim: round(20.2+rng.Float64()*0.5, 4), kind: 1, n: i})
		}
	}
	sort.SliceStable(exps, func(i, j int) bool { return exps[i].mjd < exps[j].mjd })
	for _, e := range exps {
		o.ztfExposure(&out, rng, e, epochs)
	}
	for i := epochs; i < epochs+added; i++ {
		for _, fid := range []int{1, 2} {
			rng := rand.New(rand.NewPCG(o.seed, uint64(0xadd00000+4*i+fid)))
			t := -6 + 4*float64(i)
			mjd := round(o.peak+t+0.04*float64(fid)+rng.Float64()*0.01, 8)
			e := exposure{mjd: mjd, fid: fid, pid: pidOf(mjd, fid), lim: round(20.2+rng.Float64()*0.5, 4), kind: 1, n: i, added: true}
			o.ztfExposure(&out, rng, e, epochs)
		}
	}
	return out
}

// ztfExposure appends an exposure's rows: a non-detection or a detection,
// and its forced photometry.
func (o *object) ztfExposure(out *ztfRows, rng *rand.Rand, e exposure, epochs int) {
	magnr := o.mpeak + 1.5 // the host under the transient
	t := e.mjd - o.peak
	if e.kind == 0 {
		row := (&jobj{}).add("tid", "ztf").add("mjd", e.mjd).add("fid", e.fid)
		if !(e.fid == 2 && e.n == 1) { // one row without diffmaglim
			row.add("diffmaglim", e.lim)
		}
		out.nonDetections = append(out.nonDetections, row.raw())
		if e.fid == 1 && e.n == 2 { // a non-detection listed twice
			out.nonDetections = append(out.nonDetections, row.raw())
		}
	} else {
		mag := round(o.magAt(t, ztfBandOffset[e.fid])+rng.NormFloat64()*0.02, 6)
		sig := round(0.015+0.08*math.Pow(10, 0.4*(mag-20)), 6)
		sign := 1
		if e.fid == 2 && e.n == epochs-2 && !e.added {
			sign = -1 // the source faded below the reference
		}
		corr := -2.5 * math.Log10(math.Max(math.Pow(10, -0.4*magnr)+float64(sign)*math.Pow(10, -0.4*mag), 1e-30))
		row := func(candidSuffix string, withRFID bool) json.RawMessage {
			r := (&jobj{}).add("tid", "ztf").add("mjd", e.mjd).add("candid", strconv.FormatInt(e.pid, 10)+candidSuffix).
				add("fid", e.fid).add("pid", e.pid).add("diffmaglim", e.lim).add("isdiffpos", sign).
				add("nid", e.pid/1_000_000_000).add("distnr", 0.55).add("magpsf", mag).add("magpsf_corr", round(corr, 6)).
				add("magap", round(mag+0.05, 4)).add("sigmapsf", sig).add("sigmapsf_corr", 100).
				add("sigmapsf_corr_ext", round(sig*0.8+0.005, 6)).add("sigmagap", round(sig+0.003, 4)).
				add("ra", o.RA).add("dec", o.Dec).add("rb", 0.87).add("rbversion", "t17_f5_c3")
			if withRFID {
				r.add("drb", 0.9993).add("rfid", 576120110+int64(e.fid)*100)
			}
			r.add("magapbig", round(mag+0.04, 4)).add("sigmagapbig", round(sig+0.01, 4)).add("has_stamp", true).
				add("corrected", true).add("dubious", sign < 0).add("step_id_corr", "correction_1.0.0").add("phase", 0.0)
			return r.raw()
		}
		if e.fid == 1 && e.n == 2 && !e.added {
			// The same exposure twice, the copy without rfid listed
			// first (spec §6).
			out.detections = append(out.detections, row("025004", false))
		}
		out.detections = append(out.detections, row("015004", true))
	}
	out.forced = append(out.forced, o.forcedRow(rng, e.mjd, e.fid, e.pid, e.lim, t, len(out.forced)))
}

// forcedRow is a v2 forced-photometry row of one exposure: the model's
// flux plus noise, as the pipeline writes it from fp_hists (spec §4.2).
func (o *object) forcedRow(rng *rand.Rand, mjd float64, fid int, pid int64, lim, t float64, i int) json.RawMessage {
	model := 0.0
	if t > -10 {
		model = math.Pow(10, 0.4*(23.9-o.magAt(t, ztfBandOffset[fid])))
	}
	sigma := math.Hypot(3.5, 0.02*model)
	flux := model + sigma*rng.NormFloat64()
	if flux == 0 {
		flux = sigma
	}
	sign := 1
	if flux < 0 {
		sign = -1
	}
	mag := round(23.9-2.5*math.Log10(math.Abs(flux)), 6)
	emag := round(1.0857*sigma/math.Abs(flux), 6)
	status := "0"
	switch i {
	case 3:
		status = "56"
	case 5:
		status = "57"
	case 7:
		emag = 100 // the uncertainty was −99999
	}
	extra := (&jobj{}).add("field", 1733).add("rcid", 40).add("rfid", 576120110+int64(fid)*100).add("sciinpseeing", 2.1).
		add("scibckgnd", 182.3).add("scisigpix", 9.8).add("magzpsci", 26.3).add("magzpsciunc", 1.2e-5).add("magzpscirms", 0.03).
		add("clrcoeff", -0.05).add("clrcounc", 2e-5).add("exptime", 30.0).add("adpctdif1", 0.1).add("adpctdif2", 0.09).
		add("diffmaglim", lim).add("programid", 1).add("procstatus", status).add("distnr", 0.55).add("ranr", o.RA).
		add("decnr", o.Dec).add("magnr", round(o.mpeak+1.5, 3)).add("sigmagnr", 0.03).add("chinr", 1.1).add("sharpnr", 0.01)
	return (&jobj{}).add("candid", o.OID+strconv.FormatInt(pid, 10)).add("tid", "ztf").add("sid", nil).add("aid", nil).
		add("pid", pid).add("oid", o.OID).add("mjd", mjd).add("fid", fid).add("ra", o.RA).add("e_ra", 0.07).
		add("dec", o.Dec).add("e_dec", 0.07).add("mag", mag).add("e_mag", emag).add("mag_corr", nil).add("e_mag_corr", nil).
		add("e_mag_corr_ext", nil).add("isdiffpos", sign).add("corrected", false).add("dubious", false).
		add("parent_candid", nil).add("has_stamp", false).add("extra_fields", extra.raw()).raw()
}

// lsstBands are the simulated LSST bands: code → offset from g.
var lsstBands = []struct {
	code   int
	offset float64
}{{6, 0.6}, {1, 0}, {2, -0.15}, {3, -0.2}}

// lsstBandMap is the multisurvey band_map of LSST rows.
var lsstBandMap = json.RawMessage(`{"6": "u", "1": "g", "2": "r", "3": "i", "4": "z", "5": "y"}`)

// lsstRows are a generated LSST object's diaSources and diaForcedSources,
// newest first as the multisurvey API's queries sort them.
type lsstRows struct {
	detections, forced []json.RawMessage
}

// lsst generates the object's rows (deterministic): epochs + 4 visits
// per band, then added new ones, each from a generator of its own, so
// that adding epochs leaves the earlier rows as they were.
func (o *object) lsst(epochs, added int) lsstRows {
	rng := rand.New(rand.NewPCG(o.seed, 0x1557))
	oid, _ := strconv.ParseInt(o.OID, 10, 64)
	var out lsstRows
	var detMJD, fpMJD []float64
	measurement := int64(313853770024124417) + int64(o.seed%1_000_000)*1000
	visit := func(rng *rand.Rand, bi, i int, base bool) {
		b := lsstBands[bi]
		t := -20 + 4*float64(i)
		mjd := round(o.peak+t+0.01*float64(b.code)+rng.Float64()*0.003, 9)
		model := 0.0
		if t > -10 {
			model = math.Pow(10, (31.4-o.magAt(t, b.offset))/2.5)
		}
		sigma := round(math.Hypot(120, 0.03*model), 3)
		flux := round(model+sigma*rng.NormFloat64(), 3)
		visit := int64(2025060100000) + int64(i)*1000 + int64(b.code)
		id := measurement + 7
		if base {
			measurement = id
		} else {
			id = measurement + 1_000_000_000_000 + int64(i*len(lsstBands)+bi)*10 // apart from the first visits'
		}
		if base && i == 2 && b.code == 2 {
			flux, sigma = 0, 0 // a null flux, replaced by the default 0.0
		}
		fp := (&jobj{}).add("oid", oid).add("measurement_id", id).add("mjd", mjd).add("ra", o.RA).add("dec", o.Dec).
			add("band", b.code).add("band_map", lsstBandMap).add("visit", visit).add("detector", 94).
			add("psfFlux", flux).add("psfFluxErr", sigma).add("scienceFlux", round(flux+5000, 3)).add("scienceFluxErr", sigma).
			add("survey_id", "lsst")
		out.forced = append(out.forced, fp.raw())
		fpMJD = append(fpMJD, mjd)
		negative := base && b.code == 1 && i == epochs+2
		if negative {
			flux = -6 * sigma // a negative difference, detected as such
		}
		if !negative && (sigma == 0 || flux/sigma < 5) {
			return
		}
		id += 3
		if base {
			measurement = id
		}
		det := (&jobj{}).add("oid", oid).add("measurement_id", id).add("mjd", mjd).add("ra", o.RA).add("dec", o.Dec).
			add("band", b.code).add("band_map", lsstBandMap).add("psfFlux", flux).add("psfFluxErr", sigma).
			add("psfFlux_flag", false).add("psfFlux_flag_edge", false).add("psfFlux_flag_noGoodPixels", false).
			add("scienceFlux", round(flux+5000, 3)).add("scienceFluxErr", sigma).add("parentDiaSourceId", -1).
			add("diaObjectId", oid).add("has_stamp", true).add("visit", visit).add("detector", 94).
			add("x", 1021.4).add("y", 2033.9).add("snr", round(flux/sigma, 3)).add("isNegative", negative).
			add("reliability", 0.93).add("extendedness", 0.1).add("timeProcessedMjdTai", round(mjd+0.01, 6)).
			add("timeWithdrawnMjdTai", nil).add("survey_id", "lsst")
		out.detections = append(out.detections, det.raw())
		detMJD = append(detMJD, mjd)
	}
	for bi := range lsstBands {
		for i := range epochs + 4 {
			visit(rng, bi, i, true)
		}
	}
	for i := epochs + 4; i < epochs+4+added; i++ {
		for bi := range lsstBands {
			visit(rand.New(rand.NewPCG(o.seed, uint64(0xadd1557000+8*i+bi))), bi, i, false)
		}
	}
	newestFirst(out.detections, detMJD)
	newestFirst(out.forced, fpMJD)
	return out
}

// newestFirst sorts rows by their mjds, newest first.
func newestFirst(rows []json.RawMessage, mjds []float64) {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return mjds[idx[a]] > mjds[idx[b]] })
	sorted := make([]json.RawMessage, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

// sampleLists returns the sample's detections and non-detections.
func sampleLists() (detections, nonDetections []json.RawMessage) {
	var lc struct {
		Detections    []json.RawMessage `json:"detections"`
		NonDetections []json.RawMessage `json:"non_detections"`
	}
	if err := json.Unmarshal(sampleLightCurve, &lc); err != nil {
		panic("alercetest: the embedded sample is not JSON: " + err.Error())
	}
	return lc.Detections, lc.NonDetections
}
