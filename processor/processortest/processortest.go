// Package processortest is a conformance suite for processors (the
// processor.Processor interface), users' own included:
//
//	processortest.Run(t, processortest.Harness{
//		Processor: atlas.Processor{},
//		Input:     sample,   // a valid file
//		Bad:       broken,   // a file with one malformed line
//		BadLine:   7,        // the line the *dataproduct.ParseError must name
//	})
//
// It checks that the same input gives the same datums (and the same through
// Stream as through Process), that every datum is well formed and of the
// processor's data type, that a bad line gives a *dataproduct.ParseError
// with its line number and nothing is ingested, that re-processing adds no
// datums, and that a cancelled context stops the processor. For a
// processor.Reporter it checks that StreamReport gives the datums Process
// gives, that its report counts them, and that Ingest returns that report.
package processortest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// Harness describes a processor and its test files.
type Harness struct {
	// Processor is the processor under test.
	Processor processor.Processor
	// Input is a valid file; it must give at least one datum.
	Input []byte
	// WantDatums is the number of datums Input gives; 0 means not checked.
	WantDatums int
	// Bad is a malformed file, or nil to skip the parse-error checks.
	Bad []byte
	// BadLine is the line number the ParseError for Bad must carry (for
	// binary formats with no lines, set BadLine to 0 and the suite only
	// checks for a *dataproduct.ParseError).
	BadLine int
	// Large is an optional big valid input for the cancellation check; when
	// nil, Input is used (then the processor may finish before it notices).
	Large []byte
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	require.NotNil(t, h.Processor, "Harness.Processor")
	require.NotEmpty(t, h.Input, "Harness.Input")
	ctx := context.Background()
	p := h.Processor

	first, err := p.Process(ctx, bytes.NewReader(h.Input))
	require.NoError(t, err, "processing the valid input")
	require.NotEmpty(t, first, "the valid input gives datums")

	t.Run("WellFormed", func(t *testing.T) {
		for i, d := range first {
			assert.Equal(t, p.DataType(), d.DataType, "datum %d data type", i)
			assert.False(t, d.Timestamp.IsZero(), "datum %d has a timestamp", i)
			assert.NotEmpty(t, d.Source, "datum %d has a source", i)
			_, err := dataproduct.CanonicalValue(d.Value)
			assert.NoError(t, err, "datum %d value encodes", i)
			if ph, ok := d.Value.(dataproduct.Photometry); ok {
				assert.False(t, ph.Magnitude != nil && ph.Limit != nil, "datum %d has both a magnitude and a limit", i)
				assert.False(t, ph.Magnitude == nil && ph.Limit == nil, "datum %d has neither a magnitude nor a limit", i)
			}
		}
		if h.WantDatums > 0 {
			assert.Len(t, first, h.WantDatums)
		}
	})

	t.Run("Deterministic", func(t *testing.T) {
		second, err := p.Process(ctx, bytes.NewReader(h.Input))
		require.NoError(t, err)
		assert.Equal(t, keys(t, first), keys(t, second), "the same input gives the same datums")
		if s, ok := p.(processor.Streamer); ok {
			streamed, err := processor.Collect(s.Stream(ctx, bytes.NewReader(h.Input)))
			require.NoError(t, err)
			assert.Equal(t, keys(t, first), keys(t, streamed), "Stream gives what Process gives")
		}
	})

	if rp, ok := p.(processor.Reporter); ok {
		t.Run("Report", func(t *testing.T) {
			var rep dataproduct.Report
			ds, err := processor.Collect(rp.StreamReport(ctx, bytes.NewReader(h.Input), processor.Input{}, &rep))
			require.NoError(t, err)
			assert.Equal(t, keys(t, first), keys(t, ds), "StreamReport gives what Process gives")
			assert.Equal(t, len(ds), rep.Datums, "the report counts the datums")
			assert.LessOrEqual(t, rep.SkippedCount(), rep.Rows, "no more rows skipped than read")
			for _, s := range rep.Skipped {
				assert.NotEmpty(t, s.Reason, "every skip has a reason")
				assert.Positive(t, s.Count)
				assert.LessOrEqual(t, len(s.Lines), min(s.Count, dataproduct.MaxReportLines))
			}
			again, err := processor.Collect(rp.StreamReport(ctx, bytes.NewReader(h.Input), processor.Input{}, nil))
			require.NoError(t, err, "a nil report is allowed")
			assert.Len(t, again, len(ds))

			store := dataproduct.NewMemoryStore(nil)
			prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "reported", DataProductType: "test"}, bytes.NewReader(h.Input))
			require.NoError(t, err)
			res, err := processor.Ingest(ctx, store, prod, p)
			require.NoError(t, err)
			rep.Product = "reported"
			assert.Equal(t, []dataproduct.Report{rep}, res.Reports, "Ingest returns the file's report")
		})
	}

	t.Run("ReprocessAddsNothing", func(t *testing.T) {
		store := dataproduct.NewMemoryStore(nil)
		prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "input", DataProductType: "test"}, bytes.NewReader(h.Input))
		require.NoError(t, err)
		res, err := processor.Ingest(ctx, store, prod, p)
		require.NoError(t, err)
		assert.Positive(t, res.Added)
		assert.Equal(t, len(first), res.Added+res.Skipped)
		again, err := processor.Ingest(ctx, store, prod, p)
		require.NoError(t, err)
		assert.Equal(t, 0, again.Added, "re-processing adds no datums")
		assert.Equal(t, res.Added, again.Skipped)
	})

	if h.Bad != nil {
		t.Run("ParseError", func(t *testing.T) {
			ds, err := p.Process(ctx, bytes.NewReader(h.Bad))
			require.Error(t, err, "the bad input is refused")
			assert.Empty(t, ds, "no datums with an error")
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe, "the error is a *dataproduct.ParseError: %v", err)
			if h.BadLine > 0 {
				assert.Equal(t, h.BadLine, pe.Line, "the error names the bad line: %v", err)
			}
			assert.NotEmpty(t, err.Error())

			store := dataproduct.NewMemoryStore(nil)
			prod, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "bad-input", DataProductType: "test"}, bytes.NewReader(h.Bad))
			require.NoError(t, err)
			_, err = processor.Ingest(ctx, store, prod, p)
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "bad-input", pe.File, "the error names the product")
			left, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
			require.NoError(t, err)
			assert.Empty(t, left, "nothing ingested from a bad file")
		})
	}

	t.Run("Cancelled", func(t *testing.T) {
		in := h.Large
		if in == nil {
			in = h.Input
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ds, err := p.Process(cctx, bytes.NewReader(in))
		if h.Large != nil {
			require.Error(t, err, "a cancelled context stops a large input")
		}
		if err != nil {
			assert.True(t, errors.Is(err, context.Canceled), "the error is the context's: %v", err)
			assert.Empty(t, ds)
		}
	})
}

func keys(t *testing.T, ds []dataproduct.Datum) []dataproduct.Key {
	t.Helper()
	out := make([]dataproduct.Key, len(ds))
	for i, d := range ds {
		d.TargetID = 1
		k, err := d.Key()
		require.NoError(t, err)
		out[i] = k
	}
	return out
}
