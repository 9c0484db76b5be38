package ztf

// Registry names, classes and data product types.
const (
	// ServiceName is the registry name of the light-curve service.
	ServiceName = "ZTF"
	// ForcedPhotometryServiceName is the registry name of the
	// forced-photometry service.
	ForcedPhotometryServiceName = "ZTF_FP"

	// ServiceClass and ForcedPhotometryServiceClass are the class names a
	// settings file uses.
	ServiceClass                 = "ztf.Service"
	ForcedPhotometryServiceClass = "ztf.ForcedPhotometryService"
	// ProcessorClass and ForcedPhotometryProcessorClass are the processor
	// class names of data_processors.
	ProcessorClass                 = "ztf.Processor"
	ForcedPhotometryProcessorClass = "ztf.ForcedPhotometryProcessor"

	// DataProductType is the data product type of IRSA light-curve answers,
	// and DataProductLabel its human-readable label.
	DataProductType  = "ztf_photometry"
	DataProductLabel = "ZTF Photometry"
	// ForcedPhotometryDataProductType is the data product type of
	// forced-photometry result files, and ForcedPhotometryDataProductLabel
	// its human-readable label.
	ForcedPhotometryDataProductType  = "ztf_forced_photometry"
	ForcedPhotometryDataProductLabel = "ZTF Forced Photometry"
)
