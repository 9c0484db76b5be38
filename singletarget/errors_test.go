package singletarget_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

func TestRetryable(t *testing.T) {
	for err, want := range map[error]bool{
		&singletarget.RemoteError{Status: 503}:                               true,
		&singletarget.RemoteError{Status: 500}:                               true,
		&singletarget.RemoteError{Status: 408}:                               true,
		fmt.Errorf("x: %w", &singletarget.RemoteError{Status: 422}):          false,
		&singletarget.RemoteError{Status: 400}:                               false,
		&singletarget.RemoteError{Status: 401}:                               false,
		&singletarget.RemoteError{Status: 404}:                               false,
		&singletarget.ThrottledError{RetryAfter: 5}:                          true,
		fmt.Errorf("conn reset: %w", singletarget.ErrRemote):                 true,
		singletarget.ErrDeadline:                                             true,
		&singletarget.FormErrors{Fields: map[string][]string{"ra": {"bad"}}}: false,
		&dataproduct.ParseError{Line: 3, Err: singletarget.ErrRemote}:        false,
		fmt.Errorf("%w", singletarget.ErrTaskFailed):                         false,
		context.Canceled:             false,
		errors.New("something else"): false,
	} {
		assert.Equal(t, want, singletarget.Retryable(err), "%v", err)
	}
	assert.False(t, singletarget.Retryable(nil))
}

func TestErrorCategories(t *testing.T) {
	assert.ErrorIs(t, &singletarget.RemoteError{Status: 403}, singletarget.ErrUnauthorized)
	assert.ErrorIs(t, &singletarget.RemoteError{Status: 410}, singletarget.ErrNotFound)
	assert.ErrorIs(t, &singletarget.RemoteError{Status: 429}, singletarget.ErrThrottled)
	assert.ErrorIs(t, &singletarget.RemoteError{Status: 502}, singletarget.ErrRemote)
	e := singletarget.NewRemoteError("ATLAS", "GET", "https://h/x", 500, []byte(string(make([]byte, 2000))))
	assert.LessOrEqual(t, len(e.Body), 520, "bodies are capped")
	assert.Equal(t, "ATLAS: throttled, retry after 37s (busy)",
		(&singletarget.ThrottledError{Service: "ATLAS", RetryAfter: 37e9, Detail: "busy"}).Error())
}

// categories are the seven sentinels a caller matches.
var categories = map[string]error{
	"ErrNotFound": singletarget.ErrNotFound, "ErrUnknownJob": singletarget.ErrUnknownJob,
	"ErrInvalidInput": singletarget.ErrInvalidInput, "ErrUnauthorized": singletarget.ErrUnauthorized,
	"ErrThrottled": singletarget.ErrThrottled, "ErrRemote": singletarget.ErrRemote, "ErrDeadline": singletarget.ErrDeadline,
}

// matched lists the categories err matches.
func matched(err error) []string {
	var out []string
	for name, c := range categories {
		if errors.Is(err, c) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Every typed error and finer sentinel matches exactly one category, the
// documented one, alone and wrapped; Category names it.
func TestErrorTaxonomy(t *testing.T) {
	store := dataproduct.NewMemoryStore(nil)
	_, storeErr := store.Product(context.Background(), 4242)
	_, unknownService := singletarget.NewRegistry().Processor("nope.Processor")
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"ThrottledError", &singletarget.ThrottledError{Service: "X", RetryAfter: time.Second}, "ErrThrottled"},
		{"RemoteError 401", &singletarget.RemoteError{Status: 401}, "ErrUnauthorized"},
		{"RemoteError 403", &singletarget.RemoteError{Status: 403}, "ErrUnauthorized"},
		{"RemoteError 404", &singletarget.RemoteError{Status: 404}, "ErrNotFound"},
		{"RemoteError 410", &singletarget.RemoteError{Status: 410}, "ErrNotFound"},
		{"RemoteError 429", &singletarget.RemoteError{Status: 429}, "ErrThrottled"},
		{"RemoteError 400", &singletarget.RemoteError{Status: 400}, "ErrRemote"},
		{"RemoteError 503", &singletarget.RemoteError{Status: 503}, "ErrRemote"},
		{"FormErrors", &singletarget.FormErrors{Fields: map[string][]string{"ra": {"bad"}}}, "ErrInvalidInput"},
		{"ParseError", &dataproduct.ParseError{Line: 3, Column: "mag", Err: errors.New(`"x" is not a number`)}, "ErrInvalidInput"},
		{"ConfigError", &singletarget.ConfigError{Key: "tasks.backend", Line: 4, Msg: "unknown"}, "ErrInvalidInput"},
		{"ErrInvalidForm", singletarget.ErrInvalidForm, "ErrInvalidInput"},
		{"ErrConfig", singletarget.ErrConfig, "ErrInvalidInput"},
		{"ErrUnknown", singletarget.ErrUnknown, "ErrInvalidInput"},
		{"ErrInvalidDatum", dataproduct.ErrInvalidDatum, "ErrInvalidInput"},
		{"ErrConflict", dataproduct.ErrConflict, "ErrInvalidInput"},
		{"ErrTaskFailed", singletarget.ErrTaskFailed, "ErrRemote"},
		{"unknown service", unknownService, "ErrInvalidInput"},
		{"a store's missing product", storeErr, "ErrNotFound"},
	} {
		for _, err := range []error{c.err, fmt.Errorf("context: %w", c.err)} {
			assert.Equal(t, []string{c.want}, matched(err), "%s: %v", c.name, err)
			assert.Same(t, categories[c.want], singletarget.Category(err), c.name)
		}
	}
	for name, c := range categories {
		assert.Equal(t, []string{name}, matched(c), "the categories are distinct")
	}
	assert.Nil(t, singletarget.Category(context.Canceled))
	assert.Nil(t, singletarget.Category(errors.New("something else")))

	// The two packages share the values.
	assert.Same(t, dataproduct.ErrNotFound, singletarget.ErrNotFound)
	assert.Same(t, dataproduct.ErrInvalidInput, singletarget.ErrInvalidInput)
	assert.ErrorIs(t, storeErr, singletarget.ErrNotFound)
}

func TestSecretNeverPrints(t *testing.T) {
	s := singletarget.Secret("hunter2-password")
	for _, got := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s %q %+v %#v %x", s, s, s, s, s, s),
		fmt.Sprintf("%v", struct{ K singletarget.Secret }{s})} {
		assert.NotContains(t, got, "hunter2")
	}
	b, _ := s.MarshalText()
	assert.Equal(t, "[REDACTED]", string(b))
	assert.Equal(t, "hunter2-password", s.Reveal())
	assert.Equal(t, "", singletarget.Secret("").String())
	assert.Equal(t, "token [REDACTED] x", singletarget.Redact("token hunter2-password x", s))
}

func TestTargetValidateHostileNames(t *testing.T) {
	ok := []string{"SN 2023ixf", "C/2023 A3 (Tsuchinshan-ATLAS)", "a..b", "NGC 1566"}
	for _, name := range ok {
		if err := (singletarget.Target{ID: 1, Name: name, RA: 1, Dec: 1}).Validate(); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	bad := []string{"..", "../../etc/passwd", "a/../b", `..\x`, "a\x00b", "\xff\xfe", strings.Repeat("x", singletarget.MaxTargetNameLength+1), " "}
	for _, name := range bad {
		err := (singletarget.Target{ID: 1, Name: name, RA: 1, Dec: 1}).Validate()
		var fe *singletarget.FormErrors
		if !errors.As(err, &fe) || len(fe.Fields["name"]) == 0 {
			t.Errorf("%q: %v, want an error naming the name", name, err)
		}
	}
}
