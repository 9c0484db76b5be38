package panstarrs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/processor"
)

// detectionFile builds a detection CSV of n rows in MAST's layout (the 16
// columns of the PS1 API notebook), with a −999 row and a low-S/N row
// every 50 rows.
func detectionFile(n int) []byte {
	var b bytes.Buffer
	writeDetections(&b, n)
	return b.Bytes()
}

// writeDetections writes detectionFile's rows to w, one at a time.
func writeDetections(b io.Writer, n int) {
	io.WriteString(b, "objID,detectID,filterID,obsTime,ra,dec,psfFlux,psfFluxErr,psfMajorFWHM,psfMinorFWHM,psfQfPerfect,apFlux,apFluxErr,infoFlag,infoFlag2,infoFlag3\n")
	for i := range n {
		obj := 157262307155530976 + int64(i/70)
		flux, ferr := 2.5e-4*(1+0.1*math.Sin(float64(i))), 4.4e-6
		switch i % 50 {
		case 7:
			flux, ferr = -999, -999
		case 31:
			flux = 2 * ferr
		}
		fmt.Fprintf(b, "%d,%d,%d,%.7f,%.8f,%.8f,%.6e,%.6e,1.0780,1.0522,0.98512,%.6e,%.6e,115343360,0,1\n",
			obj, 160005343304390097+int64(i), 1+i%5, 55343.3043901+float64(i)*0.01, 230.71551365, 41.05027946,
			flux, ferr, flux, ferr)
	}
}

// reportRates reports rows per wall-clock second and, where the platform
// tells, rows per second of this process's CPU time (which includes the
// garbage collector's work on other cores).
func reportRates(b *testing.B, rows int, cpu0 time.Duration, ok bool) {
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	if cpu1, ok1 := cpuTime(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(total/(cpu1-cpu0).Seconds(), "rows/cpu-s")
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/total, "ns/row")
}

// BenchmarkDetectionCSV processes a 200,000-row detection file; the goal
// is at least 1,000,000 rows/s on one core.
func BenchmarkDetectionCSV(b *testing.B) {
	const rows = 200000
	data := detectionFile(rows)
	ctx := context.Background()
	b.Run("Stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		cpu0, ok := cpuTime()
		for b.Loop() {
			n := 0
			for _, err := range (panstarrs.Processor{}).Stream(ctx, bytes.NewReader(data)) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n < rows*9/10 {
				b.Fatalf("%d datums", n)
			}
		}
		reportRates(b, rows, cpu0, ok)
	})
	b.Run("Process", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		cpu0, ok := cpuTime()
		for b.Loop() {
			ds, err := processor.Collect((panstarrs.Processor{}).Stream(ctx, bytes.NewReader(data)))
			if err != nil || len(ds) < rows*9/10 {
				b.Fatal(err, len(ds))
			}
		}
		reportRates(b, rows, cpu0, ok)
	})
}

// BenchmarkMeanCSV processes mean-table rows (the TOM's processor does
// about 2,000 rows/s on these): 20,000 rows of the TOM's 23 columns.
func BenchmarkMeanCSV(b *testing.B) {
	const rows = 20000
	var buf bytes.Buffer
	buf.WriteString(strings.Join(panstarrs.DefaultColumns("mean"), ",") + "\n")
	for i := range rows {
		fmt.Fprintf(&buf, "%d,PSO J230.7155+41.0503,230.71551566722147,41.05027985611414,0.0011,0.0011,%.8f,71,12,12,18,15,14,19.6513,0.01196,18.8274,0.00637,18.3021,0.00366,18.0341,0.00341,-999.0,-999.0\n",
			157262307155530976+int64(i), 56062.89623394777+float64(i)*1e-3)
	}
	data := buf.Bytes()
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0, ok := cpuTime()
	for b.Loop() {
		n := 0
		for _, err := range (panstarrs.Processor{}).Stream(ctx, bytes.NewReader(data)) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 4*rows {
			b.Fatalf("%d datums", n)
		}
	}
	reportRates(b, rows, cpu0, ok)
}
