package e2etest

import (
	"context"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

// Kill points of an ATLAS job (issue 20, finding 2): where a worker
// started with envKillAt kills itself with SIGKILL.
const (
	// killAfterPost: the server accepted the queue POST (the task exists);
	// the worker dies before it reads the answer, so the job never learns
	// the task's id.
	killAfterPost = "post"
	// killAfterDownload: the whole result file was read; nothing is stored.
	killAfterDownload = "download"
	// killMidIngest: two chunks of datums were inserted in the ingest's
	// transaction; it is not committed.
	killMidIngest = "ingest"
	// killAfterDelete: the datums are committed and the server deleted the
	// task; the worker dies before the job is marked done.
	killAfterDelete = "delete"
)

// killMarker starts the log line a worker writes just before it kills
// itself.
const killMarker = "KILLED AT "

// killChunk is the ingest chunk of a worker that is to die mid-ingest.
const killChunk = 8

// killSelf logs the kill point and sends SIGKILL to the process itself:
// nothing after this line runs, no deferred function, no tidying up.
func killSelf(log *slog.Logger, point, what string) {
	log.Error(killMarker+point, "what", what)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// killingWorld is the store and HTTP client of a worker that dies at
// killAt: the store (Options.BatchSize killChunk, so that an ingest sends
// chunks inside its open transaction) and a transport that let the step
// run up to the kill point.
func killingWorld(ctx context.Context, killAt string, log *slog.Logger) (dataproduct.Store, *http.Client, func(), error) {
	st, err := sqlstore.Open(ctx, os.Getenv(envStore), &sqlstore.Options{BlobURL: os.Getenv(envFiles), BatchSize: killChunk})
	if err != nil {
		return nil, nil, nil, err
	}
	var store dataproduct.Store = st
	if killAt == killMidIngest {
		store = &killingStore{Store: st, log: log}
	}
	hc := &http.Client{Transport: &killingTransport{next: http.DefaultTransport, point: killAt, log: log}}
	return store, hc, func() { st.Close() }, nil
}

// killingTransport kills the process once the server has acted on the
// request of its kill point.
type killingTransport struct {
	next  http.RoundTripper
	point string
	log   *slog.Logger
}

func (k *killingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := k.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	switch {
	case k.point == killAfterPost && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/queue/") && resp.StatusCode == http.StatusCreated:
		killSelf(k.log, k.point, "the server accepted the task; its answer is never read")
	case k.point == killAfterDelete && r.Method == http.MethodDelete && resp.StatusCode == http.StatusNoContent:
		killSelf(k.log, k.point, "the server deleted the task")
	case k.point == killAfterDownload && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/static/results/") && resp.StatusCode == http.StatusOK:
		resp.Body = &killOnEOF{ReadCloser: resp.Body, k: k}
	}
	return resp, nil
}

// killOnEOF kills the process when the body has been read to its end.
type killOnEOF struct {
	io.ReadCloser
	k *killingTransport
}

func (b *killOnEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		killSelf(b.k.log, b.k.point, "the whole result file was read; nothing is stored yet")
	}
	return n, err
}

// killingStore kills the process in the middle of an ingest: after two
// chunks went into the open transaction.
type killingStore struct {
	dataproduct.Store
	log *slog.Logger
}

func (s *killingStore) AddDatums(ctx context.Context, ds iter.Seq2[dataproduct.Datum, error]) (dataproduct.IngestResult, error) {
	return s.Store.AddDatums(ctx, func(yield func(dataproduct.Datum, error) bool) {
		n := 0
		for d, err := range ds {
			if n == 2*killChunk+1 {
				killSelf(s.log, killMidIngest, "two chunks of datums inserted, the transaction not committed")
			}
			if !yield(d, err) {
				return
			}
			n++
		}
	})
}

// TestWorkerKilledAtEachStep kills a River worker with SIGKILL at each step
// of an ATLAS job (the worker kills itself at the exact point: after the
// server accepted the queue POST but before the answer is read, after the
// result download, in the middle of the ingest transaction, after the
// DELETE), starts a new worker on the same job database, and shows at
// every kill point: the job succeeds, one remote task was created and none
// is left behind, one product is stored, and its datums are all there,
// each once.
//
// A killed worker's job is "running" in River's table; the new worker's
// rescuer hands it on after RescueStuckJobsAfter (3 s here) once it is
// the leader (a killed leader's term runs out after about 15 s): each case
// takes some 20 s, and they run in parallel.
func TestWorkerKilledAtEachStep(t *testing.T) {
	for _, point := range []string{killAfterPost, killAfterDownload, killMidIngest, killAfterDelete} {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			testKilledAt(t, point)
		})
	}
}

func testKilledAt(t *testing.T, point string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 100 * time.Millisecond, RunTime: 300 * time.Millisecond})
	dir := t.TempDir()
	jobsURL := "sqlite://" + filepath.Join(dir, "jobs.db")
	storeURL := "sqlite://" + filepath.Join(dir, "store.db")
	filesURL := "file://" + filepath.Join(dir, "files")
	env := []string{envWorker + "=" + jobsURL, envStore + "=" + storeURL, envFiles + "=" + filesURL,
		envATLASURL + "=" + sim.URL, envATLASKey + "=" + sim.Token.Reveal()}

	store, closeStore, err := builtin.OpenStore(ctx, storeURL, filesURL)
	must(t, err)
	defer closeStore()
	m, err := atlasManager(store, sim.URL, sim.Token, slog.New(slog.DiscardHandler), nil)
	must(t, err)
	web, err := riverexec.Open(ctx, jobsURL, m, &riverexec.Options{InsertOnly: true})
	must(t, err)
	defer web.Close()
	must(t, web.Migrate(ctx))

	w1 := startWorker(t, append(env, envKillAt+"="+point))
	id, err := web.Submit(ctx, singletarget.Request{Service: atlas.ServiceName, Target: target,
		Params: map[string][]string{"min_date_mjd": {"60000"}, "max_date_mjd": {"60060"}}})
	must(t, err)
	w1.waitKilled(t, ctx, point)

	// What the dead worker left.
	st, err := web.Status(ctx, id)
	must(t, err)
	stats := sim.Stats()
	atKill := stats
	products := func() []dataproduct.Product {
		ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
		must(t, err)
		return ps
	}
	datums := func() []dataproduct.Datum {
		ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
		must(t, err)
		return ds
	}
	if st.State.Done() {
		t.Fatalf("the job is %s after the kill: the kill came too late to prove anything", st.State)
	}
	if stats.TasksCreated != 1 {
		t.Fatalf("%d remote tasks when the worker died, want 1", stats.TasksCreated)
	}
	switch point {
	case killAfterPost:
		if st.Remote != nil {
			t.Fatalf("the job recorded remote task %s: the kill came after the answer was read", st.Remote.ID)
		}
	case killAfterDownload:
		if stats.Downloads != 1 || len(products()) != 0 {
			t.Fatalf("at the kill: %d downloads, %d products; want 1 and 0", stats.Downloads, len(products()))
		}
	case killMidIngest:
		if n := len(products()); n != 1 {
			t.Fatalf("at the kill: %d products, want 1 (stored before the ingest)", n)
		}
		if n := len(datums()); n != 0 {
			t.Fatalf("at the kill: %d datums, want 0 (the ingest transaction is rolled back)", n)
		}
	case killAfterDelete:
		if stats.Deletes != 1 || len(datums()) == 0 {
			t.Fatalf("at the kill: %d deletes, %d datums; want 1 and the datums committed first", stats.Deletes, len(datums()))
		}
	}
	if point != killAfterDelete && stats.Deletes != 0 {
		t.Fatalf("the task was deleted before the kill (%d deletes)", stats.Deletes)
	}

	// A new worker finishes the job.
	killed := time.Now()
	startWorker(t, env)
	for {
		st, err = web.Status(ctx, id)
		must(t, err)
		if st.State.Done() {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for the job (state %s, progress %+v)", st.State, st.Progress)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.State != singletarget.JobSucceeded {
		t.Fatalf("job %s: %s", st.State, st.Error)
	}

	// No remote task left behind, and only one made.
	stats = sim.Stats()
	if stats.TasksCreated != 1 {
		t.Errorf("%d remote tasks created for one job", stats.TasksCreated)
	}
	for _, tk := range sim.Tasks() {
		if tk.State != "deleted" {
			t.Errorf("remote task %d left behind in state %s", tk.ID, tk.State)
		}
	}
	if point == killAfterPost {
		// The new worker found the task by its key in the account's list
		// instead of queueing a second one.
		if n := stats.ByEndpoint[atlastest.EndpointList] - atKill.ByEndpoint[atlastest.EndpointList]; n < 1 {
			t.Errorf("the new worker never read the task list (%d reads)", n)
		}
		if n := stats.ByEndpoint[atlastest.EndpointQueue]; n != 1 {
			t.Errorf("%d queue POSTs, want 1", n)
		}
	}
	wantDownloads := 1
	if point == killAfterDownload {
		wantDownloads = 2 // nothing was stored: the file is fetched again
	}
	if stats.Downloads != wantDownloads {
		t.Errorf("%d downloads, want %d (recorded products are processed, never fetched again)", stats.Downloads, wantDownloads)
	}

	// One product, every datum of its file, each once.
	ps := products()
	if len(ps) != 1 {
		t.Fatalf("%d products stored, want 1", len(ps))
	}
	rc, err := store.OpenProduct(ctx, ps[0].ID)
	must(t, err)
	want, err := atlas.Processor{}.Process(ctx, rc)
	rc.Close()
	must(t, err)
	ds := datums()
	seen := map[dataproduct.Key]bool{}
	for _, d := range ds {
		k, err := d.Key()
		must(t, err)
		if seen[k] {
			t.Errorf("duplicate datum %+v", d)
		}
		seen[k] = true
		if d.ProductID != ps[0].ID {
			t.Errorf("datum of product %d, want %d", d.ProductID, ps[0].ID)
		}
	}
	for _, d := range want {
		d.TargetID = target.ID
		k, err := d.Key()
		must(t, err)
		if !seen[k] {
			t.Errorf("lost datum %+v", d)
		}
	}
	if len(ds) != len(want) || len(want) <= 2*killChunk+1 {
		t.Errorf("%d datums stored, the product holds %d (more than %d needed for the mid-ingest kill)", len(ds), len(want), 2*killChunk+1)
	}
	if st.Added != len(want) {
		t.Errorf("the job reports %d datums added, want %d", st.Added, len(want))
	}
	if len(st.Products) != 1 || st.Products[0].ID != ps[0].ID {
		t.Errorf("the job reports products %+v", st.Products)
	}
	t.Logf("killed %s; the job finished %s later after %d attempts: remote task %s, %d datums, %d remote task(s) made, %d left",
		point, time.Since(killed).Round(time.Second), st.Attempts, st.Remote.ID, len(ds), stats.TasksCreated, leftBehind(sim))
	t.Logf("ATLAS requests at the kill: %s", atKill.Summary())
	t.Logf("ATLAS requests in all:      %s", stats.Summary())
}

// leftBehind counts the simulator's tasks not deleted.
func leftBehind(sim *atlastest.Server) int {
	n := 0
	for _, tk := range sim.Tasks() {
		if tk.State != "deleted" {
			n++
		}
	}
	return n
}

// waitKilled waits for the worker to kill itself at point.
func (w *workerProc) waitKilled(t *testing.T, ctx context.Context, point string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		ws, ok := w.cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the worker did not die of SIGKILL: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("the worker never reached kill point %q", point)
	}
	if !strings.Contains(w.stderr.String(), killMarker+point) {
		t.Fatalf("the worker died elsewhere than at %q", point)
	}
}
