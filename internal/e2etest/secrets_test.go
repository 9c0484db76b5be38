package e2etest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/riverexec"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// evidence collects everything a run produced that a user or an operator
// could see: log lines, error texts, job records, stored files.
type evidence struct {
	mu    sync.Mutex
	items []item
}

type item struct {
	what string
	data []byte
}

func (e *evidence) add(what string, data []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.items = append(e.items, item{what, bytes.Clone(data)})
}

func (e *evidence) addErr(what string, err error) {
	if err != nil {
		e.add(what, fmt.Appendf(nil, "%v | %+v | %#v | %s", err, err, err, err.Error()))
	}
}

func (e *evidence) addJSON(what string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		e.add(what, fmt.Appendf(nil, "%+v", v))
		return
	}
	e.add(what, b)
}

// Write makes evidence a log sink: each write is a log line.
func (e *evidence) Write(p []byte) (int, error) {
	e.add("log line", p)
	return len(p), nil
}

// secretForms returns the ways a secret could show: as is, URL-escaped,
// and inside HTTP Basic credentials.
func secretForms() map[string]string {
	plain := []string{atlasPassword, panstarrsToken, ztfEmail, ztfUserpass, ztfHTTPUser, ztfHTTPPass, atlasBadToken, ztfBadUserpass,
		atlasToken().Reveal()}
	out := map[string]string{}
	for _, s := range plain {
		out[s] = s
		out[url.QueryEscape(s)] = s
	}
	basic := base64.StdEncoding.EncodeToString([]byte(ztfHTTPUser + ":" + ztfHTTPPass))
	out[basic] = "ZFPS Basic credentials"
	out[base64.StdEncoding.EncodeToString([]byte(atlasUser+":"+atlasPassword))] = "ATLAS Basic credentials"
	return out
}

// atlasToken is the API token the ATLAS rigs' simulator gives atlasUser.
func atlasToken() singletarget.Secret {
	s := atlastest.Start(&atlastest.Options{Username: atlasUser, Password: atlasPassword})
	defer s.Close()
	return s.Token
}

// echo makes the rig's server repeat the credentials of its next n
// requests in its error answers.
func echo(r *rig, n int) {
	switch {
	case r.atlas != nil:
		r.atlas.EchoCredentialsNext(n)
	case r.ps != nil:
		r.ps.EchoCredentialsNext(n)
	default:
		r.ztf.EchoCredentialsNext(n)
	}
}

// echoTask makes the rig's next ATLAS task fail with an error_msg that
// quotes the account's token.
func echoTask(r *rig) {
	r.atlas.FailNextTask("Invalid token " + r.atlasToken.Reveal() + " for this request (Authorization: Token " + r.atlasToken.Reveal() + ")")
}

// TestNoSecretsAnywhere runs every service with distinctive credentials,
// logging at DEBUG, through successful and failing queries (refused
// credentials, 5xx, 429, timeouts, dropped connections, a server that
// echoes the credentials back in its error answers) on the Pool, and
// through the River executor with a SQLite store and job database; then
// it scans every log line, error text (%v, %+v, %#v), job status, product
// record (Extra included), stored file, River job row (args, metadata,
// errors) and the bytes of both SQLite databases (WAL files included) for
// the credentials: none may appear.
func TestNoSecretsAnywhere(t *testing.T) {
	ev := &evidence{}
	log := slog.New(slog.NewTextHandler(ev, &slog.HandlerOptions{Level: slog.LevelDebug}))
	secrets := secretForms()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	type scenario struct {
		name   string
		opts   rigOptions
		inject func(*rig)
	}
	quick := 300 * time.Millisecond
	for _, rg := range rigs {
		scenarios := []scenario{
			{name: "ok"},
			{name: "5xx", inject: func(r *rig) { fail5xx(r, 50) }},
			{name: "429", inject: func(r *rig) { throttle(r) }},
			{name: "timeout", opts: rigOptions{timeout: quick}, inject: func(r *rig) { slow(r, 50) }},
			{name: "dropped connections", inject: func(r *rig) { drop(r, 50) }},
			{name: "echoing server", inject: func(r *rig) { echo(r, 50) }},
		}
		if rg.async {
			scenarios = append(scenarios, scenario{name: "refused credentials", opts: rigOptions{badCreds: true}})
		}
		if rg.name == "ATLAS" {
			scenarios = append(scenarios, scenario{name: "echoing task", inject: echoTask})
		}
		for _, sc := range scenarios {
			sc.opts.logger = log
			r := rg.make(t, sc.opts)
			if sc.inject != nil {
				sc.inject(r)
			}
			what := rg.name + " " + sc.name
			pool := singletarget.NewPool(r.m, &singletarget.PoolOptions{Workers: 1, MaxAttempts: 2, Logger: log,
				RetryBackoff: func(int) time.Duration { return 10 * time.Millisecond }, MaxThrottleWait: 1500 * time.Millisecond})
			must(t, pool.Start(ctx))
			id, err := pool.Submit(ctx, r.req)
			must(t, err)
			st, err := pool.Wait(ctx, id)
			must(t, err)
			must(t, pool.Stop(ctx))
			if sc.name == "ok" && st.State != singletarget.JobSucceeded {
				t.Fatalf("%s: %s", what, st.Error)
			}
			if sc.name != "ok" && sc.name != "429" && st.State == singletarget.JobSucceeded {
				t.Fatalf("%s: the fault did not make the query fail, so its error path is not scanned", what)
			}
			ev.addJSON(what+" job status", st)
			ev.addErr(what+" job error", st.Err)
			if sc.name == "echoing task" {
				echoTask(r)
			}
			if sc.name == "5xx" || sc.name == "refused credentials" || strings.HasPrefix(sc.name, "echoing") {
				_, err = r.m.Run(ctx, r.req) // the Manager's own error path too
				ev.addErr(what+" Run error", err)
			}
			scanStore(t, ev, what, r.store)
			r.closeSim()
		}
	}

	// River on SQLite, with a SQLite store and local files.
	dir := t.TempDir()
	store, closeStore, err := builtin.OpenStore(ctx, "sqlite://"+filepath.Join(dir, "store.db"), "file://"+filepath.Join(dir, "files"))
	must(t, err)
	for _, rc := range []struct {
		name   string
		make   rigMaker
		opts   rigOptions
		inject func(*rig)
	}{
		{"ATLAS ok", newATLAS, rigOptions{}, nil},
		{"ATLAS refused credentials", newATLAS, rigOptions{badCreds: true}, nil},
		{"ATLAS 5xx", newATLAS, rigOptions{}, func(r *rig) {
			r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Times: 100, Status: 503})
		}},
		{"ZTF_FP ok", newZTFFP, rigOptions{}, nil},
		{"ZTF_FP refused credentials", newZTFFP, rigOptions{badCreds: true}, nil},
		{"ZTF_FP 5xx", newZTFFP, rigOptions{}, func(r *rig) {
			r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus})
			r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 503, Times: 100})
		}},
		{"PANSTARRS 5xx", newPanSTARRS, rigOptions{}, func(r *rig) { r.ps.Inject(panstarrstest.Fault{Times: 100, Status: 503}) }},
		{"ATLAS echoing server", newATLAS, rigOptions{}, func(r *rig) { echo(r, 100) }},
		{"ATLAS echoing task", newATLAS, rigOptions{}, echoTask},
		{"ZTF_FP echoing server", newZTFFP, rigOptions{}, func(r *rig) { echo(r, 100) }},
		{"PANSTARRS echoing server", newPanSTARRS, rigOptions{}, func(r *rig) { echo(r, 100) }},
	} {
		rc.opts.logger, rc.opts.store = log, store
		r := rc.make(t, rc.opts)
		if rc.inject != nil {
			rc.inject(r)
		}
		jobs := "sqlite://" + filepath.Join(dir, strings.ReplaceAll(rc.name, " ", "_")+".jobs.db")
		x, err := riverexec.Open(ctx, jobs, r.m, &riverexec.Options{Workers: 1, Logger: log, FetchPollInterval: 50 * time.Millisecond, MaxAttempts: 2})
		must(t, err)
		must(t, x.Migrate(ctx))
		must(t, x.Start(ctx))
		id, err := x.Submit(ctx, r.req)
		must(t, err)
		var st singletarget.JobStatus
		for {
			st, err = x.Status(ctx, id)
			must(t, err)
			if st.State.Done() || st.Error != "" {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: job never finished or failed", rc.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.HasSuffix(rc.name, " ok") != (st.State == singletarget.JobSucceeded) {
			t.Fatalf("%s: job %s %s", rc.name, st.State, st.Error)
		}
		ev.addJSON(rc.name+" river status", st)
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		_ = x.StopAndCancel(sctx)
		scancel()
		must(t, x.Close())
		r.closeSim()
	}
	scanStore(t, ev, "sqlstore", store)
	closeStore()
	must(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ev.add("file "+strings.TrimPrefix(path, dir), b) // databases, WAL files, product files
		return nil
	}))

	lines, found := 0, 0
	for _, it := range ev.items {
		if it.what == "log line" {
			lines++
		}
		for form, secret := range secrets {
			if bytes.Contains(it.data, []byte(form)) {
				found++
				t.Errorf("%s shows %s: %.300s", it.what, secret, it.data)
			}
		}
	}
	if lines < 50 {
		t.Fatalf("only %d log lines: the scan is not looking at much", lines)
	}
	t.Logf("scanned %d log lines and %d other items for %d secret forms: %d found", lines, len(ev.items)-lines, len(secrets), found)
}

// scanStore adds every product record and file of a store to ev.
func scanStore(t *testing.T, ev *evidence, what string, s dataproduct.Store) {
	t.Helper()
	if s == nil {
		return
	}
	ctx := context.Background()
	ps, err := s.ListProducts(ctx, dataproduct.ProductFilter{})
	must(t, err)
	for _, p := range ps {
		ev.addJSON(what+" product record", p)
		rc, err := s.OpenProduct(ctx, p.ID)
		must(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		must(t, err)
		ev.add(what+" product file "+p.Name, b)
	}
	ds, err := s.ListDatums(ctx, dataproduct.DatumFilter{})
	must(t, err)
	ev.addJSON(what+" datums", ds)
}

func fail5xx(r *rig, n int) {
	switch {
	case r.atlas != nil:
		r.atlas.Inject(atlastest.Fault{Times: n, Status: 503})
	case r.ps != nil:
		r.ps.Inject(panstarrstest.Fault{Times: n, Status: 503})
	default:
		r.ztf.Inject(ztftest.Fault{Status: 503, Times: n})
	}
}

func throttle(r *rig) {
	switch {
	case r.atlas != nil:
		r.atlas.ThrottleNext(time.Second)
	case r.ps != nil:
		r.ps.ThrottleNext(time.Second)
	default:
		r.ztf.ThrottleNext(time.Second)
	}
}

func slow(r *rig, n int) {
	for range n {
		switch {
		case r.atlas != nil:
			r.atlas.Inject(atlastest.Fault{Delay: 2 * time.Second})
		case r.ps != nil:
			r.ps.Inject(panstarrstest.Fault{Delay: 2 * time.Second})
		default:
			r.ztf.Inject(ztftest.Fault{Delay: 2 * time.Second})
		}
	}
}

func drop(r *rig, n int) {
	switch {
	case r.atlas != nil:
		r.atlas.Inject(atlastest.Fault{Times: n, Reset: true})
	case r.ps != nil:
		for range n {
			r.ps.Inject(panstarrstest.Fault{Reset: true})
		}
	default:
		r.ztf.Inject(ztftest.Fault{Reset: true, Times: n})
	}
}
