package panstarrs_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
)

// TestBatchSharesTheRequestRate runs a batch of 40 queries with 4 workers
// on a service built from settings with requests_per_second 25 (bursts of
// 25): the service's one limiter paces all of them, so the batch cannot
// take less than (requests − 25) / 25 seconds. Forty separate limiters
// would let every request through at once.
func TestBatchSharesTheRequestRate(t *testing.T) {
	sim := panstarrstest.NewServer(t, nil)
	m, _ := newManager(t, sim, map[string]string{"requests_per_second": "25"})
	ts := make([]singletarget.Target, 40)
	for i := range ts {
		ts[i] = singletarget.Target{ID: int64(i + 1), Name: fmt.Sprintf("T%02d", i), RA: target.RA, Dec: target.Dec}
	}
	start := time.Now()
	b, err := m.Batch(context.Background(), "PANSTARRS", ts, url.Values{"radius_arcsec": {"20"}}, &singletarget.BatchOptions{Workers: 4})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := b.Wait(ctx)
	require.NoError(t, err)
	elapsed := time.Since(start)
	assert.Equal(t, 40, p.Done, "%s", p)
	hits := sim.TotalHits()
	require.GreaterOrEqual(t, hits, 40)
	floor := time.Duration(float64(hits-25) / 25 * float64(time.Second))
	assert.GreaterOrEqual(t, elapsed, floor-10*time.Millisecond, "%d requests in %s", hits, elapsed)
}
