package singletarget_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

// eventLog records what happened, in order.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, fmt.Sprintf(format, args...))
}

func (l *eventLog) events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ev...)
}

// finishingService is the demo service as a Finisher and KeyedQuerier
// whose calls are logged; finishErrs are returned by the next FinishRemote
// calls.
type finishingService struct {
	*demo.Service
	log        *eventLog
	mu         sync.Mutex
	finishErrs []error
}

func (s *finishingService) QueryKeyed(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, key string, retry bool, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	s.log.add("query key=%t retry=%t", key != "", retry)
	return s.Query(ctx, t, f, out)
}

func (s *finishingService) Resume(ctx context.Context, t singletarget.Target, rt singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	s.log.add("resume")
	return s.Service.Resume(ctx, t, rt, out)
}

func (s *finishingService) FinishRemote(_ context.Context, rt singletarget.RemoteTask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.finishErrs) > 0 {
		err := s.finishErrs[0]
		s.finishErrs = s.finishErrs[1:]
		s.log.add("finish failed")
		return err
	}
	s.log.add("finish %s", rt.ID)
	return nil
}

// loggingStore logs committed ingests and puts; failIngest fails the next
// ingests.
type loggingStore struct {
	dataproduct.Store
	log        *eventLog
	mu         sync.Mutex
	failIngest int
}

func (s *loggingStore) ReplaceProduct(ctx context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	s.log.add("store %s", p.Name)
	return s.Store.ReplaceProduct(ctx, p, r)
}

func (s *loggingStore) AddDatums(ctx context.Context, ds iter.Seq2[dataproduct.Datum, error]) (dataproduct.IngestResult, error) {
	s.mu.Lock()
	fail := s.failIngest > 0
	if fail {
		s.failIngest--
	}
	s.mu.Unlock()
	if fail {
		s.log.add("ingest failed")
		return dataproduct.IngestResult{}, fmt.Errorf("disk full (simulated): %w", singletarget.ErrRemote)
	}
	res, err := s.Store.AddDatums(ctx, ds)
	if err == nil {
		s.log.add("ingest committed %d", res.Added)
	}
	return res, err
}

func finishingManager(t *testing.T, opts *singletarget.ManagerOptions) (*singletarget.Manager, *finishingService, *loggingStore, *eventLog) {
	t.Helper()
	log := &eventLog{}
	store := &loggingStore{Store: dataproduct.NewMemoryStore(nil), log: log}
	svc := &finishingService{Service: demo.NewService(demo.NewArchive("k", 1), "k", 0), log: log}
	m := singletarget.NewManager(store, opts)
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(svc))
	return m, svc, store, log
}

// saver records the checkpoints Step saves, in the event log too.
type saver struct {
	log  *eventLog
	cps  []singletarget.Checkpoint
	fail func(singletarget.Checkpoint) error
}

func (s *saver) save(_ context.Context, cp singletarget.Checkpoint) error {
	if s.fail != nil {
		if err := s.fail(cp); err != nil {
			s.log.add("save failed")
			return err
		}
	}
	s.cps = append(s.cps, cp)
	switch {
	case cp.Ingested != nil:
		s.log.add("save ingested")
	case len(cp.Products) > 0:
		s.log.add("save products")
	case cp.Remote != nil:
		s.log.add("save remote")
	default:
		s.log.add("save key")
	}
	return nil
}

// TestStepOrder is the crash-safe order of issue 20, finding 2: the key
// is recorded before the submission, the remote task as soon as it is
// returned, the stored products before they are processed, and the remote
// task is finished (ATLAS: deleted) only after the ingest committed.
func TestStepOrder(t *testing.T) {
	m, _, _, log := finishingManager(t, nil)
	sv := &saver{log: log}
	req := singletarget.Request{Service: demo.ServiceName, Target: sn2023ixf, Params: window()}
	ctx := context.Background()
	res, err := m.Step(ctx, req, singletarget.Checkpoint{}, sv.save)
	require.NoError(t, err)
	require.NotNil(t, res.Pending)
	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.NoError(t, err)
	assert.Nil(t, res.Pending)
	assert.Equal(t, 40, res.Added)
	assert.Equal(t, []string{
		"save key", "query key=true retry=false", "save remote",
		"resume", "store demo-SN_2023ixf-60080-60100.csv", "save products",
		"ingest committed 40", "save ingested", "finish 1",
	}, log.events())
	require.NotNil(t, res.Remote)
	assert.Equal(t, "finished", res.Remote.State)
}

// TestStepResumesFromRecordedProducts: a step whose ingest failed keeps
// the products in its checkpoint; the next step processes them without
// asking the archive again, and only then finishes the remote task.
func TestStepResumesFromRecordedProducts(t *testing.T) {
	m, _, store, log := finishingManager(t, nil)
	sv := &saver{log: log}
	req := singletarget.Request{Service: demo.ServiceName, Target: sn2023ixf, Params: window()}
	ctx := context.Background()
	res, err := m.Step(ctx, req, singletarget.Checkpoint{}, sv.save)
	require.NoError(t, err)
	store.failIngest = 1
	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.Error(t, err)
	require.NotNil(t, res)
	require.Len(t, res.Checkpoint.Products, 1, "the stored products stay in the checkpoint")
	assert.Nil(t, res.Checkpoint.Ingested)
	assert.NotContains(t, log.events(), "finish 1", "the remote task is kept while the datums are not in")
	n := len(log.events())

	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.NoError(t, err)
	assert.Equal(t, 40, res.Added)
	assert.Equal(t, []string{"ingest committed 40", "save ingested", "finish 1"}, log.events()[n:],
		"no resume, no new file: the recorded product is processed")

	// A worker that died after the ingest committed but before it was
	// recorded ingests again (adding nothing) and finishes.
	cp := sv.cps[len(sv.cps)-1]
	cp.Ingested = nil
	n = len(log.events())
	res, err = m.Step(ctx, req, cp, sv.save)
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Skipped: 40}, countsOf(res.IngestResult))
	assert.Equal(t, []string{"ingest committed 0", "save ingested", "finish 1"}, log.events()[n:])
}

// TestStepStopsWhenTheCheckpointIsNotSaved: a change the executor could not
// record is not acted on.
func TestStepStopsWhenTheCheckpointIsNotSaved(t *testing.T) {
	ctx := context.Background()
	req := singletarget.Request{Service: demo.ServiceName, Target: sn2023ixf, Params: window()}
	dbDown := errors.New("database is down")

	m, _, _, log := finishingManager(t, nil)
	_, err := m.Step(ctx, req, singletarget.Checkpoint{}, (&saver{log: log, fail: func(singletarget.Checkpoint) error { return dbDown }}).save)
	require.ErrorIs(t, err, dbDown)
	assert.Equal(t, []string{"save failed"}, log.events(), "nothing submitted without a recorded key")

	m, _, store, log := finishingManager(t, nil)
	sv := &saver{log: log}
	res, err := m.Step(ctx, req, singletarget.Checkpoint{}, sv.save)
	require.NoError(t, err)
	sv.fail = func(cp singletarget.Checkpoint) error {
		if len(cp.Products) > 0 {
			return dbDown
		}
		return nil
	}
	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.ErrorIs(t, err, dbDown)
	assert.NotContains(t, strings.Join(log.events(), ","), "ingest", "stored products not recorded are not processed")
	assert.NotContains(t, strings.Join(log.events(), ","), "finish")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	assert.Empty(t, ds)
	// The remote task is still there: the next step resumes it.
	sv.fail = nil
	res, err = m.Step(ctx, req, singletarget.Checkpoint{Key: res.Checkpoint.Key, Remote: res.Checkpoint.Remote}, sv.save)
	require.NoError(t, err)
	assert.Equal(t, 40, res.Added)
}

// TestStepFinishThrottled: a throttled clean-up never fails the query: the
// step comes back pending (RemoteFinishing) until the wait is over, with
// the data already in, and gives up after MaxFinishWait.
func TestStepFinishThrottled(t *testing.T) {
	ctx := context.Background()
	req := singletarget.Request{Service: demo.ServiceName, Target: sn2023ixf, Params: window()}
	throttled := &singletarget.ThrottledError{Service: demo.ServiceName, RetryAfter: 40 * time.Second}
	m, svc, _, log := finishingManager(t, &singletarget.ManagerOptions{MaxFinishWait: time.Minute})
	svc.finishErrs = []error{throttled, throttled, throttled}
	sv := &saver{log: log}
	res, err := m.Step(ctx, req, singletarget.Checkpoint{}, sv.save)
	require.NoError(t, err)
	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.NoError(t, err)
	require.NotNil(t, res.Pending)
	assert.Equal(t, singletarget.RemoteFinishing, res.Pending.State)
	assert.WithinDuration(t, time.Now().Add(40*time.Second), res.Pending.NotBefore, 5*time.Second)
	assert.Equal(t, 40*time.Second, res.Checkpoint.FinishWaited)
	require.NotNil(t, res.Checkpoint.Ingested)
	assert.Equal(t, 40, res.Checkpoint.Ingested.Added)

	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.NoError(t, err)
	require.NotNil(t, res.Pending, "40 s waited, under the minute")
	assert.Equal(t, 80*time.Second, res.Checkpoint.FinishWaited)
	res, err = m.Step(ctx, req, res.Checkpoint, sv.save)
	require.NoError(t, err, "over MaxFinishWait the task is left to the archive; the query succeeds")
	assert.Nil(t, res.Pending)
	assert.Equal(t, 40, res.Added)

	// Through Run, a throttled clean-up is waited out.
	m, svc, _, _ = finishingManager(t, nil)
	svc.finishErrs = []error{&singletarget.ThrottledError{RetryAfter: time.Millisecond}}
	out, err := m.Run(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 40, out.Added)
	svc.mu.Lock()
	assert.Empty(t, svc.finishErrs)
	svc.mu.Unlock()

	// Any other failure is logged, and the query succeeds.
	m, svc, _, log = finishingManager(t, nil)
	svc.finishErrs = []error{errors.New("HTTP 500")}
	out, err = m.Run(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 40, out.Added)
	assert.Contains(t, log.events(), "finish failed")
}

// TestStepKeyedRetry: a retried query passes the recorded key with retry
// set, so the service can find the task a lost submission made.
func TestStepKeyedRetry(t *testing.T) {
	ctx := context.Background()
	req := singletarget.Request{Service: demo.ServiceName, Target: sn2023ixf, Params: window()}
	m, _, _, log := finishingManager(t, nil)
	res, err := m.Step(ctx, req, singletarget.Checkpoint{Key: "recorded-before"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "recorded-before", res.Checkpoint.Key)
	assert.Equal(t, []string{"query key=true retry=true"}, log.events())
}

// TestServiceCannotTakeAnUploadName: the Manager's sink refuses a
// service's product in the uploads' name space.
func TestServiceCannotTakeAnUploadName(t *testing.T) {
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor("x", demo.Processor()))
	require.NoError(t, m.AddService(uploadNamer{}))
	_, err := m.Run(context.Background(), singletarget.Request{Service: "NAMER", Target: sn2023ixf})
	require.ErrorIs(t, err, dataproduct.ErrConflict)
	ps, err := store.ListProducts(context.Background(), dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, ps)
}

type uploadNamer struct{}

func (uploadNamer) Name() string { return "NAMER" }
func (uploadNamer) NewForm() singletarget.QueryForm {
	f := &singletarget.FormBase{}
	f.Bind(f)
	return f
}
func (uploadNamer) Query(ctx context.Context, t singletarget.Target, _ singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	p, err := out.PutProduct(ctx, dataproduct.Product{TargetID: t.ID, Name: dataproduct.UploadName("x.csv"), DataProductType: "x"},
		strings.NewReader("time,filter,magnitude\n60000,g,17\n"))
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

// changingService stores the next of its files under one name per query,
// as an archive whose answer to the same query changes.
type changingService struct {
	mu    sync.Mutex
	files []string
}

func (*changingService) Name() string { return "CHANGING" }
func (*changingService) NewForm() singletarget.QueryForm {
	f := &singletarget.FormBase{}
	f.Bind(f)
	return f
}
func (s *changingService) Query(ctx context.Context, t singletarget.Target, _ singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	s.mu.Lock()
	body := s.files[0]
	if len(s.files) > 1 {
		s.files = s.files[1:]
	}
	s.mu.Unlock()
	p, err := out.PutProduct(ctx, dataproduct.Product{TargetID: t.ID, Name: "changing.csv", DataProductType: "x"}, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

// TestRefreshReplacesTheProduct: the same query with a changed answer
// replaces the product (same ID) and its datums: those of the old file
// that the new one lacks are gone, the new file's are in; the same answer
// again changes nothing.
func TestRefreshReplacesTheProduct(t *testing.T) {
	const header = "time,filter,magnitude,error\n"
	svc := &changingService{files: []string{
		header + "60000.1,g,17,0.1\n60001.1,g,17.1,0.1\n60002.1,g,17.2,0.1\n",
		header + "60001.1,g,17.1,0.1\n60002.1,g,17.2,0.1\n60003.1,g,17.3,0.1\n",
	}}
	store := dataproduct.NewMemoryStore(nil)
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor("x", demo.Processor()))
	require.NoError(t, m.AddService(svc))
	ctx := context.Background()
	req := singletarget.Request{Service: "CHANGING", Target: sn2023ixf}
	first, err := m.Run(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 3, first.Added)
	second, err := m.Run(ctx, req)
	require.NoError(t, err)
	require.Len(t, second.Products, 1)
	assert.Equal(t, first.Products[0].ID, second.Products[0].ID, "the product is replaced, not added")
	assert.NotEqual(t, first.Products[0].SHA256, second.Products[0].SHA256)
	assert.Equal(t, dataproduct.IngestResult{Added: 3}, countsOf(second.IngestResult), "the new file is ingested anew")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: sn2023ixf.ID})
	require.NoError(t, err)
	var mjds []float64
	for _, d := range ds {
		mjds = append(mjds, *d.Value.(dataproduct.Photometry).MJD)
		assert.Equal(t, first.Products[0].ID, d.ProductID)
	}
	assert.Equal(t, []float64{60001.1, 60002.1, 60003.1}, mjds, "the old file's datum the new one lacks is gone")
	third, err := m.Run(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, dataproduct.IngestResult{Skipped: 3}, countsOf(third.IngestResult), "the same answer again adds nothing")
	ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Len(t, ps, 1)
}
