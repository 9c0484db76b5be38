package ztf

// Registry names, classes and data product types.
const (
	// Name is the registry name of the light-curve service.
	Name = "ZTF"
	// ForcedPhotometryName is the registry name of the forced-photometry
	// service.
	ForcedPhotometryName = "ZTF_FP"

	// ServiceClass and ForcedPhotometryServiceClass are the class names a
	// settings file uses.
	ServiceClass                 = "ztf.Service"
	ForcedPhotometryServiceClass = "ztf.ForcedPhotometryService"
	// ProcessorClass and ForcedPhotometryProcessorClass are the processor
	// class names of data_processors.
	ProcessorClass                 = "ztf.Processor"
	ForcedPhotometryProcessorClass = "ztf.ForcedPhotometryProcessor"

	// ProductType is the data product type of IRSA light-curve answers.
	ProductType = "ztf_photometry"
	// ForcedPhotometryProductType is the data product type of
	// forced-photometry result files.
	ForcedPhotometryProductType = "ztf_forced_photometry"
)

// DataProductTypes returns the package's data product types and their
// labels, for a settings file's data_product_types.
func DataProductTypes() map[string]string {
	return map[string]string{
		ProductType:                 "ZTF Photometry",
		ForcedPhotometryProductType: "ZTF Forced Photometry",
	}
}
