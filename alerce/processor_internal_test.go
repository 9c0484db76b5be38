package alerce

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSanitizeJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": NaN, "b": Infinity, "c": -Infinity}`: `{"a": null, "b": null, "c": null}`,
		`{"s": "NaN and Infinity", "t": "\"NaN"}`:   `{"s": "NaN and Infinity", "t": "\"NaN"}`,
		`[1, -1, NaN]`: `[1, -1, null]`,
		`{"x": 1}`:     `{"x": 1}`,
	} {
		assert.Equal(t, want, string(sanitizeJSON([]byte(in))), in)
	}
}
