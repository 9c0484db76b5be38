package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/floatfmt"
	"github.com/tomgo/targetdata/processor"
)

// writer prints datums as JSON lines or CSV. A photometry datum, the
// bulk of any file, is formatted straight into a reused buffer; other
// values go through encoding/json. The bytes are those encoding/json and
// encoding/csv would write (output_test.go holds the two side by side).
type writer struct {
	format string
	bw     *bufio.Writer
	cw     *csv.Writer // for the batch summary; datums do not use it
	header bool
	buf    []byte // one formatted datum
}

func newWriter(format string, w io.Writer) *writer {
	bw := bufio.NewWriterSize(w, 1<<16)
	return &writer{format: format, bw: bw, cw: csv.NewWriter(bw)}
}

type jsonDatum struct {
	Timestamp string  `json:"timestamp"`
	MJD       float64 `json:"mjd"`
	Source    string  `json:"source"`
	DataType  string  `json:"data_type"`
	Value     any     `json:"value"`
}

var csvHeader = []string{"timestamp", "mjd", "source", "data_type", "filter", "magnitude", "error", "limit", "limit_sigma",
	"telescope", "flux_ujy", "flux_err_ujy", "value"}

// photometryOf returns d's value as a Photometry when it is one.
func photometryOf(d dataproduct.Datum) (dataproduct.Photometry, bool) {
	switch v := d.Value.(type) {
	case dataproduct.Photometry:
		return v, true
	case *dataproduct.Photometry:
		if v != nil {
			return *v, true
		}
	}
	return dataproduct.Photometry{}, false
}

func (w *writer) write(d dataproduct.Datum) error {
	var err error
	if w.format == "json" {
		w.buf, err = appendJSONDatum(w.buf[:0], d)
	} else {
		if !w.header {
			w.header = true
			if err := w.cw.Write(csvHeader); err != nil {
				return err
			}
			w.cw.Flush()
		}
		w.buf, err = appendCSVDatum(w.buf[:0], d)
	}
	if err != nil {
		return err
	}
	_, err = w.bw.Write(w.buf)
	return err
}

func (w *writer) flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return err
	}
	return w.bw.Flush()
}

// appendJSONDatum appends d as one JSON line, as json.Marshal(jsonDatum)
// and a newline would.
func appendJSONDatum(b []byte, d dataproduct.Datum) ([]byte, error) {
	p, ok := photometryOf(d)
	if !ok {
		js, err := json.Marshal(jsonDatum{Timestamp: d.Timestamp.UTC().Format(time.RFC3339Nano),
			MJD: timeToMJD(d.Timestamp), Source: d.Source, DataType: d.DataType, Value: d.Value})
		if err != nil {
			return b, err
		}
		return append(append(b, js...), '\n'), nil
	}
	b = append(b, `{"timestamp":"`...)
	b = appendTimestamp(b, d.Timestamp)
	b = append(b, `","mjd":`...)
	b, err := dataproduct.AppendJSONFloat(b, timeToMJD(d.Timestamp))
	if err != nil {
		return b, fmt.Errorf("json: unsupported value: %w", err)
	}
	b = append(b, `,"source":`...)
	b = appendJSONString(b, d.Source)
	b = append(b, `,"data_type":`...)
	b = appendJSONString(b, d.DataType)
	b = append(b, `,"value":`...)
	if b, err = p.AppendJSON(b); err != nil {
		return b, err
	}
	return append(b, '}', '\n'), nil
}

// appendJSONString appends s as encoding/json encodes a string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendCSVDatum appends d as one CSV record (csvHeader's columns), as
// encoding/csv would write it.
func appendCSVDatum(b []byte, d dataproduct.Datum) ([]byte, error) {
	b = appendTimestamp(b, d.Timestamp)
	b = append(b, ',')
	b = floatfmt.AppendFixed(b, timeToMJD(d.Timestamp), 6)
	b = append(b, ',')
	b = appendCSVField(b, d.Source)
	b = append(b, ',')
	b = appendCSVField(b, d.DataType)
	b = append(b, ',')
	p, ok := photometryOf(d)
	if !ok {
		v, err := dataproduct.CanonicalValue(d.Value)
		if err != nil {
			return b, err
		}
		b = append(b, ",,,,,,,,"...)
		b = appendCSVField(b, string(v))
		return append(b, '\n'), nil
	}
	b = appendCSVField(b, p.Filter)
	var err error
	if b, err = appendCSVNumber(b, "magnitude", p.Magnitude); err != nil {
		return b, err
	}
	if b, err = appendCSVNumber(b, "error", p.Error); err != nil {
		return b, err
	}
	if b, err = appendCSVNumber(b, "limit", p.Limit); err != nil {
		return b, err
	}
	var sigma *float64
	if ls := p.LimitSigma; ls != 0 {
		sigma = &ls
	}
	if b, err = appendCSVNumber(b, "limit_sigma", sigma); err != nil {
		return b, err
	}
	b = append(b, ',')
	b = appendCSVField(b, p.Telescope)
	if b, err = appendCSVNumber(b, "flux_ujy", p.FluxUJy); err != nil {
		return b, err
	}
	if b, err = appendCSVNumber(b, "flux_err_ujy", p.FluxErrUJy); err != nil {
		return b, err
	}
	return append(b, ',', '\n'), nil
}

// appendCSVNumber appends a comma and v (nothing for nil), refusing what
// JSON could not carry either.
func appendCSVNumber(b []byte, name string, v *float64) ([]byte, error) {
	b = append(b, ',')
	if v == nil {
		return b, nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) {
		return b, fmt.Errorf("%w: photometry %s is %v", dataproduct.ErrInvalidDatum, name, *v)
	}
	return floatfmt.AppendShortest(b, *v), nil
}

// appendCSVField appends one field as encoding/csv's Writer does: quoted
// when it holds a comma, a quote, a line break or starts with a space (or
// is `\.`), with quotes doubled and everything else as is.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for the ',' delimiter.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendTimestamp appends t in UTC as time.RFC3339Nano formats it.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

// mjdEpoch is MJD 0, 1858-11-17 00:00 UTC.
var mjdEpoch = time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)

// timeToMJD is processor.TimeToMJD, the same float64, without its
// calendar arithmetic: in UTC, day n after the epoch starts exactly
// n·24 h after it. Outside the ±292 years time.Duration spans from the
// epoch it hands over to processor.TimeToMJD.
func timeToMJD(t time.Time) float64 {
	d := t.Sub(mjdEpoch)
	if d == math.MaxInt64 || d == math.MinInt64 {
		return processor.TimeToMJD(t)
	}
	days := math.Floor(d.Hours() / 24)
	rest := d - time.Duration(days)*24*time.Hour
	return days + rest.Seconds()/86400
}
