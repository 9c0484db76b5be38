// Package alerce gives a TOM the light curves of the ALeRCE alert broker
// as a single-target data service: ZTF (since 2019) and Rubin/LSST (since
// 2025) alert detections, ZTF non-detections as limits, and the forced
// photometry the TOM Toolkit fetches and throws away (tom_base #1475).
//
// Service ("ALERCE", class alerce.Service, product type
// alerce_photometry) is synchronous: it finds the target's ALeRCE object,
// fetches the photometry the Form asks for, and stores it as one JSON
// LightCurve product, which Processor turns into photometry datums.
// Client speaks the raw protocols and can be used alone; package
// alercetest simulates all three APIs for tests.
//
// # Settings
//
// Register adds the classes to a singletarget.Registry. As a TOM writes
// them (ALeRCE needs no credentials):
//
//	single_target_data_services:
//	  ALERCE:
//	    class: alerce.Service
//	    # url: https://api.alerce.online/ztf/v1                  (the v1 ZTF API, default)
//	    # lightcurve_url: https://api.alerce.online/v2/lightcurve (ZTF forced photometry)
//	    # multisurvey_url: https://api-lsst.alerce.online         (LSST)
//	    # request_interval: 250ms  (pacing; negative disables)
//	    # timeout: 1m              (per HTTP attempt)
//	    # page_size: 20            (v1 object search)
//	data_product_types:
//	  alerce_photometry: ALeRCE Photometry
//	data_processors:
//	  alerce_photometry: alerce.Processor
//
// # Protocol
//
// shared/services/alerce.md describes the three APIs; this package uses:
//
//   - the object: the form's object_id, else the target's name when it is
//     an ALeRCE id (ZTF20aaelulu; 15 digits or more for LSST), else a cone
//     search of the form's survey (survey "auto": ZTF, then LSST):
//     ZTF with the v1 GET /objects/?ra=&dec=&radius=<arcsec>&page=
//     &page_size=&count=false, paged until a short page (has_next is always
//     false without count); LSST with the multisurvey GET
//     /lightcurve_api/conesearch/objects_by_coordinates, whose radius is
//     in degrees. The nearest object within the radius is taken; the
//     others are named in the product's Extra["other_objects"]. Items are
//     not trusted to be in the cone or sorted: every distance is checked.
//   - ZTF: GET /objects/{oid}/lightcurve (v1; detections and
//     non-detections) and GET /v2/lightcurve/forced-photometry/{oid}
//     ?survey_id=ztf.
//   - LSST: GET /lightcurve_api/detections and /forced-photometry
//     ?survey_id=lsst&oid=, with the oid sent twice (see below).
//
// Server quirks handled (spec §3.1, §5.3, §1):
//
//   - the v1 cone search is dropped by the server when ra or dec is
//     exactly 0 (a Python truth test), which then lists every object: 0
//     is sent as 1e-9, and distances are checked anyway;
//   - the multisurvey single-oid forced photometry is cut at 10 rows:
//     oid=X&oid=X takes the multi-oid path, which has no limit (read in
//     the server's source; not yet verified live);
//   - the official client's base URL ends with a slash and its routes
//     start with one: base URLs are stored without a trailing slash, so
//     no request has "//".
//
// The time window (min_date_mjd, max_date_mjd) is applied to the rows
// before they are stored (ALeRCE has no time parameter); LSST rows are
// compared in UTC. Large ids (LSST diaObjectId, measurement_id, candid)
// never go through float64: they stay as the server's digits in stored
// rows and are decoded as int64 when needed.
//
// # Throttling
//
// ALeRCE's code has no rate limit, and asks for polite use: the client
// paces its requests (Options.RequestInterval, 250 ms), and retries
// connection errors, 5xx answers and bodies cut short with backoff
// (Options.RetryMax, 3). A 429 or 503 with a Retry-After of more than a
// second (from a load balancer) comes back at once as a
// *singletarget.ThrottledError for the executor to wait out.
//
// # Errors
//
// No object in the cone, an unknown id (v1 answers 404), or no row in the
// window match singletarget.ErrNotFound; nothing is stored then. 5xx
// answers after the retries, HTML where JSON was expected, and bodies that
// are not the protocol's JSON match singletarget.ErrRemote (retryable).
// An id or cone the client refuses to send matches ErrInvalidQuery; form
// mistakes are *singletarget.FormErrors naming the field.
//
// # Data products
//
// One JSON LightCurve per query, named by ProductName:
// alerce-<target>-<oid>-<kinds>-<min MJD|start>-<max MJD|end>.json, the
// same name for the same query. It holds the survey, the oid, the form's
// processing choices, and the rows of detections, non_detections and
// forced_photometry as the server sent them. Processor applies the rules
// of spec §6 (see its documentation): non-detections and negative
// differences are limits, never magnitudes; duplicated exposures give one
// datum; weak forced points are limits by their S/N; LSST nJy fluxes use
// the 31.4 zero point and TAI − 37 s. Telescope "ZTF" or "Rubin"; source
// "ALERCE" (alerts) or "ALERCE_FP" (forced photometry), so a TOM can plot
// them apart.
// Rows that give no datum are counted in each ingest's dataproduct.Report
// with their reason (the Reason constants) and line; Processor.Strict
// refuses a file with a row that is no measurement instead.
//
// # Refresh
//
// The Service is a singletarget.Refresher: a refresh
// (singletarget.Manager.Refresh) sets min_date_mjd to the newest datum
// already stored for the target, of either source ("ALERCE" or
// "ALERCE_FP": the Service is a singletarget.DatumSourcer, whatever its
// name), less DefaultRefreshOverlap (30 days: an alert carries the
// history of the 30 days before it, which can date from before the
// newest stored epoch). ALeRCE has no time parameter, so the whole light
// curve is still fetched; the window trims the stored product to what
// may be new, and a product that brings nothing new is not kept. The
// settings' refresh_overlap changes the overlap.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not. Its registry
// names, data product types and form field names are kept as stable ones
// are; see Stability in the documentation of package
// github.com/tomgo/targetdata.
package alerce
