package ztf

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitSpace(t *testing.T) {
	many := strings.TrimSpace(strings.Repeat("x ", 200))
	for _, in := range []string{"", " ", "a", " a b  c ", "a\tb c", "1 2 3", "  lead trail  ", many, "a  b c d",
		"abcdefg  h", "abcdefgh  ij", "0123456789 abcdefghij klmnopqrstuvwxyz 1 2 3  4", "a b c d e f g h i j k l m n o p q r s t"} {
		want := strings.Fields(in)
		got := []string{}
		for _, f := range splitSpace([][]byte{[]byte("keep")}, []byte(in)) {
			got = append(got, string(f))
		}
		assert.Equal(t, append([]string{"keep"}, want...), got, "%q", in)
	}
}

func TestSplitComma(t *testing.T) {
	var got []string
	for _, f := range splitComma(nil, []byte("a,,b,")) {
		got = append(got, string(f))
	}
	assert.Equal(t, []string{"a", "", "b", ""}, got)
}

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

func TestFieldsNeed(t *testing.T) {
	line := []byte("f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19 last")
	var f fields
	for need := range 22 {
		n := f.split(line, need)
		assert.Equal(t, 21, n, "need %d", need)
		for i := 0; i <= min(need, n-2); i++ {
			assert.Equal(t, fmt.Sprintf("f%d", i), string(f.field(i)), "need %d field %d", need, i)
		}
		assert.Equal(t, "last", string(f.field(n-1)))
	}
	// Runs of spaces past the needed fields are still seen.
	n := f.split([]byte("a b c d e f g h i j k l m n o p q  r"), 1)
	assert.Equal(t, 18, n)
	assert.Equal(t, "r", string(f.field(n-1)))
	assert.Equal(t, "b", string(f.field(1)))
}

func BenchmarkSplitSpace(b *testing.B) {
	data, _ := os.ReadFile("testdata/ztf_fps_result.txt")
	var line []byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > 0 && l[0] == ' ' && !bytes.Contains(l, []byte("index")) {
			line = l
			break
		}
	}
	b.SetBytes(int64(len(line)))
	dst := make([][]byte, 0, 48)
	for b.Loop() {
		dst = splitSpace(dst[:0], line)
	}
	if len(dst) != 40 {
		b.Fatal(fmt.Sprint(len(dst)))
	}
}
