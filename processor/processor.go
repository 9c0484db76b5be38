// Package processor turns stored result files into datums: the Processor
// interface that service packages implement, Ingest (the TOM's
// run_data_processor, with keyed de-duplication instead of a scan of every
// datum of the target), the plain photometry-table processor for uploaded
// CSV files, and the photometry helpers every service shares (MJD ↔ UTC,
// flux in µJy ↔ AB magnitude, limiting magnitudes).
//
// A processor does not import singletarget: any type with the methods of
// Processor is one.
package processor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/tomgo/targetdata/dataproduct"
)

// Processor reads one file format into datums.
//
// Process reads r to the end and returns every datum, or an error: a
// malformed line gives a *dataproduct.ParseError naming the line, and
// then no datum is returned. Datums come back without TargetID and
// ProductID; Ingest fills them in. Process must honour ctx (checking it
// every few thousand lines) and must be safe for concurrent use.
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
// same product adds nothing. Parse errors name the product.
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
	seq := func(yield func(dataproduct.Datum, error) bool) {
		for d, err := range Stream(ctx, p, r) {
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
	return store.AddDatums(ctx, seq)
}
