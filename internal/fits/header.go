package fits

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

const (
	blockSize     = 2880
	cardSize      = 80
	cardsPerBlock = blockSize / cardSize
)

// Kind is the kind of value a header card holds.
type Kind int

// The kinds of card values.
const (
	// KindCommentary is a card without a value: COMMENT, HISTORY, a blank
	// keyword, or any card without "= " in columns 9-10. Its text is in
	// Card.Str.
	KindCommentary Kind = iota
	// KindUndefined is a card with a value indicator but an empty value.
	KindUndefined
	// KindLogical is a T or F value (Card.Logical).
	KindLogical
	// KindInteger is an integer value (Card.Int; also Card.Float).
	KindInteger
	// KindFloat is a real value (Card.Float).
	KindFloat
	// KindComplex is a complex value "(re, im)" (Card.Complex).
	KindComplex
	// KindString is a character string (Card.Str).
	KindString
	// KindInvalid is a value that could not be parsed; Card.Err says why.
	KindInvalid
)

var kindNames = [...]string{"commentary", "undefined", "logical", "integer", "real", "complex", "string", "invalid"}

// String returns the name of the kind, e.g. "integer".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Card is one keyword record of a header. A string value continued on
// CONTINUE cards is one Card whose Str holds the whole string.
type Card struct {
	// Index is the 1-based number of the card in its header (the first
	// card, for a value continued on CONTINUE cards).
	Index int
	// Keyword is the keyword in upper case with trailing blanks removed;
	// "" for a blank keyword. For HIERARCH cards it is the words after
	// HIERARCH joined by single spaces (e.g. "ESO DET CHIP NAME").
	Keyword string
	// Hierarch reports a HIERARCH card.
	Hierarch bool
	// Kind is the kind of value.
	Kind Kind
	// Str is the string value (quotes removed, doubled quotes undone,
	// trailing blanks removed, CONTINUE segments joined) for KindString, or
	// the text (columns 9-80, trailing blanks removed) for KindCommentary.
	Str string
	// Logical is the value of a KindLogical card.
	Logical bool
	// Int is the value of a KindInteger card that fits an int64.
	Int int64
	// Float is the value of a KindFloat card, and the value of a
	// KindInteger card converted to float64 (also when it overflows Int).
	Float float64
	// Complex is the value of a KindComplex card.
	Complex complex128
	// RawValue is the value field as written, without the comment and
	// surrounding blanks (for continued strings: the first card's value).
	RawValue string
	// Comment is the comment after the "/" separator, trimmed (comments of
	// CONTINUE cards are joined with single blanks).
	Comment string

	err error // parse problem of the value (KindInvalid, integer overflow)
}

// Err returns the problem found when parsing the card's value: the reason
// for KindInvalid, or [ErrOverflow] for an integer too large for int64.
// It is nil for a well-formed card.
func (c Card) Err() error { return c.err }

// Value returns the card's value as a Go value: string, bool, int64 (or
// float64 for an integer too large for int64), float64 or complex128; nil
// for commentary, undefined and invalid cards.
func (c Card) Value() any {
	switch c.Kind {
	case KindString:
		return c.Str
	case KindLogical:
		return c.Logical
	case KindInteger:
		if c.err != nil {
			return c.Float
		}
		return c.Int
	case KindFloat:
		return c.Float
	case KindComplex:
		return c.Complex
	}
	return nil
}

// Header is the parsed header of one HDU. It is read-only.
type Header struct {
	cards []Card
	index map[string]int // normalized keyword -> position of its first card
}

// Cards returns the cards in header order, END excluded. The slice belongs
// to the Header and must not be modified.
func (h *Header) Cards() []Card { return h.cards }

// Len returns the number of cards (CONTINUE cards merged into the card they
// continue; END excluded).
func (h *Header) Len() int { return len(h.cards) }

// normKey turns a caller's keyword into the form used for lookups: upper
// case, blanks trimmed, a leading "HIERARCH" dropped and inner runs of
// blanks collapsed.
func normKey(key string) string {
	key = strings.ToUpper(strings.TrimSpace(key))
	if rest, ok := strings.CutPrefix(key, "HIERARCH "); ok {
		key = rest
	}
	if strings.Contains(key, " ") {
		key = strings.Join(strings.Fields(key), " ")
	}
	return key
}

// Get returns the first card with the keyword (case-insensitive; HIERARCH
// keywords with or without the "HIERARCH " prefix).
func (h *Header) Get(key string) (Card, bool) {
	if h == nil {
		return Card{}, false
	}
	i, ok := h.index[normKey(key)]
	if !ok {
		return Card{}, false
	}
	return h.cards[i], true
}

// Has reports whether the keyword is present.
func (h *Header) Has(key string) bool {
	_, ok := h.Get(key)
	return ok
}

// Commentary returns the texts of all cards with the keyword, typically
// "COMMENT" or "HISTORY", in header order.
func (h *Header) Commentary(key string) []string {
	if h == nil {
		return nil
	}
	key = normKey(key)
	var out []string
	for _, c := range h.cards {
		if c.Keyword == key && c.Kind == KindCommentary {
			out = append(out, c.Str)
		}
	}
	return out
}

// lookup finds the card for a typed getter, or returns a *CardError
// wrapping ErrNotFound or the card's own parse error.
func (h *Header) lookup(key string) (Card, error) {
	c, ok := h.Get(key)
	if !ok {
		return c, &CardError{Keyword: normKey(key), Err: ErrNotFound}
	}
	if c.Kind == KindInvalid {
		return c, &CardError{Card: c.Index, Keyword: c.Keyword, Err: c.err}
	}
	return c, nil
}

func wrongType(c Card, want string) error {
	return &CardError{Card: c.Index, Keyword: c.Keyword,
		Err: fmt.Errorf("%w: value is %s, not %s", ErrWrongType, describeKind(c.Kind), want)}
}

func describeKind(k Kind) string {
	switch k {
	case KindCommentary:
		return "commentary (no value indicator)"
	case KindUndefined:
		return "undefined (empty)"
	case KindInteger:
		return "an integer"
	}
	return "a " + k.String()
}

// String returns the string value of the keyword. The error is a
// [*CardError] wrapping [ErrNotFound], [ErrWrongType] or [ErrInvalid].
func (h *Header) String(key string) (string, error) {
	c, err := h.lookup(key)
	if err != nil {
		return "", err
	}
	if c.Kind != KindString {
		return "", wrongType(c, "a string")
	}
	return c.Str, nil
}

// Float returns the value of a real or integer keyword as float64 (an
// integer too large for int64 is returned approximately, without error).
// The error is a [*CardError] wrapping [ErrNotFound], [ErrWrongType] or
// [ErrInvalid].
func (h *Header) Float(key string) (float64, error) {
	c, err := h.lookup(key)
	if err != nil {
		return 0, err
	}
	if c.Kind != KindFloat && c.Kind != KindInteger {
		return 0, wrongType(c, "a number")
	}
	return c.Float, nil
}

// Int returns the value of an integer keyword. A real value (even 600.0)
// is a wrong type. The error is a [*CardError] wrapping [ErrNotFound],
// [ErrWrongType], [ErrInvalid] or [ErrOverflow] (the integer does not fit
// an int64).
func (h *Header) Int(key string) (int64, error) {
	c, err := h.lookup(key)
	if err != nil {
		return 0, err
	}
	if c.Kind != KindInteger {
		return 0, wrongType(c, "an integer")
	}
	if c.err != nil {
		return 0, &CardError{Card: c.Index, Keyword: c.Keyword, Err: c.err}
	}
	return c.Int, nil
}

// Bool returns the value of a logical (T/F) keyword. The error is a
// [*CardError] wrapping [ErrNotFound], [ErrWrongType] or [ErrInvalid].
func (h *Header) Bool(key string) (bool, error) {
	c, err := h.lookup(key)
	if err != nil {
		return false, err
	}
	if c.Kind != KindLogical {
		return false, wrongType(c, "a logical")
	}
	return c.Logical, nil
}

// headerBuilder assembles a Header from successive 80-byte card images.
type headerBuilder struct {
	h        Header
	n        int  // physical cards seen, END included
	contNext bool // the last card is a string ending in '&' that CONTINUE may extend
}

func newHeaderBuilder() *headerBuilder {
	return &headerBuilder{h: Header{index: make(map[string]int)}}
}

// add parses one card image. It reports end=true on the END card.
func (b *headerBuilder) add(raw []byte) (end bool, err error) {
	b.n++
	num := b.n
	for i, c := range raw {
		if c < 0x20 || c > 0x7e {
			kw := strings.TrimRight(printable(raw[:8]), " ")
			return false, &CardError{Card: num, Keyword: kw,
				Err: fmt.Errorf("%w: byte 0x%02x at column %d is not printable ASCII", ErrInvalid, c, i+1)}
		}
	}
	line := string(raw)
	kwField := line[:8]
	if kwField == "END     " {
		return true, nil
	}
	if kwField == "CONTINUE" && b.contNext && strings.TrimSpace(line[8:10]) == "" {
		if b.continueString(line[10:]) {
			return false, nil
		}
	}
	b.contNext = false

	c := Card{Index: num}
	if kwField == "HIERARCH" {
		if eq := strings.IndexByte(line[8:], '='); eq >= 0 {
			words := strings.Fields(line[8 : 8+eq])
			if len(words) > 0 {
				c.Keyword = strings.ToUpper(strings.Join(words, " "))
				c.Hierarch = true
				parseValue(&c, line[8+eq+1:])
				b.push(c)
				return false, nil
			}
		}
		// No "=": an ordinary commentary card with keyword HIERARCH.
	}
	kw := strings.TrimRight(kwField, " ")
	for i := 0; i < len(kw); i++ {
		ch := kw[i]
		switch {
		case ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '-', ch == '_':
		case ch >= 'a' && ch <= 'z':
			// Not allowed by the standard, but harmless: read as upper case.
		default:
			return false, &CardError{Card: num, Keyword: kw,
				Err: fmt.Errorf("%w: character %q in keyword (columns 1-8 allow A-Z, 0-9, '-', '_', then blanks)", ErrInvalid, ch)}
		}
	}
	c.Keyword = strings.ToUpper(kw)
	switch {
	case c.Keyword == "" || c.Keyword == "COMMENT" || c.Keyword == "HISTORY" || line[8:10] != "= ":
		c.Kind = KindCommentary
		c.Str = strings.TrimRight(line[8:], " ")
	default:
		parseValue(&c, line[10:])
	}
	b.push(c)
	return false, nil
}

func (b *headerBuilder) push(c Card) {
	if _, dup := b.h.index[c.Keyword]; !dup {
		b.h.index[c.Keyword] = len(b.h.cards)
	}
	b.h.cards = append(b.h.cards, c)
	b.contNext = c.Kind == KindString && strings.HasSuffix(c.Str, "&")
}

// continueString appends the string of a CONTINUE card (its columns 11-80
// given as field) to the previous card. It returns false, changing nothing,
// when the field holds no string value; the card is then commentary.
func (b *headerBuilder) continueString(field string) bool {
	var seg Card
	parseValue(&seg, field)
	if seg.Kind != KindString {
		return false
	}
	last := &b.h.cards[len(b.h.cards)-1]
	last.Str = last.Str[:len(last.Str)-1] + seg.Str
	if seg.Comment != "" {
		if last.Comment != "" {
			last.Comment += " "
		}
		last.Comment += seg.Comment
	}
	b.contNext = strings.HasSuffix(last.Str, "&")
	return true
}

// printable returns s with bytes outside printable ASCII replaced by '?'.
func printable(s []byte) string {
	out := []byte(string(s))
	for i, c := range out {
		if c < 0x20 || c > 0x7e {
			out[i] = '?'
		}
	}
	return string(out)
}

// parseValue parses a value field (after "= ") into c: value, kind and
// comment. Problems make the card KindInvalid with c.err set.
func parseValue(c *Card, s string) {
	i := skipBlanks(s, 0)
	if i == len(s) {
		c.Kind = KindUndefined
		return
	}
	var rest string
	switch ch := s[i]; {
	case ch == '/':
		c.Kind = KindUndefined
		c.Comment = strings.TrimSpace(s[i+1:])
		return
	case ch == '\'':
		str, n, ok := parseString(s[i:])
		if !ok {
			c.invalid(strings.TrimSpace(s[i:]), "string has no closing quote")
			return
		}
		c.Kind = KindString
		c.Str = str
		c.RawValue = s[i : i+n]
		rest = s[i+n:]
	case ch == '(':
		end := strings.IndexByte(s[i:], ')')
		if end < 0 {
			c.invalid(strings.TrimSpace(s[i:]), "complex value has no closing parenthesis")
			return
		}
		raw := s[i : i+end+1]
		re, im, ok := strings.Cut(raw[1:len(raw)-1], ",")
		rv, err1 := parseReal(strings.TrimSpace(re))
		iv, err2 := parseReal(strings.TrimSpace(im))
		if !ok || err1 != nil || err2 != nil {
			c.invalid(raw, "malformed complex value")
			return
		}
		c.Kind = KindComplex
		c.Complex = complex(rv, iv)
		c.RawValue = raw
		rest = s[i+end+1:]
	default:
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '/' {
			j++
		}
		tok := s[i:j]
		c.RawValue = tok
		rest = s[j:]
		switch {
		case tok == "T" || tok == "F":
			c.Kind = KindLogical
			c.Logical = tok == "T"
		case isInteger(tok):
			c.Kind = KindInteger
			v, err := strconv.ParseInt(tok, 10, 64)
			if err != nil {
				// Only a range error is possible after isInteger.
				c.err = fmt.Errorf("%w: integer %s does not fit in 64 bits", ErrOverflow, tok)
				f, _ := strconv.ParseFloat(tok, 64)
				c.Float = f
			} else {
				c.Int = v
				c.Float = float64(v)
			}
		default:
			f, err := parseReal(tok)
			if err != nil {
				c.invalid(tok, err.Error())
				return
			}
			c.Kind = KindFloat
			c.Float = f
		}
	}
	j := skipBlanks(rest, 0)
	switch {
	case j == len(rest):
	case rest[j] == '/':
		c.Comment = strings.TrimSpace(rest[j+1:])
	default:
		c.invalid(strings.TrimSpace(s), "unexpected text after the value (a comment starts with '/')")
	}
}

func (c *Card) invalid(raw, why string) {
	c.Kind = KindInvalid
	c.RawValue = raw
	c.Str, c.Logical, c.Int, c.Float, c.Complex = "", false, 0, 0, 0
	c.err = fmt.Errorf("%w value %q: %s", ErrInvalid, raw, why)
}

func skipBlanks(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// parseString parses a quoted FITS string at the start of s. It returns the
// value (doubled quotes undone, trailing blanks removed) and the number of
// bytes consumed, quotes included.
func parseString(s string) (string, int, bool) {
	var b strings.Builder
	for j := 1; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			return strings.TrimRight(b.String(), " "), j + 1, true
		}
		b.WriteByte(s[j])
	}
	return "", 0, false
}

// isInteger reports whether tok is [+-]digits.
func isInteger(tok string) bool {
	if tok != "" && (tok[0] == '+' || tok[0] == '-') {
		tok = tok[1:]
	}
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

var errRealSyntax = errors.New("not a FITS number")

// parseReal parses a FITS real: [+-] digits [. digits] [(E|D) [+-] digits],
// with at least one digit in the mantissa. Lower-case e and d are accepted.
func parseReal(tok string) (float64, error) {
	i := 0
	if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
		i++
	}
	digits := 0
	for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
		i++
		digits++
	}
	if i < len(tok) && tok[i] == '.' {
		i++
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, errRealSyntax
	}
	mant := i
	if i < len(tok) {
		switch tok[i] {
		case 'E', 'e', 'D', 'd':
		default:
			return 0, errRealSyntax
		}
		i++
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		ed := 0
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 || i != len(tok) {
			return 0, errRealSyntax
		}
	}
	norm := tok
	if mant < len(tok) {
		norm = tok[:mant] + "e" + tok[mant+1:]
	}
	f, err := strconv.ParseFloat(norm, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errors.New("real value out of float64 range")
	}
	return f, nil
}
