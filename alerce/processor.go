package alerce

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// MaxFileSize caps the file the Processor reads (a light curve is a few
// hundred kB at most).
const MaxFileSize = 256 << 20

// CleanProcstatus lists the procstatus codes of ZTF forced-photometry
// epochs kept by default (ztf.md B.6): 0 no warnings, 57 and 58 no
// reference-catalog source or PSF catalog (harmless for difference
// photometry), 62 start reset to the survey start.
var CleanProcstatus = []string{"0", "57", "58", "62"}

// Processor turns an ALeRCE light curve into photometry datums by the
// rules of shared/services/alerce.md §6. It reads a LightCurve (what the
// Service stores), which is also the shape of the v1
// /objects/{oid}/lightcurve and the multisurvey lightcurve answers, or a
// bare list of ZTF rows such as the v2 forced-photometry answer. Each row
// is recognised by its survey (survey_id, else tid, else its fields):
//
//   - ZTF detection (isdiffpos = +1): magnitude = magpsf, error =
//     sigmapsf, flux 10^(0.4·(23.9 − magpsf)) µJy. With magnitude kind
//     "apparent", magnitude = magpsf_corr and error = sigmapsf_corr_ext
//     where ALeRCE corrected the detection (corrected, not dubious, both
//     finite); other detections give no datum. sigmapsf_corr, whose old
//     value 100 is a sentinel, is never used.
//   - ZTF detection with isdiffpos = −1 (the source got fainter than the
//     reference): never a magnitude; the flux is kept negative and the
//     datum is a limit magpsf − 2.5·log10(LimitSigma·sigmapsf/1.0857),
//     Extra["isdiffpos"] = −1.
//   - ZTF non-detection: limit = diffmaglim (5σ), no magnitude.
//   - ZTF forced photometry: S/N = isdiffpos·1.0857/e_mag; above
//     SNRDetect a magnitude (mag, e_mag), otherwise a limit
//     mag − 2.5·log10(LimitSigma·e_mag/1.0857); e_mag ≥ 100 and mag ≥ 99
//     are sentinels (no datum); epochs whose procstatus is not in
//     CleanProcstatus give no datum unless KeepFlagged (then
//     Extra["procstatus"] says it).
//   - LSST detection (diaSource) or forced source: flux = psfFlux/1000
//     µJy; above SNRDetect a magnitude 31.4 − 2.5·log10(psfFlux) with
//     error 1.0857·psfFluxErr/psfFlux, otherwise a limit
//     31.4 − 2.5·log10(LimitSigma·psfFluxErr); no datum when psfFluxErr
//     ≤ 0 (0.0 ± 0.0 is ALeRCE's "missing") or the source was withdrawn.
//     The time is midpointMjdTai − 37 s (TAI → UTC).
//
// The filter comes from fid (1 g, 2 r, 3 i) or band through the row's
// band_map (LSST default 1 g, 2 r, 3 i, 4 z, 5 y, 6 u). ZTF times are the
// exposure start, as ALeRCE gives them. The telescope is "ZTF" or
// "Rubin"; the source is AlertSource ("ALERCE") for detections and
// non-detections and ForcedPhotometrySource ("ALERCE_FP") for forced
// photometry, and Extra["kind"] (detection, non_detection,
// forced_photometry) keeps a forced point and an alert detection of the
// same visit apart.
//
// Duplicates give one datum: ZTF detections of the same exposure (pid,
// fid), keeping the row whose rfid is set (spec §6); forced points by
// (pid, fid); LSST sources by measurement_id; non-detections by (mjd,
// fid). Datums come out sorted by time.
//
// A file that is not such JSON, or a row whose field has the wrong type,
// is refused with a *dataproduct.ParseError naming the line (and the
// field). A row that is no measurement (no time, no filter, no magnitude,
// error, limit or flux, a sentinel, a source Rubin withdrew) gives no
// datum and is counted in the dataproduct.Report under its Reason
// constant (see StreamReport); Strict refuses the file instead. Rows left
// out by design or by the user's choice never refuse a file: rows of
// another survey (ATLAS rows of a survey_id=all answer), duplicates,
// detections without a corrected magnitude when apparent magnitudes are
// asked, and forced epochs whose procstatus is not clean (reported as
// "flagged epoch (procstatus CODE)", as ztf.ForcedPhotometryProcessor
// does). A row's line is the line of the file on which its JSON object
// starts (its '{'), counting from 1.
//
// A LightCurve's processing block (the query's choices) takes precedence
// over the fields below. The zero value is ready to use; a Processor is
// safe for concurrent use. It reads the whole file (at most MaxFileSize)
// before yielding, since duplicates and order are only known at the end.
type Processor struct {
	// SNRDetect is the S/N above which a point is a detection. Default
	// DefaultSNRDetect (3).
	SNRDetect float64
	// LimitSigma is the significance of the limits of weak points.
	// Default DefaultLimitSigma (5).
	LimitSigma float64
	// MagnitudeKind is the magnitude of ZTF detections. Default
	// MagnitudeDifference.
	MagnitudeKind MagnitudeKind
	// KeepFlagged keeps ZTF forced-photometry epochs whose procstatus is
	// not clean, flagged in Extra["procstatus"].
	KeepFlagged bool
	// Strict refuses a file with a row that is no measurement (a
	// *dataproduct.ParseError wrapping processor.ErrNoMeasurement, naming
	// the first such row of the file) instead of skipping and reporting
	// the row. Rows left out by design or by choice (other surveys,
	// duplicates, uncorrected detections, flagged epochs) never refuse a
	// file.
	Strict bool
}

// DataType returns dataproduct.TypePhotometry.
func (Processor) DataType() string { return dataproduct.TypePhotometry }

// Process implements processor.Processor.
func (p Processor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.Collect(p.Stream(ctx, r))
}

// Stream implements processor.Streamer.
func (p Processor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return p.StreamReport(ctx, r, processor.Input{}, nil)
}

// StreamReport implements processor.Reporter: rep counts the rows of the
// detections, non_detections and forced_photometry lists (or of a bare
// list), the datums, and the rows that gave no datum under the Reason
// constants, in the order of the file, each with the line on which its
// object starts. The whole file is read before the first datum; a file
// refused (malformed, or Strict and a row that is no measurement) gives
// its error and no datum.
func (p Processor) StreamReport(ctx context.Context, r io.Reader, _ processor.Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		ds, err := p.run(ctx, r, rep)
		if err != nil {
			yield(dataproduct.Datum{}, err)
			return
		}
		for _, d := range ds {
			rep.Datums++
			if !yield(d, nil) {
				return
			}
		}
	}
}

// rowKind is the list a row came from.
type rowKind int

const (
	kindDetection rowKind = iota
	kindNonDetection
	kindForced
	kindUnknown // a bare list: decided by the row's fields
)

var kindNames = [...]string{"detection", "non_detection", "forced_photometry", "unknown"}

// Reasons of the rows that give no datum, as reports show them. Rows that
// are no measurement (Strict refuses the file for them):
const (
	ReasonNoTime           = "no time (mjd missing or null)"
	ReasonNoFilter         = "no filter (fid or band missing or not in the band map)"
	ReasonNoMagnitude      = "no magnitude (magpsf or mag missing or null)"
	ReasonNoMagnitudeError = "magnitude error missing or not positive (sigmapsf or e_mag)"
	ReasonNoLimit          = "no limit (diffmaglim missing or null)"
	ReasonSentinel         = "sentinel magnitude (mag ≥ 99 or e_mag ≥ 100)"
	ReasonNoFlux           = "no flux (psfFlux or psfFluxErr missing, or psfFluxErr ≤ 0)"
	ReasonWithdrawn        = "withdrawn by Rubin (timeWithdrawnMjdTai set)"
	ReasonLSSTNonDetection = "LSST non-detection (ALeRCE gives no limit for LSST)"
	ReasonOutOfRange       = "a value out of range (an infinite magnitude or flux)"
)

// Reasons of rows left out by design or by the Processor's settings;
// they never refuse a file. Forced epochs whose procstatus is not clean
// are reported as "flagged epoch (procstatus CODE)", as ztf reports them.
const (
	ReasonOtherSurvey  = "not a ZTF or LSST row (another survey, e.g. ATLAS)"
	ReasonDuplicate    = "duplicate of another row (the same exposure or measurement_id)"
	ReasonNotCorrected = "no corrected magnitude (apparent magnitudes asked; not corrected, dubious or magpsf_corr missing)"
)

// flaggedReason is the report's reason for a forced epoch dropped for its
// procstatus (the text of ztf's).
func flaggedReason(status code) string {
	return "flagged epoch (procstatus " + string(status) + ")"
}

// skip is a row that gave no datum, waiting to be reported in file order.
type skip struct {
	line   int
	column string // the field at fault, for Strict's error
	reason string
	filter bool // left out by design or choice: never refuses a file
}

// diffSign is isdiffpos: 1 or −1 (also "t"/"f", as raw alerts write it);
// 0 when absent.
type diffSign int

func (s *diffSign) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "1", "t", "true", "1.0":
		*s = 1
	case "-1", "f", "false", "-1.0":
		*s = -1
	case "null", "0":
		*s = 0
	default:
		return fmt.Errorf("isdiffpos %s is not 1 or -1", b)
	}
	return nil
}

// code is a value that may be a JSON string or number (procstatus).
type code string

func (c *code) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = code(strings.TrimSpace(s))
		return nil
	}
	*c = code(b)
	return nil
}

// fields are the row fields the rules use; absent and null are alike.
type fields struct {
	MJD      *float64        `json:"mjd"`
	SurveyID string          `json:"survey_id"`
	TID      string          `json:"tid"`
	FID      *int            `json:"fid"`
	Band     *int            `json:"band"`
	BandMap  json.RawMessage `json:"band_map"`
	PID      *int64          `json:"pid"`
	Sign     diffSign        `json:"isdiffpos"`
	// ZTF alerts
	MagPSF          *float64         `json:"magpsf"`
	SigmaPSF        *float64         `json:"sigmapsf"`
	DiffMagLim      *float64         `json:"diffmaglim"`
	RFID            *json.RawMessage `json:"rfid"`
	MagPSFCorr      *float64         `json:"magpsf_corr"`
	SigmaPSFCorrExt *float64         `json:"sigmapsf_corr_ext"`
	Corrected       *bool            `json:"corrected"`
	Dubious         *bool            `json:"dubious"`
	// ZTF forced photometry (v2)
	Mag         *float64 `json:"mag"`
	EMag        *float64 `json:"e_mag"`
	Procstatus  code     `json:"procstatus"`
	ExtraFields *struct {
		Procstatus code `json:"procstatus"`
	} `json:"extra_fields"`
	// LSST
	PsfFlux       *float64 `json:"psfFlux"`
	PsfFluxErr    *float64 `json:"psfFluxErr"`
	MeasurementID *int64   `json:"measurement_id"`
	Withdrawn     *float64 `json:"timeWithdrawnMjdTai"`
}

// entry is a decoded row waiting for de-duplication.
type entry struct {
	kind   rowKind
	survey Survey
	line   int
	f      fields
	filter string
}

// Default band maps (spec §5).
var (
	ztfBands  = map[int]string{1: "g", 2: "r", 3: "i"}
	lsstBands = map[int]string{1: "g", 2: "r", 3: "i", 4: "z", 5: "y", 6: "u"}
)

// lines turns byte offsets into line numbers, for offsets that only grow.
type lines struct {
	b         []byte
	off, line int
}

func (l *lines) at(off int) int {
	off = min(off, len(l.b))
	if off < l.off {
		return l.line // offsets only grow; an earlier one is on this line or before
	}
	l.line += bytes.Count(l.b[l.off:off], []byte{'\n'})
	l.off = off
	return l.line
}

// parser holds one run's state.
type parser struct {
	p       Processor
	proc    Processing
	b       []byte
	lines   lines
	entries []entry
	rep     *dataproduct.Report
	skips   []skip
	ctx     context.Context
	// bandMaps caches decoded band_map objects by their text.
	bandMaps map[string]map[string]string
}

// run reads the whole file and returns its datums, sorted; rep (not nil)
// gets the rows read and the rows skipped.
func (p Processor) run(ctx context.Context, r io.Reader, rep *dataproduct.Report) ([]dataproduct.Datum, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &dataproduct.ParseError{Err: fmt.Errorf("reading: %w", err)}
	}
	if len(raw) > MaxFileSize {
		return nil, &dataproduct.ParseError{Err: fmt.Errorf("the file is larger than %d bytes", MaxFileSize)}
	}
	b := sanitizeJSON(raw)
	ps := &parser{p: p, b: b, lines: lines{b: b, line: 1}, ctx: ctx, rep: rep,
		proc: Processing{MagnitudeKind: p.MagnitudeKind, SNRDetect: p.SNRDetect, LimitSigma: p.LimitSigma}}
	if err := ps.parse(); err != nil {
		return nil, err
	}
	if err := ps.proc.check(); err != nil {
		return nil, &dataproduct.ParseError{Line: 1, Column: "processing", Err: err}
	}
	ds := ps.datums()
	if err := ps.report(); err != nil {
		return nil, err
	}
	return ds, nil
}

// skip notes a row that is no measurement; column names the field at
// fault ("" for the row).
func (ps *parser) skip(line int, column, reason string) {
	ps.skips = append(ps.skips, skip{line: line, column: column, reason: reason})
}

// leaveOut notes a row left out by design or choice.
func (ps *parser) leaveOut(line int, reason string) {
	ps.skips = append(ps.skips, skip{line: line, reason: reason, filter: true})
}

// report records the skipped rows in file order (rows are judged in two
// passes, and a duplicate may be found after the row it replaces); with
// Strict, the first row of the file that is no measurement refuses it.
func (ps *parser) report() error {
	slices.SortStableFunc(ps.skips, func(a, b skip) int { return cmp.Compare(a.line, b.line) })
	for _, s := range ps.skips {
		if s.filter {
			ps.rep.Skip(s.line, s.reason)
		} else if err := processor.SkipRow(ps.rep, ps.p.Strict, s.line, s.column, s.reason); err != nil {
			return err
		}
	}
	return nil
}

// fail makes a ParseError at byte offset off.
func (ps *parser) fail(off int, column string, err error) error {
	return &dataproduct.ParseError{Line: ps.lines.at(off), Column: column, Err: err}
}

// jsonErr turns a decoding error into a ParseError. base is where the
// decoder began to read the value (decodeStart), from which the offset
// of a type error counts. The offset of a syntax error counts only the
// bytes the decoder's values took, so the error is found again by a scan
// of the whole file: the first syntax error of the file is the one the
// decoder, reading it in order, met.
func (ps *parser) jsonErr(base int, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off := base
		var raw json.RawMessage
		if scanErr := json.Unmarshal(ps.b, &raw); errors.As(scanErr, &se) {
			off = max(int(se.Offset)-1, 0) // Offset counts the offending byte
		}
		return ps.fail(off, "", fmt.Errorf("not JSON: %w", err))
	case errors.As(err, &te):
		col := te.Field
		if col == "" {
			col = "row"
		}
		return ps.fail(base+int(te.Offset), col, fmt.Errorf("%s is a JSON %s, not a %s", col, te.Value, te.Type))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return ps.fail(len(ps.b), "", errors.New("the JSON ends early (the file is cut short)"))
	}
	return ps.fail(base, "", err)
}

// decodeStart returns where the decoder, at input offset off, begins to
// read the next value: past white space and the comma or colon before
// the value, but not past the white space after it.
func (ps *parser) decodeStart(off int) int {
	for off < len(ps.b) && (ps.b[off] == ' ' || ps.b[off] == '\t' || ps.b[off] == '\r' || ps.b[off] == '\n') {
		off++
	}
	if off < len(ps.b) && (ps.b[off] == ',' || ps.b[off] == ':') {
		off++
	}
	return off
}

// skipSpace returns the offset of the next byte that is not white space
// or a comma.
func (ps *parser) skipSpace(off int) int {
	for off < len(ps.b) {
		switch ps.b[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// parse walks the top-level value: an object with the LightCurve keys, or
// a bare list of rows.
func (ps *parser) parse() error {
	dec := json.NewDecoder(bytes.NewReader(ps.b))
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return &dataproduct.ParseError{Line: 1, Err: errors.New("the file is empty, not an ALeRCE light curve")}
		}
		return ps.jsonErr(0, err)
	}
	switch tok {
	case json.Delim('['):
		if err := ps.list(dec, kindUnknown); err != nil {
			return err
		}
	case json.Delim('{'):
		if err := ps.object(dec); err != nil {
			return err
		}
	default:
		return &dataproduct.ParseError{Line: 1, Err: fmt.Errorf("not an ALeRCE light curve: the file starts with %v, not an object or a list", tok)}
	}
	if _, err := dec.Token(); err != io.EOF {
		off := ps.skipSpace(int(dec.InputOffset()))
		return ps.fail(off, "", errors.New("more data after the light curve"))
	}
	return nil
}

// object reads a LightCurve object (after its '{').
func (ps *parser) object(dec *json.Decoder) error {
	lists := 0
	for dec.More() {
		off := ps.skipSpace(int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return ps.jsonErr(off, err)
		}
		key, _ := tok.(string)
		kind := kindUnknown
		switch key {
		case "detections":
			kind = kindDetection
		case "non_detections":
			kind = kindNonDetection
		case "forced_photometry":
			kind = kindForced
		case "processing":
			var pr Processing
			start := ps.decodeStart(int(dec.InputOffset()))
			if err := dec.Decode(&pr); err != nil {
				return ps.jsonErr(start, err)
			}
			ps.mergeProcessing(pr)
			continue
		default: // survey, oid, and any key a server adds (features, ...)
			var skip json.RawMessage
			voff := ps.skipSpace(int(dec.InputOffset()))
			if err := dec.Decode(&skip); err != nil {
				return ps.jsonErr(voff, err)
			}
			continue
		}
		lists++
		voff := ps.skipSpace(int(dec.InputOffset()))
		tok, err = dec.Token()
		if err != nil {
			return ps.jsonErr(voff, err)
		}
		if tok == nil {
			continue // "forced_photometry": null
		}
		if tok != json.Delim('[') {
			return ps.fail(voff, key, fmt.Errorf("%s is not a list", key))
		}
		if err := ps.list(dec, kind); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return ps.jsonErr(int(dec.InputOffset()), err)
	}
	if lists == 0 {
		return &dataproduct.ParseError{Line: 1, Err: errors.New("not an ALeRCE light curve: no detections, non_detections or forced_photometry list")}
	}
	return nil
}

// mergeProcessing lets the file's choices override the Processor's.
func (ps *parser) mergeProcessing(pr Processing) {
	if pr.MagnitudeKind != "" {
		ps.proc.MagnitudeKind = pr.MagnitudeKind
	}
	if pr.SNRDetect != 0 {
		ps.proc.SNRDetect = pr.SNRDetect
	}
	if pr.LimitSigma != 0 {
		ps.proc.LimitSigma = pr.LimitSigma
	}
}

// list reads the rows of a list (after its '[') and its closing ']'.
func (ps *parser) list(dec *json.Decoder, kind rowKind) error {
	for dec.More() {
		if ps.rep.Rows%1000 == 999 {
			if err := ps.ctx.Err(); err != nil {
				return err
			}
		}
		in := int(dec.InputOffset())
		off := ps.skipSpace(in)
		if off >= len(ps.b) || ps.b[off] != '{' {
			if _, err := dec.Token(); err != nil {
				return ps.jsonErr(off, err)
			}
			return ps.fail(off, "", fmt.Errorf("a %s row is not a JSON object", kindNames[kind]))
		}
		ps.rep.Rows++
		line := ps.lines.at(off)
		var e entry
		if err := dec.Decode(&e.f); err != nil {
			return ps.jsonErr(ps.decodeStart(in), err)
		}
		e.line = line
		e.kind = kind
		if err := ps.classify(&e); err != nil {
			return err
		}
		if e.survey == "" {
			continue // skipped
		}
		ps.entries = append(ps.entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return ps.jsonErr(int(dec.InputOffset()), err)
	}
	return nil
}

// classify sets the row's survey, kind and filter, or skips it (survey
// left empty).
func (ps *parser) classify(e *entry) error {
	f := &e.f
	survey := strings.ToLower(cmp.Or(f.SurveyID, f.TID))
	if survey == "" {
		switch {
		case f.PsfFlux != nil || (f.Band != nil && f.FID == nil):
			survey = string(SurveyLSST)
		default:
			survey = string(SurveyZTF)
		}
	}
	switch Survey(survey) {
	case SurveyZTF, SurveyLSST:
	default:
		ps.leaveOut(e.line, ReasonOtherSurvey)
		return nil
	}
	if e.kind == kindUnknown {
		switch {
		case Survey(survey) == SurveyLSST:
			return &dataproduct.ParseError{Line: e.line, Err: errors.New("a bare list of LSST rows does not say whether they are detections or forced sources: give a light curve object with detections and forced_photometry lists")}
		case f.MagPSF != nil:
			e.kind = kindDetection
		case f.EMag != nil || f.Mag != nil:
			e.kind = kindForced
		default:
			e.kind = kindNonDetection
		}
	}
	if !finite(f.MJD) {
		ps.skip(e.line, "mjd", ReasonNoTime)
		return nil
	}
	if err := processor.CheckMJD(*f.MJD); err != nil {
		return &dataproduct.ParseError{Line: e.line, Column: "mjd", Err: err}
	}
	band, bands := f.FID, ztfBands
	if Survey(survey) == SurveyLSST {
		band, bands = f.Band, lsstBands
	} else if band == nil {
		band = f.Band // a ZTF row in the multisurvey shape
	}
	if band != nil {
		e.filter = bands[*band]
		if name := ps.bandMap(f.BandMap)[strconv.Itoa(*band)]; name != "" {
			e.filter = name
		}
	}
	if e.filter == "" {
		col := "fid"
		if Survey(survey) == SurveyLSST || f.FID == nil {
			col = "band"
		}
		ps.skip(e.line, col, ReasonNoFilter)
		return nil
	}
	e.survey = Survey(survey)
	return nil
}

// bandMap decodes a row's band_map (every row of a list repeats the
// same one, so each distinct map is decoded once). Values that are not
// strings are ignored.
func (ps *parser) bandMap(raw json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	if m, ok := ps.bandMaps[string(raw)]; ok {
		return m
	}
	var vals map[string]json.RawMessage
	_ = json.Unmarshal(raw, &vals) // not an object: no map
	m := map[string]string{}
	for k, v := range vals {
		var name string
		if json.Unmarshal(v, &name) == nil {
			m[k] = name
		}
	}
	if ps.bandMaps == nil {
		ps.bandMaps = map[string]map[string]string{}
	}
	ps.bandMaps[string(raw)] = m
	return m
}

// dedupKey is the identity of a measurement within its kind.
type dedupKey struct {
	kind   rowKind
	survey Survey
	id     int64
	mjd    float64
	filter string
}

func (e *entry) key() dedupKey {
	k := dedupKey{kind: e.kind, survey: e.survey, filter: e.filter}
	switch {
	case e.survey == SurveyLSST && e.f.MeasurementID != nil:
		k.id, k.filter = *e.f.MeasurementID, ""
	case e.survey == SurveyZTF && e.kind != kindNonDetection && e.f.PID != nil:
		k.id = *e.f.PID
	default:
		k.mjd = *e.f.MJD
	}
	return k
}

// hasRFID reports whether a ZTF detection has its reference image id
// (the better of two rows of one exposure, spec §6).
func (e *entry) hasRFID() bool {
	return e.f.RFID != nil && string(*e.f.RFID) != "null"
}

// datums de-duplicates the rows and turns them into datums, sorted.
func (ps *parser) datums() []dataproduct.Datum {
	keep := make([]bool, len(ps.entries))
	first := map[dedupKey]int{}
	for i := range ps.entries {
		e := &ps.entries[i]
		k := e.key()
		j, dup := first[k]
		if !dup {
			first[k] = i
			keep[i] = true
			continue
		}
		if e.kind == kindDetection && e.survey == SurveyZTF && e.hasRFID() && !ps.entries[j].hasRFID() {
			keep[j], keep[i], first[k] = false, true, i
			ps.leaveOut(ps.entries[j].line, ReasonDuplicate)
			continue
		}
		ps.leaveOut(e.line, ReasonDuplicate)
	}
	th := thresholds{snrDetect: cmp.Or(ps.proc.SNRDetect, DefaultSNRDetect), limitSigma: cmp.Or(ps.proc.LimitSigma, DefaultLimitSigma)}
	apparent := ps.proc.MagnitudeKind == MagnitudeApparent
	var fl processor.Floats
	out := make([]dataproduct.Datum, 0, len(ps.entries))
	for i := range ps.entries {
		if !keep[i] {
			continue
		}
		e := &ps.entries[i]
		ph, s := ps.photometry(&fl, e, th, apparent)
		if s.reason == "" && !allFinite(ph) {
			s.reason = ReasonOutOfRange
		}
		if s.reason != "" {
			s.line = e.line
			ps.skips = append(ps.skips, s)
			continue
		}
		mjd := timeOf(e.survey, *e.f.MJD)
		ph.Filter = e.filter
		ph.MJD = fl.New(mjd)
		if ph.Extra == nil {
			ph.Extra = map[string]any{}
		}
		ph.Extra["kind"] = kindNames[e.kind]
		source := AlertSource
		if e.kind == kindForced {
			source = ForcedPhotometrySource
		}
		out = append(out, dataproduct.Datum{
			DataType:  dataproduct.TypePhotometry,
			Timestamp: processor.MJDToTime(mjd),
			Source:    source,
			Value:     ph,
		})
	}
	slices.SortStableFunc(out, func(a, b dataproduct.Datum) int {
		return cmp.Or(a.Timestamp.Compare(b.Timestamp),
			cmp.Compare(a.Source, b.Source),
			cmp.Compare(a.Value.(dataproduct.Photometry).Filter, b.Value.(dataproduct.Photometry).Filter))
	})
	return out
}

// allFinite reports whether every number of ph is finite (JSON cannot
// carry the others).
func allFinite(ph dataproduct.Photometry) bool {
	for _, p := range []*float64{ph.Magnitude, ph.Error, ph.Limit, ph.FluxUJy, ph.FluxErrUJy} {
		if p != nil && !finite(p) {
			return false
		}
	}
	return true
}

// photometry applies the row's rule; a skip with a reason means no datum.
func (ps *parser) photometry(fl *processor.Floats, e *entry, th thresholds, apparent bool) (dataproduct.Photometry, skip) {
	f := &e.f
	var ph dataproduct.Photometry
	none := func(column, reason string) (dataproduct.Photometry, skip) {
		return ph, skip{column: column, reason: reason}
	}
	if e.survey == SurveyLSST {
		if e.kind == kindNonDetection {
			return none("", ReasonLSSTNonDetection)
		}
		if f.Withdrawn != nil && *f.Withdrawn > 0 && finite(f.Withdrawn) {
			return none("timeWithdrawnMjdTai", ReasonWithdrawn)
		}
		if !finite(f.PsfFlux) {
			return none("psfFlux", ReasonNoFlux)
		}
		if !finite(f.PsfFluxErr) || *f.PsfFluxErr <= 0 {
			return none("psfFluxErr", ReasonNoFlux)
		}
		ph = fluxPoint(fl, *f.PsfFlux/nJyPerUJy, *f.PsfFluxErr/nJyPerUJy, th)
		ph.Telescope = TelescopeRubin
		return ph, skip{}
	}
	switch e.kind {
	case kindDetection:
		if apparent {
			if f.Corrected == nil || !*f.Corrected || (f.Dubious != nil && *f.Dubious) ||
				!finite(f.MagPSFCorr) || !finite(f.SigmaPSFCorrExt) || *f.SigmaPSFCorrExt <= 0 {
				return ph, skip{reason: ReasonNotCorrected, filter: true}
			}
			ph = alertDetection(fl, *f.MagPSFCorr, f.SigmaPSFCorrExt)
			ph.Extra = map[string]any{"magnitude_kind": string(MagnitudeApparent)}
			break
		}
		if !finite(f.MagPSF) {
			return none("magpsf", ReasonNoMagnitude)
		}
		if f.Sign >= 0 {
			ph = alertDetection(fl, *f.MagPSF, f.SigmaPSF)
			break
		}
		if !finite(f.SigmaPSF) || *f.SigmaPSF <= 0 {
			return none("sigmapsf", ReasonNoMagnitudeError)
		}
		ph = magnitudePoint(fl, *f.MagPSF, *f.SigmaPSF, -1, th)
		ph.Extra = map[string]any{"isdiffpos": -1}
	case kindNonDetection:
		if !finite(f.DiffMagLim) {
			return none("diffmaglim", ReasonNoLimit)
		}
		ph = dataproduct.Photometry{Limit: fl.New(*f.DiffMagLim), LimitSigma: 5}
	case kindForced:
		status := f.Procstatus
		if f.ExtraFields != nil && f.ExtraFields.Procstatus != "" {
			status = f.ExtraFields.Procstatus
		}
		flagged := status != "" && !slices.Contains(CleanProcstatus, string(status))
		if flagged && !ps.p.KeepFlagged {
			return ph, skip{reason: flaggedReason(status), filter: true}
		}
		switch {
		case !finite(f.Mag):
			return none("mag", ReasonNoMagnitude)
		case !finite(f.EMag):
			return none("e_mag", ReasonNoMagnitudeError)
		case *f.EMag >= 100:
			return none("e_mag", ReasonSentinel)
		case *f.Mag >= 99:
			return none("mag", ReasonSentinel)
		case *f.EMag <= 0:
			return none("e_mag", ReasonNoMagnitudeError)
		}
		sign := 1
		if f.Sign < 0 {
			sign = -1
		}
		ph = magnitudePoint(fl, *f.Mag, *f.EMag, sign, th)
		if flagged {
			ph.Extra = map[string]any{"procstatus": string(status)}
		}
	}
	ph.Telescope = TelescopeZTF
	return ph, skip{}
}
