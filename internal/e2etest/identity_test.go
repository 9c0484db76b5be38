package e2etest

import (
	"context"
	"io"
	"net/url"
	"path/filepath"
	"strings"
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

// The ATLAS query of the product-identity tests (they were in package
// atlas_test until sqlstore became a module of its own).
var (
	ngc1566 = singletarget.Target{ID: 1, Name: "NGC 1566", RA: 65.00165, Dec: -54.93795}
	window  = url.Values{"min_date_mjd": {"60316"}, "max_date_mjd": {"60336"}}
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
	svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{
		HTTPClient: sim.Client(), PollQueued: 2 * time.Millisecond, PollRunning: 2 * time.Millisecond, PollMax: 10 * time.Millisecond,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NoError(t, m.AddService(svc))
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
	first, err := m.Run(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, first.Products, 1)
	require.Positive(t, first.Added)
	second, err := m.Run(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 0, second.Added, "the same query again adds no datums")
	assert.Equal(t, first.Added, second.Skipped)
	require.Len(t, second.Products, 1)
	assert.Equal(t, first.Products[0].ID, second.Products[0].ID)
	assert.Equal(t, first.Products[0].Name, second.Products[0].Name)
	ps, err := store.ListProducts(context.Background(), dataproduct.ProductFilter{TargetID: ngc1566.ID})
	require.NoError(t, err)
	assert.Len(t, ps, 1, "one product for one query")
	ds, err := store.ListDatums(context.Background(), dataproduct.DatumFilter{TargetID: ngc1566.ID})
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
	res, err := m.Run(context.Background(), singletarget.Request{Service: atlas.ServiceName, Target: ngc1566, Params: window})
	require.NoError(t, err)
	require.Len(t, res.Products, 1)
	archive := res.Products[0]
	body := readProduct(t, store, archive.ID)

	upload := "time,filter,magnitude,error\n60320.5,g,17,0.1\n"
	up, err := m.Upload(context.Background(), ngc1566.ID, dataproduct.TypePhotometry, archive.Name, strings.NewReader(upload))
	require.NoError(t, err, "the upload is stored in its own name space")
	require.Len(t, up.Products, 1)
	assert.NotEqual(t, archive.ID, up.Products[0].ID, "the upload is a product of its own")
	assert.Equal(t, dataproduct.UploadName(archive.Name), up.Products[0].Name)
	assert.Equal(t, 1, up.Added)

	got, err := store.Product(context.Background(), archive.ID)
	require.NoError(t, err)
	assert.Equal(t, atlas.DataProductType, got.DataProductType, "the ATLAS product keeps its type")
	assert.Equal(t, archive.SHA256, got.SHA256, "and its file")
	assert.Equal(t, body, readProduct(t, store, archive.ID))
	ds, err := store.ListDatums(context.Background(), dataproduct.DatumFilter{ProductID: archive.ID})
	require.NoError(t, err)
	assert.Len(t, ds, res.Added, "and its datums")
}
