package e2etest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// fault is one row of the matrix: what to inject, and what must come of
// the query: success equal to a fault-free run (want nil), or a failure
// matching want.
type fault struct {
	name   string
	opts   rigOptions
	inject func(r *rig)
	want   error
}

var atlasFaults = []fault{
	{name: "5xx burst on polls", inject: func(r *rig) { r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Times: 3, Status: 503}) }},
	{name: "5xx burst on the download", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Times: 3, Status: 502})
	}},
	// A failed submission is retried: the job's key finds the task if the
	// server made one, so the retry never makes a second (issue 20).
	{name: "5xx on the submission", inject: func(r *rig) { r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointQueue, Status: 503}) }},
	{name: "connection reset on polls", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Times: 2, Reset: true})
	}},
	{name: "connection reset on the download", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Times: 2, Reset: true})
	}},
	{name: "connection reset on the submission", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointQueue, Reset: true})
	}},
	{name: "slow poll answer", opts: rigOptions{timeout: 300 * time.Millisecond}, inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Delay: time.Second})
	}},
	{name: "slow download", opts: rigOptions{timeout: 300 * time.Millisecond}, inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Delay: time.Second})
	}},
	{name: "result cut short (framing intact)", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Truncate: true})
	}},
	{name: "result aborted mid-body", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Times: 2, Truncate: true, Reset: true})
	}},
	{name: "malformed JSON on a poll", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Times: 2, Truncate: true})
	}},
	{name: "malformed JSON on the submission", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointQueue, Truncate: true})
	}},
	{name: "HTML instead of JSON on a poll", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Status: 200})
	}},
	{name: "429 storm on the submission", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointWrite, Times: 3, RetryAfter: time.Second, Status: 429})
	}},
	{name: "task that never finishes", opts: rigOptions{deadline: 500 * time.Millisecond}, inject: func(r *rig) { r.atlas.StickNextTask(1) },
		want: singletarget.ErrDeadline},
	{name: "task that fails remotely", inject: func(r *rig) { r.atlas.FailNextTask("Could not parse the result file") },
		want: singletarget.ErrTaskFailed},
	{name: "task that disappears", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Times: 100, Status: 404})
	}, want: singletarget.ErrTaskFailed},
	{name: "result file that disappears", inject: func(r *rig) {
		r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointResult, Times: 100, Status: 404})
	}, want: singletarget.ErrNotFound},
}

var panstarrsFaults = []fault{
	{name: "5xx burst", inject: func(r *rig) { r.ps.Inject(panstarrstest.Fault{Times: 3, Status: 503}) }},
	{name: "5xx that does not stop", inject: func(r *rig) { r.ps.Inject(panstarrstest.Fault{Times: 100, Status: 500}) }, want: singletarget.ErrRemote},
	{name: "connection reset", inject: func(r *rig) {
		r.ps.Inject(panstarrstest.Fault{Reset: true})
		r.ps.Inject(panstarrstest.Fault{Reset: true})
	}},
	{name: "slow answer", opts: rigOptions{timeout: 300 * time.Millisecond}, inject: func(r *rig) { r.ps.Inject(panstarrstest.Fault{Delay: time.Second}) }},
	{name: "body cut short", inject: func(r *rig) { r.ps.Inject(panstarrstest.Fault{Times: 2, Truncate: true, Reset: true}) }},
	{name: "malformed JSON", inject: func(r *rig) {
		r.ps.Inject(panstarrstest.Fault{Status: 200, Body: `{"info": [{"name": "objID"`})
	}},
	{name: "429 storm", inject: func(r *rig) {
		for range 3 {
			r.ps.ThrottleNext(time.Second)
		}
	}},
	{name: "answer that disappears (404)", inject: func(r *rig) { r.ps.Inject(panstarrstest.Fault{Endpoint: "dr2/mean", Status: 404}) }, want: singletarget.ErrNotFound},
}

var ztfFaults = []fault{
	{name: "5xx burst", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 503}, ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 502})
	}},
	{name: "5xx that does not stop", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 500, Times: 20})
	},
		want: singletarget.ErrRemote},
	{name: "connection reset", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Reset: true}, ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Reset: true})
	}},
	{name: "slow answer", opts: rigOptions{timeout: 300 * time.Millisecond}, inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Delay: time.Second})
	}},
	{name: "body aborted mid-way", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true, Reset: true})
	}},
	{name: "body cut short (framing intact)", inject: func(r *rig) { r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Truncate: true}) }},
	{name: "answer that is not a table", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Status: 200, Body: "<html>Service down for maintenance</html>", Times: 20})
	}, want: singletarget.ErrRemote},
	{name: "429 storm", inject: func(r *rig) {
		for range 3 {
			r.ztf.ThrottleNext(time.Second)
		}
	}},
}

var ztffpFaults = []fault{
	{name: "5xx burst on status", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 503}, ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 502})
	}},
	{name: "5xx on the submission", inject: func(r *rig) { r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointSubmit, Status: 503}) }, want: singletarget.ErrRemote},
	{name: "connection reset on status", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Reset: true}, ztftest.Fault{Endpoint: ztftest.EndpointStatus, Reset: true})
	}},
	{name: "connection reset on the download", inject: func(r *rig) { r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointDownload, Reset: true}) }},
	{name: "slow status page", opts: rigOptions{timeout: 300 * time.Millisecond}, inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Delay: time.Second})
	}},
	{name: "download aborted mid-body", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointDownload, Truncate: true, Reset: true})
	}},
	{name: "download cut short (framing intact)", inject: func(r *rig) { r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointDownload, Truncate: true}) }},
	{name: "garbage status page while polling", inject: func(r *rig) {
		// The first status request is Query's look for a job to adopt.
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus}, ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 200, Body: "<html><table><tr><td>{broken"})
	}},
	{name: "garbage status page before submitting", inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 200, Body: "<html><table><tr><td>{broken"})
	}, want: singletarget.ErrRemote},
	{name: "429 storm", inject: func(r *rig) {
		for range 3 {
			r.ztf.ThrottleNext(time.Second)
		}
	}},
	{name: "job that never finishes", opts: rigOptions{deadline: 500 * time.Millisecond}, inject: func(r *rig) {
		r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Status: 200, Body: "Zero records returned", Times: 1000})
	}, want: singletarget.ErrDeadline},
	{name: "job that fails remotely", inject: func(r *rig) { r.ztf.FailNextJob(64) }, want: singletarget.ErrTaskFailed},
	{name: "result that disappears", inject: func(r *rig) { r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointDownload, Status: 404, Times: 20}) },
		want: singletarget.ErrNotFound},
}

// TestFaultMatrix runs each service's query on a Pool against its
// simulator with each fault injected before the query starts. A query that
// succeeds stored exactly one product and exactly the datums of a
// fault-free run (none lost, none duplicated), and made exactly one remote
// task; one that fails did so with an error of the expected category and
// left no datums (or all of them, never some), and no second remote task.
func TestFaultMatrix(t *testing.T) {
	matrix := map[string][]fault{"ATLAS": atlasFaults, "PANSTARRS": panstarrsFaults, "ZTF": ztfFaults, "ZTF_FP": ztffpFaults}
	for _, rg := range rigs {
		want := baseline(t, rg.name, rg.make)
		for _, f := range matrix[rg.name] {
			t.Run(rg.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				r := rg.make(t, f.opts)
				f.inject(r)
				st := runPool(t, r)
				keys := datumKeys(t, r.store)
				switch {
				case f.want == nil:
					if st.State != singletarget.JobSucceeded {
						t.Logf("error %T: remote %v", st.Err, errors.Is(st.Err, singletarget.ErrRemote))
						t.Fatalf("job %s: %s", st.State, st.Error)
					}
					if n := len(products(t, r.store)); n != 1 || len(st.Products) != 1 {
						t.Fatalf("%d products stored, %d reported; want 1", n, len(st.Products))
					}
					if !slices.Equal(keys, want) {
						t.Fatalf("%d datums, a fault-free run gives %d (or different ones)", len(keys), len(want))
					}
				default:
					if st.State != singletarget.JobFailed || !errors.Is(st.Err, f.want) {
						t.Logf("%d datums (baseline %d), %d remote, %d products", len(keys), len(want), r.remote(), len(products(t, r.store)))
						t.Fatalf("job %s with error %v; want a failure matching %v", st.State, st.Err, f.want)
					}
					if len(keys) != 0 && !slices.Equal(keys, want) {
						t.Fatalf("a failed query left %d datums", len(keys))
					}
				}
				if rg.async && r.remote() > 1 {
					t.Fatalf("%d remote tasks for one query", r.remote())
				}
				t.Logf("%s after %d attempts, %d remote, %d datums: %s", st.State, st.Attempts, r.remote(), len(keys), st.Error)
			})
		}
	}
}

// runPool runs the rig's request on a one-worker Pool with quick retries
// and returns the final status.
func runPool(t *testing.T, r *rig) singletarget.JobStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool := singletarget.NewPool(r.m, &singletarget.PoolOptions{Workers: 1, MaxAttempts: 4,
		RetryBackoff: func(int) time.Duration { return 20 * time.Millisecond }})
	must(t, pool.Start(ctx))
	defer pool.Stop(ctx)
	id, err := pool.Submit(ctx, r.req)
	must(t, err)
	st, err := pool.Wait(ctx, id)
	must(t, err)
	return st
}

// TestCancelLeavesNoGoroutines cancels each service's query while a
// request is in flight (a slow answer) and checks that once the pool has
// stopped and the simulator is closed, no goroutine of the library is left.
func TestCancelLeavesNoGoroutines(t *testing.T) {
	for _, rg := range rigs {
		t.Run(rg.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			r := rg.make(t, rigOptions{timeout: time.Minute})
			started := make(chan struct{})
			var hits func() int
			switch {
			case r.atlas != nil:
				r.atlas.Inject(atlastest.Fault{Endpoint: atlastest.EndpointTask, Delay: time.Minute})
				// The queue POST, then the slow poll.
				hits = func() int { return max(r.atlas.Stats().Requests-1, 0) }
			case r.ps != nil:
				r.ps.Inject(panstarrstest.Fault{Delay: time.Minute})
				hits = r.ps.TotalHits
			case rg.name == "ZTF":
				r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointLightCurves, Delay: time.Minute})
				hits = func() int { return r.ztf.Requests(ztftest.EndpointLightCurves) }
			default:
				r.ztf.Inject(ztftest.Fault{Endpoint: ztftest.EndpointStatus, Delay: time.Minute})
				hits = func() int { return r.ztf.Requests(ztftest.EndpointStatus) }
			}
			ctx := context.Background()
			pool := singletarget.NewPool(r.m, &singletarget.PoolOptions{Workers: 2})
			must(t, pool.Start(ctx))
			id, err := pool.Submit(ctx, r.req)
			must(t, err)
			go func() {
				for hits() == 0 {
					time.Sleep(5 * time.Millisecond)
				}
				close(started)
			}()
			select {
			case <-started:
			case <-time.After(20 * time.Second):
				t.Fatal("the slow request never arrived")
			}
			time.Sleep(20 * time.Millisecond) // let the request be in flight
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			start := time.Now()
			if err := pool.StopAndCancel(sctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("cancelling took %s", d)
			}
			st, err := pool.Status(ctx, id)
			must(t, err)
			if st.State == singletarget.JobSucceeded {
				t.Fatalf("a cancelled job succeeded")
			}
			r.closeSim()
			r.client.CloseIdleConnections()
			http.DefaultClient.CloseIdleConnections()
			goleak.VerifyNone(t, ignore)
		})
	}
}
