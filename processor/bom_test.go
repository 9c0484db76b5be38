package processor_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

const bom = "\ufeff"

// A text file that starts with a UTF-8 byte order mark, as Excel and some
// Windows editors save CSV, is read as if it had none (issue 20 item 14).
func TestByteOrderMark(t *testing.T) {
	ctx := context.Background()
	csvText := "time,filter,magnitude,error\r\n60316.1,g,17.25,0.05\r\n60316.2,r,17.5,0.06\r\n"
	want, err := processor.PhotometryTable{}.Process(ctx, strings.NewReader(csvText))
	require.NoError(t, err)
	require.Len(t, want, 2)

	// The photometry table processor, called directly.
	got, err := processor.PhotometryTable{}.Process(ctx, strings.NewReader(bom+csvText))
	require.NoError(t, err, "an Excel CSV is read")
	assert.Equal(t, want, got)

	// A text spectrum, called directly.
	spec := "# DATE-OBS: 2024-01-27T04:05:06\nwavelength,flux\n4000,1e-16\n4001,2e-16\n"
	wantSpec, err := processor.Spectroscopy{}.Process(ctx, strings.NewReader(spec))
	require.NoError(t, err)
	gotSpec, err := processor.Spectroscopy{}.Process(ctx, strings.NewReader(bom+spec))
	require.NoError(t, err, "a text spectrum with a BOM is read")
	assert.Equal(t, wantSpec, gotSpec)

	// Any processor reached through Stream and Ingest: an ATLAS file.
	atlasFile, err := os.ReadFile("../atlas/testdata/atlas_ngc1566.txt")
	require.NoError(t, err)
	wantATLAS, err := processor.Collect(processor.Stream(ctx, atlas.Processor{}, strings.NewReader(string(atlasFile))))
	require.NoError(t, err)
	gotATLAS, err := processor.Collect(processor.Stream(ctx, atlas.Processor{}, strings.NewReader(bom+string(atlasFile))))
	require.NoError(t, err, "processor.Stream skips the BOM for every processor")
	assert.Equal(t, wantATLAS, gotATLAS)

	store := dataproduct.NewMemoryStore(nil)
	p, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "excel.csv", DataProductType: dataproduct.TypePhotometry}, strings.NewReader(bom+csvText))
	require.NoError(t, err)
	res, err := processor.Ingest(ctx, store, p, processor.PhotometryTable{})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Added)

	// Only one mark at the very start is skipped: a second one is data.
	_, err = processor.PhotometryTable{}.Process(ctx, strings.NewReader(bom+bom+csvText))
	assert.Error(t, err)
}

// A NUL inside a filter reaches no store: the whole file is refused
// (issue 20 item 14).
func TestNULInFilterRefused(t *testing.T) {
	ctx := context.Background()
	store := dataproduct.NewMemoryStore(nil)
	in := "time,filter,magnitude,error\n60316.1,g,17.25,0.05\n60316.2,r\x00,17.5,0.06\n"
	p, err := store.PutProduct(ctx, dataproduct.Product{TargetID: 1, Name: "nul.csv", DataProductType: dataproduct.TypePhotometry}, strings.NewReader(in))
	require.NoError(t, err)
	_, err = processor.Ingest(ctx, store, p, processor.PhotometryTable{})
	require.ErrorIs(t, err, dataproduct.ErrInvalidDatum)
	assert.ErrorContains(t, err, "filter")
	ds, err := store.ListDatums(ctx, dataproduct.DatumFilter{})
	require.NoError(t, err)
	assert.Empty(t, ds)
}

func TestSkipBOM(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "\xef": "\xef", "\xef\xbb": "\xef\xbb", bom: "", bom + "a": "a", "abc": "abc", "ab": "ab", bom + bom: bom,
	} {
		b, err := io.ReadAll(processor.SkipBOM(iotest.OneByteReader(strings.NewReader(in))))
		require.NoError(t, err)
		assert.Equal(t, want, string(b), "%q", in)
	}
	r := processor.SkipBOM(strings.NewReader(bom + "x"))
	assert.Same(t, r, processor.SkipBOM(r), "wrapping twice skips one mark")
}
