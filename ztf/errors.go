package ztf

import (
	"fmt"
	"strings"

	"github.com/tomgo/targetdata/singletarget"
)

// AnswerError reports a page that is not the answer the protocol
// promises: IRSA reporting bad parameters with HTTP 200 and a message
// instead of a table, or a ZFPS page with an error message instead of its
// table. It matches singletarget.ErrUnauthorized when the message is
// about the account (email or password), singletarget.ErrRemote
// otherwise.
type AnswerError struct {
	// Service is the registry name of the service.
	Service string
	// URL is the request URL, credentials redacted.
	URL string
	// Message is the page's text (tags removed, capped, redacted).
	Message string
	// Unauthorized reports a refusal of the credentials.
	Unauthorized bool
}

// Error implements error.
func (e *AnswerError) Error() string {
	var b strings.Builder
	if e.Service != "" {
		b.WriteString(e.Service)
		b.WriteString(": ")
	}
	if e.URL != "" {
		fmt.Fprintf(&b, "GET %s: ", e.URL)
	}
	if e.Unauthorized {
		b.WriteString("credentials refused: ")
	} else {
		b.WriteString("unexpected answer: ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Is matches singletarget.ErrUnauthorized or singletarget.ErrRemote.
func (e *AnswerError) Is(target error) bool {
	if e.Unauthorized {
		return target == singletarget.ErrUnauthorized
	}
	return target == singletarget.ErrRemote
}

// authWords are words of a page that refuses an account (the exact ZFPS
// wording is not documented, spec E).
var authWords = []string{"password", "userpass", "not registered", "unregistered", "unauthori", "authenticat", "invalid email", "email address"}

func looksUnauthorized(text string) bool {
	t := strings.ToLower(text)
	for _, w := range authWords {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}
