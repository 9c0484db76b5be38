package ztf

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/internal/redact"
	"github.com/tomgo/targetdata/singletarget"
)

// transport holds the HTTP settings both Options types share (their
// fields of the same names are documented there).
type transport struct {
	HTTPClient                 *http.Client
	Logger                     *slog.Logger
	Timeout                    time.Duration
	RetryMax                   int
	RetryWaitMin, RetryWaitMax time.Duration
	UserAgent                  string
	Now                        func() time.Time
}

func (o *transport) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.RetryMax == 0 {
		o.RetryMax = 3
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin = time.Second
	}
	if o.RetryWaitMax == 0 {
		o.RetryWaitMax = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *transport) validate(prefix string) error {
	var errs []error
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("%sTimeout %s is negative", prefix, o.Timeout))
	}
	if o.RetryMax < -1 {
		errs = append(errs, fmt.Errorf("%sRetryMax %d: use -1 to disable retries", prefix, o.RetryMax))
	}
	if o.RetryWaitMin < 0 || o.RetryWaitMax < 0 || o.RetryWaitMin > o.RetryWaitMax {
		errs = append(errs, fmt.Errorf("%sRetryWaitMin %s and RetryWaitMax %s must be positive and in order", prefix, o.RetryWaitMin, o.RetryWaitMax))
	}
	return errors.Join(errs...)
}

// maxInlineRetryAfter is the longest server-requested wait (Retry-After)
// slept inside a request; a longer one comes back as a
// *singletarget.ThrottledError for the executor to wait out.
const maxInlineRetryAfter = time.Second

func (o *transport) httpOptions(service string, secrets []singletarget.Secret, redact []string, retry bool) httpclient.Options {
	h := httpclient.Options{
		Service:       service,
		HTTPClient:    o.HTTPClient,
		Timeout:       o.Timeout,
		RetryMax:      o.RetryMax,
		RetryWaitMin:  o.RetryWaitMin,
		RetryWaitMax:  o.RetryWaitMax,
		MaxRetryAfter: maxInlineRetryAfter,
		UserAgent:     o.UserAgent,
		Logger:        o.Logger,
		Secrets:       secrets,
		RedactParams:  redact,
		Now:           o.Now,
	}
	if !retry {
		h.RetryMax = -1
	}
	return h
}

// checkBaseURL checks an absolute http(s) URL and returns it without a
// trailing slash.
func checkBaseURL(field, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("ztf: %s %q is not an absolute http(s) URL", field, redact.BaseURL(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("ztf: %s %q must not have a query or fragment", field, redact.BaseURL(raw))
	}
	if u.User != nil {
		return "", fmt.Errorf("ztf: %s must not carry credentials (use the credential settings)", field)
	}
	return strings.TrimRight(raw, "/"), nil
}
