package atlastest

import (
	"io"
	"net/http"
	"strings"
)

// EchoCredentialsNext makes the next n requests answer as a careless
// server might, repeating the credentials they carried: a queue POST gets a
// 400 field error, any other request a 400 {"detail": ...}, each quoting
// the Authorization header, the query string and the start of the body
// (the token, or a password sent to /api-token-auth/). Nothing else
// happens: no task is queued. For tests that secrets a server echoes back
// are redacted from every error, log line and job record. (A task's
// error_msg can echo too: FailNextTask with a message quoting the token.)
func (s *Server) EchoCredentialsNext(n int) { s.echoes.Add(n) }

// echoCredentials answers the request with its own credentials.
func (s *Server) echoCredentials(w http.ResponseWriter, r *http.Request, ep Endpoint) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1024))
	echo := "you sent Authorization: " + r.Header.Get("Authorization") + "; query: " + r.URL.RawQuery + "; body: " + strings.TrimSpace(string(body))
	if ep == EndpointQueue {
		s.write(w, r, http.StatusBadRequest, map[string][]string{"ra": {"Enter a number. " + echo}, "non_field_errors": {echo}})
		return
	}
	s.write(w, r, http.StatusBadRequest, detail(echo))
}
