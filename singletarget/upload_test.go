package singletarget_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// cancelling is a processor during whose run the request is cancelled
// (the browser went away while the file was processed).
type cancelling struct{ cancel *context.CancelFunc }

func (c cancelling) DataType() string { return dataproduct.TypePhotometry }
func (c cancelling) Process(ctx context.Context, r io.Reader) ([]dataproduct.Datum, error) {
	(*c.cancel)()
	<-ctx.Done()
	return nil, ctx.Err()
}

// brokenReader gives some bytes, then fails: an upload cut off mid-way.
type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, strings.Repeat("time,filter,magnitude,error\n", 1+len(p)/28)[:min(len(p), b.n)])
	b.n -= n
	return n, nil
}

// An upload whose processing fails leaves nothing stored, unless the
// Manager is asked to keep such files (issue 20 item 7).
func TestFailedUploadsAreNotKept(t *testing.T) {
	ctx := context.Background()
	var cancelProcessing context.CancelFunc
	newManager := func(keep bool) (*singletarget.Manager, dataproduct.Store) {
		store := dataproduct.NewMemoryStore(nil)
		m := singletarget.NewManager(store, &singletarget.ManagerOptions{KeepFailedUploads: keep})
		require.NoError(t, m.AddProcessor(dataproduct.TypePhotometry, processor.PhotometryTable{}))
		require.NoError(t, m.AddProcessor(dataproduct.TypeSpectroscopy, processor.Spectroscopy{}))
		require.NoError(t, m.AddProcessor("cancelled_photometry", cancelling{&cancelProcessing}))
		return m, store
	}
	products := func(store dataproduct.Store) []dataproduct.Product {
		ps, err := store.ListProducts(ctx, dataproduct.ProductFilter{})
		require.NoError(t, err)
		return ps
	}
	bad := map[string]struct {
		typ, name string
		body      func(cancel context.CancelFunc) io.Reader
	}{
		"a CSV with a bad row (422)": {dataproduct.TypePhotometry, "bad.csv", func(context.CancelFunc) io.Reader {
			return strings.NewReader("time,filter,magnitude,error\n60000.5,g,17,0.1\n60001,g,bright,0.1\n")
		}},
		"a garbage FITS": {dataproduct.TypeSpectroscopy, "spectrum.fits", func(context.CancelFunc) io.Reader {
			return strings.NewReader("SIMPLE  =                    T" + strings.Repeat("\x00\xff garbage ", 400))
		}},
		"an upload cancelled while processed": {"cancelled_photometry", "cancelled.csv", func(cancel context.CancelFunc) io.Reader {
			cancelProcessing = cancel
			return strings.NewReader("time,filter,magnitude,error\n60000.5,g,17,0.1\n")
		}},
		"an upload cut off mid-way": {dataproduct.TypePhotometry, "cut.csv", func(context.CancelFunc) io.Reader { return &brokenReader{n: 5000} }},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			m, store := newManager(false)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			res, err := m.Upload(cctx, 3, c.typ, c.name, c.body(cancel))
			require.Error(t, err)
			assert.Empty(t, products(store), "the refused file is removed")
			if res != nil {
				assert.Empty(t, res.Products, "the result lists no product that is gone")
			}
			ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
			require.NoError(t, err)
			assert.Empty(t, ds)

			// Asked to keep it, the Manager keeps it (for a look at what
			// was wrong), except a file that never arrived whole.
			m, store = newManager(true)
			cctx, cancel2 := context.WithCancel(ctx)
			defer cancel2()
			res, err = m.Upload(cctx, 3, c.typ, c.name, c.body(cancel2))
			require.Error(t, err)
			if c.name == "cut.csv" {
				assert.Empty(t, products(store), "a cut-off upload is never stored")
				return
			}
			require.Len(t, products(store), 1)
			require.NotNil(t, res)
			assert.Len(t, res.Products, 1)
		})
	}

	// A good upload stays, of course, and an upload of other bytes under
	// its name (refused: uploads never replace) does not remove it.
	m, store := newManager(false)
	res, err := m.Upload(ctx, 3, dataproduct.TypePhotometry, "good.csv", strings.NewReader("time,filter,magnitude,error\n60000.5,g,17,0.1\n"))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Added)
	require.Len(t, products(store), 1)
	_, err = m.Upload(ctx, 3, dataproduct.TypePhotometry, "good.csv", strings.NewReader("time,filter,magnitude,error\n60001,g,bright,0.1\n"))
	require.ErrorIs(t, err, dataproduct.ErrConflict)
	assert.Len(t, products(store), 1, "the earlier upload stays")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	assert.Len(t, ds, 1, "with its datums")
}
