package alerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Service is the ALeRCE single-target data service: it finds the target's
// ALeRCE object (by id or by cone), fetches the photometry the form asks
// for from the survey's APIs (ZTF: v1 detections and non-detections, v2
// forced photometry; LSST: multisurvey detections and forced sources),
// keeps the rows of the form's time window and stores them as one
// LightCurve product of type DataProductType. It is synchronous and safe
// for concurrent use.
type Service struct {
	c   *Client
	log *slog.Logger
}

var (
	_ singletarget.Service   = (*Service)(nil)
	_ singletarget.Describer = (*Service)(nil)
)

// NewService returns the service on the APIs at urls (the zero URLs: the
// real ones). opts may be nil.
func NewService(urls URLs, opts *Options) (*Service, error) {
	c, err := New(urls, opts)
	if err != nil {
		return nil, err
	}
	return &Service{c: c, log: c.opts.Logger}, nil
}

// Client returns the service's client.
func (s *Service) Client() *Client { return s.c }

// Name implements singletarget.Service: Options.Name, default "ALERCE".
func (s *Service) Name() string { return s.c.opts.Name }

// NewForm implements singletarget.Service; see NewForm.
func (s *Service) NewForm() singletarget.QueryForm { return NewForm() }

// Info implements singletarget.Describer.
func (s *Service) Info() singletarget.Info {
	return singletarget.Info{
		Label:           "ALeRCE light curves",
		Kind:            "Catalog Search",
		DataProductType: DataProductType,
		InfoURL:         InfoURL,
		Notes: "The ALeRCE broker's ZTF and Rubin/LSST light curves: alert detections, non-detections as limits, " +
			"and forced photometry (weak epochs as limits).",
	}
}

// Query implements singletarget.Service. It resolves the object (the
// form's object_id, else the target's name when it is an ALeRCE id of
// the survey, else the nearest object within the form's radius of the
// target, the others listed in the product's Extra), fetches the chosen
// kinds of photometry, drops the rows outside the time window and stores
// the rest as one LightCurve named by ProductName. No object, or no row,
// is an error matching singletarget.ErrNotFound, and nothing is stored.
func (s *Service) Query(ctx context.Context, t singletarget.Target, qf singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	form, ok := qf.(*Form)
	if !ok {
		return nil, fmt.Errorf("%s: Query needs an *alerce.Form, got %T", s.Name(), qf)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name(), err)
	}
	obj, others, err := s.resolve(ctx, t, form)
	if err != nil {
		return nil, err
	}
	lc, err := s.fetch(ctx, obj, form)
	if err != nil {
		return nil, err
	}
	if lc.Rows() == 0 {
		return nil, fmt.Errorf("%s: %w: no %s photometry of %s %s%s", s.Name(), singletarget.ErrNotFound,
			strings.Join(form.kinds(), ", "), strings.ToUpper(string(obj.Survey)), obj.OID, windowText(form))
	}
	lc.Processing = form.processing()
	body, err := json.Marshal(lc)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the light curve: %w", s.Name(), err)
	}
	p := dataproduct.Product{
		TargetID:        t.ID,
		Name:            ProductName(t.Name, obj.OID, form),
		DataProductType: DataProductType,
		ContentType:     "application/json",
		Extra: map[string]string{
			"survey":            string(obj.Survey),
			"oid":               obj.OID,
			"detections":        strconv.Itoa(len(lc.Detections)),
			"non_detections":    strconv.Itoa(len(lc.NonDetections)),
			"forced_photometry": strconv.Itoa(len(lc.ForcedPhotometry)),
		},
	}
	if obj.Separation >= 0 {
		p.Extra["separation_arcsec"] = strconv.FormatFloat(obj.Separation, 'f', 3, 64)
	}
	if len(others) > 0 {
		p.Extra["other_objects"] = strings.Join(others, ",")
	}
	stored, err := out.PutProduct(ctx, p, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: storing %s: %w", s.Name(), p.Name, err)
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{stored}}, nil
}

// neighbors is how many objects the multisurvey cone search returns.
const neighbors = 10

// resolve finds the object: by id (Separation −1) or by cone (the nearest;
// others lists the other objects in the cone).
func (s *Service) resolve(ctx context.Context, t singletarget.Target, form *Form) (Object, []string, error) {
	want := Survey(form.Survey)
	if id := form.ObjectID; id != "" {
		survey, _ := SurveyOf(id) // checked by Clean
		return Object{OID: id, Survey: survey, Separation: -1}, nil, nil
	}
	if survey, ok := nameID(t.Name); ok && (form.Survey == SurveyAuto || survey == want) {
		return Object{OID: strings.TrimSpace(t.Name), Survey: survey, Separation: -1}, nil, nil
	}
	surveys := []Survey{want}
	if form.Survey == SurveyAuto {
		surveys = []Survey{SurveyZTF, SurveyLSST}
	}
	var objs []Object
	var names []string
	for _, survey := range surveys {
		var err error
		if survey == SurveyLSST {
			objs, err = s.c.MultisurveyConeSearch(ctx, t.RA, t.Dec, form.Radius, neighbors)
			objs = slices.DeleteFunc(objs, func(o Object) bool { return o.Survey != SurveyLSST })
		} else {
			objs, err = s.c.ZTFConeSearch(ctx, t.RA, t.Dec, form.Radius)
		}
		if err != nil {
			return Object{}, nil, err
		}
		if len(objs) > 0 {
			break
		}
		names = append(names, strings.ToUpper(string(survey)))
	}
	if len(objs) == 0 {
		return Object{}, nil, fmt.Errorf("%s: %w: no %s object within %v arcsec of %s (RA %v, Dec %v)", s.Name(), singletarget.ErrNotFound,
			strings.Join(names, " or "), form.Radius, t.Name, t.RA, t.Dec)
	}
	var others []string
	for _, o := range objs[1:] {
		others = append(others, o.OID)
	}
	if len(others) > 0 {
		s.log.WarnContext(ctx, "several ALeRCE objects in the cone; taking the nearest", "service", s.Name(),
			"target", t.Name, "object", objs[0].OID, "separation_arcsec", objs[0].Separation, "others", others)
	}
	return objs[0], others, nil
}

// nameID reports whether a target's name is an ALeRCE id: a ZTF oid, or
// a diaObjectId of 15 digits or more (Rubin's are about 1.7e17), so that
// a target named "2023" is not taken for an LSST object.
func nameID(name string) (Survey, bool) {
	name = strings.TrimSpace(name)
	survey, ok := SurveyOf(name)
	if survey == SurveyLSST && len(name) < 15 {
		return "", false
	}
	return survey, ok
}

// fetch asks for the form's kinds of photometry and keeps the rows in the
// window.
func (s *Service) fetch(ctx context.Context, obj Object, form *Form) (*LightCurve, error) {
	lc := &LightCurve{Survey: obj.Survey, OID: obj.OID,
		Detections: []json.RawMessage{}, NonDetections: []json.RawMessage{}, ForcedPhotometry: []json.RawMessage{}}
	var err error
	switch obj.Survey {
	case SurveyZTF:
		if form.Detections || form.NonDetections {
			v1, err := s.c.ZTFLightCurve(ctx, obj.OID)
			if err != nil {
				return nil, err
			}
			if form.Detections {
				lc.Detections = v1.Detections
			}
			if form.NonDetections {
				lc.NonDetections = v1.NonDetections
			}
		}
		if form.ForcedPhotometry {
			if lc.ForcedPhotometry, err = s.c.ZTFForcedPhotometry(ctx, obj.OID); err != nil {
				return nil, err
			}
		}
	case SurveyLSST:
		if form.Detections {
			if lc.Detections, err = s.c.LSSTDetections(ctx, obj.OID); err != nil {
				return nil, err
			}
		}
		if form.ForcedPhotometry {
			if lc.ForcedPhotometry, err = s.c.LSSTForcedPhotometry(ctx, obj.OID); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%s: %w: survey %q is not ZTF or LSST", s.Name(), ErrInvalidQuery, obj.Survey)
	}
	for _, rows := range []*[]json.RawMessage{&lc.Detections, &lc.NonDetections, &lc.ForcedPhotometry} {
		kept, err := inWindow(*rows, obj.Survey, form.MinDateMJD, form.MaxDateMJD)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %s %s: %v", s.Name(), singletarget.ErrRemote, obj.Survey, obj.OID, err)
		}
		*rows = kept
	}
	return lc, nil
}

// inWindow keeps the rows whose time (UTC) is in [min, max]; rows without
// a time are kept (the Processor reports them).
func inWindow(rows []json.RawMessage, survey Survey, minMJD, maxMJD *float64) ([]json.RawMessage, error) {
	if minMJD == nil && maxMJD == nil {
		return rows, nil
	}
	out := rows[:0]
	for i, r := range rows {
		mjd, err := rowMJD(r)
		if errors.Is(err, errNoMJD) {
			out = append(out, r)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: mjd: %w", i, err)
		}
		utc := timeOf(survey, mjd)
		if (minMJD == nil || utc >= *minMJD) && (maxMJD == nil || utc <= *maxMJD) {
			out = append(out, r)
		}
	}
	return out, nil
}

// timeOf is the UTC MJD of a row's mjd (LSST rows are TAI).
func timeOf(survey Survey, mjd float64) float64 {
	if survey == SurveyLSST {
		return mjd - taiMinusUTC
	}
	return mjd
}

// kinds names the form's kinds of photometry.
func (f *Form) kinds() []string {
	var k []string
	if f.Detections {
		k = append(k, "detections")
	}
	if f.NonDetections {
		k = append(k, "non-detections")
	}
	if f.ForcedPhotometry {
		k = append(k, "forced photometry")
	}
	return k
}

func windowText(f *Form) string {
	if f.MinDateMJD == nil && f.MaxDateMJD == nil {
		return ""
	}
	return fmt.Sprintf(" between MJD %s and %s", mjdText(f.MinDateMJD, "start"), mjdText(f.MaxDateMJD, "now"))
}

func mjdText(p *float64, open string) string {
	if p == nil {
		return open
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// ProductName is the deterministic name of a query's product:
// alerce-<target>-<oid>-<kinds>-<min MJD|start>-<max MJD|end>.json, where
// kinds has d (detections), n (non-detections) and f (forced photometry),
// then -apparent, -snr<x> and -sig<y> when the form departs from the
// defaults. The same query always gives the same name.
func ProductName(target, oid string, f *Form) string {
	kinds := ""
	for _, k := range []struct {
		on bool
		c  string
	}{{f.Detections, "d"}, {f.NonDetections, "n"}, {f.ForcedPhotometry, "f"}} {
		if k.on {
			kinds += k.c
		}
	}
	parts := []string{"alerce", dataproduct.SafeName(target), dataproduct.SafeName(oid), kinds,
		mjdText(f.MinDateMJD, "start"), mjdText(f.MaxDateMJD, "end")}
	if f.MagnitudeKind == string(MagnitudeApparent) {
		parts = append(parts, "apparent")
	}
	if f.SNRDetect != DefaultSNRDetect {
		parts = append(parts, "snr"+strconv.FormatFloat(f.SNRDetect, 'f', -1, 64))
	}
	if f.LimitSigma != DefaultLimitSigma {
		parts = append(parts, "sig"+strconv.FormatFloat(f.LimitSigma, 'f', -1, 64))
	}
	return strings.Join(parts, "-") + ".json"
}

// settings are the keys of an ALERCE entry besides class and url (the v1
// ZTF API).
type settings struct {
	LightCurveURL   string        `setting:"lightcurve_url"`
	MultisurveyURL  string        `setting:"multisurvey_url"`
	RequestInterval time.Duration `setting:"request_interval"`
	Timeout         time.Duration `setting:"timeout" validate:"gte=0"`
	PageSize        int           `setting:"page_size" validate:"gte=0,lte=1000"`
}

// Register adds the class "alerce.Service" and the processor class
// "alerce.Processor" (for DataProductType) to r. The factory reads the
// settings url (the v1 ZTF API, default DefaultZTFURL), lightcurve_url
// (the v2 API, default DefaultLightCurveURL), multisurvey_url (default
// DefaultMultisurveyURL), request_interval (a Go duration; default
// 250ms, negative: no pacing), timeout (per HTTP attempt, default 1m) and
// page_size (v1 object search, default 20). ALeRCE needs no credentials:
// api_key is refused.
func Register(r *singletarget.Registry) error {
	return errors.Join(
		r.Register(ServiceClass, newFromSettings),
		r.RegisterProcessor(ProcessorClass, Processor{}),
	)
}

func newFromSettings(st singletarget.Settings) (singletarget.Service, error) {
	var x settings
	if err := st.DecodeExtra(&x); err != nil {
		return nil, err
	}
	key := "single_target_data_services." + st.Name
	if !st.APIKey.IsZero() {
		return nil, &singletarget.ConfigError{Key: key + ".api_key", Msg: "not used by alerce.Service: ALeRCE needs no credentials"}
	}
	opts := &Options{Name: st.Name, HTTPClient: st.HTTPClient, Logger: st.Logger,
		RequestInterval: x.RequestInterval, Timeout: x.Timeout, PageSize: x.PageSize}
	svc, err := NewService(URLs{ZTF: st.URL, LightCurve: x.LightCurveURL, Multisurvey: x.MultisurveyURL}, opts)
	if err != nil {
		return nil, &singletarget.ConfigError{Key: key, Msg: err.Error()}
	}
	return svc, nil
}
