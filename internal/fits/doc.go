// Package fits is a small, streaming reader for FITS files (Flexible Image
// Transport System, FITS Standard 4.0), written for what 1-D spectra need.
//
// A [Reader] walks the header-data units (HDUs) of an [io.Reader] in order,
// without seeking: [Reader.Next] returns the next [HDU] and skips whatever
// data of the previous HDU the caller did not read. Each HDU's data can be
// read while it is the current one.
//
// # Supported
//
//   - Headers: 80-character cards in 2880-byte blocks up to the END card;
//     logical, integer (into int64; larger values are kept as floats and
//     reported as [ErrOverflow] by [Header.Int]), real (E or D exponents),
//     complex and string values (doubled quotes, trailing blanks dropped);
//     undefined values; COMMENT, HISTORY, blank and other commentary cards;
//     the long-string CONTINUE convention; HIERARCH keywords.
//   - The primary HDU and IMAGE extensions with every BITPIX (8, 16, 32, 64,
//     -32, -64): [HDU.ReadFloat64] and [HDU.ReadFloat32] apply BSCALE and
//     BZERO (including the unsigned-integer BZERO convention) and turn BLANK
//     into NaN.
//   - BINTABLE extensions ([HDU.Table]): TFIELDS, TTYPEn, TFORMn, TUNITn,
//     TSCALn, TZEROn, TNULLn, TDIMn (recorded, not applied); scalar and
//     fixed-length vector columns of types L, X, B, I, J, K, E and D as
//     float64 ([Table.Float64s], [Table.Float64Rows]) and A columns as strings
//     ([Table.Strings]).
//   - Any other extension (ASCII TABLE, foreign types), random groups and the
//     heap of binary tables are skipped by their declared size
//     (|BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn)).
//
// # Not supported
//
// Writing; reading ASCII TABLE data, random-groups data, complex (C, M)
// columns and variable-length array (P, Q) columns (these report
// [ErrUnsupported]; the HDUs are still skipped correctly); tile-compressed
// images (they are binary tables to this package); WCS evaluation and
// unit conversion, which are left to callers.
//
// # Limits and errors
//
// The reader never trusts the sizes in a header: products of NAXISn are
// checked for overflow, and [Options] cap both the number of header cards
// and the size of any one data allocation. Beyond 2^21 values, results grow
// with the data actually read, so a header that claims more data than the
// stream holds costs little memory before the stream ends.
//
// Failures are returned as [*Error] (naming the HDU, what was being read and
// the byte offset), which may wrap a [*CardError] (naming the card number
// and keyword) and one of the sentinel errors ([ErrNotFITS], [ErrNotFound],
// [ErrWrongType], [ErrOverflow], [ErrInvalid], [ErrUnsupported], [ErrLimit],
// [ErrConsumed]) or [io.ErrUnexpectedEOF] for a truncated stream; test them
// with [errors.Is] and [errors.As].
//
// Malformed values in cards that the reader itself does not need (say, an
// unparsable OBJECT) do not fail the header: the card is kept with
// [KindInvalid] and its error is returned when the value is asked for.
// Cards with bytes outside printable ASCII or a malformed keyword field fail
// the header at once.
package fits
