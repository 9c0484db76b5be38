package singletarget_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Submit, follow, list, wait for and cancel jobs through the Executor
// interface. The same code runs on NewImmediate, NewPool and
// riverexec.Open (builtin.Open's App.Executor is whichever the settings
// name); only Immediate's Submit returns after the job has ended.
func ExampleExecutor() {
	sim := atlastest.Start(&atlastest.Options{RunTime: 50 * time.Millisecond})
	defer sim.Close()
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{PollQueued: 10 * time.Millisecond, PollRunning: 10 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	if err := m.AddProcessor(atlas.DataProductType, atlas.Processor{}); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	pool := singletarget.NewPool(m, nil)
	if err := pool.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer pool.Stop(ctx)
	var x singletarget.Executor = pool

	req := singletarget.Request{
		Service: "ATLAS",
		Target:  singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Params:  url.Values{"min_date_mjd": {"60300"}, "max_date_mjd": {"60330"}},
	}
	id, err := x.Submit(ctx, req)
	if err != nil {
		log.Fatal(err) // a *singletarget.FormErrors for bad params
	}
	// Follow the job: its status now, then each change, the final one last.
	for st, err := range x.Watch(ctx, id) {
		if err != nil {
			log.Fatal(err)
		}
		if st.State.Done() {
			fmt.Println("job", st.State+":", st.Added, "datums added")
		} // else: st.Progress.Stage, st.Progress.Message, st.Remote
	}

	// Cancel a second job; Wait returns its final status.
	id2, err := x.Submit(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	if err := x.Cancel(ctx, id2); err != nil {
		log.Fatal(err)
	}
	st, err := x.Wait(ctx, id2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("second job", st.State)

	// List the target's jobs, newest first, one page at a time.
	f := singletarget.JobFilter{TargetID: 1, Limit: 1}
	for {
		page, err := x.List(ctx, f)
		if err != nil {
			log.Fatal(err)
		}
		for _, st := range page.Jobs {
			fmt.Println("listed:", st.Request.Service, st.State, st.ID == id)
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	// Output:
	// job succeeded: 64 datums added
	// second job cancelled
	// listed: ATLAS cancelled false
	// listed: ATLAS succeeded true
}
