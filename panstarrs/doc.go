// Package panstarrs is the Pan-STARRS1 (PS1) single-target data service:
// cone searches of every PS1 table at MAST's catalogs API — DR1 mean and
// stack, DR2 mean, stack, forced_mean and detection — kept as CSV data
// products and turned into photometry. Where the TOM Toolkit reads only
// the DR2 mean table, the detection table gives an astronomer the light
// curve: every single-epoch measurement of the objects at the target.
//
// The pieces can be used alone: Client speaks the protocol, Form is the
// query form, Service stores results for a singletarget.Manager, and
// Processor reads any MAST answer (CSV or JSON) into datums. The
// panstarrstest subpackage simulates the API for tests.
//
// # Settings
//
// Register(r) adds the service class "panstarrs.Service" and the
// processor class "panstarrs.Processor":
//
//	single_target_data_services:
//	  PANSTARRS:
//	    class: panstarrs.Service
//	    url: https://catalogs.mast.stsci.edu/api/v0.1/panstarrs   # the default
//	    api_key: ${MAST_API_TOKEN}    # optional: public PS1 data needs none
//	    requests_per_second: 5        # optional client-side rate (default 5)
//	    max_objects: 25               # optional: objects per detection query
//	    page_size: 50000              # optional: rows per page
//	    max_pages: 100                # optional
//	    timeout: 10m                  # optional: per HTTP attempt
//	    method: GET                   # optional: GET, or POST with a JSON body
//	data_product_types:
//	  panstarrs_photometry: PanSTARRS Photometry
//	data_processors:
//	  panstarrs_photometry: panstarrs.Processor
//
// The settings key must be PANSTARRS (ServiceName). Unknown keys
// are errors at load time. A token, when given, is sent as the mast_token
// cookie (as astroquery logs in to MAST; whether the catalogs API honours
// it is unconfirmed) and never appears in logs or errors.
//
// # Protocol
//
// Requests go to {url}/{release}/{table}.csv as GET with a query string
// (shared/services/panstarrs.md §1–2): ra, dec, radius in degrees (capped
// at MaxRadius, 0.5°), columns=[a,b,...], constraints such as
// nDetections.min=2 or epochMean.max=60000, and pagesize/page. The form's
// release must have its table (dr1: mean, stack; dr2: all four).
//
// Object tables (mean, stack, forced_mean): one cone search with
// nDetections ≥ the form's minimum and the MJD range on epochMean. The
// columns asked for are DefaultColumns (the TOM's 23 for mean) less any
// that the table's metadata endpoint ({url}/{release}/{table}/metadata,
// read once per Client) does not list; the metadata being unreachable is
// not fatal.
//
// Detection table: MAST finds detections by object id, so a query is the
// PS1 API notebook's recipe: a cone search on the mean table (objID, mean
// position, nDetections ≥ the minimum), the objects sorted by distance and
// capped at Options.MaxObjects (default 25, the nearest kept), then, per
// object, detection rows by objID with the MJD range on obsTime. The
// product lists the objects nearest first, each object's rows in obsTime
// order (MAST does not sort them).
//
// Paging: SearchAll asks for pagesize rows (default 50000, so one page for
// any single-target cone) and fetches further pages only when a page comes
// back full; because MAST's page numbering is unconfirmed, it learns
// whether pages count from 0 or 1 by comparing page=1 with the first
// answer. Every CSV page is checked (same header, whole rows), so a
// truncated answer is detected; it is asked for once more.
//
// # Throttling
//
// MAST documents no rate limit. Each Client waits on a rate.Limiter
// before every request (default DefaultRequestRate, 5 requests per
// second; share one Limiter between Clients to cap a whole TOM). Requests
// are searches and so retried after connection errors and 5xx answers
// (Options.RetryMax, exponential backoff). Should MAST answer 429, a wait
// of up to Options.MaxRetryAfter (1 s) is waited out; a longer one returns
// a *singletarget.ThrottledError at once (and further requests fail fast
// until the wait is over), for the Manager to wait and report.
//
// # Errors
//
// An empty result (MAST answers 200 with an empty body) is an error
// matching singletarget.ErrNotFound and stores nothing. HTTP errors are
// *singletarget.RemoteError values (422 for malformed parameters, 401/403
// match ErrUnauthorized, others ErrRemote); a 429 is a
// *singletarget.ThrottledError. An HTML page, a truncated body or a page
// that repeats the previous one match singletarget.ErrRemote. A query the
// client refuses to send (a table the release lacks, a bad column name)
// matches ErrInvalidQuery; a result needing more than Options.MaxPages
// pages matches ErrTooManyRows. A cancelled context gives an error
// wrapping ctx.Err(). Processor errors are *dataproduct.ParseError values
// naming the line (and, for JSON, the data row).
//
// # Data products
//
// One CSV product per query, of type DataProductType
// ("panstarrs_photometry"), named by ProductName:
// panstarrs-<release>-<table>-<target>-<min MJD>-<max MJD>.csv with the
// target name made safe and "none" for an open end, e.g.
// panstarrs-dr2-detection-SN_2023ixf-none-none.csv. The same query gives
// the same name; storing the same answer again changes nothing. The
// product's Extra records the release, catalog, cone, minimum detections,
// MJD range, row count and, for detections, the objects queried.
//
// Processor makes one datum per detection (magnitude, or a LimitSigma
// upper limit at low signal-to-noise; timestamps converted from TAI to
// UTC) and one per band of an object row (the catalog's mean or stack PSF
// magnitude at epochMean); see Processor for the rules. Each datum keeps
// the PS1 objID in Extra, as a string.
//
// All types are safe for concurrent use except Form (one per query) and
// Table.
//
// # Refresh
//
// The Service is a singletarget.Refresher. For the detection table a
// refresh constrains obsTime to the epochs from the newest stored
// PanSTARRS detection on, with no overlap by default
// (DefaultRefreshOverlap: DR2 is a closed release). The mean, stack and
// forced-mean tables hold one row per object and no epochs: a refresh asks
// for them whole (singletarget.Window.All).
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not. Its registry
// names, data product types and form field names are kept as stable ones
// are; see Stability in the documentation of package
// github.com/tomgo/targetdata.
package panstarrs
