package fuzzcheck

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tomgo/targetdata/singletarget"
)

// MaxQuery caps the query strings form fuzz targets decode.
const MaxQuery = 64 << 10

// Values parses a fuzzed query string into form values (what an HTML form
// or a JSON API would hand the decoder); a malformed pair is skipped.
func Values(q string) url.Values {
	v, _ := url.ParseQuery(q)
	return v
}

// Form decodes and validates v with a fresh form from newForm, twice, and
// checks: the error is nil or a *singletarget.FormErrors matching
// ErrInvalidForm; each field it names is one of the form's fields,
// NonFieldErrors, or a key of v (an unknown field); both runs name the same
// fields; a valid form validates again and lists its fields. It returns
// the validated form, or nil when v is invalid.
func Form(t testing.TB, newForm func() singletarget.QueryForm, v url.Values) singletarget.QueryForm {
	t.Helper()
	decode := func() (singletarget.QueryForm, error) {
		f := newForm()
		if err := f.Decode(v); err != nil {
			return f, err
		}
		return f, f.Validate()
	}
	f, err := decode()
	_, err2 := decode()
	names := fieldNames(t, f, v, err)
	if n2 := fieldNames(t, f, v, err2); !slices.Equal(names, n2) {
		t.Fatalf("the same values gave errors for %v, then for %v", names, n2)
	}
	if err != nil {
		return nil
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("a valid form is invalid when validated again: %v", err)
	}
	if len(f.Fields()) == 0 {
		t.Fatal("a form without fields")
	}
	return f
}

func fieldNames(t testing.TB, f singletarget.QueryForm, v url.Values, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var fe *singletarget.FormErrors
	if !errors.As(err, &fe) || !errors.Is(err, singletarget.ErrInvalidForm) {
		t.Fatalf("error is not a *FormErrors: %T %v", err, err)
	}
	if fe.Empty() {
		t.Fatalf("an empty *FormErrors was returned: %v", err)
	}
	known := map[string]bool{singletarget.NonFieldErrors: true}
	for _, fl := range f.Fields() {
		known[fl.Name] = true
	}
	for name, msgs := range fe.Fields {
		if _, given := v[name]; !known[name] && !given {
			t.Fatalf("error names %q, neither a field nor a given key: %v", name, err)
		}
		if len(msgs) == 0 || slices.Contains(msgs, "") {
			t.Fatalf("field %q has an empty message: %v", name, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "invalid form") {
		t.Fatalf("error text %q", err)
	}
	return slices.Sorted(maps.Keys(fe.Fields))
}
