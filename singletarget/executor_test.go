package singletarget_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tomgo/targetdata/singletarget"
)

// progressLog collects the reports a WithProgress callback receives.
type progressLog struct {
	mu      sync.Mutex
	reports []singletarget.Progress
}

func (l *progressLog) add(p singletarget.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, p)
}

func (l *progressLog) stages() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, p := range l.reports {
		out[p.Stage] = p.Service
	}
	return out
}

// A WithProgress callback on Submit's context hears a Pool job's progress,
// although the job runs under Start's context; every report, processing
// included, names its service.
func TestPoolCallsSubmitsProgressCallback(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _, _ := demoManager(t, 2)
	p := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 1})
	ctx := context.Background()
	require.NoError(t, p.Start(ctx))
	defer p.Stop(ctx)
	var log progressLog
	id, err := p.Submit(singletarget.WithProgress(ctx, log.add), singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	st, err := p.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State)
	stages := log.stages()
	for _, stage := range []string{singletarget.StageQuerying, singletarget.StageQueued, singletarget.StageRunning, singletarget.StageProcessing} {
		assert.Equal(t, "DEMO", stages[stage], "stage %s reported with its service (all: %v)", stage, stages)
	}
}

// Manager.Run's processing report names the service.
func TestProcessingProgressNamesService(t *testing.T) {
	m, _, _ := demoManager(t, 1)
	var log progressLog
	_, err := m.Run(singletarget.WithProgress(context.Background(), log.add), singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
	require.NoError(t, err)
	stages := log.stages()
	require.Contains(t, stages, singletarget.StageProcessing)
	assert.Equal(t, "DEMO", stages[singletarget.StageProcessing])
}

// Immediate's Cancel stops a Submit that still runs; Watch follows the job
// from another goroutine meanwhile.
func TestImmediateCancelWhileSubmitRuns(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _, _ := demoManager(t, 1_000_000)
	x := singletarget.NewImmediate(m)
	ctx := context.Background()
	done := make(chan singletarget.JobID)
	go func() {
		id, err := x.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
		assert.NoError(t, err)
		done <- id
	}()
	var id singletarget.JobID
	require.Eventually(t, func() bool {
		page, err := x.List(ctx, singletarget.JobFilter{States: []singletarget.JobState{singletarget.JobRunning}})
		if err != nil || len(page.Jobs) == 0 || page.Jobs[0].Remote == nil {
			return false
		}
		id = page.Jobs[0].ID
		return true
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, x.Cancel(ctx, id))
	assert.Equal(t, id, <-done)
	st, err := x.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, singletarget.JobCancelled, st.State)
}

// List pages through many jobs without gaps or repeats, newest first, and
// a job submitted between two pages does not disturb the listing.
func TestListPagesInMemory(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _, _ := demoManager(t, 1)
	p := singletarget.NewPool(m, nil) // not started: jobs stay queued
	ctx := context.Background()
	defer p.Stop(ctx)
	var ids []singletarget.JobID
	for i := range 7 {
		tg := sn2023ixf
		tg.ID = int64(1 + i%2)
		id, err := p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: tg, Params: window()})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	var got []singletarget.JobID
	f := singletarget.JobFilter{Limit: 3}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		page, err := p.List(ctx, f)
		require.NoError(t, err)
		for _, st := range page.Jobs {
			got = append(got, st.ID)
		}
		if pages == 0 {
			_, err := p.Submit(ctx, singletarget.Request{Service: "DEMO", Target: sn2023ixf, Params: window()})
			require.NoError(t, err)
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	want := make([]singletarget.JobID, len(ids))
	for i, id := range ids {
		want[len(ids)-1-i] = id
	}
	assert.Equal(t, want, got)
	page, err := p.List(ctx, singletarget.JobFilter{TargetID: 2, States: []singletarget.JobState{singletarget.JobQueued}})
	require.NoError(t, err)
	assert.Len(t, page.Jobs, 3)
	assert.Equal(t, 50, singletarget.JobFilter{}.PageSize())
	assert.Equal(t, singletarget.MaxJobLimit, singletarget.JobFilter{Limit: 1 << 30}.PageSize())
}
