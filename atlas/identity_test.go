package atlas_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// loseAnswer is a transport that lets the first request matching method
// and path suffix reach the server and then loses its answer, as a
// dropped connection (or a killed worker) does after the server acted.
type loseAnswer struct {
	next         http.RoundTripper
	method, path string
	mu           sync.Mutex
	done         bool
}

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && !l.done && r.Method == l.method && strings.HasSuffix(r.URL.Path, l.path) {
		l.done = true
		resp.Body.Close()
		return nil, errors.New("connection reset by peer (simulated, after the server acted)")
	}
	return resp, err
}

// TestLostSubmissionIsFound: the server accepts the queue POST but its
// answer is lost. The retried query (the same key) finds the task by its
// comment instead of queueing a second one; a query with another key
// queues its own.
func TestLostSubmissionIsFound(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	lose := &loseAnswer{next: sim.Client().Transport, method: http.MethodPost, path: "/queue/"}
	svc := newService(t, sim, func(o *atlas.Options) { o.HTTPClient = &http.Client{Transport: lose} })
	f := form(t, svc, window)
	_, err := svc.QueryKeyed(ctx, ngc1566, f, "k1", false, nil)
	require.Error(t, err, "the answer was lost")
	assert.True(t, singletarget.Retryable(err), "a lost answer is worth a retry: %v", err)
	require.Equal(t, 1, sim.Stats().TasksCreated, "the server created the task")

	out, err := svc.QueryKeyed(ctx, ngc1566, f, "k1", true, nil)
	require.NoError(t, err)
	require.NotNil(t, out.Pending)
	assert.Equal(t, "1", out.Pending.ID, "the retry follows the task the lost answer was about")
	assert.Equal(t, 1, sim.Stats().TasksCreated, "no second task")
	assert.Equal(t, "60316", out.Pending.Data["mjd_min"])

	other, err := svc.QueryKeyed(ctx, ngc1566, f, "k2", true, nil)
	require.NoError(t, err)
	assert.Equal(t, "2", other.Pending.ID, "another key's retry finds nothing and queues its own task")
	assert.Equal(t, 2, sim.Stats().TasksCreated)
}

// TestPoolRetriesLostSubmission: through the Manager and the Pool, a query
// whose POST answer was lost is retried (the key makes it safe) and ends
// with one remote task, one product, and the task deleted.
func TestPoolRetriesLostSubmission(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	lose := &loseAnswer{next: sim.Client().Transport, method: http.MethodPost, path: "/queue/"}
	svc := newService(t, sim, func(o *atlas.Options) { o.HTTPClient = &http.Client{Transport: lose} })
	store := dataproduct.NewMemoryStore(nil)
	m := manager(t, svc, store)
	pool := singletarget.NewPool(m, &singletarget.PoolOptions{RetryBackoff: func(int) time.Duration { return time.Millisecond }})
	require.NoError(t, pool.Start(ctx))
	defer pool.Stop(ctx)
	id, err := pool.Submit(ctx, singletarget.Request{Service: atlas.ServiceName, Target: ngc1566, Params: window})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st, err := pool.Wait(wctx, id)
	require.NoError(t, err)
	require.Equal(t, singletarget.JobSucceeded, st.State, st.Error)
	assert.Equal(t, 2, st.Attempts)
	assert.Equal(t, 1, sim.Stats().TasksCreated, "one remote task for one query")
	require.Len(t, sim.Tasks(), 1)
	assert.Equal(t, "deleted", sim.Tasks()[0].State)
	assert.Positive(t, st.Added)
	assert.Equal(t, st.Added, countDatums(t, store))
}
