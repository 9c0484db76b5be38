package fits_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/internal/fits"
)

// jnum is a number from the expected-values JSON: null means NaN, the
// strings "inf" and "-inf" the infinities; integers too large for float64 to
// hold exactly are rounded as strconv.ParseFloat rounds them.
type jnum float64

func (n *jnum) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch s {
	case "null":
		*n = jnum(math.NaN())
		return nil
	case `"inf"`:
		*n = jnum(math.Inf(1))
		return nil
	case `"-inf"`:
		*n = jnum(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*n = jnum(f)
	return nil
}

type expCard struct {
	Keyword string          `json:"keyword"`
	Kind    string          `json:"kind"`
	Value   json.RawMessage `json:"value"`
	Comment string          `json:"comment"`
}

type expColumn struct {
	Format  string   `json:"format"`
	Unit    string   `json:"unit"`
	Dim     string   `json:"dim"`
	Repeat  int64    `json:"repeat"`
	Dtype   string   `json:"dtype"`
	Values  []jnum   `json:"values"`
	Strings []string `json:"strings"`
}

type expHDU struct {
	Index   int                  `json:"index"`
	Type    string               `json:"type"`
	Bitpix  int                  `json:"bitpix"`
	Shape   []int                `json:"shape"`
	Header  []expCard            `json:"header"`
	Dtype   string               `json:"dtype"`
	Data    []jnum               `json:"data"`
	Columns map[string]expColumn `json:"columns"`
	ID      []jnum               `json:"id"`
	Name    []string             `json:"name"`
	PCount  int64                `json:"pcount"`
}

type expFile struct {
	HDUs       []expHDU `json:"hdus"`
	Wavelength []jnum   `json:"wavelength"`
}

type expected struct {
	Generator string             `json:"generator"`
	Files     map[string]expFile `json:"files"`
}

func loadExpected(t testing.TB) expected {
	t.Helper()
	var e expected
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Files) == 0 {
		t.Fatal("expected.json lists no files")
	}
	return e
}

func readTestFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openTestFile(t testing.TB, name string, opts *fits.Options) *fits.Reader {
	return fits.NewReader(bytes.NewReader(readTestFile(t, name)), opts)
}

// mustNext returns the next HDU or fails the test.
func mustNext(t testing.TB, r *fits.Reader) *fits.HDU {
	t.Helper()
	h, err := r.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return h
}

// sameFloat reports a == b, with NaN equal to NaN.
func sameFloat(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}

// card pads s to one 80-character card.
func card(s string) string {
	if len(s) > 80 {
		panic("card longer than 80 characters: " + s)
	}
	return s + strings.Repeat(" ", 80-len(s))
}

// header builds a header of the given cards, END and blank padding.
func header(cards ...string) []byte {
	var b strings.Builder
	for _, c := range cards {
		b.WriteString(card(c))
	}
	b.WriteString(card("END"))
	for b.Len()%2880 != 0 {
		b.WriteByte(' ')
	}
	return []byte(b.String())
}

// hdu builds a header and its data padded with zeros to the block size.
func hdu(data []byte, cards ...string) []byte {
	out := header(cards...)
	out = append(out, data...)
	for len(out)%2880 != 0 {
		out = append(out, 0)
	}
	return out
}

// kv formats a fixed-format card "KEY     = value".
func kv(key string, value any) string {
	var v string
	switch x := value.(type) {
	case string:
		e := strings.ReplaceAll(x, "'", "''")
		if len(e) < 8 {
			e += strings.Repeat(" ", 8-len(e))
		}
		return fmt.Sprintf("%-8s= '%s'", key, e)
	case bool:
		v = "F"
		if x {
			v = "T"
		}
	default:
		v = fmt.Sprint(x)
	}
	return fmt.Sprintf("%-8s= %20s", key, v)
}

// raw is a value written exactly as given (no quoting), right-aligned.
type raw string

func (r raw) String() string { return string(r) }
