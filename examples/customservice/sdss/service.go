package sdss

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strconv"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// Names of the service, its classes and its products.
const (
	// ServiceName is the service's registry name; it is stored with every
	// job and datum, so it never changes.
	ServiceName = "SDSS_SPECTRA"
	// ServiceClass is the service class for the settings' class key.
	ServiceClass = "sdss.Service"
	// ProcessorClass is the processor class for data_processors.
	ProcessorClass = "sdss.Processor"
	// DataProductType is the data product type of the stored spec-lite
	// files, and DataProductLabel its human-readable label.
	DataProductType  = "sdss_spectrum"
	DataProductLabel = "SDSS Spectrum"
)

// Step 1 of 3: the query form, the service and the processor.

// Form is the query form: how far from the target to look, and which
// kind of object. The target itself (name, RA, Dec) comes with the query.
type Form struct {
	singletarget.FormBase
	// Radius is the search radius in arcsec.
	Radius float64 `form:"radius" label:"Radius (arcsec)" validate:"gt=0,lte=600" help:"How far from the target to look for a spectrum; SDSS fibres are 2-3 arcsec wide."`
	// Class restricts the search to the pipeline's class: GALAXY, QSO,
	// STAR, or "any".
	Class string `form:"class" label:"Object class" choices:"any=Any|GALAXY=Galaxy|QSO=Quasar|STAR=Star" help:"Only spectra the SDSS pipeline classified so."`
}

// Service is the SDSS spectra service. It is safe for concurrent use.
type Service struct {
	client *Client
}

// NewService returns the service of the SkyServer at baseURL (""
// for DefaultURL).
func NewService(baseURL string, opts *Options) (*Service, error) {
	c, err := New(baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &Service{client: c}, nil
}

// Client returns the service's client, to use the protocol directly.
func (s *Service) Client() *Client { return s.client }

// Name implements singletarget.Service.
func (s *Service) Name() string { return ServiceName }

// NewForm implements singletarget.Service: a fresh form with the defaults.
func (s *Service) NewForm() singletarget.QueryForm {
	f := &Form{Radius: 3, Class: "any"}
	f.Bind(f)
	return f
}

// Info implements singletarget.Describer.
func (s *Service) Info() singletarget.Info {
	return singletarget.Info{
		Label:           "SDSS spectra",
		Kind:            "Spectroscopy",
		DataProductType: DataProductType,
		InfoURL:         "https://www.sdss4.org/dr17/spectro/",
		Notes:           "The nearest SDSS optical spectrum (SkyServer search, spec-lite file from the SAS).",
	}
}

// Query implements singletarget.Service: it finds the nearest spectrum
// and stores its spec-lite file.
func (s *Service) Query(ctx context.Context, t singletarget.Target, qf singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	f, ok := qf.(*Form)
	if !ok {
		return nil, fmt.Errorf("%s: form of type %T, not *sdss.Form", ServiceName, qf)
	}
	singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: singletarget.StageQuerying, Message: "SkyServer search"})
	class := f.Class
	if class == "any" {
		class = ""
	}
	obj, err := s.client.Nearest(ctx, t.RA, t.Dec, f.Radius, class)
	if err != nil {
		return nil, err
	}
	fileURL := s.client.SpecLiteURL(*obj)
	singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: singletarget.StageFetching, Message: obj.FileName()})
	body, err := s.client.Open(ctx, fileURL)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	p, err := out.PutProduct(ctx, dataproduct.Product{
		TargetID:        t.ID,
		Name:            "sdss_" + dataproduct.SafeName(t.Name) + "_" + obj.FileName(),
		DataProductType: DataProductType,
		ContentType:     "application/fits",
		Extra: map[string]string{
			"specobjid": obj.SpecObjID, "plate": strconv.Itoa(obj.Plate), "mjd": strconv.Itoa(obj.MJD),
			"fiberid": strconv.Itoa(obj.FiberID), "run2d": obj.Run2D, "survey": obj.Survey, "class": obj.Class,
			"z": strconv.FormatFloat(obj.Z, 'g', -1, 64), "distance_arcmin": strconv.FormatFloat(obj.Distance, 'g', -1, 64),
			"url": fileURL,
		},
	}, body)
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

// Processor reads stored spec-lite files into one spectroscopy datum each,
// with the library's spectrum processor; the datums' source is
// ServiceName. The zero value is ready to use and safe for concurrent use.
type Processor struct{}

// spectra is the configured library processor.
var spectra = processor.Spectroscopy{Source: ServiceName}

// DataType implements processor.Processor.
func (Processor) DataType() string { return dataproduct.TypeSpectroscopy }

// Process implements processor.Processor.
func (p Processor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.Collect(p.Stream(ctx, r))
}

// Stream implements processor.Streamer.
func (Processor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return spectra.Stream(ctx, r)
}

// StreamReport implements processor.Reporter: the library processor's
// report (points left out, units assumed) reaches the ingest result.
func (Processor) StreamReport(ctx context.Context, r io.Reader, in processor.Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	return spectra.StreamReport(ctx, r, in, rep)
}

// Step 2 of 3: register the classes, so that settings can name them.

// Register adds the service class ServiceClass and the processor class
// ProcessorClass to r. The factory reads the settings of the package doc
// (# Settings) and refuses unknown keys.
func Register(r *singletarget.Registry) error {
	if err := r.Register(ServiceClass, newFromSettings); err != nil {
		return err
	}
	return r.RegisterProcessor(ProcessorClass, Processor{})
}

// settings are the service's own keys in single_target_data_services.
type settings struct {
	SASURL     string `setting:"sas_url" validate:"omitempty,http_url"`
	MaxRetries int    `setting:"max_retries" validate:"gte=0,lte=10"`
}

func newFromSettings(s singletarget.Settings) (singletarget.Service, error) {
	var extra settings
	if err := s.DecodeExtra(&extra); err != nil {
		return nil, err
	}
	retries := extra.MaxRetries
	if retries == 0 {
		retries = -1 // 0 in the settings means none, not the default
	}
	if _, given := s.Extra["max_retries"]; !given {
		retries = 0 // the default
	}
	svc, err := NewService(s.URL, &Options{SASURL: extra.SASURL, HTTPClient: s.HTTPClient, Logger: s.Logger, MaxRetries: retries})
	if err != nil {
		return nil, &singletarget.ConfigError{Key: "single_target_data_services." + s.Name + ".url", Msg: err.Error()}
	}
	if s.Name != ServiceName {
		return nil, &singletarget.ConfigError{Key: "single_target_data_services." + s.Name,
			Msg: fmt.Sprintf("class %s is the service %s: name its entry %s", ServiceClass, ServiceName, ServiceName)}
	}
	return svc, nil
}
