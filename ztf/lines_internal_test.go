package ztf

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/textscan"
)

func TestParseNumbers(t *testing.T) {
	v, err := parseNum([]byte("1.5e3"))
	assert.NoError(t, err)
	assert.Equal(t, 1500.0, v)
	for _, bad := range []string{"", "x", "NaN", "inf", "1,5"} {
		_, err := parseNum([]byte(bad))
		assert.Error(t, err, bad)
	}
	for in, want := range map[string]int64{"4": 4, "32768": 32768, "4.0": 4, "-1": -1} {
		got, err := parseInt([]byte(in))
		assert.NoError(t, err)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"4.5", "x", "1e300"} {
		_, err := parseInt([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestBandOf(t *testing.T) {
	for in, want := range map[string]string{"zg": "g", "zr": "r", "zi": "i", "ZTF_g": "g", "ztf_R": "r", "i": "i", "ZI": "i"} {
		got, ok := bandOf([]byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "zu", "ZTF_z", "gr", "ZTF_gr", "y"} {
		_, ok := bandOf([]byte(bad))
		assert.False(t, ok, bad)
	}
}

// TestReadErr: a read error is a *ParseError on the line that could not
// be read, wrapping the reader's error; a line too long keeps the
// reader's own *ParseError.
func TestReadErr(t *testing.T) {
	boom := errors.New("boom")
	lr := textscan.NewLineReader(io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(boom)), 256<<10, maxLine)
	for range 2 {
		_, ok := lr.Next()
		require.True(t, ok)
	}
	_, ok := lr.Next()
	require.False(t, ok)
	err := readErr(lr)
	var pe *dataproduct.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	assert.ErrorIs(t, err, boom)

	lr = textscan.NewLineReader(strings.NewReader("a\n"+strings.Repeat("x", 200)), 64, 100)
	for {
		if _, ok := lr.Next(); !ok {
			break
		}
	}
	assert.EqualError(t, readErr(lr), "parse line 2: line longer than 100 bytes")
	assert.NoError(t, readErr(textscan.NewLineReader(strings.NewReader(""), 64, 100)))
}
