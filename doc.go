// Package targetdata is the root of a Go library for single-target data
// services: ask a survey archive (ATLAS, PanSTARRS, ZTF) for everything it
// holds on one target, keep the returned file as a data product, and turn
// it into photometry or spectroscopy datums.
//
// The package itself holds only this overview; see the README for the quick
// start.
package targetdata

// Version is the library's version, sent in the User-Agent of every request.
const Version = "0.1.0"
