package singletarget_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func slotsFor(t *testing.T, svc singletarget.Service) (*singletarget.Slots, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), &singletarget.ManagerOptions{Now: clk.Now})
	require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
	require.NoError(t, m.AddService(svc))
	s, err := m.Slots(svc.Name())
	require.NoError(t, err)
	again, err := m.Slots(svc.Name())
	require.NoError(t, err)
	require.Same(t, s, again, "one Slots per service")
	_, err = m.Slots("NOPE")
	require.ErrorIs(t, err, singletarget.ErrUnknown)
	return s, clk
}

func pending(state string, notBefore time.Time) *singletarget.StepResult {
	return &singletarget.StepResult{Pending: &singletarget.RemoteTask{ID: "1", State: state, NotBefore: notBefore}}
}

func TestSlotsAdmitUnderTheLimit(t *testing.T) {
	a := newBusy(0, 0)
	a.Limit = singletarget.ConcurrencyLimit{Max: 2, MaxNotStarted: 1}
	s, clk := slotsFor(t, busyService{a})
	ok, _ := s.TryAcquire("a")
	require.True(t, ok)
	ok, _ = s.TryAcquire("b")
	assert.False(t, ok, "one not started at most: a has not been seen running")
	changed := s.Changed()
	s.Observe("a", nil, pending("queued", clk.Now()), nil)
	<-changed // an answered query may let the next go
	ok, _ = s.TryAcquire("b")
	assert.False(t, ok, "a is still not started")
	s.Observe("a", &singletarget.RemoteTask{ID: "1"}, pending("running", clk.Now()), nil)
	ok, _ = s.TryAcquire("b")
	assert.True(t, ok, "a runs: b may go")
	ok, _ = s.TryAcquire("b")
	assert.True(t, ok, "a key held is admitted again")
	s.Observe("b", nil, pending("running", clk.Now()), nil)
	ok, _ = s.TryAcquire("c")
	assert.False(t, ok, "two in flight")
	assert.Equal(t, singletarget.SlotsStatus{Limit: a.Limit, Max: 2, InFlight: 2, Remote: 2}, s.Status())

	changed = s.Changed()
	s.Observe("a", &singletarget.RemoteTask{ID: "1"}, &singletarget.StepResult{}, nil) // finished
	<-changed
	ok, _ = s.TryAcquire("c")
	assert.True(t, ok)
	s.Release("c")
	s.Release("c")
	s.Release("b")
	assert.Equal(t, 0, s.Status().InFlight)
}

func TestSlotsPauseAndLearn(t *testing.T) {
	a := newBusy(0, 0)
	a.Limit = singletarget.ConcurrencyLimit{Learn: true}
	s, clk := slotsFor(t, busyService{a})
	for i := range 3 {
		k := fmt.Sprint(i)
		ok, _ := s.TryAcquire(k)
		require.True(t, ok, k)
		ok, _ = s.TryAcquire("x")
		require.False(t, ok, "while the limit is unknown, one query at a time")
		s.Observe(k, nil, pending("queued", clk.Now()), nil)
	}
	ok, _ := s.TryAcquire("x")
	require.True(t, ok)
	refusal := &singletarget.ThrottledError{RetryAfter: 3 * time.Second, Err: singletarget.ErrConcurrencyLimit}
	s.Observe("x", nil, nil, refusal)
	st := s.Status()
	assert.Equal(t, 3, st.Learned, "three tasks were in flight at the refusal")
	assert.Equal(t, 3, st.Max)
	assert.Equal(t, 3*time.Second, st.PausedFor)
	ok, retry := s.TryAcquire("y")
	assert.False(t, ok)
	assert.Equal(t, 3*time.Second, retry, "paused for the server's wait")
	clk.Add(4 * time.Second)
	ok, _ = s.TryAcquire("y")
	assert.False(t, ok, "after the pause, the learned limit holds (x still holds a slot)")
	s.Release("x")
	s.Release("0")
	ok, _ = s.TryAcquire("y")
	assert.True(t, ok)

	// A plain rate refusal pauses but teaches nothing.
	s.Observe("y", nil, nil, &singletarget.ThrottledError{RetryAfter: time.Second})
	assert.Equal(t, 3, s.Status().Learned)
	assert.Equal(t, time.Second, s.Status().PausedFor)
}

func TestSlotsForgetStaleEntries(t *testing.T) {
	a := newBusy(0, 0)
	a.Limit = singletarget.ConcurrencyLimit{Max: 1}
	s, clk := slotsFor(t, busyService{a})
	// A job resumed after a restart takes its slot without asking.
	s.Observe("old", &singletarget.RemoteTask{ID: "9"}, pending("running", clk.Now().Add(time.Minute)), nil)
	ok, _ := s.TryAcquire("new")
	assert.False(t, ok)
	clk.Add(time.Minute + 29*time.Minute)
	ok, _ = s.TryAcquire("new")
	assert.False(t, ok, "within the grace")
	clk.Add(2 * time.Minute)
	ok, _ = s.TryAcquire("new")
	assert.True(t, ok, "an entry with no news for 30 minutes past its NotBefore is dropped")
}

func TestSlotsSetLimitAndPacer(t *testing.T) {
	a := newBusy(0, 0)
	budget, asked := 0, 0 // room the pacer has now; reservations asked for
	a.Pace = func() time.Duration {
		asked++
		if budget == 0 {
			return 2 * time.Second
		}
		budget--
		return 0
	}
	s, clk := slotsFor(t, pacedService{busyService{a}})
	ok, retry := s.TryAcquire("a")
	assert.False(t, ok)
	assert.Equal(t, 2*time.Second, retry, "the service's pacing")
	budget = 2
	ok, _ = s.TryAcquire("a")
	assert.True(t, ok)
	ok, _ = s.TryAcquire("b")
	assert.True(t, ok, "room for two")
	ok, retry = s.TryAcquire("c")
	assert.False(t, ok)
	assert.Equal(t, 2*time.Second, retry)
	ok, _ = s.TryAcquire("a")
	assert.True(t, ok)
	assert.Equal(t, 4, asked, "a key already held reserves nothing more")
	s.Observe("a", nil, pending("queued", clk.Now()), nil)
	s.Observe("b", nil, pending("queued", clk.Now()), nil)

	changed := s.Changed()
	s.SetLimit(singletarget.ConcurrencyLimit{Max: 2})
	<-changed
	ok, _ = s.TryAcquire("c")
	assert.False(t, ok)
	s.SetLimit(singletarget.ConcurrencyLimit{})
	ok, _ = s.TryAcquire("c")
	assert.False(t, ok, "no limit, but the pacer has no room")
	budget = 1
	ok, _ = s.TryAcquire("c")
	assert.True(t, ok)
}
