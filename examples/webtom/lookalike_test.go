package main

import (
	"html"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Target creation normalises the name, refuses invisible characters and
// warns of a name that looks like an existing one (issue 20 item 13).
func TestLookAlikeTargets(t *testing.T) {
	m := newTOM(t, "pool")
	m.addTarget() // "SN 2023ixf"
	create := func(name string) (*http.Response, string) {
		return m.post("/targets", url.Values{csrfField: {m.token()}, "name": {name}, "ra": {"210.9"}, "dec": {"54.3"}})
	}
	for _, name := range []string{"SN 2023\u200bixf", "SN 2023\u202eixf", "\ufeffSN 2023ixf"} {
		resp, body := create(name)
		assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%+q", name)
		assert.Contains(t, body, "invisible or formatting characters", "%+q", name)
	}
	resp, body := create("SN\u00a02023ixf")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "a no-break space is a plain one: the same name")
	assert.Contains(t, html.UnescapeString(body), `There is already a target named "SN 2023ixf"`)

	resp, _ = create("SN 2023\u0456xf") // Cyrillic і
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "another script's letters are accepted")
	code, body := m.get(resp.Header.Get("Location"))
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, html.UnescapeString(body), `looks like that of the target "SN 2023ixf"`, "and warned of")

	resp, _ = create("NGC 1566")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = m.get(resp.Header.Get("Location"))
	assert.NotContains(t, body, "looks like", "no warning for a name unlike the others")
}
