package singletarget

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Redacted is what a Secret prints as.
const Redacted = "[REDACTED]"

// Secret holds an API key, token or password. It never prints: String,
// GoString, Format, LogValue and MarshalJSON/MarshalText all give
// "[REDACTED]" (or "" when empty). Call Reveal to get the value for the
// one place that sends it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) redacted() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// String implements fmt.Stringer.
func (s Secret) String() string { return s.redacted() }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return fmt.Sprintf("singletarget.Secret(%q)", s.redacted()) }

// Format implements fmt.Formatter, so that every verb redacts.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.redacted())
		return
	}
	fmt.Fprint(f, s.redacted())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalText implements encoding.TextMarshaler (used by JSON and YAML).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}

// Redact replaces every occurrence of each non-empty secret in text with
// "[REDACTED]": as is, and in the forms a server that echoes it back may
// use: URL-escaped (query and path), Go- and JSON-quoted, and
// HTML-escaped. Secrets shorter than 4 bytes are ignored, so that a
// one-letter password does not shred a message. (A secret a service sends
// inside HTTP Basic credentials is redacted by also listing the base64 of
// "user:password" as a secret; see BasicSecret.)
func Redact(text string, secrets ...Secret) string {
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, form := range secretForms(string(s)) {
			if strings.Contains(text, form) {
				text = strings.ReplaceAll(text, form, Redacted)
			}
		}
	}
	return text
}

// secretForms returns s and its escaped forms, each once.
func secretForms(s string) []string {
	quoted := strconv.Quote(s)
	js, _ := json.Marshal(s)
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), quoted[1 : len(quoted)-1],
		string(js[1 : len(js)-1]), html.EscapeString(s)}
	out := forms[:1]
	for _, f := range forms[1:] {
		if len(f) >= 4 && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// BasicSecret returns the base64 credentials of an HTTP Basic
// Authorization header for user and password, as a Secret, so that a
// service can list it with its other secrets for Redact.
func BasicSecret(user, password Secret) Secret {
	if user.IsZero() && password.IsZero() {
		return ""
	}
	return Secret(base64.StdEncoding.EncodeToString([]byte(user.Reveal() + ":" + password.Reveal())))
}
