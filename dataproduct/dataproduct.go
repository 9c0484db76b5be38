package dataproduct

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Data types of the two built-in datum kinds, as the TOM Toolkit names them.
const (
	TypePhotometry   = "photometry"
	TypeSpectroscopy = "spectroscopy"
)

// Error categories this package shares with package singletarget: they
// are the same values (singletarget.ErrNotFound is ErrNotFound), so one
// errors.Is works whichever package returned the error. The singletarget
// package doc describes the whole taxonomy.
var (
	// ErrNotFound: what was asked for does not exist. A Store returns it
	// (wrapped) for a product ID it does not hold; a service for an
	// archive that has nothing for the target or window.
	ErrNotFound = errors.New("not found")
	// ErrInvalidInput: the input is wrong and sending it again gives the
	// same answer: a file that is not its format (*ParseError), a datum
	// that cannot be stored (ErrInvalidDatum), a form or the settings
	// (see singletarget).
	ErrInvalidInput = errors.New("invalid input")
)

// ErrConflict is returned (wrapped) by PutProduct when the target already
// has a product of that name with other bytes or another data product
// type, and by ReplaceProduct when the type differs: a Store never changes
// a product's type, and replaces its file only through ReplaceProduct.
// Nothing is stored then. It matches ErrInvalidInput: the same put gives
// the same answer.
var ErrConflict error = &subError{msg: "conflict", category: ErrInvalidInput}

// ErrInvalidDatum is returned (wrapped) by AddDatums when a datum lacks a
// required part or its value cannot be encoded; nothing is stored then. It
// matches ErrInvalidInput.
var ErrInvalidDatum error = &subError{msg: "invalid datum", category: ErrInvalidInput}

// subError is a sentinel of its own that also matches its category.
type subError struct {
	msg      string
	category error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.category }

// Product is one stored file: a service's result file or a user's upload.
//
// A Store assigns ID, StorageKey, Size, SHA256 and Created; the caller of
// PutProduct sets TargetID, Name, DataProductType, ContentType and Extra.
type Product struct {
	// ID identifies the product in its Store; 0 before it is stored.
	ID int64 `json:"id"`
	// TargetID is the target the product belongs to (positive).
	TargetID int64 `json:"target_id"`
	// Name is the deterministic product name, unique per target and safe as
	// a file name, e.g. "atlas_2024_01_01-2024_02_01_1851119.txt". It plays
	// the role of the TOM's DataProduct.product_id.
	Name string `json:"name"`
	// DataProductType selects the processor, e.g. "atlas_photometry".
	DataProductType string `json:"data_product_type"`
	// StorageKey is where the store keeps the file (a blob key or path).
	StorageKey string `json:"storage_key,omitempty"`
	// ContentType is the file's MIME type, e.g. "text/plain".
	ContentType string `json:"content_type,omitempty"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lower-case hex SHA-256 of the file.
	SHA256 string `json:"sha256"`
	// Created is when the product was first stored (UTC).
	Created time.Time `json:"created"`
	// Extra holds service-specific facts such as the remote task URL or the
	// query window. Never put secrets here.
	Extra map[string]string `json:"extra,omitempty"`
}

// ExtraObservationTime is the Product.Extra key of the observation time a
// user gave with an uploaded file (RFC 3339, UTC), for formats whose files
// may hold none (a spectrum without DATE-OBS). processor.Ingest passes it
// to the processor, so re-processing the product gives the same datums.
const ExtraObservationTime = "observation_time"

// Datum is one reduced datum, the TOM's ReducedDatum.
type Datum struct {
	// ID identifies the datum in its Store; 0 before it is stored.
	ID int64 `json:"id,omitempty"`
	// TargetID is the target the datum belongs to (positive).
	TargetID int64 `json:"target_id,omitempty"`
	// ProductID is the product the datum was read from, or 0.
	ProductID int64 `json:"product_id,omitempty"`
	// DataType is TypePhotometry, TypeSpectroscopy or a user-defined type.
	DataType string `json:"data_type"`
	// Timestamp is when the observation was made, in UTC. Stores keep it to
	// the microsecond.
	Timestamp time.Time `json:"timestamp"`
	// Source names where the datum came from, e.g. "ATLAS".
	Source string `json:"source"`
	// Value is a Photometry, a Spectrum or any JSON-encodable value (for
	// instance json.RawMessage) for other data types.
	Value any `json:"value"`
}

// Key identifies a datum for de-duplication: a SHA-256 over the target,
// data type, timestamp (to the microsecond) and canonical value.
type Key [sha256.Size]byte

// Key computes the datum's de-duplication key. It fails when the value
// cannot be encoded canonically.
func (d Datum) Key() (Key, error) {
	canon, err := CanonicalValue(d.Value)
	if err != nil {
		return Key{}, err
	}
	return KeyOf(d.TargetID, d.DataType, d.Timestamp, canon), nil
}

// KeyOf computes a de-duplication key from its parts; canonicalValue must
// come from CanonicalValue. Stores that keep the canonical value use it to
// avoid encoding twice.
func KeyOf(targetID int64, dataType string, ts time.Time, canonicalValue []byte) Key {
	h := sha256.New()
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(targetID))
	h.Write(buf[:])
	h.Write([]byte(dataType))
	h.Write([]byte{0})
	binary.BigEndian.PutUint64(buf[:], uint64(NormalizeTime(ts).UnixMicro()))
	h.Write(buf[:])
	h.Write(canonicalValue)
	var k Key
	h.Sum(k[:0])
	return k
}

// NormalizeTime returns t in UTC rounded to the microsecond, the precision
// every Store keeps.
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Round(time.Microsecond)
}

// Check reports whether the datum can be stored: a positive target, a data
// type, a timestamp and a value, and no control character (NUL, escape,
// DEL, ...) in its text: data_type, source, a photometry value's filter,
// telescope and extra keys and string values, a spectrum's units. (A NUL
// does not survive PostgreSQL, and an escape sequence rewrites the
// terminal that shows it.) The error wraps ErrInvalidDatum.
func (d Datum) Check() error {
	switch {
	case d.TargetID <= 0:
		return fmt.Errorf("%w: target_id %d is not positive", ErrInvalidDatum, d.TargetID)
	case strings.TrimSpace(d.DataType) == "":
		return fmt.Errorf("%w: data_type is empty", ErrInvalidDatum)
	case d.Timestamp.IsZero():
		return fmt.Errorf("%w: timestamp is missing", ErrInvalidDatum)
	case d.Value == nil:
		return fmt.Errorf("%w: value is missing", ErrInvalidDatum)
	}
	var filter, telescope, fluxUnits, waveUnits string
	var extra map[string]any
	switch v := d.Value.(type) {
	case *Photometry:
		if v != nil {
			filter, telescope, extra = v.Filter, v.Telescope, v.Extra
		}
	case Photometry:
		filter, telescope, extra = v.Filter, v.Telescope, v.Extra
	case *Spectrum:
		if v != nil {
			fluxUnits, waveUnits = v.FluxUnits, v.WavelengthUnits
		}
	case Spectrum:
		fluxUnits, waveUnits = v.FluxUnits, v.WavelengthUnits
	}
	if err := errors.Join(checkText("data_type", d.DataType), checkText("source", d.Source), checkText("filter", filter),
		checkText("telescope", telescope), checkText("flux_units", fluxUnits), checkText("wavelength_units", waveUnits)); err != nil {
		return err
	}
	for k, v := range extra {
		if err := checkText("an extra key", k); err != nil {
			return err
		}
		if s, ok := v.(string); ok {
			if err := checkText(strconv.Quote(k), s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText refuses a control character in a datum's text.
func checkText(name, s string) error {
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Errorf("%w: %s holds a control character (%U at byte %d)", ErrInvalidDatum, name, r, i)
	}
	return nil
}

// isControl reports a C0 control character or DEL. Tabs are allowed (a
// free-text extra column may hold one); line breaks are not.
func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

// IngestResult counts what AddDatums did and, from processor.Ingest, says
// what the processor made of each file.
type IngestResult struct {
	// Added is the number of datums stored.
	Added int `json:"added"`
	// Skipped is the number of duplicates ignored (datums already stored).
	// Rows of a file that gave no datum are counted in Reports instead.
	Skipped int `json:"skipped"`
	// Reports holds one Report per processed file: rows read, datums
	// made, rows skipped by reason. Store.AddDatums leaves it empty.
	Reports []Report `json:"reports,omitempty"`
}

// ProductFilter selects products; zero fields match anything.
type ProductFilter struct {
	TargetID        int64
	DataProductType string
	Name            string
}

// DatumFilter selects datums; zero fields match anything. From is
// inclusive, To exclusive.
type DatumFilter struct {
	TargetID  int64
	ProductID int64
	DataType  string
	Source    string
	From, To  time.Time
	// Limit caps the number of datums returned; 0 means no cap.
	Limit int
	// Offset skips that many matching datums before Limit applies: the
	// oldest ones, or with Newest the newest ones, so that Newest, Limit n
	// and Offset k·n give page k (from 0) of a newest-first table. A
	// store may walk the skipped datums' index entries: keep it small.
	Offset int
	// Newest makes Limit and Offset count from the newest datum instead
	// of the oldest (the datums are still returned oldest first), for
	// "the latest N" views.
	Newest bool
}

// Match reports whether d passes the filter.
func (f DatumFilter) Match(d Datum) bool {
	return (f.TargetID == 0 || d.TargetID == f.TargetID) &&
		(f.ProductID == 0 || d.ProductID == f.ProductID) &&
		(f.DataType == "" || d.DataType == f.DataType) &&
		(f.Source == "" || d.Source == f.Source) &&
		(f.From.IsZero() || !d.Timestamp.Before(f.From)) &&
		(f.To.IsZero() || d.Timestamp.Before(f.To))
}

// ProductSink is the one thing a service needs from storage: a place to
// put a result file. Every Store is a ProductSink.
type ProductSink interface {
	// PutProduct stores r's bytes as the new product p (TargetID, Name
	// and DataProductType required). If the target already has a product
	// with that name, the same type and the same bytes, the existing
	// record is returned and nothing is written (a repeated put is
	// idempotent); with other bytes or another type, nothing changes and
	// the error wraps ErrConflict. A failed or cancelled put leaves no
	// partial file behind.
	//
	// The sink singletarget.Manager hands to a service replaces instead
	// (Store.ReplaceProduct): a query's result supersedes the earlier
	// result of the same query.
	PutProduct(ctx context.Context, p Product, r io.Reader) (Product, error)
}

// Store keeps products and datums. Implementations are safe for concurrent
// use; every method honours ctx.
type Store interface {
	ProductSink
	// ReplaceProduct is PutProduct for a caller that means to supersede
	// the product of that name: a new name is stored as PutProduct
	// stores it, and the same bytes change nothing (the record and its
	// datums stay). Other bytes replace the file: in one step the record
	// (same ID and Created; Size, SHA256, StorageKey, ContentType and
	// Extra from p) points at the new file and the product's datums are
	// removed, so that no datum read from the old file outlives it; the
	// caller then ingests the new file (singletarget.Manager does). A
	// product of another DataProductType is never replaced: the error
	// wraps ErrConflict (delete it first to change the type). A failed
	// or cancelled replace leaves the old file, record and datums as
	// they were.
	ReplaceProduct(ctx context.Context, p Product, r io.Reader) (Product, error)
	// Product returns the record of product id, or an error wrapping
	// ErrNotFound.
	Product(ctx context.Context, id int64) (Product, error)
	// OpenProduct opens the stored file of product id.
	OpenProduct(ctx context.Context, id int64) (io.ReadCloser, error)
	// ListProducts returns the matching products ordered by ID.
	ListProducts(ctx context.Context, f ProductFilter) ([]Product, error)
	// DeleteProduct removes a product, its file and its datums.
	DeleteProduct(ctx context.Context, id int64) error
	// AddDatums stores the datums the sequence yields, skipping
	// duplicates, all or nothing: if the sequence yields an error, a datum
	// fails Check, or ctx is cancelled, nothing of this call is stored and
	// the error is returned.
	AddDatums(ctx context.Context, ds iter.Seq2[Datum, error]) (IngestResult, error)
	// ListDatums returns the matching datums ordered by timestamp, then ID.
	ListDatums(ctx context.Context, f DatumFilter) ([]Datum, error)
	// CountDatums returns how many datums f matches, ignoring its Limit,
	// Offset and Newest: with ListDatums' Limit and Offset, what a paged
	// view needs without loading every datum.
	CountDatums(ctx context.Context, f DatumFilter) (int, error)
}

// Datums adapts a slice to the sequence AddDatums takes.
func Datums(ds []Datum) iter.Seq2[Datum, error] {
	return func(yield func(Datum, error) bool) {
		for _, d := range ds {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// ParseError reports a malformed input file: the line (1-based, counting
// every line of the file including headers and comments), the column when
// known, and the cause. It matches ErrInvalidInput.
type ParseError struct {
	// File names the file or product, when known.
	File string
	// Line is the 1-based line number; 0 when the error is not tied to a
	// line (for binary formats Offset may be set instead).
	Line int
	// Column names the column (header name) when known.
	Column string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("parse")
	if e.File != "" {
		b.WriteString(" ")
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %q", e.Column)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("malformed input")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Is matches ErrInvalidInput.
func (e *ParseError) Is(target error) bool { return target == ErrInvalidInput }
