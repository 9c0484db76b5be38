package redact

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURL(t *testing.T) {
	assert.Equal(t, "postgres://u:xxxxx@h/db", URL("postgres://u:s3cr%2Ft@h/db"))
	assert.Equal(t, "postgres://u@h/db?password=xxxxx&sslmode=disable", URL("postgres://u@h/db?sslmode=disable&password=pw"))
	assert.Equal(t, "https://h/x?email=xxxxx&userpass=xxxxx", URL("https://h/x?email=a@b.c&userpass=pw"))
	assert.Equal(t, "sqlite://a.db", URL("sqlite://a.db"))
	assert.Equal(t, "targetdata.db", URL("targetdata.db"), "a plain path is shown")
	assert.Equal(t, "postgres://<unparsable URL>", URL("postgres://u:p w@h:x/%zz"))
	assert.Equal(t, "<not a URL>", URL("host=h user=u password=s3cret dbname=d"), "a key=value string is not shown")
}

func TestPasswords(t *testing.T) {
	assert.ElementsMatch(t, []string{"s3cr%2Ft", "s3cr/t", "s3cr/t"}, Passwords("postgres://u:s3cr%2Ft@h/db"))
	assert.ElementsMatch(t, []string{"pw-1", "pw-2"}, Passwords("postgres://u@h/db?password=pw-1&sslpassword=pw-2&sslmode=disable"))
	assert.ElementsMatch(t, []string{"s3cret"}, Passwords("host=h user=targetdata password='s3cret' dbname=targetdata"))
}

func TestError(t *testing.T) {
	err := Error(assert.AnError, []string{"general"})
	assert.NotContains(t, err.Error(), "general")
	assert.ErrorIs(t, err, assert.AnError)
	plain := errors.New("nothing to hide")
	assert.Same(t, plain, Error(plain, []string{"secret"}))
	assert.NoError(t, Error(nil, []string{"secret"}))
	assert.Equal(t, "a xxxxx b abc", Text("a s3cret b abc", []string{"s3cret", "abc"}), "secrets under 4 bytes are left")
}

func TestBaseURL(t *testing.T) {
	assert.Equal(t, "https://…@h/forcedphot?…#…", BaseURL("https://u:pw@h/forcedphot?key=k#frag"))
	assert.Equal(t, "https://h/api", BaseURL("https://h/api"))
	assert.Equal(t, "ftp://h", BaseURL("ftp://h"))
}
