#!/usr/bin/python3
"""Writes the FITS test files of internal/fits with astropy, and expected.json
with what astropy reads back from them.

Run once, by hand, from this directory (the Go tests never run Python):

    apt-get install -y python3-astropy python3-numpy
    /usr/bin/python3 gen.py

Written with astropy 5.2.1 and numpy 1.24.2 (Debian bookworm). The output is
deterministic (no random numbers, no dates). Where astropy cannot write
what a test needs (D exponents, raw stored integers with BSCALE/BZERO), the
script writes placeholder cards and edits the bytes afterwards, keeping every
card 80 characters long.

spectrum_1d.fits is not written here: it is the shared sample
(shared/services/samples/spectrum_1d.fits, written by astropy 5.2.1), copied
unchanged. With SAMPLES=<that samples folder> in the environment, the script
also writes expected_spectrum_1d.json from the sample's spectra_expected.json
(astropy's arrays for it) and the keywords the tests check.
"""

import json
import math
import os
import warnings

import astropy
import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

warnings.simplefilter("ignore")  # astropy warns about the non-standard cards on purpose

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def patch(name, pairs):
    """Replaces byte strings in a written file; each pair must keep the length."""
    p = path(name)
    data = open(p, "rb").read()
    for old, new in pairs:
        assert len(old) == len(new), (old, new)
        assert data.count(old) == 1, (name, old, data.count(old))
        data = data.replace(old, new)
    open(p, "wb").write(data)


def placeholder_scaling(hdr, bscale=None, bzero=None):
    """astropy drops BSCALE/BZERO when writing unscaled raw data, so they are
    written as XSCALE/XZERO and renamed by patch_scaling."""
    if bscale is not None:
        hdr["XSCALE"] = bscale
    if bzero is not None:
        hdr["XZERO"] = bzero


def patch_scaling(name, count):
    p = path(name)
    data = open(p, "rb").read()
    assert data.count(b"XSCALE  =") + data.count(b"XZERO   =") == count
    data = data.replace(b"XSCALE  =", b"BSCALE  =").replace(b"XZERO   =", b"BZERO   =")
    open(p, "wb").write(data)


# ---------------------------------------------------------------- JSON helpers

def jnum(x):
    """A JSON-safe number: NaN -> None, infinities -> strings."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def jarray(a):
    return [jnum(v) for v in np.asarray(a).ravel(order="C")]


def card_json(card):
    v = card.value
    kw = card.keyword
    if kw in ("COMMENT", "HISTORY", "") or (kw == "CONTINUE"):
        kind, value = "commentary", str(v)
    elif isinstance(v, fits.card.Undefined):
        kind, value = "undefined", None
    elif isinstance(v, bool):
        kind, value = "logical", v
    elif isinstance(v, (int, np.integer)):
        # Large integers are kept exactly as strings.
        kind, value = "integer", str(int(v))
    elif isinstance(v, (float, np.floating)):
        kind, value = "real", jnum(v)
    elif isinstance(v, complex):
        kind, value = "complex", [jnum(v.real), jnum(v.imag)]
    elif isinstance(v, str):
        kind, value = "string", v
    else:
        raise TypeError((kw, type(v)))
    return {"keyword": kw, "kind": kind, "value": value, "comment": card.comment}


def header_json(hdr):
    return [card_json(c) for c in hdr.cards]


def describe_file(name, extra=None):
    """Everything astropy reads from a file: headers (unscaled view, so that
    BSCALE/BZERO/BLANK stay in them), image data (scaled) and table columns."""
    out = {"hdus": []}
    with fits.open(path(name), do_not_scale_image_data=True) as raw, fits.open(path(name)) as f:
        for i, (hr, h) in enumerate(zip(raw, f)):
            d = {
                "index": i,
                "type": "primary" if i == 0 else hr.header["XTENSION"].strip(),
                "bitpix": hr.header["BITPIX"],
                # FITS order: NAXIS1 first (numpy shape reversed)
                "shape": [hr.header["NAXIS%d" % (k + 1)] for k in range(hr.header["NAXIS"])],
                "header": header_json(hr.header),
            }
            if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU)) and h.data is not None:
                d["dtype"] = str(h.data.dtype)
                d["data"] = jarray(h.data)
            out["hdus"].append(d)
    if extra:
        out.update(extra)
    return out


expected = {
    "generator": "gen.py, astropy %s, numpy %s" % (astropy.__version__, np.__version__),
    "files": {},
}

# ------------------------------------------------------------ bitpix.fits
# One HDU per BITPIX (and scaling convention). Stored values are written raw
# and include the type's extremes and the BLANK value.

BITPIX_CASES = [
    # (dtype, bscale, bzero, blank, stored values)
    ("uint8", 0.5, 10.0, 255, [0, 1, 100, 254, 255, 7]),
    ("int16", 0.01, -5.0, -32768, [-32768, -32767, -1, 0, 1, 12345, 32767]),
    ("int16", None, 32768, None, [-32768, -1, 0, 1, 32767]),  # uint16 convention
    ("int32", 2.5, 100.0, -2147483648, [-2147483648, -2147483647, -7, 0, 9, 2147483647]),
    ("int32", None, 2147483648, None, [-2147483648, -1, 0, 2147483647]),  # uint32 convention
    ("int64", 1e-3, 42.0, -9223372036854775808,
     [-9223372036854775808, -9223372036854775807, -1000, 0, 123456789, 9007199254740993, 9223372036854775807]),
    ("int64", None, 9223372036854775808, None,
     [-9223372036854775808, -9223372036854775807, -9223372036854763463, -1, 0, 1, 9223372036854775807]),  # uint64 convention: 0, 1, 12345, ...
    ("float32", 2.0, 1.0, None, [0.0, -1.5, 3.25e-16, float("nan"), 1e30, float("inf")]),
    ("float64", None, None, None, [0.0, -1.5, 3.2737040e-16, float("nan"), 1e300, -float("inf"), 5e-324]),
    ("uint8", None, -128, None, [0, 127, 128, 255]),  # signed-byte convention
]

hdus = []
nscale = 0
for k, (dt, bscale, bzero, blank, vals) in enumerate(BITPIX_CASES):
    arr = np.array(vals, dtype=dt)
    hdr = fits.Header()
    placeholder_scaling(hdr, bscale, bzero)
    nscale += (bscale is not None) + (bzero is not None)
    if blank is not None:
        hdr["BLANK"] = blank
    hdr["CASE"] = ("%s bscale=%s bzero=%s blank=%s" % (dt, bscale, bzero, blank))
    cls = fits.PrimaryHDU if k == 0 else fits.ImageHDU
    hdus.append(cls(arr, header=hdr, do_not_scale_image_data=True))
fits.HDUList(hdus).writeto(path("bitpix.fits"), overwrite=True)
patch_scaling("bitpix.fits", nscale)
expected["files"]["bitpix.fits"] = describe_file("bitpix.fits")

# --------------------------------------------------------------- spectra
N = 40
flux = (2.0e-16 + 1.0e-17 * np.sin(np.arange(N) / 3.0)).astype(np.float32)
err = (1.0e-18 * (1 + np.arange(N) % 5)).astype(np.float32)


def spectrum(name, data, cards, dtype=np.float32):
    hdr = fits.Header()
    for k, v in cards:
        hdr[k] = v
    fits.PrimaryHDU(np.asarray(data, dtype=dtype), header=hdr).writeto(path(name), overwrite=True)


def wcs_world(name, cunit):
    """astropy.wcs world coordinates of axis 1 for pixels 1..NAXIS1, in the
    file's CUNIT1 (wcslib works in SI units)."""
    with fits.open(path(name)) as f:
        w = WCS(f[0].header).sub([1])
        n = f[0].header["NAXIS1"]
    world = w.all_pix2world(np.arange(n, dtype=float), 0)[0]
    return (world * u.Unit(w.wcs.cunit[0])).to_value(u.Unit(cunit))


# (1, 1, N): negative CDELT1, fractional CRPIX1, CUNIT1 nm, float32.
spectrum("spec_1x1xn.fits", flux.reshape(1, 1, N), [
    ("CRVAL1", 650.0), ("CDELT1", -0.25), ("CRPIX1", 10.5), ("CTYPE1", "WAVE"), ("CUNIT1", "nm"),
    ("CRVAL2", 0.0), ("CRVAL3", 0.0),
    ("BUNIT", "erg/cm2/s/Angstrom"), ("DATE-OBS", "2024-02-03T04:05:06.789"), ("OBJECT", "SN 2024abc"),
])
expected["files"]["spec_1x1xn.fits"] = describe_file(
    "spec_1x1xn.fits", {"wavelength": jarray(wcs_world("spec_1x1xn.fits", "nm"))})

# (2, N): flux row and error row, CD1_1 instead of CDELT1, float64, AWAV, MJD-OBS only.
spectrum("spec_2xn.fits", np.vstack([flux, err]), [
    ("CRVAL1", 4000.0), ("CD1_1", 2.5), ("CRPIX1", 0.75), ("CTYPE1", "AWAV"), ("CUNIT1", "Angstrom"),
    ("CD2_2", 1.0), ("CTYPE2", "LINEAR"),
    ("BUNIT", "erg/cm2/s/Angstrom"), ("MJD-OBS", 60345.123456789), ("TELESCOP", "FTN"),
], dtype=np.float64)
expected["files"]["spec_2xn.fits"] = describe_file(
    "spec_2xn.fits", {"wavelength": jarray(wcs_world("spec_2xn.fits", "Angstrom"))})

# (N): log-linear spectrum, CTYPE1 WAVE-LOG, no CUNIT1 (wcslib then assumes m,
# so the recorded wavelength uses the header's numbers as Angstrom).
spectrum("spec_wavelog.fits", flux, [
    ("CRVAL1", 3800.0), ("CDELT1", 0.875), ("CRPIX1", 1.0), ("CTYPE1", "WAVE-LOG"),
    ("BUNIT", "erg/cm2/s/Angstrom"), ("DATE-OBS", "2024-01-28"),
])
with fits.open(path("spec_wavelog.fits")) as f:
    w = WCS(f[0].header).sub([1])
    wl = w.all_pix2world(np.arange(N, dtype=float), 0)[0]  # numbers as written (m per wcslib)
expected["files"]["spec_wavelog.fits"] = describe_file("spec_wavelog.fits", {"wavelength": jarray(wl)})

# (N): SDSS-style log10 wavelengths, COEFF0/COEFF1, BITPIX 16 with BSCALE/BZERO.
stored = np.round((flux / 1e-19) - 1000).astype(np.int16)
hdr = fits.Header()
placeholder_scaling(hdr, 1e-19, 1e-16)
hdr["COEFF0"] = (3.5798, "log10(wavelength/Angstrom) of pixel 0")
hdr["COEFF1"] = (1e-4, "log10 dispersion per pixel")
hdr["BUNIT"] = "erg/cm2/s/Angstrom"
hdr["DATE-OBS"] = "23/01/99"
fits.PrimaryHDU(stored, header=hdr, do_not_scale_image_data=True).writeto(path("spec_sdss_coeff.fits"), overwrite=True)
patch_scaling("spec_sdss_coeff.fits", 2)
expected["files"]["spec_sdss_coeff.fits"] = describe_file(
    "spec_sdss_coeff.fits", {"wavelength": jarray(10 ** (3.5798 + 1e-4 * np.arange(N)))})

# ------------------------------------------------------------ header_cards.fits
hdr = fits.Header()
hdr["LONGSTR"] = ("This is a long string value that does not fit in one card, so astropy "
                  "continues it on CONTINUE cards; it keeps going for a while & ends here.",
                  "and a comment that is also rather long, so that it has to be split over cards")
hdr["QUOTES"] = ("O'Brien's 'quoted' text", "doubled quotes")
hdr["LEADING"] = "   leading blanks kept"
hdr["TRAILING"] = "trailing blanks dropped    "
hdr["EMPTY"] = ""
hdr["AMPONLY"] = "ends with ampersand &"
hdr["LOGIC_T"] = True
hdr["LOGIC_F"] = (False, "false")
hdr["INTNEG"] = -42
hdr["INT64MAX"] = 9223372036854775807
hdr["BIGINT"] = (123456789012345678901234567890, "does not fit int64")
hdr["FLOATE"] = 1.5e-300
hdr["FLOATNEG"] = -0.125
hdr["CPLX"] = (complex(1.5, -2.0), "complex")
hdr["UNDEF"] = (None, "undefined value")
hdr["HIERARCH ESO DET CHIP NAME"] = ("CCD #1", "hierarch keyword")
hdr["HIERARCH ESO TEL AIRM START"] = 1.234
hdr.add_comment("A comment card.")
hdr.add_comment("Another comment card with 'quotes' and / slashes.")
hdr.add_history("Created by gen.py for internal/fits tests.")
hdr.add_blank("text under a blank keyword")
hdr["DEXP1"] = ("PH_D1_XXXXXX", "D exponent")
hdr["DEXP2"] = ("PH_D2_XXXXXX", "lower-case d exponent")
hdr["DEXP3"] = ("PH_D3_XXXXXX", "integer mantissa, D exponent")
hdr["DATE-OBS"] = "2024-01-26T03:14:15.250"
fits.PrimaryHDU(header=hdr).writeto(path("header_cards.fits"), overwrite=True)
patch("header_cards.fits", [
    (b"DEXP1   = 'PH_D1_XXXXXX'", b"DEXP1   =         1.0D-3"),
    (b"DEXP2   = 'PH_D2_XXXXXX'", b"DEXP2   =       -2.5d+02"),
    (b"DEXP3   = 'PH_D3_XXXXXX'", b"DEXP3   =            3D2"),
])
expected["files"]["header_cards.fits"] = describe_file("header_cards.fits")

# ------------------------------------------------------------ sdss_speclite.fits
# Primary header only, HDU 1 shaped like SDSS spec-lite COADD (E/J scalar
# columns), HDU 2 a SPALL-like table with strings, vectors, logicals, bits,
# TSCAL/TZERO, TNULL and unsigned conventions.
NR = 50
loglam = (3.5798 + 1e-4 * np.arange(NR)).astype(np.float32)
cflux = (10.0 + np.sin(np.arange(NR) / 4.0)).astype(np.float32)
ivar = (1.0 / (0.5 + (np.arange(NR) % 7) * 0.1)).astype(np.float32)
ivar[3] = 0.0
and_mask = (np.arange(NR) * 65536 % 2147483647).astype(np.int32)
or_mask = np.where(np.arange(NR) % 9 == 0, 2**28 + 16, 0).astype(np.int32)
wdisp = np.full(NR, 1.1, dtype=np.float32)
sky = (np.arange(NR) * 0.25).astype(np.float32)
model = (cflux * 0.98).astype(np.float32)
model[7] = np.nan

phdr = fits.Header()
phdr["TELESCOP"] = "SDSS 2.5-M"
phdr["PLATEID"] = 266
phdr["MJD"] = 51630
phdr["FIBERID"] = 4
phdr["COEFF0"] = 3.5798
phdr["COEFF1"] = 1e-4
phdr["DATE-OBS"] = "2000-03-05"
phdr["BUNIT"] = "1E-17 erg/cm^2/s/Ang"
coadd = fits.BinTableHDU.from_columns([
    fits.Column(name="flux", format="E", array=cflux),
    fits.Column(name="loglam", format="E", array=loglam),
    fits.Column(name="ivar", format="E", array=ivar),
    fits.Column(name="and_mask", format="J", array=and_mask),
    fits.Column(name="or_mask", format="J", array=or_mask),
    fits.Column(name="wdisp", format="E", array=wdisp),
    fits.Column(name="sky", format="E", array=sky),
    fits.Column(name="model", format="E", array=model),
], name="COADD")

NS = 4
spall_cols = {
    "CLASS": np.array(["GALAXY", "QSO", "STAR", ""]),
    "Z": np.array([0.1234567890123, 2.5, -0.0001, 0.0]),
    "PLATE": np.array([266, 266, 267, -1], dtype=np.int32),
    "SPECTROFLUX": np.arange(NS * 5, dtype=np.float32).reshape(NS, 5) * 1.5,
    "MATRIX": np.arange(NS * 6, dtype=np.float64).reshape(NS, 2, 3),
    "FLAGS": np.array([True, False, True, False]),
    "BITS": np.array([[1, 0, 1, 1, 0, 0, 0, 0, 1, 1]] * NS, dtype=bool),
    "BIGK": np.array([-9223372036854775807, 0, 9007199254740993, -1], dtype=np.int64),
    "SCALED": np.array([0, 100, -32768, 32767], dtype=np.int16),
    "UINT16": np.array([0, 1, 32768, 65535], dtype=np.uint16),
    "BYTES": np.array([0, 1, 200, 255], dtype=np.uint8),
    "UINT64": np.array([0, 1, 9223372036854775808, 18446744073709551615], dtype=np.uint64),
}
spall = fits.BinTableHDU.from_columns([
    fits.Column(name="CLASS", format="6A", array=spall_cols["CLASS"]),
    fits.Column(name="Z", format="D", array=spall_cols["Z"], unit=""),
    fits.Column(name="PLATE", format="J", array=spall_cols["PLATE"], null=-1),
    fits.Column(name="SPECTROFLUX", format="5E", array=spall_cols["SPECTROFLUX"], unit="nanomaggies"),
    fits.Column(name="MATRIX", format="6D", dim="(3,2)", array=spall_cols["MATRIX"]),
    fits.Column(name="FLAGS", format="L", array=spall_cols["FLAGS"]),
    fits.Column(name="BITS", format="10X", array=spall_cols["BITS"]),
    fits.Column(name="BIGK", format="K", array=spall_cols["BIGK"], null=-1),
    fits.Column(name="SCALED", format="I", array=spall_cols["SCALED"]),  # TSCAL9/TZERO9 patched in below
    fits.Column(name="UINT16", format="I", array=spall_cols["UINT16"], bzero=32768),
    fits.Column(name="BYTES", format="B", array=spall_cols["BYTES"], null=200),
    fits.Column(name="UINT64", format="K", array=spall_cols["UINT64"], bzero=9223372036854775808),
], name="SPALL")
# astropy cannot write raw stored values into a scaled integer column, so the
# scaling of SCALED (column 9) is written as XSCAL9/XZERO9 and renamed.
assert spall.columns.names.index("SCALED") == 8
spall.header["XSCAL9"] = 0.5
spall.header["XZERO9"] = 10.0
fits.HDUList([fits.PrimaryHDU(header=phdr), coadd, spall]).writeto(path("sdss_speclite.fits"), overwrite=True)
patch("sdss_speclite.fits", [(b"XSCAL9  =", b"TSCAL9  ="), (b"XZERO9  =", b"TZERO9  =")])


def columns_json(name, ext, nulls):
    """astropy's column values, flattened row by row; rows whose stored value
    equals TNULLn become NaN (astropy keeps the number, the standard says
    undefined)."""
    out = {}
    with fits.open(path(name)) as f:
        h = f[ext]
        for col in h.columns:
            v = h.data[col.name]
            d = {"format": col.format, "unit": col.unit or "", "dim": col.dim or ""}
            if col.format.endswith("A"):
                d["strings"] = [str(s) for s in v]
            else:
                a = np.asarray(v)
                if a.dtype == bool:
                    a = a.astype(np.float64)
                flat = [jnum(x) for x in a.reshape(len(a), -1).ravel()] if a.ndim > 1 else [jnum(x) for x in a]
                if col.name in nulls:
                    flat = [None if r == nulls[col.name] else x for r, x in zip(spall_cols[col.name], flat)]
                d["repeat"] = int(a.size // len(a)) if len(a) else 0
                d["dtype"] = str(a.dtype)
                d["values"] = flat
            out[col.name] = d
    return out


sd = describe_file("sdss_speclite.fits")
sd["hdus"][1]["columns"] = columns_json("sdss_speclite.fits", 1, {})
sd["hdus"][2]["columns"] = columns_json("sdss_speclite.fits", 2, {"PLATE": -1, "BIGK": -1, "BYTES": 200})
expected["files"]["sdss_speclite.fits"] = sd

# ------------------------------------------------------------ vla_skip.fits
# A BINTABLE with a variable-length array column (data in the heap, PCOUNT >
# 0), an ASCII TABLE, then an IMAGE that must be found after skipping both.
vla = fits.BinTableHDU.from_columns([
    fits.Column(name="ID", format="J", array=np.array([1, 2, 3], dtype=np.int32)),
    fits.Column(name="VLA", format="PJ()", array=np.array(
        [np.arange(5, dtype=np.int32), np.arange(0, dtype=np.int32), np.arange(17, dtype=np.int32)], dtype=object)),
    fits.Column(name="NAME", format="3A", array=np.array(["a", "bb", "ccc"])),
], name="VLA")
ascii_tab = fits.TableHDU.from_columns([
    fits.Column(name="X", format="F8.3", array=np.array([1.5, 2.25])),
    fits.Column(name="LABEL", format="A5", array=np.array(["one", "two"])),
], name="ASCII")
img = fits.ImageHDU(np.arange(12, dtype=np.int16).reshape(3, 4) - 6, name="AFTER")
fits.HDUList([fits.PrimaryHDU(), vla, ascii_tab, img]).writeto(path("vla_skip.fits"), overwrite=True)
vd = describe_file("vla_skip.fits")
with fits.open(path("vla_skip.fits")) as f:
    vd["hdus"][1]["id"] = jarray(f[1].data["ID"])
    vd["hdus"][1]["name"] = [str(s) for s in f[1].data["NAME"]]
    vd["hdus"][1]["pcount"] = f[1].header["PCOUNT"]
expected["files"]["vla_skip.fits"] = vd

samples = os.environ.get("SAMPLES")
if samples:
    import shutil
    src = os.path.join(samples, "spectrum_1d.fits")
    if not os.path.exists(path("spectrum_1d.fits")):
        shutil.copyfile(src, path("spectrum_1d.fits"))
    assert open(src, "rb").read() == open(path("spectrum_1d.fits"), "rb").read()
    entry = [e for e in json.load(open(os.path.join(samples, "spectra_expected.json")))
             if e["file"] == "spectrum_1d.fits"][0]
    with fits.open(path("spectrum_1d.fits")) as f:
        hd = f[0].header
        assert np.array_equal(f[0].data.astype(np.float64), np.array(entry["flux"]))
        keys = {k: hd[k] for k in ("CRVAL1", "CDELT1", "CRPIX1", "CTYPE1", "CUNIT1", "BUNIT", "DATE-OBS", "OBJECT")}
    with open(path("expected_spectrum_1d.json"), "w") as fh:
        json.dump({"source": "shared/services/samples/spectra_expected.json (astropy) and the file's header",
                   "shape": [len(entry["flux"])], "keywords": keys, "date_obs": entry["date_obs"],
                   "flux": entry["flux"], "wavelength": entry["wavelength"]}, fh, indent=1, allow_nan=False)
        fh.write("\n")

with open(path("expected.json"), "w") as fh:
    json.dump(expected, fh, indent=1, allow_nan=False)
    fh.write("\n")
print("wrote", ", ".join(sorted(expected["files"])), "and expected.json")
