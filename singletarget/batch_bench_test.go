package singletarget_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// batchBench is one batch scenario against atlastest.
type batchBench struct {
	name    string
	n       int           // targets
	k       int           // the simulator's active tasks per account (0: none)
	queue   time.Duration // the simulator's QueueDelay
	run     time.Duration // the simulator's RunTime
	writes  int           // the simulator's and client's writes per window (-1: none)
	window  time.Duration // their write window
	learn   bool          // learn K from 429s instead of configuring it
	workers int
}

func (c batchBench) taskTime() time.Duration { return c.queue + c.run }

// runBatch runs the scenario once and returns the elapsed time, the
// simulator's counters and the deletes left for later (throttled).
func runBatch(b *testing.B, c batchBench) (time.Duration, atlastest.Stats, int) {
	b.Helper()
	sim := atlastest.NewServer(b, &atlastest.Options{MaxActivePerToken: c.k, Slots: max(c.k, 4), QueueDelay: c.queue,
		RunTime: c.run, WriteRate: c.writes, WriteWindow: c.window})
	// Poll 50 times per task duration: a finished task is seen within 2%
	// of its duration.
	poll := c.taskTime() / 50
	opts := &atlas.Options{HTTPClient: sim.Client(), WriteRate: c.writes, WriteWindow: c.window,
		PollQueued: poll, PollRunning: poll, PollGrowth: 1, PollMax: poll}
	if c.learn {
		opts.LearnActiveLimit = true
	} else {
		opts.MaxActiveTasks = c.k
	}
	svc, err := atlas.NewService(sim.URL, sim.Token, opts)
	if err != nil {
		b.Fatal(err)
	}
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	if err := m.AddProcessor(atlas.DataProductType, atlas.Processor{}); err != nil {
		b.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		b.Fatal(err)
	}
	ts := make([]singletarget.Target, c.n)
	for i := range ts {
		ts[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("AT 2025%04d", i), RA: float64(i*7%360) + 0.5, Dec: float64(i%120) - 60}
	}
	// A 30-night window: result files of a dozen rows.
	params := url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	bt, err := m.Batch(ctx, atlas.ServiceName, ts, params, &singletarget.BatchOptions{Workers: c.workers})
	if err != nil {
		b.Fatal(err)
	}
	p, err := bt.Wait(ctx)
	elapsed := time.Since(start)
	if err != nil || p.Done+p.Failed != c.n {
		b.Fatalf("batch: %s, %v", p, err)
	}
	return elapsed, sim.Stats(), len(svc.PendingCleanup())
}

// BenchmarkBatchATLAS runs a batch of 200 targets (24 with -short) against
// atlastest and reports the throughput achieved as a fraction of what the
// server allows:
//
//   - active-limit: the simulator allows K tasks in flight per account, each
//     lasting a fixed QueueDelay + RunTime = T; the most a client can get is
//     K/T tasks per second. "configured" tells the service K
//     (Options.MaxActiveTasks); "learned" lets the batch learn it from the
//     first 429 (Options.LearnActiveLimit). Metric: fraction-of-K/T (goal
//     ≥ 0.9).
//   - write-rate: the simulator allows R writes (POSTs and DELETEs) in any
//     sliding window W; the client paces itself on the same window. In
//     E seconds at most R·(⌊E/W⌋+1) writes can be made (a full window at
//     the start, then one per W). Metric: write-utilisation, the writes
//     made over that bound (goal ≥ 0.9). Queue requests go first: the
//     deletes of finished tasks take the places left, and those still
//     throttled when the batch ends are left for later calls
//     (deletes-left/op; atlas.Service.Cleanup).
//
// Every case also reports the server's 429s (throttled/op: the client
// asked for more than allowed) and the most tasks in flight.
func BenchmarkBatchATLAS(b *testing.B) {
	n, k, run := 200, 8, 490*time.Millisecond
	wn, rate, window := 120, 20, time.Second
	if testing.Short() {
		n, k, run = 24, 4, 90*time.Millisecond
		wn, rate, window = 20, 10, 500*time.Millisecond
	}
	cases := []batchBench{
		{name: "configured", n: n, k: k, queue: 10 * time.Millisecond, run: run, writes: -1, workers: 4},
		{name: "learned", n: n, k: k, queue: 10 * time.Millisecond, run: run, writes: -1, learn: true, workers: 4},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("active-limit/%s/K=%d/T=%s/n=%d", c.name, c.k, c.taskTime(), c.n), func(b *testing.B) {
			var elapsed, cpu time.Duration
			var throttled, maxActive, polls int
			for range b.N {
				c0 := cpuTime()
				e, st, _ := runBatch(b, c)
				cpu += cpuTime() - c0
				elapsed += e
				throttled += st.Throttled
				maxActive = max(maxActive, st.MaxActive)
				polls += st.Polls
			}
			perTask := elapsed.Seconds() / float64(c.n*b.N)
			ideal := c.taskTime().Seconds() / float64(c.k)
			b.ReportMetric(1/perTask, "tasks/s")
			b.ReportMetric(ideal/perTask, "fraction-of-K/T")
			b.ReportMetric(float64(throttled)/float64(b.N), "throttled/op")
			b.ReportMetric(float64(maxActive), "max-active")
			b.ReportMetric(float64(polls)/float64(c.n*b.N), "polls/task")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
	wc := batchBench{n: wn, queue: 5 * time.Millisecond, run: 20 * time.Millisecond, writes: rate, window: window, workers: 4}
	b.Run(fmt.Sprintf("write-rate/R=%d-per-%s/n=%d", rate, window, wn), func(b *testing.B) {
		var elapsed time.Duration
		var writes, bound, throttled, creates, deferred int
		for range b.N {
			e, st, left := runBatch(b, wc)
			deferred += left
			elapsed += e
			writes += st.TasksCreated + st.Deletes
			bound += rate * (int(e/window) + 1)
			creates += st.TasksCreated
			throttled += st.Throttled
		}
		b.ReportMetric(float64(writes)/float64(bound), "write-utilisation")
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		b.ReportMetric(float64(deferred)/float64(b.N), "deletes-left/op")
		b.ReportMetric(float64(creates)/elapsed.Seconds(), "tasks/s")
		b.ReportMetric(float64(throttled)/float64(b.N), "throttled/op")
	})
}
