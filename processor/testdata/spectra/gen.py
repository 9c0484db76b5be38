#!/usr/bin/python3
"""Writes the extra FITS spectra of the processor tests with astropy, and
expected.json with what astropy (and numpy, for the conventions wcslib does
not know) reads from every FITS file of this directory.

Run once, by hand, from this directory (the Go tests never run Python):

    apt-get install -y python3-astropy python3-numpy
    /usr/bin/python3 gen.py

Written with astropy 5.2.1 and numpy 1.24.2 (Debian bookworm); the output is
deterministic. Copied unchanged, not written here: spectrum_1d.fits,
spectrum.txt and spectra_expected.json (shared/services/samples), and
spec_1x1xn.fits, spec_2xn.fits, spec_wavelog.fits, spec_sdss_coeff.fits,
sdss_speclite.fits (internal/fits/testdata, written by its gen.py).

expected.json maps each file name to the spectrum the processor must give:
wavelength in Angstrom, flux and error after any scale factor in the flux
unit, the points with a non-finite value (or SDSS ivar = 0) left out, the
flux unit without its factor, the observation time (UTC, RFC 3339) and the
source; or to {"error": "..."} with a fragment of the expected error text.
"""

import gzip
import json
import math
import os
import warnings

import astropy
import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def jarray(a):
    return [float(x) for x in np.asarray(a, dtype=np.float64)]


def keep(wave, flux, err=None):
    ok = np.isfinite(wave) & np.isfinite(flux)
    if err is not None:
        ok &= np.isfinite(err)
    out = {"wavelength": jarray(wave[ok]), "flux": jarray(flux[ok])}
    if err is not None:
        out["error"] = jarray(err[ok])
    return out


def wcs_angstrom(hdr, default_unit="Angstrom"):
    """astropy.wcs world coordinates of axis 1 for pixels 1..NAXIS1, in
    Angstrom (wcslib works in SI; a missing CUNIT1 means Angstrom here, as in
    the TOM, so the header's numbers are taken as they are)."""
    n = hdr["NAXIS1"]
    w = WCS(hdr).sub([1])
    world = w.all_pix2world(np.arange(n, dtype=float), 0)[0]
    if "CUNIT1" not in hdr:
        return world  # numbers as written
    return (world * u.Unit(w.wcs.cunit[0])).to_value(u.AA)


N = 40
flux = (2.0e-16 + 1.0e-17 * np.sin(np.arange(N) / 3.0)).astype(np.float32)

expected = {
    "generator": "gen.py, astropy %s, numpy %s" % (astropy.__version__, np.__version__),
    "files": {},
}
E = expected["files"]

# ------------------------------------------------------------ copied files
with fits.open(path("spectrum_1d.fits")) as f:
    h = f[0].header
    E["spectrum_1d.fits"] = dict(keep(wcs_angstrom(h), f[0].data.astype(np.float64)),
                                 flux_units="erg/cm2/s/Angstrom", time="2024-01-26T03:14:15Z", source="upload")

with fits.open(path("spec_1x1xn.fits")) as f:
    h = f[0].header
    E["spec_1x1xn.fits"] = dict(keep(wcs_angstrom(h), f[0].data[0, 0].astype(np.float64)),
                                flux_units="erg/cm2/s/Angstrom", time="2024-02-03T04:05:06.789Z", source="upload")

with fits.open(path("spec_2xn.fits")) as f:
    h = f[0].header
    t = Time(h["MJD-OBS"], format="mjd", scale="utc").to_datetime()
    E["spec_2xn.fits"] = dict(keep(wcs_angstrom(h), f[0].data[0].astype(np.float64)),
                              flux_units="erg/cm2/s/Angstrom",
                              time=t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), source="FTN")

with fits.open(path("spec_wavelog.fits")) as f:
    h = f[0].header
    E["spec_wavelog.fits"] = dict(keep(wcs_angstrom(h), f[0].data.astype(np.float64)),
                                  flux_units="erg/cm2/s/Angstrom", time="2024-01-28T00:00:00Z", source="upload")

with fits.open(path("spec_sdss_coeff.fits")) as f:
    h = f[0].header
    wave = 10 ** (h["COEFF0"] + h["COEFF1"] * np.arange(h["NAXIS1"]))
    E["spec_sdss_coeff.fits"] = dict(keep(wave, f[0].data.astype(np.float64)),
                                     flux_units="erg/cm2/s/Angstrom", time="1999-01-23T00:00:00Z", source="upload")

with fits.open(path("sdss_speclite.fits")) as f:
    c = f["COADD"].data
    ivar = c["ivar"].astype(np.float64)
    good = ivar > 0
    err = np.full(len(ivar), np.nan)
    err[good] = 1 / np.sqrt(ivar[good])
    E["sdss_speclite.fits"] = dict(
        keep(10 ** c["loglam"].astype(np.float64), c["flux"].astype(np.float64) * 1e-17, err * 1e-17),
        flux_units="erg/cm^2/s/Ang", time="2000-03-05T00:00:00Z", source="SDSS 2.5-M")

# ------------------------------------------------------------ written here

# IRAF log-linear (DC-FLAG = 1): CRVAL1 and CD1_1 in log10(Angstrom), units
# named only in WAT1_001; BITPIX 32 with BSCALE/BZERO and a BLANK pixel;
# DATE-OBS without a time plus TIME-OBS; INSTRUME but no TELESCOP.
stored = np.round(flux / 1e-19).astype(np.int32)
stored[5] = -999
hdu = fits.PrimaryHDU(stored)
hdr = hdu.header
hdr["XSCALE"] = 1e-19  # renamed to BSCALE below (astropy would rescale)
hdr["XZERO"] = 0.0
hdr["BLANK"] = -999
hdr["CRVAL1"] = math.log10(3800.0)
hdr["CD1_1"] = 2e-4
hdr["CRPIX1"] = 1.0
hdr["CTYPE1"] = "LINEAR"
hdr["DC-FLAG"] = 1
hdr["WAT0_001"] = "system=equispec"
hdr["WAT1_001"] = "wtype=linear label=Wavelength units=angstroms"
hdr["BUNIT"] = "erg/cm2/s/A"
hdr["DATE-OBS"] = "2023-11-05"
hdr["TIME-OBS"] = "21:45:30.25"
hdr["INSTRUME"] = "FLOYDS"
hdu.writeto(path("iraf_dcflag.fits"), overwrite=True)
data = open(path("iraf_dcflag.fits"), "rb").read()
data = data.replace(b"XSCALE  =", b"BSCALE  =").replace(b"XZERO   =", b"BZERO   =")
open(path("iraf_dcflag.fits"), "wb").write(data)
with fits.open(path("iraf_dcflag.fits")) as f:
    h = f[0].header
    phys = f[0].data.astype(np.float64)  # astropy applies BSCALE/BZERO and BLANK -> NaN
    assert np.isnan(phys[5])
    wave = 10 ** (h["CRVAL1"] + h["CD1_1"] * (np.arange(h["NAXIS1"]) + 1 - h["CRPIX1"]))
    E["iraf_dcflag.fits"] = dict(keep(wave, phys), flux_units="erg/cm2/s/A",
                                 time="2023-11-05T21:45:30.25Z", source="FLOYDS")

# CUNIT1 um, negative CDELT1, fractional CRPIX1, float32 with NaN pixels, a
# flux unit with an ESO-style scale factor, DATE-OBS with a time.
f32 = flux.copy() / np.float32(1e-16)
f32[0] = np.nan
f32[17] = np.nan
hdu = fits.PrimaryHDU(f32)
hdr = hdu.header
hdr["CRVAL1"] = 0.9
hdr["CDELT1"] = -0.0005
hdr["CRPIX1"] = 3.25
hdr["CTYPE1"] = "WAVE"
hdr["CUNIT1"] = "um"
hdr["BUNIT"] = "10**(-16)erg.cm**(-2).s**(-1).angstrom**(-1)"
hdr["DATE-OBS"] = "2022-07-08T09:10:11.5"
hdr["TELESCOP"] = "ESO-VLT-U2"
hdu.writeto(path("micron_nan.fits"), overwrite=True)
with fits.open(path("micron_nan.fits")) as f:
    h = f[0].header
    E["micron_nan.fits"] = dict(keep(wcs_angstrom(h), f[0].data.astype(np.float64) * 1e-16),
                                flux_units="erg.cm**(-2).s**(-1).angstrom**(-1)",
                                time="2022-07-08T09:10:11.5Z", source="ESO-VLT-U2")

# An ESO Phase 3 style table: empty primary, one row holding vectors WAVE
# (nm), FLUX and ERR, with the unit on the FLUX column.
wave_nm = np.linspace(330.0, 1020.0, N)
err32 = (flux * 0.05).astype(np.float32)
cols = [
    fits.Column(name="WAVE", format="%dD" % N, unit="nm", array=wave_nm.reshape(1, N)),
    fits.Column(name="FLUX", format="%dE" % N, unit="erg cm**(-2) s**(-1) angstrom**(-1)", array=flux.reshape(1, N)),
    fits.Column(name="ERR", format="%dE" % N, unit="erg cm**(-2) s**(-1) angstrom**(-1)", array=err32.reshape(1, N)),
]
phdr = fits.Header()
phdr["TELESCOP"] = "ESO-VLT-U2"
phdr["INSTRUME"] = "XSHOOTER"
phdr["MJD-OBS"] = 59000.25
fits.HDUList([fits.PrimaryHDU(header=phdr), fits.BinTableHDU.from_columns(cols, name="SPECTRUM")]).writeto(
    path("eso_table.fits"), overwrite=True)
with fits.open(path("eso_table.fits")) as f:
    d = f[1].data
    E["eso_table.fits"] = dict(keep(d["WAVE"][0] * 10, d["FLUX"][0].astype(np.float64), d["ERR"][0].astype(np.float64)),
                               flux_units="erg cm**(-2) s**(-1) angstrom**(-1)",
                               time="2020-05-31T06:00:00Z", source="ESO-VLT-U2")

# The spectrum in an IMAGE extension after an empty primary HDU that holds
# the date; CUNIT1 nm.
phdr = fits.Header()
phdr["DATE-OBS"] = "2021-03-04T05:06:07"
phdr["TELESCOP"] = "NOT"
ext = fits.ImageHDU(flux, name="SCI")
ext.header["CRVAL1"] = 400.0
ext.header["CDELT1"] = 0.5
ext.header["CRPIX1"] = 1.0
ext.header["CTYPE1"] = "AWAV"
ext.header["CUNIT1"] = "nm"
ext.header["BUNIT"] = "erg/s/cm2/Angstrom"
fits.HDUList([fits.PrimaryHDU(header=phdr), ext]).writeto(path("ext_image.fits"), overwrite=True)
with fits.open(path("ext_image.fits")) as f:
    h = f[1].header
    E["ext_image.fits"] = dict(keep(wcs_angstrom(h), f[1].data.astype(np.float64)),
                               flux_units="erg/s/cm2/Angstrom", time="2021-03-04T05:06:07Z", source="NOT")

# The shared sample, gzip-compressed (uploads are often .fits.gz).
raw = open(path("spectrum_1d.fits"), "rb").read()
with open(path("spectrum_1d.fits.gz"), "wb") as fh:
    with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        gz.write(raw)
E["spectrum_1d.fits.gz"] = E["spectrum_1d.fits"]

# ------------------------------------------------------------ refused files


def simple(name, data, cards):
    hdu = fits.PrimaryHDU(data)
    for k, v in cards:
        hdu.header[k] = v
    hdu.writeto(path(name), overwrite=True)


simple("no_date.fits", flux, [("CRVAL1", 3600.0), ("CDELT1", 2.0), ("CRPIX1", 1.0), ("CUNIT1", "Angstrom")])
E["no_date.fits"] = {"error": "no observation time"}
simple("image_2d.fits", np.zeros((5, 8), dtype=np.float32),
       [("CRVAL1", 3600.0), ("CDELT1", 2.0), ("DATE-OBS", "2024-01-01")])
E["image_2d.fits"] = {"error": "not a 1-D spectrum"}
simple("freq_axis.fits", flux, [("CRVAL1", 1.4e9), ("CDELT1", 1e5), ("CRPIX1", 1.0), ("CTYPE1", "FREQ"),
                                ("CUNIT1", "Hz"), ("DATE-OBS", "2024-01-01")])
E["freq_axis.fits"] = {"error": "FREQ"}
simple("no_wcs.fits", flux, [("DATE-OBS", "2024-01-01")])
E["no_wcs.fits"] = {"error": "no wavelength"}

with open(path("expected.json"), "w") as fh:
    json.dump(expected, fh, indent=1, allow_nan=False)
    fh.write("\n")
print("wrote", ", ".join(sorted(E)))
