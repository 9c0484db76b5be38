#!/usr/bin/python3
"""Writes spec-4242-55555-0123.fits, the spec-lite file the SDSS simulator
serves, with astropy, in the layout of SDSS's spec-lite files (data model
BOSS_SPECTRO_REDUX/RUN2D/spectra/lite/PLATE4/spec): a primary HDU without
data holding the observation's keywords, HDU 1 "COADD" (flux, loglam, ivar,
and_mask, or_mask, wdisp, sky, model), HDU 2 "SPECOBJ" (one row) and HDU 3
"SPZLINE" (emission lines).

The identifiers and every value are constructed (a made-up galaxy at
z = 0.1 with Hα, [N II], Hβ and [O III] lines), not a real SDSS spectrum.
Run once by hand (tests never run Python), with Debian's python3-astropy:

    /usr/bin/python3 gen.py

Written with astropy 5.2.1 and numpy 1.24.2; deterministic (no random numbers).
"""

import os

import numpy as np
from astropy.io import fits

HERE = os.path.dirname(os.path.abspath(__file__))
PLATE, MJD, FIBER = 4242, 55555, 123
N = 3850
Z = 0.1

loglam = (3.5798 + 1e-4 * np.arange(N)).astype(np.float32)
lam = 10 ** loglam.astype(np.float64)
cont = 12.0 + 3.0 * (lam / 5000.0) - 0.5 * np.sin(lam / 300.0)
lines = {6564.61: 40.0, 6585.27: 12.0, 4862.68: 12.0, 5008.24: 25.0, 4960.30: 8.0}
flux = cont.copy()
for rest, amp in lines.items():
    obs = rest * (1 + Z)
    flux += amp * np.exp(-0.5 * ((lam - obs) / 3.0) ** 2)
flux = flux.astype(np.float32)
ivar = (1.0 / (0.3 + 0.02 * (np.arange(N) % 11))).astype(np.float32)
ivar[:6] = 0.0  # masked ends, as in real files
ivar[-4:] = 0.0
ivar[2400] = 0.0  # a masked pixel
and_mask = np.zeros(N, dtype=np.int32)
and_mask[ivar == 0] = 2 ** 24  # NODATA-like bit
or_mask = and_mask.copy()
wdisp = np.full(N, 1.05, dtype=np.float32)
sky = (2.0 + 0.1 * np.cos(lam / 50.0)).astype(np.float32)
model = cont.astype(np.float32)

ph = fits.Header()
ph["TELESCOP"] = ("SDSS 2.5-M", "Sloan Digital Sky Survey")
ph["FLAVOR"] = "science"
ph["BOSSVER"] = "branch_jme_rewrite+svn105869"
ph["MJD"] = (MJD, "APO fMJD day at start of exposure")
ph["MJDLIST"] = "55555"
ph["DATE-OBS"] = ("2010-12-25T05:43:21", "TAI date at start of integration")
ph["TAI-BEG"] = (4800016998.0, "MJD(TAI) seconds at start of integration")
ph["TAI-END"] = (4800019698.0, "MJD(TAI) seconds at end of integration")
ph["PLATEID"] = (PLATE, "Current plate")
ph["FIBERID"] = FIBER
ph["RA"] = (210.910674, "RA of telescope boresight (deg)")
ph["DEC"] = (54.311686, "Dec of telescope boresight (deg)")
ph["PLUG_RA"] = 210.910674
ph["PLUG_DEC"] = 54.311686
ph["EXPTIME"] = (2700.0, "Minimum of exposure times for all cameras")
ph["NEXP"] = 3
ph["AIRMASS"] = 1.064
ph["RUN2D"] = "v5_13_2"
ph["VERSCOMB"] = "v5_13_2"
ph["BUNIT"] = "1E-17 erg/cm^2/s/Ang"
ph["COEFF0"] = (3.5798, "Central wavelength (log10) of first pixel")
ph["COEFF1"] = (1e-4, "Log10 dispersion per pixel")

coadd = fits.BinTableHDU.from_columns([
    fits.Column(name="flux", format="E", array=flux),
    fits.Column(name="loglam", format="E", array=loglam),
    fits.Column(name="ivar", format="E", array=ivar),
    fits.Column(name="and_mask", format="J", array=and_mask),
    fits.Column(name="or_mask", format="J", array=or_mask),
    fits.Column(name="wdisp", format="E", array=wdisp),
    fits.Column(name="sky", format="E", array=sky),
    fits.Column(name="model", format="E", array=model),
], name="COADD")

specobj = fits.BinTableHDU.from_columns([
    fits.Column(name="PLATE", format="J", array=np.array([PLATE], dtype=np.int32)),
    fits.Column(name="MJD", format="J", array=np.array([MJD], dtype=np.int32)),
    fits.Column(name="FIBERID", format="J", array=np.array([FIBER], dtype=np.int32)),
    fits.Column(name="RUN2D", format="7A", array=np.array(["v5_13_2"])),
    fits.Column(name="CLASS", format="6A", array=np.array(["GALAXY"])),
    fits.Column(name="Z", format="E", array=np.array([Z], dtype=np.float32)),
    fits.Column(name="PLUG_RA", format="D", array=np.array([210.910674])),
    fits.Column(name="PLUG_DEC", format="D", array=np.array([54.311686])),
    fits.Column(name="SPECOBJID", format="21A", array=np.array(["4776035489613422592"])),
], name="SPECOBJ")

names = ["H_beta", "[O_III] 4959", "[O_III] 5007", "H_alpha", "[N_II] 6583"]
rest = [4862.68, 4960.30, 5008.24, 6564.61, 6585.27]
spzline = fits.BinTableHDU.from_columns([
    fits.Column(name="PLATE", format="J", array=np.full(5, PLATE, dtype=np.int32)),
    fits.Column(name="MJD", format="J", array=np.full(5, MJD, dtype=np.int32)),
    fits.Column(name="FIBERID", format="J", array=np.full(5, FIBER, dtype=np.int32)),
    fits.Column(name="LINENAME", format="13A", array=np.array(names)),
    fits.Column(name="LINEWAVE", format="D", array=np.array(rest)),
    fits.Column(name="LINEZ", format="E", array=np.full(5, Z, dtype=np.float32)),
], name="SPZLINE")

name = "spec-%04d-%d-%04d.fits" % (PLATE, MJD, FIBER)
fits.HDUList([fits.PrimaryHDU(header=ph), coadd, specobj, spzline]).writeto(os.path.join(HERE, name), overwrite=True)

with fits.open(os.path.join(HERE, name)) as f:
    c = f["COADD"].data
    good = c["ivar"] > 0
    print("wrote", name, os.path.getsize(os.path.join(HERE, name)), "bytes;", int(good.sum()), "of", len(c), "pixels with ivar > 0;",
          "first good: %.6f A, %.9g" % (10 ** float(c["loglam"][good][0]), float(c["flux"][good][0]) * 1e-17))
