package ztf_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// Forced photometry through the in-process Pool executor: Query submits
// one job and returns a pending task; the Pool parks the job (holding no
// goroutine) until each NotBefore and resumes it until the result file is
// stored and processed. The simulator's jobs take milliseconds; real ones
// take minutes to hours, and the service polls from 1 to 10 minutes apart.
func Example_forcedPhotometry() {
	sim := ztftest.Start(&ztftest.Options{QueueTime: 20 * time.Millisecond, RunTime: 20 * time.Millisecond})
	defer sim.Close()

	svc, err := ztf.NewForcedPhotometryService(sim.ForcedPhotometryURL,
		ztf.Credentials{Email: ztftest.DefaultEmail, Password: ztftest.DefaultUserpass},
		&ztf.ForcedPhotometryOptions{HTTPClient: sim.Client(), PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	if err := m.AddProcessor(ztf.ForcedPhotometryDataProductType, ztf.ForcedPhotometryProcessor{}); err != nil {
		log.Fatal(err)
	}
	if err := m.AddService(svc); err != nil {
		log.Fatal(err)
	}
	pool := singletarget.NewPool(m, nil)
	ctx := context.Background()
	if err := pool.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer pool.Stop(ctx)

	target := singletarget.Target{ID: 1, Name: "SN 2024abc", RA: 230.7155157, Dec: 41.0502799}
	id, err := pool.Submit(ctx, singletarget.Request{Service: "ZTF_FP", Target: target,
		Params: url.Values{"min_date_mjd": {"59300"}, "max_date_mjd": {"59500"}}})
	if err != nil {
		log.Fatal(err)
	}
	st, err := pool.Wait(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.State, st.Products[0].Name)

	ds, _ := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 1})
	var det, lim int
	for _, d := range ds {
		if d.Value.(dataproduct.Photometry).Magnitude != nil {
			det++
		} else {
			lim++
		}
	}
	fmt.Println(det, "detections,", lim, "5-sigma upper limits, source", ds[0].Source)
	fmt.Println(sim.Submissions(ztftest.DefaultEmail), "job submitted")
	// Output:
	// succeeded ztf_fp-SN_2024abc-2459300.5-2459500.5.txt
	// 68 detections, 24 5-sigma upper limits, source ZTF_FP
	// 1 job submitted
}

// The forced-photometry recipe with a stricter detection threshold and
// 3-sigma limits, keeping the epochs flagged by procstatus.
func ExampleForcedPhotometryProcessor() {
	f, err := os.Open("testdata/ztf_fps_edgecases.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	ds, err := ztf.ForcedPhotometryProcessor{SNT: 5, SNU: 3, KeepFlagged: true}.Process(context.Background(), f)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range ds[:3] {
		ph := d.Value.(dataproduct.Photometry)
		if ph.Magnitude != nil {
			fmt.Printf("MJD %.4f %s mag %.3f ± %.3f\n", *ph.MJD, ph.Filter, *ph.Magnitude, *ph.Error)
		} else {
			fmt.Printf("MJD %.4f %s > %.3f (%g sigma)\n", *ph.MJD, ph.Filter, *ph.Limit, ph.LimitSigma)
		}
	}
	fmt.Println(len(ds), "datums")
	// Output:
	// MJD 59301.3012 r > 21.193 (3 sigma)
	// MJD 59301.3438 g > 21.427 (3 sigma)
	// MJD 59305.2911 r mag 19.287 ± 0.064
	// 11 datums
}

// Settings as a TOM writes them; Register makes the classes known.
func ExampleRegister() {
	sim := ztftest.Start(nil)
	defer sim.Close()
	r := singletarget.NewRegistry()
	if err := ztf.Register(r); err != nil {
		log.Fatal(err)
	}
	settings := fmt.Sprintf(`
single_target_data_services:
  ZTF:
    class: ztf.Service
    url: %s
  ZTF_FP:
    class: ztf.ForcedPhotometryService
    url: %s
    email: ${ZTF_FPS_EMAIL}
    userpass: ${ZTF_FPS_USERPASS}
data_product_types:
  ztf_photometry: ZTF Photometry
  ztf_forced_photometry: ZTF Forced Photometry
data_processors:
  ztf_photometry: ztf.Processor
  ztf_forced_photometry: ztf.ForcedPhotometryProcessor
`, sim.LightCurveURL, sim.ForcedPhotometryURL)
	env := map[string]string{"ZTF_FPS_EMAIL": ztftest.DefaultEmail, "ZTF_FPS_USERPASS": ztftest.DefaultUserpass}
	cfg, err := singletarget.ParseConfig([]byte(settings), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		log.Fatal(err)
	}
	m, err := r.Load(cfg, dataproduct.NewMemoryStore(nil), &singletarget.ManagerOptions{HTTPClient: sim.Client()})
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range m.Services() {
		info, _ := m.Info(name)
		fmt.Printf("%s: %s (%s, %s, async %v)\n", name, info.Label, info.Kind, info.DataProductType, info.Async)
	}
	// Output:
	// ZTF: ZTF light curves (IRSA) (Catalog Search, ztf_photometry, async false)
	// ZTF_FP: ZTF Forced Photometry (Forced Photometry, ztf_forced_photometry, async true)
}
