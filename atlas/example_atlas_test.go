package atlas_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// A whole ATLAS query, as a TOM runs it: settings name the service and its
// processor, the Manager queues the remote task, waits for it, stores the
// result file, deletes the remote task and ingests the photometry. Here the
// server is the simulator, serving the TOM Toolkit's NGC 1566 sample.
func Example_forcedPhotometry() {
	sample, err := os.ReadFile("testdata/atlas_ngc1566.txt")
	if err != nil {
		log.Fatal(err)
	}
	sim := atlastest.Start(&atlastest.Options{Fixture: sample})
	defer sim.Close()

	settings := fmt.Sprintf(`
single_target_data_services:
  ATLAS:
    class: atlas.ForcedPhotometryService
    url: %s
    api_key: ${ATLAS_FORCED_PHOTOMETRY_API_KEY}
    poll_queued: 10ms
    poll_running: 10ms
data_product_types:
  atlas_photometry: ATLAS Photometry
data_processors:
  atlas_photometry: atlas.Processor
`, sim.URL)
	env := func(name string) (string, bool) { return sim.Token.Reveal(), name == "ATLAS_FORCED_PHOTOMETRY_API_KEY" }
	cfg, err := singletarget.ParseConfig([]byte(settings), env)
	if err != nil {
		log.Fatal(err)
	}
	r := singletarget.NewRegistry()
	if err := atlas.Register(r); err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m, err := r.Load(cfg, store, &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	res, err := m.Run(ctx, singletarget.Request{
		Service: "ATLAS",
		Target:  singletarget.Target{ID: 1, Name: "NGC 1566", RA: 65.00165, Dec: -54.93795},
		Params:  url.Values{"min_date_mjd": {"60316"}, "max_date_mjd": {"60336"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("product:", res.Products[0].Name)
	fmt.Println("datums added:", res.Added)

	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	if err != nil {
		log.Fatal(err)
	}
	var detections, limits int
	for _, d := range ds {
		if d.Value.(dataproduct.Photometry).Limit != nil {
			limits++
		} else {
			detections++
		}
	}
	fmt.Printf("%d detections, %d 3-sigma limits\n", detections, limits)
	first := ds[0].Value.(dataproduct.Photometry)
	fmt.Printf("first: %s %s %.3f ± %.3f\n", ds[0].Timestamp.Format(time.RFC3339), first.Filter, *first.Magnitude, *first.Error)
	st := sim.Stats()
	fmt.Printf("remote tasks: %d created, %d deleted\n", st.TasksCreated, st.Deletes)
	// Output:
	// product: atlas_2024_01_07-2024_01_27.txt
	// datums added: 32
	// 15 detections, 17 3-sigma limits
	// first: 2024-01-07T03:25:15Z o 17.349 ± 0.089
	// remote tasks: 1 created, 1 deleted
}

// The Client alone: queue, wait (throttling and polling included), download
// and delete in one call, then process the file.
func ExampleClient_Fetch() {
	sim := atlastest.Start(nil)
	defer sim.Close()
	c, err := atlas.New(sim.URL, sim.Token, &atlas.Options{
		HTTPClient: sim.Client(), PollQueued: 5 * time.Millisecond, PollRunning: 5 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	lo, hi := 60316.0, 60336.0
	task, body, err := c.Fetch(ctx, atlas.QueueRequest{RA: 65.00165, Dec: -54.93795, MJDMin: &lo, MJDMax: &hi})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("task", task.ID, task.State())
	ds, err := atlas.Processor{}.Process(ctx, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ds), "datums")
	// Output:
	// task 1 finished
	// 52 datums
}

// The processor on its own, streaming a result file.
func ExampleProcessor() {
	f, err := os.Open("testdata/atlas_ngc1566.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	n := 0
	for d, err := range (atlas.Processor{}).Stream(context.Background(), f) {
		if err != nil {
			log.Fatal(err)
		}
		if n++; n > 3 {
			break
		}
		ph := d.Value.(dataproduct.Photometry)
		if ph.Limit != nil {
			fmt.Printf("%s %s limit %.3f (%gσ), flux %g ± %g µJy\n", d.Timestamp.Format(time.RFC3339), ph.Filter, *ph.Limit, ph.LimitSigma, *ph.FluxUJy, *ph.FluxErrUJy)
		} else {
			fmt.Printf("%s %s mag %.3f ± %.3f, flux %g ± %g µJy\n", d.Timestamp.Format(time.RFC3339), ph.Filter, *ph.Magnitude, *ph.Error, *ph.FluxUJy, *ph.FluxErrUJy)
		}
	}
	// Output:
	// 2024-01-07T03:25:15Z o mag 17.349 ± 0.089, flux 417 ± 37 µJy
	// 2024-01-07T03:29:53Z o limit 19.257 (3σ), flux -310 ± 24 µJy
	// 2024-01-07T03:37:46Z o limit 19.170 (3σ), flux -290 ± 26 µJy
}

// A result file with rows of failed photometry: those rows give no datum,
// and the report says which and why; the rest of the file is kept.
func ExampleProcessor_StreamReport() {
	f, err := os.Open("testdata/atlas_failed_rows.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var rep dataproduct.Report
	ds, err := processor.Collect(processor.StreamReport(context.Background(), atlas.Processor{}, f, processor.Input{}, &rep))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ds), "datums")
	for _, s := range rep.Skipped {
		fmt.Printf("%d skipped, %s, lines %v\n", s.Count, s.Reason, s.Lines)
	}
	// Output:
	// 3 datums
	// 2 skipped, no flux error (duJy ≤ 0), lines [4 9]
	// 2 skipped, failed photometric solution (mag5sig < 10), lines [5 6]
	// 1 skipped, flux or flux error not a finite number (uJy or duJy nan), lines [8]
}
