package singletarget_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

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
	assert.ErrorIs(t, singletarget.ErrJobNotFound, singletarget.ErrNotFound)
	e := singletarget.NewRemoteError("ATLAS", "GET", "https://h/x", 500, []byte(string(make([]byte, 2000))))
	assert.LessOrEqual(t, len(e.Body), 520, "bodies are capped")
	assert.Equal(t, "ATLAS: throttled, retry after 37s (busy)",
		(&singletarget.ThrottledError{Service: "ATLAS", RetryAfter: 37e9, Detail: "busy"}).Error())
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
