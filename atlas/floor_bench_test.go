package atlas_test

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
)

// plainParse is the floor the processor is measured against: what anyone
// would write to read an ATLAS result file, splitting each line at white
// space and parsing the five numbers photometry needs (MJD, m, dm, uJy,
// duJy) with strconv.ParseFloat. It returns the rows read and a sum, so
// that nothing is optimised away.
func plainParse(tb testing.TB, in []byte) (int, float64) {
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	rows, sum := 0, 0.0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, s := range strings.Fields(line)[:5] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				tb.Fatal(err)
			}
			sum += v
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows, sum
}

// BenchmarkProcessorVsPlain streams a generated 200,000-row file (20,000
// with -short) through the default processor and through plainParse,
// alternately, and reports the ratio of the best times (ratio,
// processor/plain: below 1 is faster than the plain loop) and both rates.
func BenchmarkProcessorVsPlain(b *testing.B) {
	rows := 200_000
	if testing.Short() {
		rows = 20_000
	}
	in := generated(b, rows)
	ctx := context.Background()
	var p atlas.Processor
	best := func(d, cur time.Duration) time.Duration {
		if cur == 0 || d < cur {
			return d
		}
		return cur
	}
	var procBest, plainBest time.Duration
	for b.Loop() {
		t0 := time.Now()
		n, _ := plainParse(b, in)
		plainBest = best(time.Since(t0), plainBest)
		if n != rows {
			b.Fatalf("plain loop read %d rows, want %d", n, rows)
		}
		t0 = time.Now()
		n = 0
		for _, err := range p.Stream(ctx, bytes.NewReader(in)) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		procBest = best(time.Since(t0), procBest)
		if n == 0 {
			b.Fatal("no datums")
		}
	}
	b.ReportMetric(procBest.Seconds()/plainBest.Seconds(), "ratio")
	b.ReportMetric(float64(rows)/procBest.Seconds(), "processor-rows/s")
	b.ReportMetric(float64(rows)/plainBest.Seconds(), "plain-rows/s")
}
