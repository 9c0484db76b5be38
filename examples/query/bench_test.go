package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas/atlastest"
)

// floorSource is the plain program the command is measured against: what
// anyone would write to read an ATLAS result file, splitting each line at
// white space and parsing the five numbers photometry needs (MJD, m, dm,
// uJy, duJy) with strconv.ParseFloat. It prints only a count and a sum.
const floorSource = `package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var sum float64
	rows := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		for _, s := range fields[:5] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			sum += v
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(rows, sum)
}
`

// benchBinaries builds the command and the floor program once per test
// binary run.
var benchBinaries = struct {
	dir          string
	query, floor string
}{}

func buildBenchBinaries(b *testing.B) (query, floor string) {
	b.Helper()
	if benchBinaries.query != "" {
		return benchBinaries.query, benchBinaries.floor
	}
	dir, err := os.MkdirTemp("", "query-bench-")
	if err != nil {
		b.Fatal(err)
	}
	query, floor = filepath.Join(dir, "query"), filepath.Join(dir, "floor")
	run := func(cmd *exec.Cmd) {
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	run(exec.Command("go", "build", "-o", query, "."))
	src := filepath.Join(dir, "floorsrc")
	if err := os.MkdirAll(src, 0o755); err != nil {
		b.Fatal(err)
	}
	for name, body := range map[string]string{"main.go": floorSource, "go.mod": "module floor\n\ngo 1.26\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-o", floor, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	run(cmd)
	benchBinaries.dir, benchBinaries.query, benchBinaries.floor = dir, query, floor
	return query, floor
}

// TestMain removes the benchmark binaries.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchBinaries.dir != "" {
		os.RemoveAll(benchBinaries.dir)
	}
	os.Exit(code)
}

// writeATLASFile writes an ATLAS result file of n rows (the simulator's
// rows, one target's file after another) and returns its path.
func writeATLASFile(b *testing.B, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("atlas_%d.txt", n))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(atlastest.Header + "\n")
	rows := 0
	for i := 0; rows < n; i++ {
		body := atlastest.GenerateResult(10+float64(i)*0.37, -20+float64(i%40), 57200, 61000)
		for _, line := range bytes.SplitAfter(body, []byte("\n"))[1:] {
			if len(line) == 0 || rows == n {
				continue
			}
			w.Write(line)
			rows++
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// procRun is what one run of a program took.
type procRun struct {
	wall, cpu time.Duration
	rssKB     int64 // peak resident set (Linux; 0 elsewhere)
}

// runProgram runs bin with args, stdout to the file out, and measures it.
func runProgram(b *testing.B, out string, bin string, args ...string) procRun {
	b.Helper()
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, stderr.Bytes())
	}
	wall := time.Since(t0)
	st := cmd.ProcessState
	return procRun{wall: wall, cpu: st.UserTime() + st.SystemTime(), rssKB: maxRSSKB(st)}
}

// countLines counts the lines of a file.
func countLines(b *testing.B, path string) int {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}

// benchRounds is how many times each program runs (best of): 5, or 1
// with -short; TARGETDATA_BENCH_ROUNDS sets it.
func benchRounds(b *testing.B) int {
	rounds := 5
	if testing.Short() {
		rounds = 1
	}
	if v := os.Getenv("TARGETDATA_BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("TARGETDATA_BENCH_ROUNDS=%q is not a positive integer", v)
		}
		rounds = n
	}
	return rounds
}

// BenchmarkProcessCLI runs the whole command, `query -process
// atlas_photometry -file F -format csv` (no -db: it converts as it reads),
// and the plain split-and-ParseFloat program (floorSource) over the same
// 200,000-row ATLAS file (20,000 with -short), each as its own process,
// alternately, best of benchRounds, stdout to a file. It reports the
// ratio of the best wall times (ratio; the goal is ≤ 1.5) and of the best
// CPU times, user + system (cpu-ratio, steadier on a shared machine), and
// each program's best wall time.
func BenchmarkProcessCLI(b *testing.B) {
	rows := 200_000
	if testing.Short() {
		rows = 20_000
	}
	query, floor := buildBenchBinaries(b)
	dir := b.TempDir()
	file := writeATLASFile(b, dir, rows)
	out := filepath.Join(dir, "out.csv")
	rounds := benchRounds(b)
	b.ResetTimer()
	for b.Loop() {
		var q, f []procRun
		for i := range rounds {
			f = append(f, runProgram(b, out, floor, file))
			q = append(q, runProgram(b, out, query, "-process", "atlas_photometry", "-file", file, "-format", "csv"))
			if i == 0 {
				if n := countLines(b, out); n != rows+1 {
					b.Fatalf("query printed %d lines, want %d rows and a header", n, rows)
				}
			}
		}
		best := func(rs []procRun, get func(procRun) time.Duration) time.Duration {
			return slices.Min(mapRuns(rs, get))
		}
		wall := func(r procRun) time.Duration { return r.wall }
		cpu := func(r procRun) time.Duration { return r.cpu }
		b.ReportMetric(best(q, wall).Seconds()/best(f, wall).Seconds(), "ratio")
		b.ReportMetric(best(q, cpu).Seconds()/best(f, cpu).Seconds(), "cpu-ratio")
		b.ReportMetric(best(q, wall).Seconds(), "query-s")
		b.ReportMetric(best(f, wall).Seconds(), "floor-s")
	}
}

func mapRuns(rs []procRun, get func(procRun) time.Duration) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = get(r)
	}
	return out
}

// BenchmarkProcessCLIMemory runs the same command over ATLAS files of
// 200,000 and 2,000,000 rows (20,000 and 200,000 with -short) and reports
// the ratio of the peak resident sets (rss-ratio; the goal is ≤ 1.2) and
// each (rss-small-MB, rss-large-MB). Linux only (elsewhere the resident
// set is not measured and nothing is reported).
func BenchmarkProcessCLIMemory(b *testing.B) {
	small, large := 200_000, 2_000_000
	if testing.Short() {
		small, large = 20_000, 200_000
	}
	query, _ := buildBenchBinaries(b)
	dir := b.TempDir()
	files := map[int]string{small: writeATLASFile(b, dir, small), large: writeATLASFile(b, dir, large)}
	out := filepath.Join(dir, "out.csv")
	b.ResetTimer()
	for b.Loop() {
		rss := map[int]int64{}
		for _, n := range []int{small, large} {
			r := runProgram(b, out, query, "-process", "atlas_photometry", "-file", files[n], "-format", "csv")
			rss[n] = r.rssKB
		}
		if rss[small] == 0 {
			b.Skip("the peak resident set is measured on Linux only")
		}
		b.ReportMetric(float64(rss[large])/float64(rss[small]), "rss-ratio")
		b.ReportMetric(float64(rss[small])/1024, "rss-small-MB")
		b.ReportMetric(float64(rss[large])/1024, "rss-large-MB")
	}
}
