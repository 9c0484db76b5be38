package e2etest

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
)

// Environment of a worker process started by TestWorkerKilled (this test
// binary run again).
const (
	envWorker    = "TARGETDATA_E2E_WORKER" // the job database URL
	envStore     = "TARGETDATA_E2E_STORE"  // the store's database URL
	envFiles     = "TARGETDATA_E2E_FILES"  // the store's storage URL
	envATLASURL  = "TARGETDATA_E2E_ATLAS_URL"
	envATLASKey  = "TARGETDATA_E2E_ATLAS_KEY"
	envKillAt    = "TARGETDATA_E2E_KILL_AT" // a kill point (killpoints_test.go): the worker kills itself there
	jobTimeout   = 2 * time.Second
	rescueAfter  = 3 * time.Second
	workerPollIv = 100 * time.Millisecond
)

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		os.Exit(workerMain())
	}
	if os.Getenv(envRefreshWorker) != "" {
		os.Exit(refreshWorkerMain()) // refreshpace_test.go
	}
	os.Exit(m.Run())
}

// workerMain is a worker process: the ATLAS service, a SQLite store and a
// River executor on a SQLite job database, running until SIGTERM (or until
// it is killed, which is the point).
func workerMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fail := func(err error) int { log.Error("worker", "error", err); return 1 }
	var store dataproduct.Store
	var httpClient *http.Client
	killAt := os.Getenv(envKillAt)
	if killAt == "" {
		s, closeStore, err := builtin.OpenStore(ctx, os.Getenv(envStore), os.Getenv(envFiles))
		if err != nil {
			return fail(err)
		}
		defer closeStore()
		store = s
	} else {
		s, hc, closeStore, err := killingWorld(ctx, killAt, log)
		if err != nil {
			return fail(err)
		}
		defer closeStore()
		store, httpClient = s, hc
	}
	m, err := atlasManager(store, os.Getenv(envATLASURL), singletarget.Secret(os.Getenv(envATLASKey)), log, httpClient)
	if err != nil {
		return fail(err)
	}
	x, err := riverexec.Open(ctx, os.Getenv(envWorker), m, &riverexec.Options{Workers: 1, Logger: log,
		FetchPollInterval: workerPollIv, JobTimeout: jobTimeout, RescueStuckJobsAfter: rescueAfter})
	if err != nil {
		return fail(err)
	}
	defer x.Close()
	if err := x.Start(ctx); err != nil {
		return fail(err)
	}
	log.Info("worker started", "pid", os.Getpid())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = x.Stop(sctx)
	return 0
}

func atlasManager(store dataproduct.Store, url string, key singletarget.Secret, log *slog.Logger, hc *http.Client) (*singletarget.Manager, error) {
	svc, err := atlas.NewService(url, key, &atlas.Options{Logger: log, Timeout: time.Minute, HTTPClient: hc,
		PollQueued: 200 * time.Millisecond, PollRunning: 200 * time.Millisecond, PollMax: 300 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	m := singletarget.NewManager(store, &singletarget.ManagerOptions{Logger: log})
	if err := m.AddProcessor(atlas.DataProductType, atlas.Processor{}); err != nil {
		return nil, err
	}
	return m, m.AddService(svc)
}

// workerProc is a running worker process.
type workerProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startWorker(t testing.TB, env []string) *workerProc {
	t.Helper()
	exe, err := os.Executable()
	must(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	w := &workerProc{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = w.stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("worker %d said:\n%s", cmd.Process.Pid, w.stderr.String())
		}
	})
	return w
}

// kill sends SIGKILL: the process gets no chance to tidy up.
func (w *workerProc) kill(t *testing.T) {
	t.Helper()
	must(t, w.cmd.Process.Signal(syscall.SIGKILL))
	err := w.cmd.Wait()
	if ws, ok := w.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("worker did not die of SIGKILL: %v", err)
	}
}

// TestWorkerKilled kills a worker process with SIGKILL while it follows an
// ATLAS task (the task takes a few seconds on the simulator), starts a new
// worker on the same job database, and checks that the job finishes with
// exactly one remote task created, one product stored and no duplicate
// datums. Two moments are tested:
//
//   - while the job is snoozed between polls (River state "available" or
//     "scheduled", due at the next poll): the new worker picks it up;
//   - while a poll is in flight (state "running", the poll held by a slow
//     answer): River hands the job to the new worker only after
//     RescueStuckJobsAfter (3 s here, through riverexec.Options), and the
//     retry resumes the recorded remote task instead of submitting again.
//
// River's rescuer runs on the elected leader, and a killed leader's term
// runs out after about 15 s, so the second case takes some 20 s (the first
// about 5 s, the rest of the remote task's run); they run in parallel.
func TestWorkerKilled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		running bool
	}{{"snoozed", false}, {"running", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testWorkerKilled(t, tc.running)
		})
	}
}

func testWorkerKilled(t *testing.T, whileRunning bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sim := atlastest.NewServer(t, &atlastest.Options{QueueDelay: 500 * time.Millisecond, RunTime: 4 * time.Second})
	dir := t.TempDir()
	jobsURL := "sqlite://" + filepath.Join(dir, "jobs.db")
	storeURL := "sqlite://" + filepath.Join(dir, "store.db")
	filesURL := "file://" + filepath.Join(dir, "files")
	env := []string{envWorker + "=" + jobsURL, envStore + "=" + storeURL, envFiles + "=" + filesURL,
		envATLASURL + "=" + sim.URL, envATLASKey + "=" + sim.Token.Reveal()}

	// The web process: inserts the job, reads its status.
	store, closeStore, err := builtin.OpenStore(ctx, storeURL, filesURL)
	must(t, err)
	defer closeStore()
	m, err := atlasManager(store, sim.URL, sim.Token, slog.New(slog.DiscardHandler), nil)
	must(t, err)
	web, err := riverexec.Open(ctx, jobsURL, m, &riverexec.Options{InsertOnly: true})
	must(t, err)
	defer web.Close()
	must(t, web.Migrate(ctx))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "jobs.db")+"?_pragma=busy_timeout(10000)")
	must(t, err)
	defer db.Close()

	w1 := startWorker(t, env)
	id, err := web.Submit(ctx, singletarget.Request{Service: "ATLAS", Target: target,
		Params: map[string][]string{"min_date_mjd": {"60000"}, "max_date_mjd": {"60030"}}})
	must(t, err)
	row, _, _ := strings.Cut(string(id), "-") // River's ids are "<row id>-<key>"
	jobID, _ := strconv.ParseInt(row, 10, 64)
	riverState := func() string {
		var s string
		if err := db.QueryRowContext(ctx, "SELECT state FROM river_job WHERE id = ?", jobID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s (River state %s)", what, riverState())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var remote *singletarget.RemoteTask
	waitFor("the remote task to be recorded", func() bool {
		st, err := web.Status(ctx, id)
		must(t, err)
		remote = st.Remote
		return remote != nil
	})
	if whileRunning {
		// Hold the next poll for longer than the test: the worker is killed
		// inside it.
		sim.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Delay: 5 * time.Minute})
		waitFor("the slow poll in flight", func() bool {
			// Every request but the queue POST is a poll; a poll is counted
			// once answered, so one more request than that is in flight.
			st := sim.Stats()
			return st.Requests-1-st.Polls >= 1 && riverState() == "running"
		})
		time.Sleep(50 * time.Millisecond)
	} else {
		// A snoozed job waits in the database as "available" (or
		// "scheduled") with its scheduled_at at the next poll.
		waitFor("the job to be snoozed", func() bool { s := riverState(); return s == "available" || s == "scheduled" })
	}
	w1.kill(t)
	stateAtKill := riverState() // a dead worker changes nothing: this is the state it left
	if !whileRunning && stateAtKill == "running" {
		t.Log("the worker fetched the job again just before the kill: this run tests a kill mid-step")
	}
	killed := time.Now()
	if sim.Stats().Downloads != 0 {
		t.Fatal("the task finished before the worker was killed: the test proves nothing")
	}

	startWorker(t, env)
	var st singletarget.JobStatus
	waitFor("the job to finish", func() bool {
		st, err = web.Status(ctx, id)
		must(t, err)
		return st.State.Done()
	})
	if st.State != singletarget.JobSucceeded {
		t.Fatalf("job %s: %s", st.State, st.Error)
	}
	if n := sim.Stats().TasksCreated; n != 1 {
		t.Fatalf("%d remote tasks created for one job", n)
	}
	if st.Remote == nil || st.Remote.ID != remote.ID {
		t.Fatalf("finished with remote task %+v, recorded %+v", st.Remote, remote)
	}
	ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
	must(t, err)
	if len(ps) != 1 {
		t.Fatalf("%d products stored", len(ps))
	}
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
	must(t, err)
	rc, err := store.OpenProduct(ctx, ps[0].ID)
	must(t, err)
	want, err := atlas.Processor{}.Process(ctx, rc)
	rc.Close()
	must(t, err)
	seen := map[dataproduct.Key]bool{}
	for _, d := range ds {
		k, err := d.Key()
		must(t, err)
		if seen[k] {
			t.Fatalf("duplicate datum %v", d)
		}
		seen[k] = true
	}
	if len(ds) != len(want) || len(ds) == 0 {
		t.Fatalf("%d datums stored, the product holds %d", len(ds), len(want))
	}
	t.Logf("killed in River state %q; job finished %s after the kill, attempts %d, remote task %s, %d datums",
		stateAtKill, time.Since(killed).Round(time.Second), st.Attempts, st.Remote.ID, len(ds))
}
