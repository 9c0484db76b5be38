package e2etest

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// namingStore records the name of every product a service stores.
type namingStore struct {
	*dataproduct.MemoryStore
	mu    sync.Mutex
	names []string
}

func (s *namingStore) ReplaceProduct(ctx context.Context, p dataproduct.Product, r io.Reader) (dataproduct.Product, error) {
	s.mu.Lock()
	s.names = append(s.names, p.Name)
	s.mu.Unlock()
	return s.MemoryStore.ReplaceProduct(ctx, p, r)
}

func (s *namingStore) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.names[len(s.names)-1]
}

// TestRefreshEveryService: on every service of rigs (ATLAS, PanSTARRS,
// ZTF, ZTF_FP; ALeRCE has no rig here, its refresh is checked by
// servicetest.Run in package alerce), a refresh right
// after the rig's query asks a narrower window (its product gets another
// name: the window's start is in every built-in product name), adds
// nothing and keeps no new product; the PanSTARRS mean table has no epochs
// and is asked whole.
func TestRefreshEveryService(t *testing.T) {
	for _, rg := range rigs {
		t.Run(rg.name, func(t *testing.T) {
			t.Parallel()
			store := &namingStore{MemoryStore: dataproduct.NewMemoryStore(nil)}
			r := rg.make(t, rigOptions{store: store})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			full, err := r.m.Run(ctx, r.req)
			require.NoError(t, err)
			require.Positive(t, full.Added)
			fullName := store.last()
			before := products(t, store)
			newest, err := store.ListDatums(ctx, dataproduct.DatumFilter{TargetID: target.ID, Newest: true, Limit: 1})
			require.NoError(t, err)
			overlap, err := r.m.RefreshOverlap(r.req.Service)
			require.NoError(t, err)

			req := r.req
			req.Refresh = true
			for i := range 2 {
				res, err := r.m.Run(ctx, req)
				require.NoError(t, err)
				assert.Equal(t, 0, res.Added, "refresh %d adds nothing", i+1)
				assert.Positive(t, res.Skipped, "refresh %d: the overlap came back", i+1)
				assert.Equal(t, before, products(t, store), "refresh %d keeps no new product", i+1)
				require.NotNil(t, res.Window)
				if r.name == "PANSTARRS" {
					assert.True(t, res.Window.All, "the mean table has no epochs to narrow")
					assert.Equal(t, fullName, store.last())
					continue
				}
				want := newest[0].Timestamp.Add(-overlap)
				assert.WithinDuration(t, want, res.Window.From, 2*time.Second)
				assert.NotEqual(t, fullName, store.last(), "refresh %d asked another window than the query", i+1)
				t.Logf("%s refresh %d: window %s, product %s (MJD of newest %.5f)", r.name, i+1, res.Window,
					store.last(), processor.TimeToMJD(newest[0].Timestamp))
			}
		})
	}
}

var _ dataproduct.Store = (*namingStore)(nil)
var _ singletarget.ProductSink = (*namingStore)(nil)
