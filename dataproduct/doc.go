// Package dataproduct holds the records a TOM keeps for single-target data:
// products (stored result files) and datums (one photometric point or one
// spectrum each), the Store interface that keeps them, and an in-memory
// Store for tests and small tools.
//
// It is a leaf package: it imports only the standard library, so services,
// processors and stores can all share its types without import cycles.
//
// # Products
//
// A Product is one stored file, such as an ATLAS result file or a PanSTARRS
// CSV answer. Its Name is deterministic (the same query yields the same
// name), and a Store keeps at most one product per (TargetID, Name): putting
// the same name again returns the existing record when the bytes and the
// type are equal, and is refused (ErrConflict) otherwise. Only
// ReplaceProduct replaces a product's file, keeping its ID and removing its
// datums in the same step; no call ever changes a product's type. Uploads
// have names of their own (UploadPrefix), so an upload cannot take a
// service's product name.
//
// # Datums
//
// A Datum is the TOM's ReducedDatum: a target, the product it came from, a
// data type ("photometry" or "spectroscopy"), a UTC timestamp, a source name
// and a value. The value is a Photometry or a Spectrum for the two built-in
// data types, or any JSON-encodable value (typically json.RawMessage) for
// others.
//
// Two datums are duplicates when they have the same target, data type,
// timestamp and canonical value (see CanonicalValue). Unlike the TOM
// Toolkit, which compares values only, the timestamp is part of the key, so
// a new epoch whose value equals an old one is kept.
//
// # Ingest
//
// Store.AddDatums is all-or-nothing: either every new datum of the call is
// stored or none is, and duplicates (of stored datums or within the call)
// are skipped and counted, so a retried ingest never duplicates anything.
//
// # Errors
//
// ErrNotFound and ErrInvalidInput are two of the seven error categories of
// package singletarget, the same values there; *ParseError and
// ErrInvalidDatum match ErrInvalidInput. The singletarget package doc
// describes the whole taxonomy.
package dataproduct
