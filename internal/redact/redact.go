// Package redact hides passwords in the connection strings and URLs that
// settings hold (database URLs, key=value PostgreSQL connection strings,
// service base URLs) before they are quoted in an error or a log line.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a password in a quoted connection string, as
// url.URL.Redacted does.
const Mask = "xxxxx"

// URL returns raw fit to quote: the password of its userinfo and the
// values of password-like query parameters (password, pass, userpass,
// token, key, secret, ...) replaced by Mask. A string that is not a URL
// with a scheme (a key=value connection string "host=... password=...",
// a typo) is reduced to its scheme, or to "<not a URL>", because any part
// of it may be a password.
func URL(raw string) string {
	if !strings.Contains(raw, ":") && !strings.ContainsAny(raw, "= \t\r\n@?") {
		return raw // a plain path: no place for a password
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.ContainsAny(raw, " \t\r\n") {
		if scheme, _, ok := strings.Cut(raw, "://"); ok && !strings.ContainsAny(scheme, " =:/?@") {
			return scheme + "://<unparsable URL>"
		}
		return "<not a URL>"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if SecretParam(k) {
				for i := range q[k] {
					q[k][i] = Mask
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// secretParams are the parameter names SecretParam recognises.
var secretParams = []string{
	"password", "pass", "passwd", "pwd", "userpass", "token", "key", "api_key", "apikey", "secret",
	"email", "user", "username", "auth", "session", "sig", "signature", "sslpassword",
}

// SecretParams returns the query-string and form parameter names whose
// values are treated as secrets.
func SecretParams() []string { return append([]string(nil), secretParams...) }

// SecretParam reports whether a query-string, form or key=value parameter
// name holds a secret (case-insensitive).
func SecretParam(name string) bool {
	for _, p := range secretParams {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// passwordParam reports whether a parameter of a connection string holds
// a password (not a user name or a database name, which messages need).
func passwordParam(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "pass") || strings.Contains(n, "pwd") || strings.Contains(n, "token") ||
		strings.Contains(n, "secret") || strings.Contains(n, "key")
}

// Passwords returns the secrets a database URL or a key=value connection
// string carries (the userinfo password, password-like query parameters,
// password=... pairs), each as written and unescaped, so that an error
// text that quotes them can be scrubbed.
func Passwords(raw string) []string {
	var out []string
	add := func(s string) {
		s = strings.Trim(s, `'"`)
		if s == "" {
			return
		}
		out = append(out, s)
		if u, err := url.PathUnescape(s); err == nil && u != s {
			out = append(out, u)
		}
	}
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		if userinfo, _, ok := strings.Cut(rest, "@"); ok {
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				add(pw)
			}
		}
	}
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				add(pw)
			}
		}
		for k, vs := range u.Query() {
			if passwordParam(k) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	if strings.Contains(raw, "://") {
		return out
	}
	// key=value pairs (libpq's keyword/value form).
	for _, f := range strings.Fields(raw) {
		if k, v, ok := strings.Cut(f, "="); ok && passwordParam(k) {
			add(v)
		}
	}
	return out
}

// Text replaces every secret (of at least 4 bytes; shorter ones would
// shred the message) in text with Mask.
func Text(text string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, Mask)
		}
	}
	return text
}

// Error wraps err so that its text shows none of secrets; errors.Is and
// errors.As still see err. A nil err stays nil.
func Error(err error, secrets []string) error {
	if len(secrets) == 0 {
		return err
	}
	return ErrorFunc(err, func(text string) string { return Text(text, secrets) })
}

// ErrorFunc wraps err so that its text is clean(err.Error()); errors.Is
// and errors.As still see err. When clean changes nothing, err itself is
// returned; a nil err stays nil.
func ErrorFunc(err error, clean func(string) string) error {
	if err == nil {
		return nil
	}
	msg := clean(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// BaseURL returns a service's base URL fit to quote: scheme, host and
// path only, its userinfo, query and fragment (which a base URL should
// not have, and which may hold a key) shown as "…". Anything that does not
// parse is reduced as URL does.
func BaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.ContainsAny(raw, " \t\r\n") {
		return URL(raw)
	}
	s := u.Scheme + "://"
	if u.User != nil {
		s += "…@"
	}
	s += u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?…"
	}
	if u.Fragment != "" {
		s += "#…"
	}
	return s
}
