package textscan

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

// refLines is the reference line splitter: the lines of in, each without
// its "\n" and one "\r" before it, no last line when it would be empty;
// and the number of the line the input ends on.
func refLines(in string) ([]string, int) {
	parts := strings.Split(in, "\n")
	end := len(parts)
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for i, p := range parts {
		parts[i] = strings.TrimSuffix(p, "\r")
	}
	return parts, end
}

// readAll reads every line of lr.
func readAll(lr *LineReader) []string {
	got := []string{}
	for {
		line, ok := lr.Next()
		if !ok {
			return got
		}
		if lr.Line() != len(got)+1 {
			panic("Line() does not count the lines")
		}
		got = append(got, string(line))
	}
}

// checkLines fails t unless a LineReader with no limit gives in's lines,
// through buffers of several sizes and readers that return little at a
// time.
func checkLines(t *testing.T, in string) {
	t.Helper()
	want, end := refLines(in)
	for _, size := range []int{16, 64, 4096} {
		for name, r := range map[string]io.Reader{
			"plain":   strings.NewReader(in),
			"onebyte": iotest.OneByteReader(strings.NewReader(in)),
			"dataerr": iotest.DataErrReader(strings.NewReader(in)),
		} {
			lr := NewLineReader(r, size, 0)
			got := readAll(lr)
			if !assert.Equal(t, want, got, "%s, buffer %d: %q", name, size, in) {
				t.FailNow()
			}
			require.NoError(t, lr.Err())
			require.Equal(t, end, lr.EndLine(), "EndLine of %q", in)
			_, ok := lr.Next()
			require.False(t, ok, "Next after the end")
		}
	}
}

var lineCases = []string{
	"", "\n", "\r", "\r\n", "a", "a\n", "a\r\n", "a\r\r\n", "a\rb\n", "#c\n", "#c", "\n\n\n", "a\nb", "a\nb\n", "a\n\nb\n\n",
	"x\r", strings.Repeat("long line ", 40) + "\nshort\n" + strings.Repeat("y", 100),
}

func TestLineReader(t *testing.T) {
	for _, in := range lineCases {
		checkLines(t, in)
	}
}

func FuzzLineReader(f *testing.F) {
	for _, s := range lineCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1<<16 {
			return
		}
		checkLines(t, in)
	})
}

// TestLineReaderLimit: a line of maxLine bytes or more (its "\r"
// included, its "\n" not) is a *ParseError on its line, whatever the
// buffer size; shorter lines are read whole.
func TestLineReaderLimit(t *testing.T) {
	const max = 100
	for _, size := range []int{16, 37, 100, 4096} {
		for _, c := range []struct {
			in   string
			ok   int // lines read before the end or the error
			fail bool
		}{
			{strings.Repeat("x", 99) + "\nz\n", 2, false},
			{strings.Repeat("x", 98) + "\r\nz\n", 2, false},
			{strings.Repeat("x", 99), 1, false},
			{"a\n" + strings.Repeat("x", 100) + "\nz\n", 1, true},
			{"a\n" + strings.Repeat("x", 99) + "\r\nz\n", 1, true},
			{"a\n" + strings.Repeat("x", 100), 1, true},
			{"a\n" + strings.Repeat("x", 5000) + "\n", 1, true},
		} {
			lr := NewLineReader(strings.NewReader(c.in), size, max)
			got := readAll(lr)
			assert.Len(t, got, c.ok, "buffer %d, %q", size, c.in)
			err := lr.Err()
			if !c.fail {
				assert.NoError(t, err)
				continue
			}
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe, "buffer %d", size)
			assert.Equal(t, c.ok+1, pe.Line)
			assert.EqualError(t, err, "parse line 2: line longer than 100 bytes")
		}
	}
}

// TestLineReaderReadError: a read error ends the lines; a line it cuts
// short is not returned, and Err returns the error itself.
func TestLineReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\nb\npartial"), iotest.ErrReader(boom)), 16, 0)
	assert.Equal(t, []string{"a", "b"}, readAll(lr))
	assert.Same(t, boom, lr.Err())
	assert.Equal(t, 2, lr.Line())
}

// TestLineReaderSharesBufio: a *bufio.Reader large enough is read
// directly (what it has buffered is not lost).
func TestLineReaderSharesBufio(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader("\ufeffa\nb\n"), 64)
	_, _ = br.Discard(3)
	lr := NewLineReader(br, 64, 0)
	assert.Same(t, br, lr.br)
	assert.Equal(t, []string{"a", "b"}, readAll(lr))
}

func BenchmarkLineReader(b *testing.B) {
	var buf bytes.Buffer
	for buf.Len() < 4<<20 {
		buf.Write(ztfLine)
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		lr := NewLineReader(bytes.NewReader(data), 256<<10, 1<<20)
		for {
			if _, ok := lr.Next(); !ok {
				break
			}
		}
	}
}
