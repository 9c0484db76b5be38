package ztftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Batch paths of ZFPS (spec B.2, B.3).
const (
	batchSubmitPath = "/cgi-bin/batchfp.py/submit"
	batchStatusPath = "/cgi-bin/getBatchForcedPhotometryRequests.cgi"
)

// surveyStartJD is the first JD of the survey (2018-03-17).
const surveyStartJD = 2458194.5

// job is one simulated forced-photometry job.
type job struct {
	reqID                   int64
	batch                   bool
	email                   string
	ra, dec, jdStart, jdEnd float64
	created                 time.Time
	started, ended          time.Time
	exit                    int
	hasFile                 bool
	path                    string // under the server root
}

// Job is a simulated job as tests see it.
type Job struct {
	// ReqID is the job's request id (single jobs from 69601, batch
	// positions from 2064101).
	ReqID int64
	// Batch reports a position of a batch submission.
	Batch bool
	// Email is the account that submitted it.
	Email string
	// RA, Dec, JDStart and JDEnd are the request.
	RA, Dec, JDStart, JDEnd float64
	// Created is when it was queued (simulator clock).
	Created time.Time
	// State is "queued", "running" or "done" at the time of the call.
	State string
	// ExitCode is the code the job ends (or ended) with.
	ExitCode int
	// Path is the result file's path on the server ("" when there is none).
	Path string
}

// Jobs returns the jobs of the account email (all accounts when empty),
// in submission order.
func (s *Server) Jobs(email string) []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []Job
	for _, j := range s.jobs {
		if email != "" && j.email != email {
			continue
		}
		out = append(out, Job{ReqID: j.reqID, Batch: j.batch, Email: j.email, RA: j.ra, Dec: j.dec, JDStart: j.jdStart,
			JDEnd: j.jdEnd, Created: j.created, State: j.state(now), ExitCode: j.exit, Path: j.pathIf()})
	}
	return out
}

func (j *job) state(now time.Time) string {
	switch {
	case !now.Before(j.ended):
		return "done"
	case !now.Before(j.started):
		return "running"
	}
	return "queued"
}

func (j *job) pathIf() string {
	if j.hasFile {
		return j.path
	}
	return ""
}

// htmlPage writes an HTML page (status 200 unless given).
func htmlPage(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html>\n<head><title>%s</title></head>\n<body>\n%s\n</body>\n</html>\n", html.EscapeString(title), body)
}

// account checks email/userpass; on failure it writes the error page.
func (s *Server) account(w http.ResponseWriter, email, pass string) bool {
	if want, ok := s.opts.Accounts[email]; !ok || want != pass || pass == "" {
		htmlPage(w, http.StatusOK, "ZTF Forced Photometry Service",
			"<p><b>ERROR:</b> the email address and/or userpass you entered are not valid; "+
				"register with the ZTF Forced Photometry Service first.</p>")
		return false
	}
	return true
}

func (s *Server) newJob(email string, batch bool, ra, dec, jdStart, jdEnd float64) *job {
	now := s.now().UTC()
	j := &job{email: email, batch: batch, ra: ra, dec: dec, jdStart: jdStart, jdEnd: jdEnd, created: now}
	j.started = now.Add(s.opts.QueueTime)
	j.ended = j.started.Add(s.opts.RunTime)
	if batch {
		s.nextBatch++
		j.reqID = s.nextBatch
	} else {
		s.nextReq++
		j.reqID = s.nextReq
	}
	switch {
	case len(s.nextExit) > 0:
		j.exit = s.nextExit[0]
		s.nextExit = s.nextExit[1:]
		j.hasFile = j.exit < 63
	case jdEnd < surveyStartJD:
		j.exit = 65
	case len(epochs(newStar(ra, dec).seed, jdStart, jdEnd, s.opts.LastJD, s.opts.MaxEpochs)) == 0:
		j.exit = 63
	case jdStart < surveyStartJD:
		j.exit, j.hasFile = 62, true
	default:
		j.hasFile = true
	}
	day := j.ended.Format("20060102")
	if batch {
		j.path = fmt.Sprintf("%s/ztf/ops/srv/ztffps/%s/batchfp_req%010d_lc.txt", ForcedPhotometryPrefix, day, j.reqID)
	} else {
		j.path = fmt.Sprintf("%s/ztf/ops/srv/ztffps/%s/forcedphotometry_req%08d_lc.txt", ForcedPhotometryPrefix, day, j.reqID)
	}
	s.jobs = append(s.jobs, j)
	s.submitted[email]++
	return j
}

// parseJD reads jdstart/jdend; empty means the default.
func parseJD(v string, def float64) (float64, error) {
	if v == "" {
		return def, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%q is not a Julian Date", v)
	}
	return x, nil
}

func (s *Server) nowJD() float64 { return float64(s.now().UnixNano())/86400e9 + 2440587.5 }

// submitSingle is requestForcedPhotometry.cgi (spec B.1).
func (s *Server) submitSingle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.account(w, q.Get("email"), q.Get("userpass")) {
		return
	}
	bad := func(msg string) {
		htmlPage(w, http.StatusOK, "ZTF Forced Photometry Service", "<p><b>ERROR:</b> "+html.EscapeString(msg)+"</p>")
	}
	ra, err1 := strconv.ParseFloat(q.Get("ra"), 64)
	dec, err2 := strconv.ParseFloat(q.Get("dec"), 64)
	if err1 != nil || err2 != nil || ra < 0 || ra >= 360 || dec < -90 || dec > 90 {
		bad(fmt.Sprintf("invalid position ra=%q dec=%q", q.Get("ra"), q.Get("dec")))
		return
	}
	jdStart, err := parseJD(q.Get("jdstart"), surveyStartJD)
	if err != nil {
		bad("jdstart: " + err.Error())
		return
	}
	jdEnd, err := parseJD(q.Get("jdend"), s.nowJD())
	if err != nil {
		bad("jdend: " + err.Error())
		return
	}
	if jdEnd <= jdStart {
		bad("jdend must be after jdstart")
		return
	}
	s.mu.Lock()
	pending := 0
	now := s.now()
	for _, j := range s.jobs {
		if j.email == q.Get("email") && !j.batch && j.state(now) != "done" {
			pending++
		}
	}
	if pending >= s.opts.MaxPending {
		s.mu.Unlock()
		bad(fmt.Sprintf("you already have %d requests in the queue; wait for some to finish", pending))
		return
	}
	j := s.newJob(q.Get("email"), false, ra, dec, jdStart, jdEnd)
	s.mu.Unlock()
	htmlPage(w, http.StatusOK, "ZTF Forced Photometry Service", fmt.Sprintf(
		"<p>Your forced-photometry request has been queued. You will be notified by email when it is done.</p>\n"+
			"<table border=\"1\">\n<tr><th>R.A. [deg]</th><th>Dec. [deg]</th><th>JD start</th><th>JD end</th></tr>\n"+
			"<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n</table>",
		fnum(j.ra), fnum(j.dec), fnum(j.jdStart), fnum(j.jdEnd)))
}

func fnum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// submitBatch is batchfp.py/submit (spec B.2): JSON arrays of positions.
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	email := r.PostForm.Get("email")
	if want, ok := s.opts.Accounts[email]; !ok || want != r.PostForm.Get("userpass") {
		http.Error(w, "Invalid email address or userpass.", http.StatusUnauthorized)
		return
	}
	var ras, decs []float64
	if json.Unmarshal([]byte(r.PostForm.Get("ra")), &ras) != nil || json.Unmarshal([]byte(r.PostForm.Get("dec")), &decs) != nil {
		http.Error(w, "ra and dec must be JSON arrays of numbers", http.StatusBadRequest)
		return
	}
	switch {
	case len(ras) != len(decs) || len(ras) == 0:
		http.Error(w, "ra and dec must have the same, non-zero length", http.StatusBadRequest)
		return
	case len(ras) > 1500:
		http.Error(w, fmt.Sprintf("%d positions: at most 1500 per request", len(ras)), http.StatusBadRequest)
		return
	}
	jdStart, err1 := parseJD(r.PostForm.Get("jdstart"), surveyStartJD)
	jdEnd, err2 := parseJD(r.PostForm.Get("jdend"), s.nowJD())
	if err1 != nil || err2 != nil {
		http.Error(w, "jdstart and jdend must be numbers", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for i := range ras {
		s.newJob(email, true, ras[i], decs[i], jdStart, jdEnd)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Submitted %d positions for forced photometry.\n", len(ras))
}

// status is the job list (spec B.3).
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.account(w, q.Get("email"), q.Get("userpass")) {
		return
	}
	option := q.Get("option")
	if (option != "All recent jobs" && option != "Pending jobs") || q.Get("action") != "Query Database" {
		htmlPage(w, http.StatusOK, "ZTF Forced Photometry Service",
			"<p><b>ERROR:</b> option must be &quot;All recent jobs&quot; or &quot;Pending jobs&quot; and action &quot;Query Database&quot;.</p>")
		return
	}
	batch := strings.HasSuffix(r.URL.Path, batchStatusPath)
	s.mu.Lock()
	now := s.now()
	var rows strings.Builder
	n := 0
	for _, j := range s.jobs {
		if j.email != q.Get("email") || j.batch != batch || now.Before(j.created.Add(s.opts.StatusLag)) || now.Sub(j.created) > s.opts.Retention {
			continue
		}
		st := j.state(now)
		if option == "Pending jobs" && st == "done" {
			continue
		}
		started, ended, exit, lc, machine := "", "", "", "", ""
		if st != "queued" {
			started = stamp(j.started)
			machine = fmt.Sprintf("ztfops%02d", 1+j.reqID%12)
		}
		if st == "done" {
			ended, exit = stamp(j.ended), strconv.Itoa(j.exit)
			if j.hasFile {
				lc = j.path
			}
		}
		fmt.Fprintf(&rows, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			j.reqID, fnum(j.ra), fnum(j.dec), fnum(j.jdStart), fnum(j.jdEnd), stamp(j.created), started, ended, machine, exit, lc)
		n++
	}
	s.mu.Unlock()
	if n == 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "Zero records returned\n")
		return
	}
	htmlPage(w, http.StatusOK, "ZTF Forced Photometry Service: job status",
		"<table border=\"1\">\n<tr><th>reqId</th><th>ra</th><th>dec</th><th>startJD</th><th>endJD</th><th>created</th>"+
			"<th>started</th><th>ended</th><th>machine</th><th>exitcode</th><th>lightcurve</th></tr>\n"+rows.String()+"</table>")
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// download serves result files (spec B.4).
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := s.now()
	var found *job
	for _, j := range s.jobs {
		if j.path == r.URL.Path && j.hasFile && j.state(now) == "done" && now.Sub(j.created) <= s.opts.Retention {
			found = j
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	body := resultFile(found, s.opts.LastJD, s.opts.MaxEpochs)
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// epoch is one simulated observation: the n-th night of the survey's
// grid (one every 2 days from its start) and the JD of the exposure.
type epoch struct {
	n  int
	jd float64
}

// epochJD is the JD of the star's exposure on grid night n: 0.15–0.5 d
// after the night's start.
func epochJD(seed uint64, n int) float64 {
	return surveyStartJD + 2*float64(n) + 0.15 + 0.35*frac(seed, uint64(n), 1)
}

// epochs returns the star's epochs whose JD is in [jdStart, jdEnd] (and
// not after lastJD), in time order: the sky is fixed, so a window asks
// for a part of the same light curve whatever its bounds. More than
// maxEpochs keeps the latest maxEpochs.
func epochs(seed uint64, jdStart, jdEnd, lastJD float64, maxEpochs int) []epoch {
	lo, hi := math.Max(jdStart, surveyStartJD), math.Min(jdEnd, lastJD)
	if hi < lo {
		return nil
	}
	var out []epoch
	for n := max(int(math.Floor((lo-surveyStartJD)/2))-1, 0); surveyStartJD+2*float64(n) <= hi; n++ {
		if jd := epochJD(seed, n); jd >= lo && jd <= hi {
			out = append(out, epoch{n: n, jd: jd})
		}
	}
	if len(out) > maxEpochs {
		out = out[len(out)-maxEpochs:]
	}
	return out
}

// resultFile renders a job's result file in the layout of spec B.5.
func resultFile(j *job, lastJD float64, maxEpochs int) []byte {
	var b bytes.Buffer
	b.WriteString(resultHeader1)
	fmt.Fprintf(&b, "# Generated by forcedphotometry_trim.pl, v3.8 on %s at %s\n#\n",
		j.ended.Format("2006-01-02"), j.ended.Format("15:04:05"))
	fmt.Fprintf(&b, "# Requested input R.A. = %s degrees\n# Requested input Dec. = %s degrees\n", fnum(j.ra), fnum(j.dec))
	fmt.Fprintf(&b, "# Requested JD start = %s days\n# Requested JD end = %s days\n", fnum(j.jdStart), fnum(j.jdEnd))
	b.WriteString("# Authenticated program IDs = 1\n#\n")
	b.WriteString(resultHeader2)
	b.WriteString(" " + strings.Join(fpColumns, ", ") + "\n#\n")
	seed := newStar(j.ra, j.dec).seed
	for k, e := range epochs(seed, j.jdStart, j.jdEnd, lastJD, maxEpochs) {
		b.WriteString(" " + strings.Join(fpRow(seed, k, e, j.exit == 62), " ") + "\n")
	}
	b.WriteString("# ------------------------------END---------------------------------\n")
	return b.Bytes()
}

// fpColumns are the 40 ZFPS columns (spec B.5).
var fpColumns = strings.Fields(`index field ccdid qid filter pid infobitssci sciinpseeing scibckgnd scisigpix zpmaginpsci
zpmaginpsciunc zpmaginpscirms clrcoeff clrcoeffunc ncalmatches exptime adpctdif1 adpctdif2 diffmaglim zpdiff programid
jd rfid forcediffimflux forcediffimfluxunc forcediffimsnr forcediffimchisq forcediffimfluxap forcediffimfluxuncap
forcediffimsnrap aperturecorr dnearestrefsrc nearestrefmag nearestrefmagunc nearestrefchi nearestrefsharp refjdstart
refjdend procstatus`)

// fpRow makes the k-th row of a file, epoch e: a star with recurring
// outbursts (≈2000 DN, 25 days wide, every 90–150 days, from its seed),
// noise, and, on fixed strides of the survey's nights, a cloudy epoch
// (every 13th: infobitssci 33554432, scisigpix 27.9), procstatus 56
// (every 23rd), 57 with null nearest-reference columns (every 29th) and
// 61 with null fluxes (every 31st). Everything but the index column
// depends on the epoch alone, never on the window asked for.
func fpRow(seed uint64, k int, e epoch, reset bool) []string {
	n := e.n
	r := func(salt uint64) float64 { return frac(seed, uint64(n), salt) }
	f := func(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	filters := []string{"ZTF_g", "ZTF_r", "ZTF_g", "ZTF_r", "ZTF_i"}
	filter := filters[n%5]
	fd := map[string]int{"ZTF_g": 1, "ZTF_r": 2, "ZTF_i": 3}[filter]
	field := 200 + int(seed%600)
	ccd := 1 + int(seed>>10%16)
	qid := int(seed >> 20 % 4)
	jd := e.jd
	zp := map[string]float64{"ZTF_g": 26.3, "ZTF_r": 26.2, "ZTF_i": 25.8}[filter] + 0.06*(r(2)-0.5)
	unc := 25 + 20*r(3)
	period := 90 + 60*frac(seed, 7)
	phase := math.Mod(jd-surveyStartJD+period*frac(seed, 8), period)
	dt := math.Min(phase, period-phase) / 25 // days from the nearest outburst's peak
	flux := 2000*math.Exp(-dt*dt) + unc*(2*r(4)-1)*1.2
	info, sigpix, seeing := 0, 9+3*r(5), 1.8+0.8*r(6)
	if n%13 == 12 {
		info, sigpix = 33554432, 27.9
	}
	proc := "0"
	switch {
	case n%31 == 30:
		proc = "61"
	case n%29 == 28:
		proc = "57"
	case n%23 == 22:
		proc = "56"
	case reset:
		proc = "62"
	}
	null := "null"
	fluxCols := []string{f(flux, 6), f(unc, 6), f(flux/unc, 6), f(0.9+0.3*r(7), 6),
		f(flux*1.03, 6), f(unc*1.7, 6), f(flux/(unc*1.7), 6), f(1.05, 6)}
	if proc == "61" {
		for i := range fluxCols {
			fluxCols[i] = null
		}
	}
	ref := []string{f(0.1+0.3*r(8), 6), f(18+2*r(9), 4), f(0.01+0.02*r(10), 4), f(0.9+0.2*r(11), 4), f(0.02*(r(12)-0.5), 4)}
	if proc == "57" {
		ref = []string{null, null, null, null, null}
	}
	zpsci := zp - 0.0012
	row := []string{
		strconv.Itoa(k), strconv.Itoa(field), strconv.Itoa(ccd), strconv.Itoa(qid), filter,
		strconv.FormatInt(int64(jd*1e5)*10+int64(fd), 10), strconv.Itoa(info), f(seeing, 4), f(100+80*r(13), 3), f(sigpix, 4),
		f(zpsci, 4), "1.30000e-05", f(0.03+0.01*r(14), 6), f(map[string]float64{"ZTF_g": -0.071, "ZTF_r": 0.104, "ZTF_i": 0.192}[filter], 6),
		"2.40000e-05", strconv.Itoa(700 + int(200*r(15))), "30.", f(0.04+0.02*r(16), 6), f(0.04+0.02*r(17), 6),
		f(20+0.8*r(18), 4), f(zp, 4), strconv.Itoa(1 + n%7/6), f(jd, 7), strconv.Itoa(field*1000000 + ccd*10000 + fd*100 + qid),
	}
	row = append(row, fluxCols...)
	row = append(row, ref...)
	row = append(row, "2458197.912037", "2458553.853171", proc)
	return row
}

// resultHeader1 and resultHeader2 are the fixed parts of the result
// file's comment header (spec B.5).
const resultHeader1 = "# ------------------------------------------------------------------\n"

const resultHeader2 = `# Column definitions:
# index = sequential counter
# field = ZTF Field identifier
# ccdid = CCD identifier (1..16)
# qid = Quadrant (CCD-amplifier) identifier (0..3)
# filter = Filter string: ZTF_g, ZTF_r, ZTF_i
# pid = processed image Operations DB identifier
# infobitssci = processing summary/QA bits for sci image
# sciinpseeing = Effective FWHM of sci image [pixels]
# scibckgnd = Background level in sci image [DN]
# scisigpix = Robust sigma per pixel in sci image [DN]
# zpmaginpsci = Photometric zeropoint for sci image [mag]
# zpmaginpsciunc = 1-sigma uncertainty in zpmaginpsci [mag]
# zpmaginpscirms = RMS (deviation from average) in difference between instrumental mags and PS1 calibrators [mag]
# clrcoeff = Linear color coefficient from calibration; for ZTF_g,r,i, PS1 color used is g-r, g-r, r-i respectively
# clrcoeffunc = 1-sigma uncertainty in clrcoeff
# ncalmatches = Number of PS1 calibrators used in initial calibration of sci image
# exptime = Integration time for sci image [sec]
# adpctdif1 = Full sci image astrometric RMS along R.A. with respect to Gaia1 [arcsec]
# adpctdif2 = Full sci image astrometric RMS along Dec. with respect to Gaia1 [arcsec]
# diffmaglim = Magnitude limit in difference image [mag]
# zpdiff = Photometric zeropoint for difference image [mag]
# programid = Program identifier [0=engineering; 1=public; 2=private; 3=Caltech time]
# jd = Julian Date at start of exposure [days]
# rfid = Rerence image Operations DB identifier
# forcediffimflux = Forced difference image PSF-fit flux [DN]
# forcediffimfluxunc = 1-sigma uncertainty in forcediffimflux [DN]
# forcediffimsnr = Signal-to-noise ratio for forcediffimflux measurement
# forcediffimchisq = Reduced chi-square in PSF-fit
# forcediffimfluxap = Forced difference image aperture flux using a fixed 9-pixel diameter aperture [DN]
# forcediffimfluxuncap = 1-sigma uncertainty in forcediffimfluxap [DN]
# forcediffimsnrap = Signal-to-noise ratio for forcediffimfluxap measurement
# aperturecorr = Aperture (curve-of-growth) correction factor that was applied to forcediffimfluxap measurement
# dnearestrefsrc = Distance to nearest ref image source if found within 5 arcsec [arcsec]
# nearestrefmag = Magnitude of nearest ref image source [mag]
# nearestrefmagunc = 1-sigma uncertainty in nearestrefmag [mag]
# nearestrefchi = Chi parameter for nearestrefmag measurement (ratio: RMS in PSF-fit residuals / expected RMS from priors)
# nearestrefsharp = Sharp parameter for nearestrefmag measurement (~0 => PSF like; >>0 => extended; <<0 => pixel spike or hard edge)
# refjdstart = JD of earliest sci image used for ref image [days]
# refjdend = JD of latest sci image used for ref image [days]
# procstatus = Per-epoch processing status codes (0 => no warnings); if non-zero, see accompanying log file and document link below
#
# Documentation: https://zwicky.tf/vgt
#
# ------------------------------------------------------------------
# Order of columns below:
`
