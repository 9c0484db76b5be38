// Package sdss is a single-target data service for SDSS optical spectra,
// written the way a TOM developer adds their own service to targetdata:
// in their own package, with only the library's public API (no internal
// packages), in the TOM Toolkit's three steps — implement a Service, its
// QueryForm and a Processor; register them; name them in the settings.
//
// A query finds the nearest SDSS spectrum to the target with SkyServer's
// SQL search and stores its spec-lite FITS file from the Science Archive
// Server (SAS); the processor turns the file into one spectroscopy datum
// with the library's processor.Spectroscopy.
//
// # Settings
//
//	single_target_data_services:
//	  SDSS_SPECTRA:
//	    class: sdss.Service
//	    url: https://skyserver.sdss.org/dr17   # SkyServer of a data release; the default
//	    sas_url: https://data.sdss.org/sas/dr17 # SAS of the same release; the default
//	    max_retries: "3"                        # retries of failed GETs; default 3
//	data_product_types:
//	  sdss_spectrum: SDSS Spectrum
//	data_processors:
//	  sdss_spectrum: sdss.Processor
//
// No API key is needed. Unknown keys are refused when the settings are
// loaded.
//
// # Protocol
//
// Two GET requests (https://skyserver.sdss.org/dr17/en/help/docs/api.aspx,
// https://www.sdss4.org/dr17/data_access/bulk/):
//
//  1. {url}/SkyServerWS/SearchTools/SqlSearch?cmd=SQL&format=json, where
//     SQL joins dbo.fGetNearbySpecObjEq(ra, dec, radius in arcmin) — the
//     primary spectra within the radius — with SpecObj and keeps the
//     nearest (TOP 1 … ORDER BY distance). The answer is
//     [{"TableName": "Table1", "Rows": [{"specObjID": …, "plate": …, …}]}].
//  2. The spec-lite file of that spectrum:
//     {sas_url}/{sdss|eboss}/spectro/redux/{run2d}/spectra/lite/{plate:04d}/spec-{plate:04d}-{mjd}-{fiber:04d}.fits
//     (SDSS-I/II spectra, run2d 26, 103 or 104, are under sdss/; BOSS and
//     eBOSS spectra, run2d v5_*, under eboss/).
//
// HTTP goes through the library's httpclient package, as the built-in
// services' does: both requests are idempotent GETs, so connection errors
// and 5xx answers are retried (Options.MaxRetries, with exponential backoff
// capped at Options.MaxRetryWait); logs go to the service's slog.Logger;
// answers are size-capped; requests carry a User-Agent and honour the
// context.
//
// # Throttling
//
// SkyServer answers HTTP 429 (or 503 with a Retry-After) when it is
// overloaded. The service does not sleep inside Query: httpclient returns
// a *singletarget.ThrottledError carrying the server's Retry-After, and the
// Manager or executor waits and retries. Until that wait is over, the
// client fails fast without asking the server again.
//
// # Errors
//
// No spectrum within the radius: an error matching singletarget.ErrNotFound.
// An HTTP failure: a *singletarget.RemoteError (matching ErrRemote, or
// ErrNotFound for a spec-lite file missing on the SAS). An answer that is
// not SkyServer's JSON (SkyServer answers some failures with an HTML page):
// an error matching ErrRemote. A cancelled context: an error wrapping
// ctx.Err().
//
// # Data products
//
// One product per query, of data product type "sdss_spectrum", named
// sdss_{target}_spec-{plate}-{mjd}-{fiber}.fits, content type
// application/fits, with Extra holding specobjid, plate, mjd, fiberid,
// run2d, survey, class, z, distance_arcmin and url. The same query gives
// the same name, so re-running it stores nothing new. Processor reads it
// (wavelengths 10^loglam Å, flux × 10⁻¹⁷ in erg s⁻¹ cm⁻² Å⁻¹, error
// 1/√ivar; pixels with ivar = 0 left out; timestamp DATE-OBS).
package sdss
