// Package memtest measures the peak heap of a streaming run: the memory
// benchmarks of the processors use it to show that processing a file
// takes the same memory whatever its size. It is for tests and benchmarks
// only.
package memtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

// Peak is the most memory a run took beyond what was in use before it.
type Peak struct {
	// Heap is the peak of the bytes held by heap objects, live or not yet
	// swept (what the process's heap had to hold), sampled every 200 µs.
	Heap uint64
	// Live is the peak of the live heap as the garbage collector marked
	// it: the memory the run really kept.
	Live uint64
	// RSS is the process's peak resident set during the run (Linux only;
	// 0 elsewhere): the Go heap plus everything else, such as SQLite's page
	// cache, which modernc.org/sqlite allocates outside the Go heap. It
	// includes the test binary's own few tens of MB.
	RSS uint64
}

const (
	heapObjects = "/memory/classes/heap/objects:bytes"
	heapLive    = "/gc/heap/live:bytes"
)

func read(s []metrics.Sample) (uint64, uint64) {
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// Measure runs fn after a full collection and returns its peak beyond the
// heap in use before it.
func Measure(fn func() error) (Peak, error) {
	s := []metrics.Sample{{Name: heapObjects}, {Name: heapLive}}
	runtime.GC()
	base, baseLive := read(s)
	var peak, peakLive uint64
	resetPeakRSS()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: heapObjects}, {Name: heapLive}}
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			h, l := read(s)
			peak, peakLive = max(peak, h), max(peakLive, l)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := fn()
	close(stop)
	wg.Wait()
	h, l := read(s)
	peak, peakLive = max(peak, h), max(peakLive, l)
	return Peak{Heap: sub(peak, base), Live: sub(peakLive, baseLive), RSS: peakRSS()}, err
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
// it (from an *os.File) to the end, returning the datums it gave. It
// reports the peak heap, live heap and resident set in MB, the file's
// size, rows/s and datums per run.
func Bench(b *testing.B, make func(w *bufio.Writer, rows int) error, run func(ctx context.Context, r io.Reader) (int, error)) {
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
				p, err := Measure(func() error {
					n, err := run(context.Background(), f)
					datums = n
					return err
				})
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				peak.Heap, peak.Live, peak.RSS = max(peak.Heap, p.Heap), max(peak.Live, p.Live), max(peak.RSS, p.RSS)
			}
			b.StopTimer()
			if datums == 0 {
				b.Fatal("no datums")
			}
			b.ReportMetric(float64(peak.Heap)/1e6, "peak-heap-MB")
			b.ReportMetric(float64(peak.Live)/1e6, "peak-live-MB")
			if peak.RSS > 0 {
				b.ReportMetric(float64(peak.RSS)/1e6, "peak-rss-MB")
			}
			b.ReportMetric(float64(size)/1e6, "file-MB")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(datums), "datums")
		})
	}
}
