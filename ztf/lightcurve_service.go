package ztf

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Service is the synchronous light-curve service "ZTF": a cone (or object
// id) query to IRSA's ZTF light-curve API whose answer, a CSV or IPAC
// table, is stored as one "ztf_photometry" product. Build it with
// NewService or from settings through Register. It is safe for concurrent
// use.
type Service struct {
	c *Client
}

var (
	_ singletarget.Service   = (*Service)(nil)
	_ singletarget.Describer = (*Service)(nil)
)

// NewService returns the light-curve service for the IRSA site at baseURL
// (DefaultLightCurveURL for the real one). opts may be nil.
func NewService(baseURL string, opts *Options) (*Service, error) {
	c, err := New(baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &Service{c: c}, nil
}

// Client returns the service's client.
func (s *Service) Client() *Client { return s.c }

// Redact implements singletarget.Redactor: text without the optional
// HTTP Basic credentials.
func (s *Service) Redact(text string) string { return s.c.http.Redact(text) }

// Name implements singletarget.Service: Options.Name, default "ZTF".
func (s *Service) Name() string { return s.c.name }

// NewForm implements singletarget.Service: a *Form with the initial
// values (2″ cone, all bands, the whole survey, BAD_CATFLAGS_MASK 32768,
// the latest release, CSV).
func (s *Service) NewForm() singletarget.QueryForm { return newForm() }

// Info implements singletarget.Describer.
func (s *Service) Info() singletarget.Info {
	return singletarget.Info{
		Label:           "ZTF light curves (IRSA)",
		Kind:            "Catalog Search",
		DataProductType: DataProductType,
		InfoURL:         "https://irsa.ipac.caltech.edu/docs/program_interface/ztf_lightcurve_api.html",
		Notes: "PSF-fit light curves of ZTF objects near the target from IRSA's public data releases " +
			"(detections only; a star has one light curve per field and filter).",
	}
}

// Query implements singletarget.Service: it asks IRSA for the light curves
// of the form's cone (or object ids) and stores the answer as one product
// named ztf-<target>-<bands>-<mjd min>-<mjd max>[-<details>].csv (or
// .tbl). An empty answer gives an error matching singletarget.ErrNotFound
// and stores nothing.
func (s *Service) Query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	form, ok := f.(*Form)
	if !ok {
		return nil, fmt.Errorf("%s: Query needs the service's own *ztf.Form, got %T", s.c.name, f)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.c.name, err)
	}
	q, err := form.query(t)
	if err != nil {
		return nil, err
	}
	// The answer streams into a temporary file, checked and counted on
	// the way (the product's Extra holds the row count, known only at the
	// end), then from the file into the sink: memory stays small whatever
	// its size.
	req, err := s.c.request(q)
	if err != nil {
		return nil, err
	}
	spool, err := os.CreateTemp("", "targetdata-ztf-*.part")
	if err != nil {
		return nil, fmt.Errorf("%s: a temporary file for the answer: %w", s.c.name, err)
	}
	defer func() { spool.Close(); os.Remove(spool.Name()) }()
	lc, err := s.c.lightCurvesTo(ctx, req, q.Format, func() (io.Writer, error) {
		if err := spool.Truncate(0); err != nil {
			return nil, err
		}
		_, err := spool.Seek(0, io.SeekStart)
		return spool, err
	})
	if err != nil {
		return nil, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: reading back the answer: %w", s.c.name, err)
	}
	if lc.Rows == 0 {
		where := fmt.Sprintf("within %v arcsec of %s (RA %v, Dec %v)", form.Radius, t.Name, t.RA, t.Dec)
		if len(q.IDs) > 0 {
			where = "for object ids " + form.ObjectIDs
		}
		return nil, fmt.Errorf("%s: no ZTF light-curve points %s: %w", s.c.name, where, singletarget.ErrNotFound)
	}
	p := dataproduct.Product{
		TargetID:        t.ID,
		Name:            form.productName(t),
		DataProductType: DataProductType,
		ContentType:     "text/csv",
		Extra: map[string]string{
			"url":    lc.URL,
			"format": string(lc.Format),
			"rows":   strconv.Itoa(lc.Rows),
		},
	}
	if lc.Format == FormatIPAC {
		p.ContentType = "text/plain"
	}
	if form.Collection != "" {
		p.Extra["collection"] = form.Collection
	}
	stored, err := out.PutProduct(ctx, p, spool)
	if err != nil {
		return nil, fmt.Errorf("%s: storing %s: %w", s.c.name, p.Name, err)
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{stored}}, nil
}

// query turns the form into a LightCurveQuery for target t.
func (f *Form) query(t singletarget.Target) (LightCurveQuery, error) {
	ids, problem := f.ids()
	if problem != "" {
		return LightCurveQuery{}, &singletarget.FormErrors{Fields: map[string][]string{"object_ids": {problem}}}
	}
	return LightCurveQuery{
		RA: t.RA, Dec: t.Dec, Radius: f.Radius / 3600,
		IDs:             ids,
		Bands:           f.bands(),
		MJDMin:          f.MinDateMJD,
		MJDMax:          f.MaxDateMJD,
		BadCatflagsMask: f.BadCatflagsMask,
		Collection:      f.Collection,
		Format:          Format(f.Format),
	}, nil
}

// productName is the deterministic product name of the form's query for
// t: ztf-<target>-<bands>-<mjd min|start>-<mjd max|end>, then -r<radius>
// when the radius is not 2″, -m<mask> when the mask is not 32768,
// -<collection> when one is pinned, and -id<oid> or -ids<hash> for
// object-id queries; .csv or .tbl.
func (f *Form) productName(t singletarget.Target) string {
	num := func(p *float64, open string) string {
		if p == nil {
			return open
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	bands := strings.ReplaceAll(f.Bands, ",", "")
	if bands == "" {
		bands = "all"
	}
	parts := []string{"ztf", dataproduct.SafeName(t.Name)}
	ids, _ := f.ids()
	switch len(ids) {
	case 0:
		parts = append(parts, bands)
	case 1:
		parts = append(parts, "id"+strconv.FormatInt(ids[0], 10))
	default:
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		h := fnv.New32a()
		for _, id := range sorted {
			h.Write([]byte(strconv.FormatInt(id, 10) + ","))
		}
		parts = append(parts, fmt.Sprintf("ids%d-%08x", len(ids), h.Sum32()))
	}
	parts = append(parts, num(f.MinDateMJD, "start"), num(f.MaxDateMJD, "end"))
	if len(ids) == 0 && f.Radius != DefaultRadiusArcsec {
		parts = append(parts, "r"+strconv.FormatFloat(f.Radius, 'f', -1, 64))
	}
	if f.BadCatflagsMask != DefaultBadCatflagsMask {
		parts = append(parts, "m"+strconv.Itoa(f.BadCatflagsMask))
	}
	if f.Collection != "" {
		parts = append(parts, f.Collection)
	}
	ext := ".csv"
	if Format(f.Format) == FormatIPAC {
		ext = ".tbl"
	}
	return strings.Join(parts, "-") + ext
}

// serviceSettings are the extra settings of ztf.Service.
type serviceSettings struct {
	Username        singletarget.Secret `setting:"username"`
	Password        singletarget.Secret `setting:"password"`
	RequestInterval string              `setting:"request_interval"`
	Timeout         string              `setting:"timeout"`
}

// newServiceFromSettings is the Factory of ztf.Service.
func newServiceFromSettings(s singletarget.Settings) (singletarget.Service, error) {
	var x serviceSettings
	if err := s.DecodeExtra(&x); err != nil {
		return nil, err
	}
	if !s.APIKey.IsZero() {
		return nil, configError(s, "api_key", "not used by ztf.Service: public releases need no key (set username and password for an IRSA account)")
	}
	opts := &Options{Name: s.Name, Username: x.Username, Password: x.Password, HTTPClient: s.HTTPClient, Logger: s.Logger}
	var errs []error
	var err error
	if opts.RequestInterval, err = parseDuration(s, "request_interval", x.RequestInterval, true); err != nil {
		errs = append(errs, err)
	}
	if opts.Timeout, err = parseDuration(s, "timeout", x.Timeout, false); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	url := s.URL
	if url == "" {
		url = DefaultLightCurveURL
	}
	svc, err := NewService(url, opts)
	if err != nil {
		return nil, configError(s, "", err.Error())
	}
	return svc, nil
}

func configError(s singletarget.Settings, key, msg string) error {
	k := "single_target_data_services." + s.Name
	if key != "" {
		k += "." + key
	}
	return &singletarget.ConfigError{Key: k, Msg: msg}
}

// parseDuration reads a duration setting ("30s", "2m"); "" is zero.
// allowOff accepts "off" (a negative duration: disabled).
func parseDuration(s singletarget.Settings, key, v string, allowOff bool) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if allowOff && v == "off" {
		return -1, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		msg := fmt.Sprintf("%q is not a positive duration such as 30s or 2m", v)
		if allowOff {
			msg += ` (or "off")`
		}
		return 0, configError(s, key, msg)
	}
	return d, nil
}
