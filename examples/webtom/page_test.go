package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

// countingStore counts the datums ListDatums hands out.
type countingStore struct {
	dataproduct.Store
	listed atomic.Int64
}

func (s *countingStore) ListDatums(ctx context.Context, f dataproduct.DatumFilter) ([]dataproduct.Datum, error) {
	ds, err := s.Store.ListDatums(ctx, f)
	s.listed.Add(int64(len(ds)))
	return ds, err
}

// manyDatums returns n photometry datums of target 1 from "BULK", hour
// offset start .. start+n-1 after t0, magnitudes varying with the index.
func manyDatums(start, n int) []dataproduct.Datum {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	ds := make([]dataproduct.Datum, n)
	for k := range ds {
		i := start + k
		ds[k] = dataproduct.Datum{TargetID: 1, DataType: dataproduct.TypePhotometry, Timestamp: t0.Add(time.Duration(i) * time.Hour),
			Source: "BULK", Value: dataproduct.Photometry{Magnitude: dataproduct.Float(15 + float64(i%500)/100), Error: dataproduct.Float(0.05), Filter: "o"}}
	}
	return ds
}

// A target page does bounded work whatever the target holds: it lists
// one page of the table, the newest spectra and one photometry point (it
// loaded every datum before), counts in the store, and pages through the
// newest 10,000 datums; the light curve draws the newest 5,000 points.
func TestTargetPageBounded(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	ctx := context.Background()
	const n = maxDatumPages*latestDatums + 50 // more than the table and the plot show
	_, err := m.app.Store.AddDatums(ctx, dataproduct.Datums(manyDatums(1000, n)))
	require.NoError(t, err)
	var spectra []dataproduct.Datum
	for i := range shownSpectra + 2 {
		spectra = append(spectra, dataproduct.Datum{TargetID: 1, DataType: dataproduct.TypeSpectroscopy,
			Timestamp: time.Date(2019, 1, 1+i, 0, 0, 0, 0, time.UTC), Source: fmt.Sprintf("SPEC%d", i),
			Value: dataproduct.Spectrum{Wavelength: []float64{4000, 5000, 6000}, Flux: []float64{1, 2, float64(i)}, WavelengthUnits: "Angstrom", FluxUnits: "erg"}})
	}
	_, err = m.app.Store.AddDatums(ctx, dataproduct.Datums(spectra))
	require.NoError(t, err)
	total := n + len(spectra)

	cs := &countingStore{Store: m.app.Store}
	m.app.Store = cs
	code, body := m.get(path)
	require.Equal(t, http.StatusOK, code)
	assert.LessOrEqual(t, cs.listed.Load(), int64(latestDatums+shownSpectra+1), "a page view lists %d datums", cs.listed.Load())
	assert.Contains(t, body, fmt.Sprintf(`<p class="summary" id="datum-total">%d datums stored for this target; the light curve draws the newest 5000 photometry points.</p>`, total))
	assert.Contains(t, body, fmt.Sprintf(`1–20 of %d, newest first (page 1 of 500) · <a href="/targets/1?page=2#datums" rel="next">Older</a>; the table goes back 10000 datums`, total))
	assert.Contains(t, body, "The newest 6 of 8 spectra.")
	sec := section(t, body, "spectra")
	assert.Contains(t, sec, "SPEC7,")
	assert.NotContains(t, sec, "SPEC1,", "older spectra are not drawn")
	rows := regexp.MustCompile(`<tr><td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td>`).FindAllStringSubmatch(section(t, body, "datums"), -1)
	require.Len(t, rows, latestDatums)
	newest := manyDatums(1000+n-1, 1)[0].Timestamp.Format("2006-01-02 15:04:05")
	assert.Equal(t, newest, rows[0][1], "newest first")
	assert.Greater(t, rows[0][1], rows[19][1])

	for q, want := range map[string]string{
		"?page=2":    `<a href="/targets/1?page=1#datums" rel="prev">Newer</a> · 21–40 of`,
		"?page=500":  `9981–10000 of ` + fmt.Sprint(total) + `, newest first (page 500 of 500); the table`,
		"?page=9999": `9981–10000 of`,
		"?page=-3":   `1–20 of`,
		"?page=x":    `1–20 of`,
	} {
		cs.listed.Store(0)
		code, body := m.get(path + q)
		require.Equal(t, http.StatusOK, code, q)
		assert.Contains(t, body, want, q)
		assert.LessOrEqual(t, cs.listed.Load(), int64(latestDatums+shownSpectra+1), q)
	}

	// The light curve lists the newest plotPoints photometry points only:
	// an older point changes nothing, a newer one redraws it.
	cs.listed.Store(0)
	first := pngBytes(t, m, "/targets/1/lightcurve.png")
	assert.Equal(t, int64(plotPoints), cs.listed.Load())
	_, err = m.app.Store.AddDatums(ctx, dataproduct.Datums(manyDatums(0, 1)))
	require.NoError(t, err)
	assert.Equal(t, first, pngBytes(t, m, "/targets/1/lightcurve.png"), "a point older than the newest 5000 is not drawn")
	_, err = m.app.Store.AddDatums(ctx, dataproduct.Datums(manyDatums(1000+n, 1)))
	require.NoError(t, err)
	assert.NotEqual(t, first, pngBytes(t, m, "/targets/1/lightcurve.png"), "a newer point is")
}

// Concurrent views of a light curve draw it once: one request draws while
// the others wait, then they take it from the cache.
func TestLightcurveDrawnOnce(t *testing.T) {
	m := newTOM(t, "immediate")
	m.addTarget()
	_, err := m.app.Store.AddDatums(context.Background(), dataproduct.Datums(manyDatums(0, 2000)))
	require.NoError(t, err)
	const views = 6
	pngs := make(chan []byte, views)
	var wg sync.WaitGroup
	for range views {
		wg.Go(func() { pngs <- pngBytes(t, m, "/targets/1/lightcurve.png") })
	}
	wg.Wait()
	close(pngs)
	first := <-pngs
	for b := range pngs {
		assert.Equal(t, first, b)
	}
	assert.Equal(t, int64(1), m.srv.draws.Load(), "drawn once for %d concurrent views", views)
}

// An empty target page has no pager, plot or table.
func TestTargetPageEmpty(t *testing.T) {
	m := newTOM(t, "immediate")
	path := m.addTarget()
	code, body := m.get(path + "?page=3")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `id="no-photometry"`)
	assert.False(t, strings.Contains(body, `id="datum-pager"`) || strings.Contains(body, `id="datums"`) || strings.Contains(body, `id="spectra"`))
}
