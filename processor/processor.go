// Package processor turns stored result files into datums: the Processor
// interface that service packages implement, Ingest (the TOM's
// run_data_processor, with keyed de-duplication instead of a scan of every
// datum of the target), the plain photometry-table processor for uploaded
// CSV files, and the photometry helpers every service shares (MJD ↔ UTC,
// flux in µJy ↔ AB magnitude, limiting magnitudes).
//
// A processor does not import singletarget: any type with the methods of
// Processor is one.
//
// # Refused files and skipped rows
//
// A processor refuses a file only when it is not the format: no header, a
// required column missing, text where a number must be. It then yields a
// *dataproduct.ParseError naming the line and column, and an ingest stores
// nothing. A row that is in the format but is no measurement (no flux, a
// failed photometric solution, an epoch the archive flags as bad) gives no
// datum and does not stop the file: the processor records it in a
// dataproduct.Report, under a reason a user can read, with its line number.
// StreamReport (for any processor) and Ingest (IngestResult.Reports) give
// that report; every built-in processor is a Reporter, and each has a
// Strict option that refuses the file at the first such row instead
// (SkipRow). Rows dropped by a filter the user chose (quality cuts, a flag
// mask) are reported too, but never refuse a file.
//
// # Stability
//
// This package is stable: a patch release does not change its API and a
// minor release only adds to it (never a method to an existing interface);
// see Stability in the documentation of package
// github.com/tomgo/targetdata.
package processor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
)

// Processor reads one file format into datums.
//
// Process reads r to the end and returns every datum, or an error: a
// malformed line gives a *dataproduct.ParseError naming the line, and
// then no datum is returned. A row that is in the format but is no
// measurement gives no datum and no error (a Reporter reports it). Datums
// come back without TargetID and ProductID; Ingest fills them in. Process
// must honour ctx (checking it every few thousand lines) and must be safe
// for concurrent use.
type Processor interface {
	// DataType is the data type of the datums it makes, e.g. "photometry".
	DataType() string
	// Process reads a whole file.
	Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error)
}

// Streamer is implemented by processors that can yield datums one by one
// in bounded memory. Ingest prefers it. After the sequence yields an error
// it yields nothing more.
type Streamer interface {
	Stream(ctx context.Context, r io.Reader) iter.Seq2[dataproduct.Datum, error]
}

// Stream returns p's datums as a sequence, streaming when p is a Streamer
// and otherwise calling Process once. A UTF-8 byte order mark at the start
// of r is skipped (SkipBOM), so every processor reached through Stream or
// Ingest reads a text file saved by Excel as it reads any other.
func Stream(ctx context.Context, p Processor, r io.Reader) iter.Seq2[dataproduct.Datum, error] {
	r = SkipBOM(r)
	if s, ok := p.(Streamer); ok {
		return s.Stream(ctx, r)
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		ds, err := p.Process(ctx, r)
		if err != nil {
			yield(dataproduct.Datum{}, err)
			return
		}
		for _, d := range ds {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// bom is the UTF-8 encoding of U+FEFF, the byte order mark.
const bom = "\xef\xbb\xbf"

// SkipBOM returns a reader of r without the UTF-8 byte order mark that
// Excel and some Windows editors put at the start of a text file (CSV
// "UTF-8" in Excel); r is returned as is when it does not start with one.
// Only one mark, at the very start, is skipped. Text processors call it
// first; Stream and Ingest call it for every processor.
func SkipBOM(r io.Reader) io.Reader {
	if b, ok := r.(*bomSkipper); ok {
		return b // already skipping
	}
	return &bomSkipper{r: r}
}

// bomSkipper drops a leading byte order mark on the first reads.
type bomSkipper struct {
	r    io.Reader
	head []byte // bytes read while looking for the mark, not yet returned
	done bool
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		var buf [len(bom)]byte
		n, err := io.ReadFull(b.r, buf[:])
		if n == len(bom) && string(buf[:]) == bom {
			n = 0
		}
		b.head = buf[:n]
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		if err != nil && len(b.head) == 0 {
			return 0, io.EOF
		}
	}
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// Input is what a caller knows about a file besides its bytes.
type Input struct {
	// ObservationTime is the time of the observation, for formats whose
	// files may hold none (a spectrum without DATE-OBS or MJD-OBS): it is
	// used only when the file gives no time. Zero: such a file is refused
	// (a time is never taken from the clock, so re-processing a file gives
	// the same datums). Processors of formats with a time per row ignore it.
	ObservationTime time.Time
}

// Reporter is implemented by processors that report what they made of a
// file and take an Input; every built-in processor is one.
//
// StreamReport is Stream with in and a report: while the sequence runs, rep
// (which may be nil) counts the data rows read (Rows) and the datums
// yielded (Datums), records each row that gave no datum with its reason and
// line (Skip), and notes what the processor assumed about the file (Note).
// When the sequence ends, or its consumer stops, rep holds what was done
// so far. rep must not be shared by concurrent streams.
type Reporter interface {
	StreamReport(ctx context.Context, r io.Reader, in Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error]
}

// StreamReport returns p's datums as a sequence and fills rep (which may be
// nil) as it goes: through p's own StreamReport when p is a Reporter;
// otherwise through Stream, counting the datums only (Rows stays 0, and
// in is not used).
func StreamReport(ctx context.Context, p Processor, r io.Reader, in Input, rep *dataproduct.Report) iter.Seq2[dataproduct.Datum, error] {
	r = SkipBOM(r)
	if rp, ok := p.(Reporter); ok {
		return rp.StreamReport(ctx, r, in, rep)
	}
	seq := Stream(ctx, p, r)
	if rep == nil {
		return seq
	}
	return func(yield func(dataproduct.Datum, error) bool) {
		for d, err := range seq {
			if err == nil {
				rep.Datums++
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

// ErrNoMeasurement is wrapped by the *dataproduct.ParseError with which a
// strict processor refuses a file for a row that is no measurement.
var ErrNoMeasurement = errors.New("no measurement")

// SkipRow is what a processor does with a row that is no measurement: it
// records the row in rep under reason and returns nil, or, when strict,
// returns the *dataproduct.ParseError (naming line and column, wrapping
// ErrNoMeasurement) that refuses the file.
func SkipRow(rep *dataproduct.Report, strict bool, line int, column, reason string) error {
	if strict {
		return &dataproduct.ParseError{Line: line, Column: column,
			Err: fmt.Errorf("%w: %s (a strict processor refuses the file)", ErrNoMeasurement, reason)}
	}
	rep.Skip(line, reason)
	return nil
}

// Collect gathers a datum sequence into a slice, stopping at the first
// error (then it returns no datums). Processors that implement Streamer use
// it to implement Process.
func Collect(seq iter.Seq2[dataproduct.Datum, error]) ([]dataproduct.Datum, error) {
	var out []dataproduct.Datum
	for d, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ErrNoProcessor is returned (wrapped) when no processor is known for a
// data product type.
var ErrNoProcessor = errors.New("processor: no processor for data product type")

// Ingest runs p over the stored file of product and adds the datums to
// store with de-duplication, all or nothing: a parse error, a cancelled
// context or a store failure leaves the store as it was. Re-ingesting the
// same product adds nothing. Parse errors name the product. The result's
// Reports holds the file's Report (also when an error stopped it), and
// the product's Extra[dataproduct.ExtraObservationTime], when set, is
// passed to the processor as Input.ObservationTime.
func Ingest(ctx context.Context, store dataproduct.Store, product dataproduct.Product, p Processor) (dataproduct.IngestResult, error) {
	rc, err := store.OpenProduct(ctx, product.ID)
	if err != nil {
		return dataproduct.IngestResult{}, fmt.Errorf("process product %d %q: %w", product.ID, product.Name, err)
	}
	defer rc.Close()
	res, err := IngestReader(ctx, store, product, p, rc)
	if err != nil {
		return res, fmt.Errorf("process product %d %q: %w", product.ID, product.Name, err)
	}
	return res, nil
}

// IngestReader is Ingest for a file the caller already holds: the datums
// of r are attributed to product (its ID may be 0 for a file that is not
// stored, but its TargetID must be set).
func IngestReader(ctx context.Context, store dataproduct.Store, product dataproduct.Product, p Processor, r io.Reader) (dataproduct.IngestResult, error) {
	in, err := InputOf(product)
	if err != nil {
		return dataproduct.IngestResult{}, err
	}
	rep := &dataproduct.Report{Product: product.Name}
	seq := func(yield func(dataproduct.Datum, error) bool) {
		for d, err := range StreamReport(ctx, p, r, in, rep) {
			if err != nil {
				var pe *dataproduct.ParseError
				if errors.As(err, &pe) && pe.File == "" {
					pe.File = product.Name
				}
				yield(dataproduct.Datum{}, err)
				return
			}
			d.TargetID = product.TargetID
			d.ProductID = product.ID
			if !yield(d, nil) {
				return
			}
		}
	}
	res, err := store.AddDatums(ctx, seq)
	res.Reports = []dataproduct.Report{*rep}
	return res, err
}

// InputOf returns the Input recorded with a product: the observation time
// of Extra[dataproduct.ExtraObservationTime]. A value that is not an
// RFC 3339 time is an error naming the key.
func InputOf(product dataproduct.Product) (Input, error) {
	var in Input
	if s := product.Extra[dataproduct.ExtraObservationTime]; s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return in, fmt.Errorf("product %q: Extra[%q] %q is not an RFC 3339 time", product.Name, dataproduct.ExtraObservationTime, s)
		}
		in.ObservationTime = t.UTC()
	}
	return in, nil
}
