package atlas_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/internal/memtest"
	"github.com/tomgo/targetdata/singletarget"
)

const (
	genHeader = "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs\n"
	genRow    = "60316.142545  17.349  0.089   417   37 o  0  28.03  65.00165 -54.93795  9674.06  2072.74 2.51 1.85  76.9 -0.504 19.34 20.82 04a60316o0180o\n"
)

// genFile is an ATLAS result file of about size bytes, made as it is
// read (never held in memory).
type genFile struct {
	left   int64
	header bool
	block  []byte
	off    int
}

func newGenFile(size int64) *genFile {
	block := make([]byte, 0, 64<<10)
	for len(block)+len(genRow) <= cap(block) {
		block = append(block, genRow...)
	}
	return &genFile{left: size, block: block}
}

func (g *genFile) Read(p []byte) (int, error) {
	if !g.header {
		g.header = true
		n := copy(p, genHeader)
		g.left -= int64(n)
		return n, nil
	}
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := copy(p, g.block[g.off:])
	g.off = (g.off + n) % len(g.block)
	g.left -= int64(n)
	if g.left <= 0 && g.off != 0 {
		// End on a whole row.
		rest := len(genRow) - g.off%len(genRow)
		if rest != len(genRow) {
			g.left += int64(rest)
		}
	}
	return n, nil
}

// discard is a ProductSink that reads the file to the end and keeps only
// its size: what a bucket upload costs the process, without the bucket.
type discard struct{ n int64 }

func (d *discard) PutProduct(_ context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return dataproduct.Product{}, err
	}
	d.n, p.Size = n, n
	return p, nil
}

// resumeDownload queues a task on a simulator whose result file is size
// bytes, waits until it has finished, and returns a function that runs
// the Resume that downloads and stores it.
func resumeDownload(t *testing.T, size, maxResult int64, sink singletarget.ProductSink) func() error {
	t.Helper()
	sim := atlastest.NewServer(t, &atlastest.Options{FixtureReader: func() io.Reader { return newGenFile(size) }})
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{HTTPClient: sim.Client(), MaxResultSize: maxResult, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	form := svc.NewForm()
	if err := form.Decode(url.Values{"min_date_mjd": {"60000"}, "max_date_mjd": {"60030"}}); err != nil {
		t.Fatal(err)
	}
	target := singletarget.Target{ID: 1, Name: "big", RA: 10, Dec: 10}
	out, err := svc.Query(context.Background(), target, form, sink)
	if err != nil {
		t.Fatal(err)
	}
	for time.Sleep(30 * time.Millisecond); sim.Tasks()[0].State != "finished"; time.Sleep(10 * time.Millisecond) {
	}
	return func() error {
		_, err := svc.Resume(context.Background(), target, *out.Pending, sink)
		return err
	}
}

// The result file goes from the server to the ProductSink as a stream:
// the heap a 300 MB download takes is that of a 1 MB one (within a few
// MB), and a body over the cap fails at the cap without being held
// (issue 20 item 8). Before, the whole body was read into memory first
// (about twice its size, with the growing buffer).
func TestResultDownloadMemory(t *testing.T) {
	size := int64(300 << 20)
	if testing.Short() {
		size = 60 << 20
	}
	measure := func(size, maxResult int64) (memtest.Peak, int64, error) {
		sink := &discard{}
		run := resumeDownload(t, size, maxResult, sink)
		peak, err := memtest.Measure(func(memtest.Watch) error { return run() })
		return peak, sink.n, err
	}
	floor, n, err := measure(1<<20, 1<<30)
	if err != nil || n < 1<<20 {
		t.Fatalf("1 MB download: %d bytes, %v", n, err)
	}
	big, n, err := measure(size, 1<<30)
	if err != nil || n < size {
		t.Fatalf("%d MB download: %d bytes, %v", size>>20, n, err)
	}
	t.Logf("peak heap above baseline: %.1f MB for 1 MB, %.1f MB for %d MB", float64(floor.Heap)/1e6, float64(big.Heap)/1e6, size>>20)
	if big.Heap > floor.Heap+8<<20 {
		t.Errorf("a %d MB download held %.1f MB of heap, a 1 MB one %.1f MB: the file is not streamed", size>>20, float64(big.Heap)/1e6, float64(floor.Heap)/1e6)
	}

	over, _, err := measure(size, size/3)
	if !errors.Is(err, httpclient.ErrBodyTooLarge) || !errors.Is(err, singletarget.ErrRemote) {
		t.Fatalf("a file over the cap: %v", err)
	}
	t.Logf("peak heap above baseline: %.1f MB for a %d MB file cut at the %d MB cap", float64(over.Heap)/1e6, size>>20, size/3>>20)
	if over.Heap > floor.Heap+8<<20 {
		t.Errorf("a file over the cap held %.1f MB of heap before failing", float64(over.Heap)/1e6)
	}
}
