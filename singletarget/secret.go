package singletarget

import (
	"fmt"
	"log/slog"
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
// "[REDACTED]". Secrets shorter than 4 bytes are ignored, so that a
// one-letter password does not shred a message.
func Redact(text string, secrets ...Secret) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, string(s), Redacted)
		}
	}
	return text
}
