package singletarget

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
)

// Error categories, for errors.Is: every error of the library that a
// caller may act on matches exactly one of these seven (the package doc,
// # Errors, lists which error matches which). ErrNotFound and
// ErrInvalidInput are the same values as dataproduct's.
var (
	// ErrNotFound: what was asked for does not exist: the archive has
	// nothing for this target or window (an empty result), a remote object
	// (a task, a file) is gone, or a Store holds no product with that ID.
	ErrNotFound = dataproduct.ErrNotFound
	// ErrUnknownJob: an executor holds no job (or batch) with that id.
	ErrUnknownJob = errors.New("unknown job")
	// ErrInvalidInput: the input is wrong, and sending it again gives the
	// same answer: a query form (*FormErrors, ErrInvalidForm), a file that
	// is not its format (*ParseError), the settings (*ConfigError,
	// ErrConfig), a name that is not registered (ErrUnknown).
	ErrInvalidInput = dataproduct.ErrInvalidInput
	// ErrUnauthorized: the credentials were refused (HTTP 401/403, or a
	// redirect to a login page), or none were configured.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrThrottled: the service refused the request for now; retry after
	// the wait a *ThrottledError carries.
	ErrThrottled = errors.New("throttled")
	// ErrRemote: the remote service failed or answered something that is
	// not its protocol (5xx, HTML instead of JSON, a truncated body), or a
	// remote task finished with an error of its own (ErrTaskFailed).
	ErrRemote = errors.New("remote service error")
	// ErrDeadline: the remote task did not finish within the configured
	// time; it may still finish later.
	ErrDeadline = errors.New("remote task deadline exceeded")
)

// Finer sentinels: each also matches its category (errors.Is(err,
// ErrInvalidInput) is true for an error wrapping ErrInvalidForm).
var (
	// ErrInvalidForm: the query parameters failed validation; a
	// *FormErrors names each field. Category ErrInvalidInput.
	ErrInvalidForm error = &subError{msg: "invalid form", category: ErrInvalidInput}
	// ErrConfig: the settings are wrong; a *ConfigError names the key.
	// Category ErrInvalidInput.
	ErrConfig error = &subError{msg: "invalid settings", category: ErrInvalidInput}
	// ErrUnknown: a service, class or processor name is not registered.
	// Category ErrInvalidInput.
	ErrUnknown error = &subError{msg: "unknown name", category: ErrInvalidInput}
	// ErrTaskFailed: the remote task finished with an error of its own;
	// trying again gives the same answer. Category ErrRemote.
	ErrTaskFailed error = &subError{msg: "remote task failed", category: ErrRemote}
)

// subError is a sentinel of its own that also matches its category.
type subError struct {
	msg      string
	category error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.category }

// Category returns the category err matches (one of ErrNotFound,
// ErrUnknownJob, ErrInvalidInput, ErrUnauthorized, ErrThrottled, ErrRemote,
// ErrDeadline), or nil for an error of none (a cancelled context, say), to
// map errors to, for example, HTTP statuses with one switch.
func Category(err error) error {
	for _, c := range categories {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}

var categories = []error{ErrNotFound, ErrUnknownJob, ErrInvalidInput, ErrUnauthorized, ErrThrottled, ErrRemote, ErrDeadline}

// ParseError is dataproduct.ParseError: a malformed line of a file.
type ParseError = dataproduct.ParseError

// ThrottledError reports a refusal for now (HTTP 429, or a client-side
// limit). It matches ErrThrottled.
type ThrottledError struct {
	// Service is the registry name of the service, e.g. "ATLAS".
	Service string
	// RetryAfter is how long to wait before trying again (0 if unknown).
	RetryAfter time.Duration
	// Detail is the server's explanation, if any.
	Detail string
	// Err is the cause, if any.
	Err error
}

// Error implements error.
func (e *ThrottledError) Error() string {
	var b strings.Builder
	if e.Service != "" {
		b.WriteString(e.Service)
		b.WriteString(": ")
	}
	b.WriteString("throttled")
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter.Round(time.Millisecond))
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, " (%s)", e.Detail)
	}
	return b.String()
}

// Is matches ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Unwrap returns the cause.
func (e *ThrottledError) Unwrap() error { return e.Err }

// maxErrorBody caps the body kept in a RemoteError.
const maxErrorBody = 512

// RemoteError reports an HTTP answer that is not success. It matches
// ErrUnauthorized (401, 403), ErrNotFound (404, 410), ErrThrottled (429)
// and ErrRemote (anything else, and 5xx).
type RemoteError struct {
	// Service is the registry name of the service.
	Service string
	// Method and URL are the request's; the URL is redacted.
	Method, URL string
	// Status is the HTTP status code.
	Status int
	// Body is the start of the answer's body (capped), redacted.
	Body string
}

// NewRemoteError builds a RemoteError, capping the body.
func NewRemoteError(service, method, url string, status int, body []byte) *RemoteError {
	b := strings.TrimSpace(string(body))
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody] + "…"
	}
	return &RemoteError{Service: service, Method: method, URL: url, Status: status, Body: b}
}

// Error implements error.
func (e *RemoteError) Error() string {
	var b strings.Builder
	if e.Service != "" {
		b.WriteString(e.Service)
		b.WriteString(": ")
	}
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	}
	fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	return b.String()
}

// Is matches the category of the status code.
func (e *RemoteError) Is(target error) bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return target == ErrUnauthorized
	case http.StatusNotFound, http.StatusGone:
		return target == ErrNotFound
	case http.StatusTooManyRequests:
		return target == ErrThrottled
	}
	return target == ErrRemote
}

// NonFieldErrors is the key FormErrors uses for errors about the whole
// form, as Django's forms do.
const NonFieldErrors = "__all__"

// FormErrors lists what is wrong with a query form, field by field, like
// Django's form.errors. It matches ErrInvalidForm.
type FormErrors struct {
	// Fields maps a field's form name (or NonFieldErrors) to its messages.
	Fields map[string][]string
}

// Add records a message for a field.
func (e *FormErrors) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

// Empty reports whether no error was recorded.
func (e *FormErrors) Empty() bool { return e == nil || len(e.Fields) == 0 }

// Err returns e, or nil when it is empty, so a validator can end with
// `return errs.Err()`.
func (e *FormErrors) Err() error {
	if e.Empty() {
		return nil
	}
	return e
}

// Error implements error: "invalid form: min_date_mjd: ...; radius: ...".
func (e *FormErrors) Error() string {
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("invalid form")
	for i, k := range names {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if k != NonFieldErrors {
			b.WriteString(k)
			b.WriteString(": ")
		}
		b.WriteString(strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// Is matches ErrInvalidForm (and so its category ErrInvalidInput).
func (e *FormErrors) Is(target error) bool {
	return target == ErrInvalidForm || target == ErrInvalidInput
}

// Retryable reports whether an error is worth retrying later with the same
// request: throttling, a remote failure (5xx, a broken connection, a
// protocol error), or a deadline. Invalid input, refused credentials,
// empty results, unknown jobs, failed remote tasks, other 4xx answers (the
// request itself is wrong) and cancellations are not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case errors.Is(err, ErrInvalidInput), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrNotFound),
		errors.Is(err, ErrUnknownJob), errors.Is(err, ErrTaskFailed):
		return false
	}
	var re *RemoteError
	if errors.As(err, &re) && re.Status >= 400 && re.Status < 500 &&
		re.Status != http.StatusRequestTimeout && re.Status != http.StatusTooManyRequests {
		return false // the request itself is wrong: sending it again gives the same answer
	}
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrRemote) || errors.Is(err, ErrDeadline)
}
