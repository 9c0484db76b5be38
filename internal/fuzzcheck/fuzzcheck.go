// Package fuzzcheck holds the invariants the project's fuzz targets check
// beyond "no panic": what every photometry processor must give for any
// input, and how form decoders must fail. It is imported by tests only.
package fuzzcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// MaxInput caps the bytes a fuzz target feeds a parser, so that memory
// stays bounded whatever the fuzzer generates.
const MaxInput = 1 << 20

// Timeout bounds one run of a processor over one fuzz input: a parser that
// takes longer on at most MaxInput bytes is treated as hung.
const Timeout = 10 * time.Second

// Photometry says what a processor promises about its datums.
type Photometry struct {
	// Source is the datums' Source.
	Source string
	// Exclusive: a datum has a magnitude or a limit, never both (the
	// services' processors). When false, both may be set (user tables).
	Exclusive bool
}

// Processor runs p over in twice, through Process and through Stream, and
// checks: the error is nil or a *dataproduct.ParseError (with a line and
// column that make sense); no run outlasts Timeout; both runs give the
// same datums (a parser is deterministic and Stream agrees with Process);
// every datum is a photometry datum with a UTC timestamp that JSON and
// stores can encode, a source, a magnitude or a limit, finite numbers, an
// error only with a magnitude, and a value whose canonical encoding
// decodes back to the same bytes. For a processor.Reporter, the report
// counts the datums, each skipped row has a reason and a line within the
// input, and no more rows are skipped than read. It returns the datums of
// a successful run (nil after a ParseError).
func Processor(t testing.TB, p processor.Processor, in []byte, want Photometry) []dataproduct.Datum {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ds, err := p.Process(ctx, bytes.NewReader(in))
	if ctx.Err() != nil {
		t.Fatalf("Process took more than %s on %d bytes", Timeout, len(in))
	}
	checkErr(t, err, in)

	// Stream gives the same, datum by datum (through StreamReport, which
	// is Stream with a report).
	var streamed []dataproduct.Datum
	var serr error
	var rep dataproduct.Report
	for d, err := range processor.StreamReport(ctx, p, bytes.NewReader(in), processor.Input{}, &rep) {
		if err != nil {
			serr = err
			break
		}
		streamed = append(streamed, d)
	}
	if (err == nil) != (serr == nil) || (err != nil && err.Error() != serr.Error()) {
		t.Fatalf("Process error %v, Stream error %v", err, serr)
	}
	if err != nil {
		return nil
	}
	if len(streamed) != len(ds) {
		t.Fatalf("Process gave %d datums, Stream %d", len(ds), len(streamed))
	}
	for i := range ds {
		a, b := encode(t, ds[i]), encode(t, streamed[i])
		if !ds[i].Timestamp.Equal(streamed[i].Timestamp) || !bytes.Equal(a, b) {
			t.Fatalf("datum %d differs between Process and Stream: %s %s vs %s %s", i, ds[i].Timestamp, a, streamed[i].Timestamp, b)
		}
	}
	for i, d := range ds {
		checkDatum(t, i, d, want)
	}
	if _, ok := p.(processor.Reporter); ok {
		checkReport(t, rep, len(ds), in)
	}
	return ds
}

func checkReport(t testing.TB, rep dataproduct.Report, datums int, in []byte) {
	t.Helper()
	if rep.Datums != datums {
		t.Fatalf("the report counts %d datums, the stream gave %d", rep.Datums, datums)
	}
	if rep.SkippedCount() > rep.Rows {
		t.Fatalf("the report skips %d rows of %d read", rep.SkippedCount(), rep.Rows)
	}
	lines := bytes.Count(in, []byte("\n")) + 1
	for _, s := range rep.Skipped {
		if s.Reason == "" || s.Count <= 0 || len(s.Lines) > min(s.Count, dataproduct.MaxReportLines) {
			t.Fatalf("bad report entry %+v", s)
		}
		for _, l := range s.Lines {
			if l < 1 || l > lines {
				t.Fatalf("skipped line %d outside the input's %d lines", l, lines)
			}
		}
	}
}

func checkErr(t testing.TB, err error, in []byte) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *dataproduct.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error is not a *dataproduct.ParseError: %T %v", err, err)
	}
	lines := bytes.Count(in, []byte("\n")) + 1
	if pe.Line < 0 || pe.Line > lines {
		t.Fatalf("ParseError line %d outside the input's %d lines: %v", pe.Line, lines, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error text")
	}
}

func encode(t testing.TB, d dataproduct.Datum) []byte {
	t.Helper()
	b, err := dataproduct.CanonicalValue(d.Value)
	if err != nil {
		t.Fatalf("value %+v does not encode: %v", d.Value, err)
	}
	return b
}

func checkDatum(t testing.TB, i int, d dataproduct.Datum, want Photometry) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("datum %d (%s): %s", i, d.Timestamp, fmt.Sprintf(format, args...))
	}
	if d.DataType != dataproduct.TypePhotometry {
		fail("data type %q", d.DataType)
	}
	if d.Timestamp.IsZero() || d.Timestamp.Location() != time.UTC {
		fail("timestamp %v is zero or not UTC", d.Timestamp)
	}
	if _, err := d.Timestamp.MarshalJSON(); err != nil {
		fail("timestamp cannot be encoded: %v", err)
	}
	if !d.Timestamp.Equal(dataproduct.NormalizeTime(d.Timestamp)) {
		fail("timestamp %v is finer than a microsecond", d.Timestamp)
	}
	if want.Source != "" && d.Source != want.Source {
		fail("source %q, want %q", d.Source, want.Source)
	}
	ph, ok := d.Value.(dataproduct.Photometry)
	if !ok {
		fail("value is a %T", d.Value)
	}
	if ph.Magnitude == nil && ph.Limit == nil {
		fail("neither a magnitude nor a limit")
	}
	if want.Exclusive && ph.Magnitude != nil && ph.Limit != nil {
		fail("both a magnitude and a limit")
	}
	if ph.Error != nil && ph.Magnitude == nil {
		fail("a magnitude error without a magnitude")
	}
	for name, v := range map[string]*float64{"magnitude": ph.Magnitude, "error": ph.Error, "limit": ph.Limit,
		"flux_ujy": ph.FluxUJy, "flux_err_ujy": ph.FluxErrUJy, "mjd": ph.MJD} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			fail("%s is %v", name, *v)
		}
	}
	if math.IsNaN(ph.LimitSigma) || math.IsInf(ph.LimitSigma, 0) {
		fail("limit_sigma is %v", ph.LimitSigma)
	}
	if ph.Filter == "" {
		fail("no filter")
	}
	b := encode(t, d)
	back, err := dataproduct.DecodeValue(d.DataType, b)
	if err != nil {
		fail("canonical value %s does not decode: %v", b, err)
	}
	b2, err := dataproduct.CanonicalValue(back)
	if err != nil || !bytes.Equal(b, b2) {
		fail("canonical value %s re-encodes as %s (%v)", b, b2, err)
	}
	if _, err := d.Key(); err != nil {
		fail("no key: %v", err)
	}
}

// Keys returns the datums' keys for target 1, sorted, for comparing runs.
func Keys(t testing.TB, ds []dataproduct.Datum) []dataproduct.Key {
	t.Helper()
	out := make([]dataproduct.Key, 0, len(ds))
	for _, d := range ds {
		d.TargetID = 1
		k, err := d.Key()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b dataproduct.Key) int { return bytes.Compare(a[:], b[:]) })
	return out
}
