// Package builtin wires the library's own services and processors into a
// singletarget.Registry with one explicit call, and opens a whole
// application (store, manager, executor) from TOM-style settings.
//
//	reg := singletarget.NewRegistry()
//	if err := builtin.Register(reg); err != nil { ... }
//
// Nothing registers itself on import: a TOM that wants only some services
// registers those packages' Register functions instead.
package builtin

import (
	"errors"
	"maps"

	"time"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// Generic processor classes.
const (
	// PhotometryTableClass is the class of processor.PhotometryTable, the
	// processor of users' photometry uploads (data product type
	// "photometry").
	PhotometryTableClass = "processor.PhotometryTable"
	// SpectroscopyClass is the class of processor.Spectroscopy, the
	// processor of FITS and text spectra (data product type
	// "spectroscopy").
	SpectroscopyClass = "processor.Spectroscopy"
)

// productType is a built-in data product type.
type productType struct {
	label, processorClass string
}

// service is a built-in service.
type service struct {
	name, class string
	// simulate starts the bundled simulator; it returns the URL, the key
	// it accepts, extra settings and a stop function.
	simulate func() (string, singletarget.Secret, map[string]string, func(), error)
}

var (
	// registrars are the Register functions of the built-in packages.
	registrars = []func(*singletarget.Registry) error{
		func(r *singletarget.Registry) error {
			return r.RegisterProcessor(PhotometryTableClass, processor.PhotometryTable{})
		},
		func(r *singletarget.Registry) error {
			return r.RegisterProcessor(SpectroscopyClass, processor.Spectroscopy{})
		},
		atlas.Register,
		panstarrs.Register,
		ztf.Register,
		alerce.Register,
	}
	productTypes = map[string]productType{
		dataproduct.TypePhotometry:          {"Photometry", PhotometryTableClass},
		dataproduct.TypeSpectroscopy:        {"Spectroscopy", SpectroscopyClass},
		panstarrs.DataProductType:           {panstarrs.DataProductLabel, panstarrs.ProcessorClass},
		atlas.DataProductType:               {atlas.DataProductLabel, atlas.ProcessorClass},
		ztf.DataProductType:                 {ztf.DataProductLabel, ztf.ProcessorClass},
		ztf.ForcedPhotometryDataProductType: {ztf.ForcedPhotometryDataProductLabel, ztf.ForcedPhotometryProcessorClass},
		alerce.DataProductType:              {alerce.DataProductLabel, alerce.ProcessorClass},
	}
	services = []service{
		{name: ztf.ServiceName, class: ztf.ServiceClass,
			simulate: func() (string, singletarget.Secret, map[string]string, func(), error) {
				s := ztftest.Start(nil)
				return s.LightCurveURL, "", nil, s.Close, nil
			}},
		{name: ztf.ForcedPhotometryServiceName, class: ztf.ForcedPhotometryServiceClass,
			simulate: func() (string, singletarget.Secret, map[string]string, func(), error) {
				s := ztftest.Start(&ztftest.Options{QueueTime: 300 * time.Millisecond, RunTime: 500 * time.Millisecond})
				c := s.Credentials()
				return s.ForcedPhotometryURL, "", map[string]string{
					"email": c.Email.Reveal(), "userpass": c.Password.Reveal(),
					"http_user": c.HTTPUser.Reveal(), "http_password": c.HTTPPassword.Reveal(),
					"poll_interval": "100ms", "max_poll_interval": "200ms",
				}, s.Close, nil
			}},
		{name: atlas.ServiceName, class: atlas.ServiceClass,
			simulate: func() (string, singletarget.Secret, map[string]string, func(), error) {
				// Tasks queue for 0.3 s and run for 0.5 s: long enough to
				// show the protocol's progress, short enough for a demo.
				s := atlastest.Start(&atlastest.Options{QueueDelay: 300 * time.Millisecond, RunTime: 500 * time.Millisecond})
				return s.URL, s.Token, map[string]string{"poll_queued": "100ms", "poll_running": "100ms", "poll_max": "200ms"}, s.Close, nil
			}},
		{name: panstarrs.ServiceName, class: panstarrs.ServiceClass,
			simulate: func() (string, singletarget.Secret, map[string]string, func(), error) {
				s := panstarrstest.Start(nil)
				return s.URL, "", nil, s.Close, nil
			}},
		{name: alerce.ServiceName, class: alerce.ServiceClass,
			simulate: func() (string, singletarget.Secret, map[string]string, func(), error) {
				s := alercetest.Start(nil)
				u := s.URLs()
				return u.ZTF, "", map[string]string{"lightcurve_url": u.LightCurve, "multisurvey_url": u.Multisurvey}, s.Close, nil
			}},
	}
)

// Register adds every built-in service and processor class to r.
func Register(r *singletarget.Registry) error {
	var errs []error
	for _, reg := range registrars {
		errs = append(errs, reg(r))
	}
	return errors.Join(errs...)
}

// DataProductTypes returns the built-in data product types and their labels.
func DataProductTypes() map[string]string {
	out := map[string]string{}
	for typ, v := range productTypes {
		out[typ] = v.label
	}
	return out
}

// DataProcessors returns the processor class of each built-in data
// product type.
func DataProcessors() map[string]string {
	out := map[string]string{}
	for typ, v := range productTypes {
		out[typ] = v.processorClass
	}
	return out
}

// WithDefaults returns a copy of cfg in which the built-in data product
// types and processors are present unless cfg sets them itself, so that a
// settings file need only list its services.
func WithDefaults(cfg *singletarget.Config) *singletarget.Config {
	out := *cfg
	out.DataProductTypes = DataProductTypes()
	maps.Copy(out.DataProductTypes, cfg.DataProductTypes)
	out.DataProcessors = DataProcessors()
	maps.Copy(out.DataProcessors, cfg.DataProcessors)
	out.Services = maps.Clone(cfg.Services)
	return &out
}
