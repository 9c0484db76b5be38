package ztf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/textscan"
	"github.com/tomgo/targetdata/processor"
)

// Default thresholds of the forced-photometry recipe (Masci et al. 2023
// §6.4–6.5; spec B.7).
const (
	// DefaultSNT is the S/N above which an epoch is a detection.
	DefaultSNT = 3.0
	// DefaultSNU is the significance of the upper limit of a non-detection.
	DefaultSNU = 5.0
)

// ForcedPhotometrySource is the source name of forced-photometry datums
// (the name of the ZTF_FP service), which keeps difference-image forced
// photometry apart from IRSA's catalog light curves (source "ZTF").
const ForcedPhotometrySource = ForcedPhotometryServiceName

// CleanProcstatus lists the per-epoch procstatus codes kept by default
// (spec B.6): 0 no warnings, 57 no reference-catalog source within 5″
// and 58 reference PSF catalog missing (both harmless for difference
// photometry), 62 start JD reset to the survey start (informational).
var CleanProcstatus = []int{0, 57, 58, 62}

// ForcedPhotometryProcessor turns a ZTF forced-photometry result file
// (forcedphotometry_req<id>_lc.txt: a '#' comment header, a column-name
// line, then space-separated rows; spec B.5) into photometry datums,
// finding columns by name:
//
//   - timestamp and MJD from jd: MJD = jd − 2400000.5 (start of exposure);
//   - filter from filter: ZTF_g, ZTF_r, ZTF_i become "g", "r", "i";
//   - with S/N = forcediffimflux / forcediffimfluxunc: if S/N > SNT, a
//     detection, magnitude = zpdiff − 2.5·log10(forcediffimflux) and
//     error = 1.0857·forcediffimfluxunc/forcediffimflux; otherwise an
//     upper limit zpdiff − 2.5·log10(SNU·forcediffimfluxunc) with
//     LimitSigma = SNU (never a limit stored as a magnitude);
//   - FluxUJy and FluxErrUJy = flux·10^(0.4·(23.9 − zpdiff)) for every
//     datum (the difference flux, which may be negative);
//   - telescope "ZTF", source Source ("ZTF_FP").
//
// Epochs whose procstatus is not clean (codes outside CleanProcstatus,
// e.g. 56 bad pixels, 59 suspect uncertainties, 60/61 PSF or cut-out
// trouble) are dropped, unless KeepFlagged is set. Kept epochs with a
// non-zero procstatus carry it in Extra["procstatus"], and epochs with
// non-zero infobitssci (poor conditions) carry it in
// Extra["infobitssci"], so users can apply the quality cuts of spec B.8.
// Epochs with a null (or non-positive) uncertainty, or a null flux,
// zpdiff or jd, have no usable measurement and give no datum. Both kinds of
// row are counted in the dataproduct.Report with their lines, flagged
// epochs by procstatus code (see StreamReport); Strict refuses a file with
// an epoch without a measurement instead (dropping flagged epochs is a
// filter, and never refuses a file).
//
// The zero value is ready to use; it is safe for concurrent use.
type ForcedPhotometryProcessor struct {
	// SNT is the detection threshold in S/N. Default DefaultSNT (3).
	SNT float64
	// SNU is the significance of upper limits. Default DefaultSNU (5).
	SNU float64
	// Source is the datums' source name. Default "ZTF_FP".
	Source string
	// KeepFlagged keeps the epochs whose procstatus is not clean (they are
	// flagged in Extra["procstatus"]).
	KeepFlagged bool
	// Strict refuses a file at its first epoch without a measurement (a
	// *dataproduct.ParseError wrapping processor.ErrNoMeasurement) instead
	// of skipping and reporting it.
	Strict bool
}

// Reasons of the epochs that give no datum, as reports show them; flagged
// epochs are reported as "flagged epoch (procstatus CODES)".
const (
	ReasonNullMeasurement = "no measurement (forcediffimflux, forcediffimfluxunc, zpdiff or jd null)"
	ReasonNoUncertainty   = "flux uncertainty not positive (forcediffimfluxunc ≤ 0)"
)

// flaggedReason is the report's reason for an epoch dropped for its
// procstatus.
func flaggedReason(status []byte) string {
	return "flagged epoch (procstatus " + string(status) + ")"
}

// DataType returns dataproduct.TypePhotometry.
func (ForcedPhotometryProcessor) DataType() string { return dataproduct.TypePhotometry }

// Process implements processor.Processor.
func (p ForcedPhotometryProcessor) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	return processor.Collect(p.Stream(ctx, r))
}

type fpColumns struct {
	filter, jd, zpdiff, flux, unc, procstatus, infobits int
}

func findFPColumns(names []string) (fpColumns, error) {
	i, err := findColumns(names, 5, "filter", "jd", "zpdiff", "forcediffimflux", "forcediffimfluxunc", "procstatus", "infobitssci")
	return fpColumns{filter: i[0], jd: i[1], zpdiff: i[2], flux: i[3], unc: i[4], procstatus: i[5], infobits: i[6]}, err
}

// Stream implements processor.Streamer.
func (p ForcedPhotometryProcessor) Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	return p.StreamReport(ctx, r, processor.Input{}, nil)
}

// StreamReport implements processor.Reporter: rep counts the epochs (data
// rows), the datums, and the epochs that gave no datum under the Reason
// constants or as flagged epochs by procstatus.
func (p ForcedPhotometryProcessor) StreamReport(ctx context.Context, r io.Reader, _ processor.Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	snt, snu := p.SNT, p.SNU
	if snt == 0 {
		snt = DefaultSNT
	}
	if snu == 0 {
		snu = DefaultSNU
	}
	source := p.Source
	if source == "" {
		source = ForcedPhotometrySource
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		if rep == nil {
			rep = &dataproduct.Report{}
		}
		flagged := map[string]string{} // procstatus → reason, built once per value
		if math.IsNaN(snt) || math.IsInf(snt, 0) || !(snu > 0) || math.IsInf(snu, 0) {
			yield(dataproduct.Datum{}, fmt.Errorf("ztf: ForcedPhotometryProcessor thresholds SNT %v, SNU %v: SNU must be positive and both finite", snt, snu))
			return
		}
		lr := textscan.NewLineReader(r, 256<<10, maxLine)
		var (
			cols   fpColumns
			ncols  int
			header bool
			split  textscan.Fields
			need   int // the last column to cut from the front (the last column is cut from the end)
			idx    [7]int
			vals   fpVals
			floats processor.Floats
		)
		fail := func(err error) {
			var pe *dataproduct.ParseError
			if errors.As(err, &pe) {
				if pe.Line == 0 {
					pe.Line = lr.Line()
				}
			} else {
				err = &dataproduct.ParseError{Line: lr.Line(), Err: err}
			}
			yield(dataproduct.Datum{}, err)
		}
		for {
			line, ok := lr.Next()
			if !ok {
				if err := readErr(lr); err != nil {
					fail(err)
				} else if !header {
					fail(&dataproduct.ParseError{Line: lr.Line(), Err: errors.New("no column-name line: not a ZTF forced-photometry file")})
				}
				return
			}
			if lr.Line()%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					yield(dataproduct.Datum{}, err)
					return
				}
			}
			t := textscan.TrimSpace(line)
			if len(t) == 0 || t[0] == '#' {
				continue
			}
			if !header {
				names := strings.Fields(strings.ReplaceAll(string(t), ",", " "))
				var err error
				if cols, err = findFPColumns(names); err != nil {
					fail(err)
					return
				}
				ncols, header = len(names), true
				idx = cols.indexes()
				need = 0
				for _, col := range idx {
					if col < ncols-1 {
						need = max(need, col)
					}
				}
				continue
			}
			if n := split.Split(t, need+1); n != ncols {
				fail(fmt.Errorf("%d values, the column line has %d", n, ncols))
				return
			}
			for i, col := range idx {
				vals[i] = nil
				if col >= 0 {
					vals[i] = split.Field(col)
				}
			}
			rep.Rows++
			d, skip, err := p.row(&vals, snt, snu, source, &floats)
			switch {
			case err != nil:
			case skip == reasonFlagged:
				status := vals[5]
				reason, ok := flagged[string(status)]
				if !ok {
					reason = flaggedReason(status)
					flagged[string(status)] = reason
				}
				rep.Skip(lr.Line(), reason)
				continue
			case skip != "":
				col := "forcediffimfluxunc"
				if skip == ReasonNullMeasurement {
					col = ""
				}
				if err = processor.SkipRow(rep, p.Strict, lr.Line(), col, skip); err == nil {
					continue
				}
			}
			if err != nil {
				fail(err)
				return
			}
			rep.Datums++
			if !yield(d, nil) {
				return
			}
		}
	}
}

// isNull reports the null markers of ZFPS files ("null"; "NaN" too).
func isNull(b []byte) bool {
	if len(b) == 0 || (b[0]|0x20 != 'n') {
		return false
	}
	return bytes.EqualFold(b, []byte("null")) || bytes.EqualFold(b, []byte("nan"))
}

// procstatusClean reports whether every code of a procstatus value (one
// code, or several separated by commas) is in CleanProcstatus.
func procstatusClean(b []byte) (bool, error) {
	for part := range bytes.SplitSeq(b, []byte(",")) {
		part = textscan.TrimSpace(part)
		if len(part) == 0 {
			continue
		}
		code, ok := textscan.ParseInt(part)
		if !ok {
			return false, fmt.Errorf("%q is not a procstatus code", string(b))
		}
		clean := false
		for _, c := range CleanProcstatus {
			if code == int64(c) {
				clean = true
				break
			}
		}
		if !clean {
			return false, nil
		}
	}
	return true, nil
}

// fpVals are the cells of the used columns, in fpColumns.indexes order
// (jd, zpdiff, forcediffimflux, forcediffimfluxunc, filter, procstatus,
// infobitssci); nil for an absent column.
type fpVals [7][]byte

func (c fpColumns) indexes() [7]int {
	return [7]int{c.jd, c.zpdiff, c.flux, c.unc, c.filter, c.procstatus, c.infobits}
}

var fpValNames = [4]string{"jd", "zpdiff", "forcediffimflux", "forcediffimfluxunc"}

// reasonFlagged is row's answer for an epoch dropped for its procstatus.
const reasonFlagged = "flagged"

// row makes the datum of one epoch, or says why it gives none (a Reason
// constant, or reasonFlagged).
func (p ForcedPhotometryProcessor) row(v *fpVals, snt, snu float64, source string, fl *processor.Floats) (dataproduct.Datum, string, error) {
	bad := func(col string, err error) error { return &dataproduct.ParseError{Column: col, Err: err} }
	status := v[5]
	if isNull(status) {
		status = nil
	}
	if len(status) > 0 {
		clean, err := procstatusClean(status)
		if err != nil {
			return dataproduct.Datum{}, "", bad("procstatus", err)
		}
		if !clean && !p.KeepFlagged {
			return dataproduct.Datum{}, reasonFlagged, nil
		}
	}
	var nums [4]float64
	for i := range nums {
		b := v[i]
		if isNull(b) {
			return dataproduct.Datum{}, ReasonNullMeasurement, nil
		}
		x, err := parseNum(b)
		if err != nil {
			return dataproduct.Datum{}, "", bad(fpValNames[i], err)
		}
		nums[i] = x
	}
	jd, zp, flux, unc := nums[0], nums[1], nums[2], nums[3]
	if !(unc > 0) {
		return dataproduct.Datum{}, ReasonNoUncertainty, nil
	}
	band, ok := bandOf(v[4])
	if !ok {
		return dataproduct.Datum{}, "", bad("filter", fmt.Errorf("unknown filter %q (want ZTF_g, ZTF_r or ZTF_i)", string(v[4])))
	}
	mjd := jd - processor.MJDOffset
	if err := processor.CheckMJD(mjd); err != nil {
		return dataproduct.Datum{}, "", bad("jd", err)
	}
	toUJy := math.Exp(0.4 * math.Ln10 * (processor.ABZeroPointMicroJansky - zp))
	ph := dataproduct.Photometry{
		Filter:     band,
		Telescope:  Telescope,
		MJD:        fl.New(mjd),
		FluxUJy:    fl.New(flux * toUJy),
		FluxErrUJy: fl.New(unc * toUJy),
	}
	if flux/unc > snt {
		ph.Magnitude = fl.New(zp - 2.5*math.Log10(flux))
		ph.Error = fl.New(magErrFactor * unc / flux)
	} else {
		ph.Limit = fl.New(zp - 2.5*math.Log10(snu*unc))
		ph.LimitSigma = snu
	}
	if len(status) > 0 && !(len(status) == 1 && status[0] == '0') {
		ph.Extra = map[string]any{"procstatus": string(status)}
	}
	if v[6] != nil && !isNull(v[6]) {
		bits, err := parseInt(v[6])
		if err != nil {
			return dataproduct.Datum{}, "", bad("infobitssci", err)
		}
		if bits != 0 {
			if ph.Extra == nil {
				ph.Extra = map[string]any{}
			}
			ph.Extra["infobitssci"] = bits
		}
	}
	return dataproduct.Datum{
		DataType:  dataproduct.TypePhotometry,
		Timestamp: processor.MJDToTime(mjd),
		Source:    source,
		Value:     ph,
	}, "", nil
}
