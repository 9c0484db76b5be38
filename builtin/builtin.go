// Package builtin wires the library's own services and processors into a
// singletarget.Registry with one explicit call, and opens a whole
// application (store, manager, executor) from TOM-style settings:
//
//	cfg, err := builtin.LoadConfig("settings.yaml") // every mistake at once, with its line
//	if err != nil { ... }
//	app, err := builtin.Open(ctx, cfg, nil) // the store, the Manager, the executor tasks.backend names
//	if err != nil { ... }
//	defer app.Close()
//	if err := app.Start(ctx); err != nil { ... } // the pool's workers (river: with Options.Worker)
//	defer app.Stop(ctx)
//	id, err := app.Executor.Submit(ctx, req) // then Status, Watch, Wait, List, Cancel
//
// With service classes of your own, register them next to the built-in
// ones and pass the registry:
//
//	reg := singletarget.NewRegistry()
//	if err := errors.Join(builtin.Register(reg), mine.Register(reg)); err != nil { ... }
//	cfg, err := reg.LoadConfig("settings.yaml", builtin.WithDefaults)
//	app, err := builtin.Open(ctx, cfg, &builtin.Options{Registry: reg})
//
// Nothing registers itself on import: a TOM that wants only some services
// registers those packages' Register functions instead.
//
// The package links no simulator and no test code; package builtintest
// points settings at the bundled simulators for offline runs and tests.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package builtin

import (
	"errors"
	"maps"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
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
		{name: ztf.ServiceName, class: ztf.ServiceClass},
		{name: ztf.ForcedPhotometryServiceName, class: ztf.ForcedPhotometryServiceClass},
		{name: atlas.ServiceName, class: atlas.ServiceClass},
		{name: panstarrs.ServiceName, class: panstarrs.ServiceClass},
		{name: alerce.ServiceName, class: alerce.ServiceClass},
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

// LoadConfig reads a settings file and, in the same pass, checks it
// against every built-in class with the built-in defaults (WithDefaults):
// every mistake is reported at once, each naming its key and line. A TOM
// with classes of its own calls reg.LoadConfig(path, builtin.WithDefaults)
// on its own registry instead.
func LoadConfig(path string) (*singletarget.Config, error) {
	reg := singletarget.NewRegistry()
	if err := Register(reg); err != nil {
		return nil, err
	}
	return reg.LoadConfig(path, WithDefaults)
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
