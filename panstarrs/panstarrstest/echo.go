package panstarrstest

import (
	"encoding/json"
	"net/http"
)

// EchoCredentialsNext makes the next n requests answer as a careless
// server might: HTTP 400 with a JSON {"detail": ...} repeating the
// credentials they carried (the mast_token cookie, an Authorization
// header) and the query string. For tests that secrets a server echoes
// back are redacted from every error, log line and job record.
func (s *Server) EchoCredentialsNext(n int) { s.echoes.Add(n) }

func echoCredentials(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(map[string]string{"detail": "bad request: Cookie: " + r.Header.Get("Cookie") +
		"; Authorization: " + r.Header.Get("Authorization") + "; query: " + r.URL.RawQuery})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}
