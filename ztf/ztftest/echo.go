package ztftest

import (
	"fmt"
	"html"
	"net/http"
)

// EchoCredentialsNext makes the next n requests (to any endpoint) answer
// as a careless server might: HTTP 400 with an HTML page repeating the
// credentials they carried, the Authorization header (ZFPS's site-wide
// HTTP Basic pair, base64) and the query string as sent (the account's
// email, URL-escaped, and userpass). Nothing else happens: no job is
// queued. For tests that secrets a server echoes back are redacted from
// every error, log line and job record.
func (s *Server) EchoCredentialsNext(n int) { s.echoes.Add(n) }

func echoCredentials(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<html><body><h1>Bad request</h1><p>Authorization: %s</p><p>Query: %s</p><p>%s</p></body></html>",
		html.EscapeString(r.Header.Get("Authorization")), html.EscapeString(r.URL.RawQuery), html.EscapeString(r.URL.Query().Get("userpass")))
}
