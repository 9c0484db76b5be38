// Package memtest measures the memory a streaming run keeps: the memory
// benchmarks of the processors use it to show that processing a file
// takes the same memory whatever its size. It is for tests and benchmarks
// only.
package memtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
)

// WriteFile writes the file name in dir through a 1 MiB buffered writer
// (write makes it row by row, so a file of millions of rows is never held
// in memory) and returns its path and size.
func WriteFile(tb testing.TB, dir, name string, write func(w *bufio.Writer) error) (string, int64) {
	tb.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, st.Size()
}

// Peak is the memory a run took beyond what was in use before it.
type Peak struct {
	// Retained is the most heap the run kept: the heap in use right after
	// a full collection, taken at the 1,000th datum, every CheckEvery
	// datums and at the end of the stream
	// (the stream's own goroutine is stopped meanwhile, so the figure does
	// not depend on the machine's load). This is the figure that must not
	// grow with the file.
	Retained uint64
	// Heap is the peak of the bytes held by heap objects, live or not yet
	// collected, sampled every 200 µs: what the heap had to hold with the
	// garbage collector's pacing (it varies with the machine's load).
	Heap uint64
	// RSS is the process's peak resident set during the run (Linux only;
	// 0 elsewhere): the Go heap plus everything else, such as SQLite's page
	// cache, which modernc.org/sqlite allocates outside the Go heap. It
	// includes the test binary's own few tens of MB and memory the runtime
	// has not returned yet.
	RSS uint64
}

// CheckEvery is how many datums pass between two measurements of the
// retained heap.
const CheckEvery = 100_000

// Watch wraps a datum sequence so that the retained heap is measured as
// it flows.
type Watch func(iter.Seq2[dataproduct.Datum, error]) iter.Seq2[dataproduct.Datum, error]

const heapObjects = "/memory/classes/heap/objects:bytes"

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Measure runs fn after a full collection and returns its peak beyond the
// heap in use before it. fn passes its datum sequence through the Watch it
// is given.
func Measure(fn func(watch Watch) error) (Peak, error) {
	runtime.GC()
	base := heapInUse()
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	baseObjects := s[0].Value.Uint64()
	var retained, peak uint64
	check := func() {
		runtime.GC()
		retained = max(retained, heapInUse())
	}
	watch := func(seq iter.Seq2[dataproduct.Datum, error]) iter.Seq2[dataproduct.Datum, error] {
		return func(yield func(dataproduct.Datum, error) bool) {
			n := 0
			for d, err := range seq {
				if n++; n == 1000 || n%CheckEvery == 0 {
					check()
				}
				if !yield(d, err) {
					return
				}
			}
			check()
		}
	}
	resetPeakRSS()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: heapObjects}}
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := fn(watch)
	close(stop)
	wg.Wait()
	return Peak{Retained: sub(retained, base), Heap: sub(peak, baseObjects), RSS: peakRSS()}, err
}

// Count runs a datum sequence to the end and counts the datums.
func Count(seq iter.Seq2[dataproduct.Datum, error]) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// resetPeakRSS resets the kernel's peak RSS of the process (Linux: writing
// 5 to /proc/self/clear_refs).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM from /proc/self/status, in bytes (0 if unknown).
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// Sizes are the row counts of the memory benchmarks: 200,000 and
// 2,000,000 rows, or 20,000 and 200,000 with -short.
func Sizes() []int {
	if testing.Short() {
		return []int{20_000, 200_000}
	}
	return []int{200_000, 2_000_000}
}

// Bench runs a processor's memory benchmark: for each of Sizes, make
// writes a file of that many rows into a temporary folder, and run streams
// it (from an *os.File) to the end through watch, returning the datums it
// gave. It reports, in MB, the retained heap (the figure that must stay
// flat), the sampled peak heap and the peak resident set, and the file's
// size, rows/s and datums per run.
func Bench(b *testing.B, make func(w *bufio.Writer, rows int) error, run func(ctx context.Context, r io.Reader, watch Watch) (int, error)) {
	for _, rows := range Sizes() {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			path, size := WriteFile(b, b.TempDir(), "input", func(w *bufio.Writer) error { return make(w, rows) })
			var peak Peak
			var datums int
			b.ResetTimer()
			for range b.N {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				p, err := Measure(func(watch Watch) error {
					n, err := run(context.Background(), f, watch)
					datums = n
					return err
				})
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				peak.Retained, peak.Heap, peak.RSS = max(peak.Retained, p.Retained), max(peak.Heap, p.Heap), max(peak.RSS, p.RSS)
			}
			b.StopTimer()
			if datums == 0 {
				b.Fatal("no datums")
			}
			b.ReportMetric(float64(peak.Retained)/1e6, "retained-MB")
			b.ReportMetric(float64(peak.Heap)/1e6, "peak-heap-MB")
			if peak.RSS > 0 {
				b.ReportMetric(float64(peak.RSS)/1e6, "peak-rss-MB")
			}
			b.ReportMetric(float64(size)/1e6, "file-MB")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(datums), "datums")
		})
	}
}
