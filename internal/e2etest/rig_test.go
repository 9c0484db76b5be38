// Package e2etest runs the whole flow (Manager, executors, processors,
// stores) against every service's simulator under injected faults,
// hostile input and process restarts. It holds tests only.
package e2etest

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// The distinctive credentials every rig uses, so that the secrets scan
// can look for them.
const (
	atlasUser      = "scan-atlas-user"
	atlasPassword  = "AtlasPw-5ecret-7Qz"
	panstarrsToken = "PsTok-5ecret-3Kw9"
	ztfEmail       = "scan-5ecret-mail@example.org"
	ztfUserpass    = "ZtfUp-5ecret-8Rm"
	ztfHTTPUser    = "ZtfHu-5ecret-2Lp"
	ztfHTTPPass    = "ZtfHp-5ecret-6Vn"
)

// rig is one service wired to its simulator and a Manager over a memory
// store, with a request that gives data.
type rig struct {
	name  string
	m     *singletarget.Manager
	store *dataproduct.MemoryStore
	req   singletarget.Request
	// remote counts the remote tasks created (async services) or the
	// searches answered (sync ones).
	remote func() int
	// requests counts every request the simulator received.
	requests func() int
	// closeSim stops the simulator (also registered on t.Cleanup).
	closeSim func()
	// client is the simulator's HTTP client.
	client interface{ CloseIdleConnections() }

	atlas *atlastest.Server
	ps    *panstarrstest.Server
	ztf   *ztftest.Server
	// atlasToken is the ATLAS account's token.
	atlasToken singletarget.Secret
}

// rigOptions tune a rig.
type rigOptions struct {
	logger   *slog.Logger
	timeout  time.Duration     // per HTTP attempt
	deadline time.Duration     // of a remote task
	slow     bool              // remote tasks take a few seconds
	store    dataproduct.Store // default: a new memory store
	// maxBody caps answers and result files (0: the default).
	maxBody int64
	// badCreds gives the service wrong credentials (ATLAS token, ZFPS
	// userpass).
	badCreds bool
}

func (o rigOptions) withDefaults() rigOptions {
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.timeout == 0 {
		o.timeout = time.Second
	}
	if o.deadline == 0 {
		o.deadline = 20 * time.Second
	}
	return o
}

var target = singletarget.Target{ID: 7, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311652}

type rigMaker func(t testing.TB, o rigOptions) *rig

var rigs = []struct {
	name  string
	async bool
	make  rigMaker
}{
	{"ATLAS", true, newATLAS},
	{"PANSTARRS", false, newPanSTARRS},
	{"ZTF", false, newZTF},
	{"ZTF_FP", true, newZTFFP},
}

func newManager(t testing.TB, o rigOptions) (*singletarget.Manager, *dataproduct.MemoryStore) {
	if o.store != nil {
		return singletarget.NewManager(o.store, &singletarget.ManagerOptions{Logger: o.logger}), nil
	}
	store := dataproduct.NewMemoryStore(nil)
	return singletarget.NewManager(store, &singletarget.ManagerOptions{Logger: o.logger}), store
}

// Wrong credentials for rigOptions.badCreds.
const (
	atlasBadToken  = "AtlasBadTok-5ecret-1Hx"
	ztfBadUserpass = "ZtfBadUp-5ecret-4Jd"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newATLAS(t testing.TB, o rigOptions) *rig {
	o = o.withDefaults()
	so := &atlastest.Options{Username: atlasUser, Password: atlasPassword}
	if o.slow {
		so.QueueDelay, so.RunTime = 500*time.Millisecond, 3*time.Second
	}
	sim := atlastest.NewServer(t, so)
	token := sim.Token
	if o.badCreds {
		token = atlasBadToken
	}
	svc, err := atlas.NewService(sim.URL, token, &atlas.Options{
		HTTPClient: sim.Client(), Logger: o.logger, Timeout: o.timeout,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond,
		PollQueued: 10 * time.Millisecond, PollRunning: 10 * time.Millisecond, PollMax: 50 * time.Millisecond,
		Deadline: o.deadline, MaxResultSize: o.maxBody,
	})
	must(t, err)
	m, store := newManager(t, o)
	must(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	must(t, m.AddService(svc))
	return &rig{name: "ATLAS", m: m, store: store, atlas: sim, atlasToken: sim.Token,
		req:      singletarget.Request{Service: "ATLAS", Target: target, Params: url.Values{"min_date_mjd": {"60000"}, "max_date_mjd": {"60030"}}},
		remote:   func() int { return sim.Stats().TasksCreated },
		requests: func() int { return sim.Stats().Requests },
		closeSim: sim.Close, client: sim.Client()}
}

func newPanSTARRS(t testing.TB, o rigOptions) *rig {
	o = o.withDefaults()
	sim := panstarrstest.NewServer(t, nil)
	svc, err := panstarrs.NewService(sim.URL, panstarrsToken, &panstarrs.Options{
		HTTPClient: sim.Client(), Logger: o.logger, Timeout: o.timeout, MaxBodySize: o.maxBody,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond,
	})
	must(t, err)
	m, store := newManager(t, o)
	must(t, m.AddProcessor(panstarrs.DataProductType, panstarrs.Processor{}))
	must(t, m.AddService(svc))
	return &rig{name: "PANSTARRS", m: m, store: store, ps: sim,
		req:      singletarget.Request{Service: panstarrs.ServiceName, Target: target, Params: url.Values{"catalog": {"mean"}, "radius_arcsec": {"60"}}},
		remote:   func() int { return sim.Hits("dr2/mean") },
		requests: sim.TotalHits,
		closeSim: sim.Close, client: sim.Client()}
}

func newZTF(t testing.TB, o rigOptions) *rig {
	o = o.withDefaults()
	sim := ztftest.NewServer(t, nil)
	svc, err := ztf.NewService(sim.LightCurveURL, &ztf.Options{
		HTTPClient: sim.Client(), Logger: o.logger, Timeout: o.timeout, RequestInterval: time.Millisecond, MaxBodySize: o.maxBody,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond,
	})
	must(t, err)
	m, store := newManager(t, o)
	must(t, m.AddProcessor(ztf.DataProductType, ztf.Processor{}))
	must(t, m.AddService(svc))
	return &rig{name: "ZTF", m: m, store: store, ztf: sim,
		req:      singletarget.Request{Service: ztf.ServiceName, Target: target, Params: url.Values{"radius": {"3"}}},
		remote:   func() int { return sim.Requests(ztftest.EndpointLightCurves) },
		requests: func() int { return sim.Requests(ztftest.EndpointAny) },
		closeSim: sim.Close, client: sim.Client()}
}

func newZTFFP(t testing.TB, o rigOptions) *rig {
	o = o.withDefaults()
	so := &ztftest.Options{Accounts: map[string]string{ztfEmail: ztfUserpass}, HTTPUser: ztfHTTPUser, HTTPPassword: ztfHTTPPass}
	if o.slow {
		so.QueueTime, so.RunTime = 500*time.Millisecond, 3*time.Second
	}
	sim := ztftest.NewServer(t, so)
	creds := sim.Credentials()
	if o.badCreds {
		creds.Password = ztfBadUserpass
	}
	svc, err := ztf.NewForcedPhotometryService(sim.ForcedPhotometryURL, creds, &ztf.ForcedPhotometryOptions{
		HTTPClient: sim.Client(), Logger: o.logger, Timeout: o.timeout,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond,
		PollInterval: 10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond, Deadline: o.deadline, MaxBodySize: o.maxBody,
	})
	must(t, err)
	m, store := newManager(t, o)
	must(t, m.AddProcessor(ztf.ForcedPhotometryDataProductType, ztf.ForcedPhotometryProcessor{}))
	must(t, m.AddService(svc))
	return &rig{name: "ZTF_FP", m: m, store: store, ztf: sim,
		req:      singletarget.Request{Service: ztf.ForcedPhotometryServiceName, Target: target, Params: url.Values{"min_date_mjd": {"59000"}, "max_date_mjd": {"59100"}}},
		remote:   func() int { return sim.Submissions(ztfEmail) },
		requests: func() int { return sim.Requests(ztftest.EndpointAny) },
		closeSim: sim.Close, client: sim.Client()}
}

// datumKeys returns the keys of every datum in the store, sorted.
func datumKeys(t testing.TB, s dataproduct.Store) []dataproduct.Key {
	t.Helper()
	ds, err := s.ListDatums(context.Background(), dataproduct.DatumFilter{})
	must(t, err)
	keys := make([]dataproduct.Key, 0, len(ds))
	for _, d := range ds {
		k, err := d.Key()
		must(t, err)
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b dataproduct.Key) int { return bytes.Compare(a[:], b[:]) })
	return keys
}

func products(t testing.TB, s dataproduct.Store) []dataproduct.Product {
	t.Helper()
	ps, err := s.ListProducts(context.Background(), dataproduct.ProductFilter{})
	must(t, err)
	return ps
}

// baselines caches each service's fault-free datum keys.
var baselines sync.Map

// baseline runs the rig's request without faults once per service and
// returns its datum keys.
func baseline(t *testing.T, name string, mk rigMaker) []dataproduct.Key {
	t.Helper()
	if k, ok := baselines.Load(name); ok {
		return k.([]dataproduct.Key)
	}
	r := mk(t, rigOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.m.Run(ctx, r.req)
	must(t, err)
	if len(res.Products) != 1 || res.Added == 0 {
		t.Fatalf("%s baseline: %d products, %d datums", name, len(res.Products), res.Added)
	}
	keys := datumKeys(t, r.store)
	baselines.Store(name, keys)
	return keys
}
