package atlas_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// sqliteManager is a Manager with the ATLAS service and the photometry
// upload processor over a SQLite store in a temporary folder.
func sqliteManager(t *testing.T, sim *atlastest.Server) (*singletarget.Manager, dataproduct.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(dir, "tom.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	m := singletarget.NewManager(store, nil)
	require.NoError(t, m.AddProcessor(atlas.DataProductType, atlas.Processor{}))
	require.NoError(t, m.AddProcessor(dataproduct.TypePhotometry, processor.PhotometryTable{}))
	require.NoError(t, m.AddService(newService(t, sim, nil)))
	return m, store
}

func readProduct(t *testing.T, s dataproduct.Store, id int64) string {
	t.Helper()
	rc, err := s.OpenProduct(context.Background(), id)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

// TestSameQueryTwiceOneProduct is issue 16's "done when": the same ATLAS
// query run twice against a SQLite store leaves one product and adds 0
// datums (the product name used to hold the remote task id, so every run
// stored a new product).
func TestSameQueryTwiceOneProduct(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	m, store := sqliteManager(t, sim)
	req := singletarget.Request{Service: atlas.ServiceName, Target: ngc1566, Params: window}
	first, err := m.Run(ctx, req)
	require.NoError(t, err)
	require.Len(t, first.Products, 1)
	require.Positive(t, first.Added)
	second, err := m.Run(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 0, second.Added, "the same query again adds no datums")
	assert.Equal(t, first.Added, second.Skipped)
	require.Len(t, second.Products, 1)
	assert.Equal(t, first.Products[0].ID, second.Products[0].ID)
	assert.Equal(t, first.Products[0].Name, second.Products[0].Name)
	ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: ngc1566.ID})
	require.NoError(t, err)
	assert.Len(t, ps, 1, "one product for one query")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: ngc1566.ID})
	require.NoError(t, err)
	assert.Len(t, ds, first.Added)
	assert.Equal(t, 2, sim.Stats().TasksCreated, "each run asked the archive")
	for _, tk := range sim.Tasks() {
		assert.Equal(t, "deleted", tk.State, "task %d is cleaned up", tk.ID)
	}
}

// TestUploadCannotTakeAnArchiveProduct is issue 20's finding 1: an upload
// named like an ATLAS product, of another type, replaced the ATLAS file
// and changed its type while its datums still pointed at it.
func TestUploadCannotTakeAnArchiveProduct(t *testing.T) {
	sim := atlastest.NewServer(t, nil)
	m, store := sqliteManager(t, sim)
	res, err := m.Run(ctx, singletarget.Request{Service: atlas.ServiceName, Target: ngc1566, Params: window})
	require.NoError(t, err)
	require.Len(t, res.Products, 1)
	archive := res.Products[0]
	body := readProduct(t, store, archive.ID)

	upload := "time,filter,magnitude,error\n60320.5,g,17,0.1\n"
	up, err := m.Upload(ctx, ngc1566.ID, dataproduct.TypePhotometry, archive.Name, strings.NewReader(upload))
	require.NoError(t, err, "the upload is stored in its own name space")
	require.Len(t, up.Products, 1)
	assert.NotEqual(t, archive.ID, up.Products[0].ID, "the upload is a product of its own")
	assert.Equal(t, dataproduct.UploadName(archive.Name), up.Products[0].Name)
	assert.Equal(t, 1, up.Added)

	got, err := store.Product(ctx, archive.ID)
	require.NoError(t, err)
	assert.Equal(t, atlas.DataProductType, got.DataProductType, "the ATLAS product keeps its type")
	assert.Equal(t, archive.SHA256, got.SHA256, "and its file")
	assert.Equal(t, body, readProduct(t, store, archive.ID))
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{ProductID: archive.ID})
	require.NoError(t, err)
	assert.Len(t, ds, res.Added, "and its datums")
}

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
