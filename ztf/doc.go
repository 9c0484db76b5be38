// Package ztf gives a TOM the Zwicky Transient Facility's two
// single-target data services, with processors for their files:
//
//   - "ZTF" (Service, class ztf.Service, product type ztf_photometry): the
//     light curves of IRSA's public ZTF data releases around the target,
//     synchronous: one request, one CSV or IPAC-table product, processed by
//     Processor;
//   - "ZTF_FP" (ForcedPhotometryService, class
//     ztf.ForcedPhotometryService, product type ztf_forced_photometry):
//     forced PSF photometry on the difference images at the target's
//     position by the ZTF Forced Photometry Service (ZFPS), asynchronous:
//     Query submits a job and returns a pending remote task, Resume looks
//     at it once per call, and the finished job's result file is processed
//     by ForcedPhotometryProcessor.
//
// Client and ForcedPhotometryClient speak the raw protocols and can be
// used alone; package ztftest simulates both services for tests.
//
// # Settings
//
// Register adds the classes to a singletarget.Registry; DataProductType,
// DataProductLabel and their ForcedPhotometry twins name the product
// types and their labels. As a TOM writes them:
//
//	single_target_data_services:
//	  ZTF:
//	    class: ztf.Service
//	    # url: https://irsa.ipac.caltech.edu        (default)
//	    # username, password: an IRSA account with ZTF partnership rights (optional)
//	    # request_interval: 500ms                    (pacing; "off" disables)
//	    # timeout: 2m                                (per HTTP attempt)
//	  ZTF_FP:
//	    class: ztf.ForcedPhotometryService
//	    email: ${ZTF_FPS_EMAIL}        # the address registered with ZFPS
//	    userpass: ${ZTF_FPS_USERPASS}  # the password IPAC issued
//	    # url: https://ztfweb.ipac.caltech.edu       (default)
//	    # http_user, http_password: the site-wide Basic pair (default: the public one)
//	    # poll_interval: 1m, max_poll_interval: 10m, deadline: 24h, timeout: 2m
//	data_product_types:
//	  ztf_photometry: ZTF Photometry
//	  ztf_forced_photometry: ZTF Forced Photometry
//	data_processors:
//	  ztf_photometry: ztf.Processor
//	  ztf_forced_photometry: ztf.ForcedPhotometryProcessor
//
// Unknown keys are errors; api_key is refused by both classes (neither
// service has one). The service's name is its settings key.
//
// # Forms
//
// Both forms take the time window as min_date_mjd and max_date_mjd (MJD),
// the names every service of the library uses. The older names stay
// accepted: mjd_min and mjd_max for the light curves, jd_start and jd_end
// (Julian Dates, converted) for forced photometry.
//
// # Protocol
//
// Light curves (shared/services/ztf.md §A): GET
// <url>/cgi-bin/ZTF/nph_light_curves with POS=CIRCLE <ra> <dec> <radius°>
// (radius at most 0.1667°) or ID=<oid,...>, and BANDNAME, TIME=<mjd min>
// <mjd max>, BAD_CATFLAGS_MASK, COLLECTION=ztf_dr<N> and FORMAT=csv or
// ipac_table (always sent: IRSA's default is VOTable). The answer is a
// table of detections (no upper limits), one light curve per object id; a
// star has one object per field and filter. An empty match is a table
// with no rows.
//
// Forced photometry (§B): every call carries the site-wide HTTP Basic
// pair and the account's email and userpass in the query string. Query
// first lists the account's jobs (GET
// /cgi-bin/getForcedPhotometryRequests.cgi?option=All recent jobs), then
// submits one request (GET /cgi-bin/requestForcedPhotometry.cgi?ra=&dec=
// &jdstart=&jdend=; never retried, since a retry could queue a second
// job) and returns a pending task holding the request (RA and Dec rounded
// to 7 decimals, the JD window) and the ids of older jobs of the same
// request. The submission's answer names no job id, so Resume finds the
// job in the job list by its position and window, then follows it by id;
// when the lightcurve column shows the result path, Resume downloads it
// (GET <host><path>, Basic auth) and checks its END trailer. If a job of
// the same request is already listed, Query uses it instead of submitting
// a duplicate (ForcedPhotometryOptions.NoAdopt turns this off): it follows
// an unfinished one, and downloads a finished, successful one's file at
// once when the window ends by the end of the current UTC day; failed jobs
// (exit codes 64, 65, 255) are submitted again, and exit code 63 (no
// epochs) is the answer. ZFPS cannot withdraw a job, so the service is not
// a singletarget.Canceller.
//
// # Throttling
//
// Neither service documents a rate limit. The light-curve client paces
// its requests (Options.RequestInterval, 500 ms by default; a public
// client keeps 0.45 s). Resume backs off from
// ForcedPhotometryOptions.PollInterval (1 min) doubling to
// MaxPollInterval (10 min): ZFPS jobs take minutes to hours and the
// single-job status page was refreshed hourly. Connection errors and 5xx
// answers of idempotent requests are retried with backoff inside a call;
// a 429 (or 503) asking for more than a second comes back at once as a
// *singletarget.ThrottledError with the server's wait, for the executor
// to wait out. ZFPS allows a user 100 outstanding single requests: the
// forced-photometry service is a singletarget.ConcurrencyLimiter, so
// batches keep to ForcedPhotometryOptions.MaxOutstanding (settings key
// max_outstanding; default 100).
//
// # Errors
//
// An empty light-curve answer, and a forced-photometry job ending with
// exit code 63 (no epochs), match singletarget.ErrNotFound; nothing is
// stored. Refused credentials (HTTP 401/403, or a ZFPS page about the
// email or userpass) match singletarget.ErrUnauthorized. A page that is
// not the protocol's answer (IRSA reports bad parameters with HTTP 200
// and a message; ZFPS error pages) is an *AnswerError matching
// singletarget.ErrRemote, as are 5xx answers and files cut short. A job
// that failed (exit codes 64, 65, 255) or vanished from the job list
// (ZFPS lists jobs for 30 days) matches singletarget.ErrTaskFailed; a job
// still unfinished ForcedPhotometryOptions.Deadline (24 h) after
// submission matches singletarget.ErrDeadline. Credentials never appear
// in logs or errors: they are redacted wherever they occur, and the
// email, userpass and password query parameters are masked in every URL
// reported.
//
// # Data products
//
// Light curves are stored as
// ztf-<target>-<bands>-<mjd min|start>-<mjd max|end>[-r<radius″>][-m<mask>][-<release>].csv
// (or .tbl for IPAC tables; -id<oid> or -ids<n>-<hash> for object-id
// queries): the same query always gives the same name. Processor turns
// them into detections (magnitude = mag, error = magerr, filter g/r/i from
// zg/zr/zi, time = mjd, the exposure start) and drops rows whose catflags
// share a bit with BadCatflagsMask (32768 by default, IRSA's bad-epoch
// bit); other non-zero catflags are kept and flagged in Extra. Source
// "ZTF".
//
// Forced-photometry results are stored as
// ztf_fp-<target>-<jdstart>-<jdend>.txt. ForcedPhotometryProcessor
// applies the recipe of Masci et al. (2023): S/N > SNT (3) gives
// magnitude zpdiff − 2.5·log10(flux) with error 1.0857·σ/flux, otherwise a
// 5σ (SNU) upper limit zpdiff − 2.5·log10(SNU·σ); epochs with procstatus
// other than 0, 57, 58, 62 are dropped (or kept and flagged with
// KeepFlagged), epochs with null flux or uncertainty give nothing. Source
// "ZTF_FP", so forced photometry stays apart from the catalog light
// curves. Both processors stream in bounded memory and are safe for
// concurrent use.
//
// # Refresh
//
// Both services are singletarget.Refreshers: a refresh of the light
// curves starts IRSA's MJD window (TIME) at the newest stored "ZTF" datum
// less DefaultRefreshOverlap (1 day: releases are frozen, but a release's
// cut may fall inside a night); a forced-photometry refresh starts ZFPS's
// jdstart at the newest stored "ZTF_FP" datum less
// ForcedPhotometryDefaultRefreshOverlap (3 days: the last nights' images
// arrive and are reprocessed late). The settings' refresh_overlap changes
// either.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not. Its registry
// names, data product types and form field names are kept as stable ones
// are; see Stability in the documentation of package
// github.com/tomgo/targetdata.
package ztf
