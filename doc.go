// Package targetdata is the root of a Go library for single-target data
// services, what the Python TOM Toolkit calls them: ask a survey archive
// (ATLAS forced photometry, PanSTARRS through MAST, ZTF through IRSA and the
// ZTF forced-photometry service) for everything it holds on one target,
// keep the returned file as a data product, and turn it into photometry or
// spectroscopy datums that a TOM can plot, share and de-duplicate.
//
// This package holds only this overview and Version. The pieces:
//
//   - singletarget: the Service, QueryForm, Resumer and Describer
//     interfaces, Registry and Config (TOM-style settings), Manager (the
//     whole flow), executors Immediate and Pool, typed errors, Secret;
//   - singletarget/riverexec: the durable executor on River, and the
//     worker of examples/worker;
//   - dataproduct: Product, Datum, Photometry, Spectrum and the Store
//     interface, with dataproduct/sqlstore (SQLite, PostgreSQL, blob files);
//   - processor: processors, keyed de-duplicated ingest, photometry helpers;
//   - atlas, panstarrs, ztf: each service's client, form, service,
//     processor and simulator;
//   - builtin: every built-in class registered with one call, and Open,
//     which builds store, manager and executor from settings;
//   - httpclient: the HTTP client of every service (retries of idempotent
//     requests, Retry-After, 429 as a ThrottledError, size caps,
//     redaction), for your own services too.
//
// # Quick start
//
//	cfg, err := builtin.LoadConfig("settings.yaml") // every mistake at once, with its line
//	if err != nil { ... }
//	app, err := builtin.Open(ctx, cfg, nil)
//	if err != nil { ... }
//	defer app.Close()
//	res, err := app.Manager.Run(ctx, singletarget.Request{
//		Service: "ATLAS",
//		Target:  singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
//		Params:  url.Values{"min_date_mjd": {"60080"}},
//	})
//
// Run it offline with `go run ./examples/quickstart`; the README documents
// the settings, the executors and the command-line client.
package targetdata

// Version is the library's version, sent in the User-Agent of every request.
const Version = "0.1.0"
