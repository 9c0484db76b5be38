package singletarget_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

// spinService is an asynchronous service whose tasks never finish and are
// looked at again at once, so a Pool job spends its life between a step
// and being parked again: the gap a Cancel can land in.
type spinService struct {
	mu        sync.Mutex
	next      int
	withdrawn map[string]bool
}

func (s *spinService) Name() string                    { return "SPIN" }
func (s *spinService) NewForm() singletarget.QueryForm { return &singletarget.FormBase{} }
func (s *spinService) Info() singletarget.Info {
	return singletarget.Info{DataProductType: demo.DataProductType, Async: true}
}

func (s *spinService) Query(ctx context.Context, _ singletarget.Target, _ singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.next++
	id := strconv.Itoa(s.next)
	s.mu.Unlock()
	now := time.Now()
	return &singletarget.Outcome{Pending: &singletarget.RemoteTask{Service: "SPIN", ID: id, State: "queued", Submitted: now, NotBefore: now}}, nil
}

func (s *spinService) Resume(ctx context.Context, _ singletarget.Target, rt singletarget.RemoteTask, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rt.State, rt.NotBefore = "running", time.Now()
	rt.Polls++
	return &singletarget.Outcome{Pending: &rt}, nil
}

func (s *spinService) CancelRemote(_ context.Context, rt singletarget.RemoteTask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withdrawn[rt.ID] = true
	return nil
}

// A Cancel that comes while a step is returning a pending task (after the
// step, before the job is parked again) still ends the job cancelled and
// withdraws its task. The jobs re-run at once, so most cancels land in a
// step or in that gap; before the fix, some jobs never ended.
func TestPoolCancelBetweenStepAndPark(t *testing.T) {
	defer goleak.VerifyNone(t)
	svc := &spinService{withdrawn: map[string]bool{}}
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(svc))
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 2})
	ctx := context.Background()
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(ctx)

	const n = 200
	ids := make([]singletarget.JobID, n)
	for i := range ids {
		id, err := pool.Submit(ctx, singletarget.Request{Service: "SPIN", Target: singletarget.Target{ID: int64(i + 1), Name: "T" + strconv.Itoa(i+1), RA: 1, Dec: 2}})
		require.NoError(t, err)
		ids[i] = id
	}
	// Let every job reach its remote task before cancelling it.
	require.Eventually(t, func() bool {
		for _, id := range ids {
			st, err := pool.Status(ctx, id)
			if err != nil || st.Remote == nil {
				return false
			}
		}
		return true
	}, 20*time.Second, time.Millisecond)
	for _, id := range ids {
		require.NoError(t, pool.Cancel(ctx, id))
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for i, id := range ids {
		st, err := pool.Wait(wctx, id)
		require.NoError(t, err, "job %d (%s) did not end after Cancel: %s", i, id, st.State)
		assert.Equal(t, singletarget.JobCancelled, st.State, "job %d", i)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	assert.Len(t, svc.withdrawn, n, "every remote task withdrawn")
}
