// Package targetdata is the root of a Go library for single-target data
// services, what the Python TOM Toolkit calls them: ask a survey archive
// (ATLAS forced photometry, PanSTARRS through MAST, ZTF through IRSA and the
// ZTF forced-photometry service, ALeRCE) for everything it holds on one target,
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
//   - atlas, panstarrs, ztf, alerce: each service's client, form, service,
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
//
// # Modules
//
// The repository holds several Go modules, so that a program gets only the
// dependencies of what it imports. Import paths are the same as in one
// module. This module, github.com/tomgo/targetdata, holds every package not
// listed below; it needs only go-playground/validator and form, yaml,
// go-retryablehttp (with go-cleanhttp), golang.org/x/time and golang.org/x/text
// (Unicode normalization of target names). The heavy,
// optional parts are modules of their own, like River's drivers:
//
//   - github.com/tomgo/targetdata/dataproduct/sqlstore (SQLite, pgx,
//     gocloud.dev/blob);
//   - github.com/tomgo/targetdata/singletarget/riverexec (River);
//   - github.com/tomgo/targetdata/builtin, with builtin/builtintest (needs
//     both of the above);
//   - github.com/tomgo/targetdata/examples (gonum/plot, chromedp; run from a
//     clone, not published).
//
// Each published module is fetched with go get; all have the same version
// and are tagged together: "vX.Y.Z" for this one, "dataproduct/sqlstore/vX.Y.Z"
// and so on for the others.
//
// # Stability
//
// Stable packages hold what other code implements, embeds or stores: the
// interfaces and the types they exchange, the datum values and the store.
// They are:
//
//   - dataproduct: Product, Datum, Photometry, Spectrum, the Store interface;
//   - processor: Processor, Streamer, the ingest functions and helpers;
//   - singletarget: Service, QueryForm and the other service interfaces,
//     FormBase, Target, Request, Outcome, the Executor interface and its
//     job types, Manager, Registry and the settings, the errors, Secret.
//
// A patch release (0.1.0 → 0.1.1) changes no exported API in any package:
// fixes only. A minor release (0.1 → 0.2) only adds to a stable package
// (new functions, types, fields and optional interfaces, never a new method
// on an existing interface), and never changes what is stored (datum values,
// product names, registry names, data product types), so data stored by an
// earlier release keeps de-duplicating. Until v1.0.0, should a stable name
// have to change, it changes in a minor release, is announced in the
// CHANGELOG with what to do, and is deprecated for one minor release first
// where possible; from v1.0.0 on, never before v2.
//
// Experimental packages may change incompatibly in a minor release, each
// change listed in the CHANGELOG under Changed or Removed; a patch release
// does not change them either. They are everything else: the service
// packages atlas, panstarrs, ztf and alerce (their clients, options and
// forms; their registry names, data product types and form field names
// follow the stable rule), the simulators atlastest, panstarrstest, ztftest
// and alercetest, the conformance suites servicetest, storetest and
// processortest (a minor release may add a check that an implementation
// which passed before fails), httpclient, dataproduct/sqlstore (its API; a
// database written by an earlier release is migrated when opened),
// singletarget/riverexec and builtin. Each package's documentation says
// which it is.
package targetdata

// Version is the library's version: the newest release in CHANGELOG.md, the
// version every module of the repository is tagged with, and the version
// sent in the User-Agent of every request.
const Version = "0.1.0"
