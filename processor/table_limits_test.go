package processor_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// repeatReader yields head, then body repeated n times, then tail,
// without holding the whole file.
type repeatReader struct {
	head, body, tail string
	n                int
	buf              []byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		switch {
		case r.head != "":
			r.buf, r.head = append(r.buf, r.head...), ""
		case r.n > 0:
			r.buf = append(r.buf, r.body...)
			r.n--
		case r.tail != "":
			r.buf, r.tail = append(r.buf, r.tail...), ""
		default:
			if len(r.buf) == 0 {
				return 0, io.EOF
			}
			n := copy(p, r.buf)
			r.buf = r.buf[n:]
			return n, nil
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// A photometry table with a huge row is refused on that row's line, and
// reading it costs little memory (a 31 MB row of 15.5 million fields took
// 1.35 GB before the caps).
func TestPhotometryTableLimits(t *testing.T) {
	for name, c := range map[string]struct {
		in   io.Reader
		line int
		msg  string
	}{
		"15.5M fields in a row": {&repeatReader{head: "time,filter,magnitude\n60316,g,17\n60317,g,", body: "1,", n: 15_500_000, tail: "1\n"},
			3, "row has more than 1000 fields"},
		"a header of 2000 columns": {strings.NewReader("# upload\ntime,filter,magnitude" + columns(2000) + "\n60316,g,17" + strings.Repeat(",1", 2000) + "\n"),
			2, "row has more than 1000 fields"},
		"a 31 MB field": {&repeatReader{head: "time,filter,magnitude\n60316,g,", body: "1", n: 31_000_000, tail: "\n"},
			2, "row longer than 1048576 bytes"},
		"a quoted field of 600,000 lines": {&repeatReader{head: "time,filter,magnitude,note\n60316,g,17,\"", body: "x\n", n: 600_000, tail: "\"\n"},
			2, "row longer than 1048576 bytes"},
		"a quoted field of 2M commas over lines": {&repeatReader{head: "time,filter,magnitude,note\n\n60316,g,17,\"", body: ",\n", n: 2_000_000, tail: "\"\n"},
			3, "row longer than 1048576 bytes"},
		"a comment line of 2 MB": {&repeatReader{head: "time,filter,magnitude\n#", body: "#", n: 2 << 20, tail: "\n60316,g,17\n"},
			2, "row longer than 1048576 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ds, err := processor.PhotometryTable{}.Process(context.Background(), c.in)
			runtime.ReadMemStats(&after)
			assert.Zero(t, len(ds), "no datum")
			var pe *dataproduct.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.line, pe.Line, "%v", err)
			assert.Contains(t, err.Error(), c.msg)
			assert.Contains(t, err.Error(), "line ", "the error names the line: %v", err)
			alloc := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, alloc, uint64(16<<20), "allocated %d MB", alloc>>20)
			t.Logf("%v; allocated %.1f MB", err, float64(alloc)/(1<<20))
		})
	}
}

// The caps count rows as encoding/csv does: commas and line breaks inside
// quotes, doubled quotes and quotes in comment lines do not end a row or
// add fields, so tables near the caps still read.
func TestPhotometryTableNearLimits(t *testing.T) {
	commas := strings.Repeat(",", 5000)
	in := "# a \"stray quote in a comment\ntime,filter,magnitude,note\n" +
		"60316,g,17,\"" + commas + "\"\n" + // 5000 commas in one quoted field
		"60317,g,17,\"two\nlines, \"\"quoted\"\"\"\n" +
		"60318,g,17," + strings.Repeat("x", 1<<20-20) + "\n" + // just under 1 MiB
		"60319,g,17,end\n"
	ds, err := processor.PhotometryTable{}.Process(context.Background(), strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, ds, 4)
	assert.Equal(t, commas, ds[0].Value.(dataproduct.Photometry).Extra["note"])
	assert.Equal(t, "two\nlines, \"quoted\"", ds[1].Value.(dataproduct.Photometry).Extra["note"])

	wide := "time,filter,magnitude" + columns(997) + "\n60316,g,17" + strings.Repeat(",1", 997) + "\n"
	ds, err = processor.PhotometryTable{}.Process(context.Background(), strings.NewReader(wide))
	require.NoError(t, err, "1000 columns are allowed")
	require.Len(t, ds, 1)
	assert.Len(t, ds[0].Value.(dataproduct.Photometry).Extra, 997)
}

// columns returns n distinct extra column names, each after a comma.
func columns(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ",c%d", i)
	}
	return b.String()
}
