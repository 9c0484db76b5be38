// Package textscan holds the low-level text scanning that the photometry
// processors (atlas, ztf, panstarrs) share on their hot paths: a line
// reader that counts lines, white-space and comma field splitting that
// cut out only the fields a caller uses (and count the rest), ASCII
// white-space trimming, and number parsers that give exactly what strconv
// gives, faster for the plain decimals the services write.
//
// Everything here works on bytes without copying: a line or field is a
// slice of the reader's buffer, valid until the next line is read. Keep a
// copy (string(b)) of anything that must outlive the line.
//
// # White space
//
// White space is ASCII white space: space, tab, line feed, vertical tab,
// form feed and carriage return, the bytes strings.Fields and bytes.Fields
// treat as space below U+0080. Other control bytes are part of a field.
//
// # Numbers
//
// ParseFloat and ParseInt return the same values as strconv.ParseFloat(s,
// 64) and strconv.ParseInt(s, 10, 64), and accept and refuse the same
// inputs; they differ only in speed (and in reporting failure as a bool).
// A decimal such as "-17.349", "2458204.705081" or "1.62129e-05" (at most
// 15 digits, a power of ten within ±22) takes an exact fast path: the
// digits and the power of ten are both exact float64s, so one
// multiplication or division gives the correctly rounded result, the same
// bits as strconv (Clinger's fast path, which strconv also uses). Other
// inputs go to strconv.
//
// The functions and types are not safe for concurrent use of one value
// (a LineReader, a Fields); separate values may be used concurrently.
package textscan
