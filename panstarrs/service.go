package panstarrs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// ServiceName is the registry name of the service and the Source of its
// datums.
const ServiceName = "PANSTARRS"

// Class names for settings files.
const (
	ServiceClass   = "panstarrs.Service"
	ProcessorClass = "panstarrs.Processor"
)

// errNoRows marks an empty answer (as opposed to an HTTP 404).
var errNoRows = errors.New("MAST answered with an empty body")

// Service is the PanSTARRS single-target data service: a synchronous cone
// search of one PS1 table at MAST, stored as a CSV product of type
// DataProductType. It is safe for concurrent use.
type Service struct {
	client *Client
	log    *slog.Logger
}

// NewService returns a Service on baseURL (empty: DefaultURL) with an
// optional MAST token (see New).
func NewService(baseURL string, token singletarget.Secret, opts *Options) (*Service, error) {
	c, err := New(baseURL, token, opts)
	if err != nil {
		return nil, err
	}
	return &Service{client: c, log: c.log}, nil
}

// Client returns the service's Client.
func (s *Service) Client() *Client { return s.client }

// Redact implements singletarget.Redactor: text without the MAST token.
func (s *Service) Redact(text string) string { return s.client.http.Redact(text) }

// Name implements singletarget.Service: "PANSTARRS".
func (s *Service) Name() string { return ServiceName }

// NewForm implements singletarget.Service; see NewForm.
func (s *Service) NewForm() singletarget.QueryForm { return NewForm() }

// Info implements singletarget.Describer.
func (s *Service) Info() singletarget.Info {
	return singletarget.Info{
		Label:           "PanSTARRS",
		Kind:            "Catalog Search",
		DataProductType: DataProductType,
		InfoURL:         InfoURL,
		Notes: "Cone search of the Pan-STARRS1 catalogs at MAST. The mean, stack and forced-mean tables give one " +
			"magnitude per band and object; the DR2 detection table gives every single-epoch measurement (a light curve).",
	}
}

// ProductName is the deterministic product name of a query:
// panstarrs-<release>-<table>-<target>-<min MJD>-<max MJD>.csv, with the
// target name made safe and "none" for an open end.
func ProductName(release, table, target string, minMJD, maxMJD *float64) string {
	part := func(v *float64) string {
		if v == nil {
			return "none"
		}
		return formatFloat(*v)
	}
	return fmt.Sprintf("panstarrs-%s-%s-%s-%s-%s.csv", release, table, dataproduct.SafeName(target), part(minMJD), part(maxMJD))
}

// Query implements singletarget.Service. It searches the form's table in
// a cone around t and stores every row as one CSV product (named by
// ProductName; storing the same answer again changes nothing). For the
// detection table it first finds the objects in the cone (mean table, with
// nDetections ≥ the form's minimum, nearest first, at most
// Options.MaxObjects) and then fetches each object's detections by objID,
// paged; the product holds them object by object, in obsTime order. No
// rows is an error matching singletarget.ErrNotFound, and nothing is
// stored.
func (s *Service) Query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	form, ok := f.(*Form)
	if !ok {
		return nil, fmt.Errorf("%s: Query needs a *panstarrs.Form, got %T", ServiceName, f)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", ServiceName, err)
	}
	if err := CheckTable(form.Release, form.Catalog); err != nil {
		return nil, err
	}
	tbl, extra, err := s.fetch(ctx, t, form)
	if err != nil {
		return nil, err
	}
	p := dataproduct.Product{
		TargetID:        t.ID,
		Name:            ProductName(form.Release, form.Catalog, t.Name, form.MinDateMJD, form.MaxDateMJD),
		DataProductType: DataProductType,
		ContentType:     "text/csv",
		Extra:           extra,
	}
	// The rows were assembled from MAST's pages (each capped by
	// MaxBodySize); they go to the sink without a second copy.
	pr, pw := io.Pipe()
	go func() { _, err := tbl.WriteTo(pw); pw.CloseWithError(err) }()
	stored, err := out.PutProduct(ctx, p, pr)
	pr.CloseWithError(errors.New("the product was not read to the end")) // ends the writer if PutProduct stopped early
	if err != nil {
		return nil, fmt.Errorf("%s: storing %s: %w", ServiceName, p.Name, err)
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{stored}}, nil
}

// fetch runs the query and returns the rows and the product's Extra.
func (s *Service) fetch(ctx context.Context, t singletarget.Target, form *Form) (*Table, map[string]string, error) {
	cone := Cone{RA: t.RA, Dec: t.Dec, Radius: form.RadiusArcsec / 3600}
	optional := func(v *float64) string {
		if v == nil {
			return "none"
		}
		return formatFloat(*v)
	}
	extra := map[string]string{
		"release":        form.Release,
		"catalog":        form.Catalog,
		"ra":             formatFloat(t.RA),
		"dec":            formatFloat(t.Dec),
		"radius_arcsec":  formatFloat(form.RadiusArcsec),
		"min_detections": strconv.Itoa(form.MinDetections),
		"min_date_mjd":   optional(form.MinDateMJD),
		"max_date_mjd":   optional(form.MaxDateMJD),
		"url":            s.client.BaseURL() + "/" + form.Release + "/" + form.Catalog + ".csv",
	}
	cols, avail, err := s.columns(ctx, form.Release, form.Catalog)
	if err != nil {
		return nil, nil, err
	}
	var tbl *Table
	if form.Catalog == TableDetection {
		tbl, err = s.detections(ctx, form, cone, cols, avail, extra)
	} else {
		tbl, err = s.objects(ctx, form, cone, cols, avail, extra)
	}
	if err != nil {
		return nil, nil, err
	}
	extra["rows"] = strconv.Itoa(tbl.Len())
	return tbl, extra, nil
}

// columns returns the columns to request from a table: DefaultColumns
// less those the metadata endpoint does not list, and the set of the
// table's columns (nil when the metadata could not be read: then the
// defaults are sent as they are).
func (s *Service) columns(ctx context.Context, release, table string) ([]string, map[string]bool, error) {
	want := DefaultColumns(table)
	meta, err := s.client.Metadata(ctx, release, table)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, singletarget.ErrThrottled) || errors.Is(err, singletarget.ErrUnauthorized) {
			return nil, nil, err
		}
		s.log.Warn("cannot read the table's metadata; requesting the default columns", "service", ServiceName,
			"table", release+"/"+table, "error", err)
		return want, nil, nil
	}
	avail := make(map[string]bool, len(meta))
	for _, c := range meta {
		avail[c.Name] = true
	}
	var missing []string
	for _, c := range requiredColumns(table) {
		if !avail[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("%s: %w: the metadata of %s/%s lists no column %s", ServiceName, singletarget.ErrRemote, release, table, strings.Join(missing, ", "))
	}
	cols := slices.DeleteFunc(want, func(c string) bool { return !avail[c] })
	return cols, avail, nil
}

// rangeWhere adds the MJD range on column (epochMean or obsTime); the
// column must exist when the metadata is known.
func rangeWhere(form *Form, column, table string, avail map[string]bool) ([]Constraint, error) {
	var out []Constraint
	if form.MinDateMJD == nil && form.MaxDateMJD == nil {
		return nil, nil
	}
	if avail != nil && !avail[column] {
		return nil, fmt.Errorf("%w: table %s has no column %s to apply the MJD range to", ErrInvalidQuery, table, column)
	}
	if form.MinDateMJD != nil {
		out = append(out, Range(column, OpMin, *form.MinDateMJD))
	}
	if form.MaxDateMJD != nil {
		out = append(out, Range(column, OpMax, *form.MaxDateMJD))
	}
	return out, nil
}

// objects searches an object table (mean, stack, forced_mean).
func (s *Service) objects(ctx context.Context, form *Form, cone Cone, cols []string, avail map[string]bool, extra map[string]string) (*Table, error) {
	q := Query{Release: form.Release, Table: form.Catalog, Cone: &cone, Columns: cols}
	if form.MinDetections > 0 {
		if avail != nil && !avail["nDetections"] {
			s.log.Warn("the table has no nDetections column; minimum detections not applied", "service", ServiceName,
				"table", form.Release+"/"+form.Catalog)
			extra["min_detections"] = "not applied"
		} else {
			q.Where = append(q.Where, Range("nDetections", OpMin, float64(form.MinDetections)))
		}
	}
	where, err := rangeWhere(form, "epochMean", form.Catalog, avail)
	if err != nil {
		return nil, err
	}
	q.Where = append(q.Where, where...)
	tbl, err := s.client.SearchAll(ctx, q)
	if err != nil {
		return nil, err
	}
	if i := tbl.Column("objID"); i >= 0 {
		sortRows(tbl, func(a, b []string) int { return compareIDs(strings.TrimSpace(a[i]), strings.TrimSpace(b[i])) })
	}
	return tbl, nil
}

// detections runs the light-curve flow: objects in the cone, then their
// detections by objID.
func (s *Service) detections(ctx context.Context, form *Form, cone Cone, cols []string, avail map[string]bool, extra map[string]string) (*Table, error) {
	where, err := rangeWhere(form, "obsTime", TableDetection, avail)
	if err != nil {
		return nil, err
	}
	objs, err := s.client.Objects(ctx, form.Release, cone, form.MinDetections)
	if err != nil {
		return nil, err
	}
	if max := s.client.opts.MaxObjects; len(objs) > max {
		s.log.Info("more objects in the cone than Options.MaxObjects; keeping the nearest", "service", ServiceName,
			"objects", len(objs), "max", max)
		extra["objects_in_cone"] = strconv.Itoa(len(objs))
		objs = objs[:max]
	}
	ids := make([]string, 0, len(objs))
	all := &Table{}
	for _, o := range objs {
		q := Query{Release: form.Release, Table: TableDetection, Columns: cols,
			Where: append([]Constraint{Eq("objID", o.ObjID)}, where...)}
		tbl, err := s.client.SearchAll(ctx, q)
		if errors.Is(err, errNoRows) {
			continue // no detections in the MJD range
		}
		if err != nil {
			return nil, err
		}
		if all.Header == nil {
			all.Header = tbl.Header
		} else if !slices.Equal(all.Header, tbl.Header) {
			return nil, fmt.Errorf("%s: %w: detection answers for two objects have different headers", ServiceName, singletarget.ErrRemote)
		}
		iT, iD := tbl.Column("obsTime"), tbl.Column("detectID")
		sortRows(tbl, func(a, b []string) int {
			ta, _ := strconv.ParseFloat(strings.TrimSpace(a[iT]), 64)
			tb, _ := strconv.ParseFloat(strings.TrimSpace(b[iT]), 64)
			switch {
			case ta < tb:
				return -1
			case ta > tb:
				return 1
			case iD >= 0:
				return compareIDs(strings.TrimSpace(a[iD]), strings.TrimSpace(b[iD]))
			}
			return 0
		})
		all.Rows = append(all.Rows, tbl.Rows...)
		ids = append(ids, o.ObjID)
	}
	if all.Len() == 0 {
		return nil, fmt.Errorf("%s: %w: no detections of the %d objects in the cone (%w)", ServiceName, singletarget.ErrNotFound, len(objs), errNoRows)
	}
	extra["objects"] = strings.Join(ids, ",")
	return all, nil
}

// sortRows sorts a table's rows stably by cmp over their fields.
func sortRows(t *Table, cmp func(a, b []string) int) {
	type row struct {
		text   string
		fields []string
	}
	rows := make([]row, len(t.Rows))
	for i, r := range t.Rows {
		f, _ := splitCSV(r, nil) // rows were checked when the page was read
		rows[i] = row{r, f}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp(a.fields, b.fields) })
	for i, r := range rows {
		t.Rows[i] = r.text
	}
}

// settings are the keys of a PANSTARRS entry besides class, url and
// api_key.
type settings struct {
	PageSize          int     `setting:"page_size" validate:"gte=0"`
	MaxPages          int     `setting:"max_pages" validate:"gte=0"`
	MaxObjects        int     `setting:"max_objects" validate:"gte=0"`
	RequestsPerSecond float64 `setting:"requests_per_second" validate:"gte=0"`
	Timeout           string  `setting:"timeout"`
	Method            string  `setting:"method" validate:"omitempty,oneof=GET POST"`
}

// Register adds the class "panstarrs.Service" (the factory reads the
// settings url (default DefaultURL), api_key (optional MAST token), and
// the optional keys page_size, max_pages, max_objects,
// requests_per_second, timeout (a Go duration such as "10m") and method
// (GET or POST)) and the processor class "panstarrs.Processor" for
// DataProductType.
func Register(r *singletarget.Registry) error {
	if err := r.Register(ServiceClass, newFromSettings); err != nil {
		return err
	}
	return r.RegisterProcessor(ProcessorClass, Processor{})
}

func newFromSettings(st singletarget.Settings) (singletarget.Service, error) {
	var x settings
	if err := st.DecodeExtra(&x); err != nil {
		return nil, err
	}
	opts := &Options{HTTPClient: st.HTTPClient, Logger: st.Logger, PageSize: x.PageSize, MaxPages: x.MaxPages,
		MaxObjects: x.MaxObjects, Method: x.Method}
	if x.Timeout != "" {
		d, err := time.ParseDuration(x.Timeout)
		if err != nil || d <= 0 {
			return nil, &singletarget.ConfigError{Key: "single_target_data_services." + st.Name + ".timeout",
				Msg: fmt.Sprintf("%q is not a positive duration such as 10m", x.Timeout)}
		}
		opts.Timeout = d
	}
	if x.RequestsPerSecond > 0 {
		opts.Limiter = rate.NewLimiter(rate.Limit(x.RequestsPerSecond), int(math.Max(1, math.Ceil(x.RequestsPerSecond))))
	}
	return NewService(st.URL, st.APIKey, opts)
}
