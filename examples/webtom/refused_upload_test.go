package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

// An upload the TOM refuses (422: a bad CSV, a garbage FITS) leaves no
// file in the store (issue 20 item 7).
func TestRefusedUploadNotKept(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	tok := m.token()
	for _, c := range []struct{ typ, name, content string }{
		{"photometry", "bad.csv", "time,filter,magnitude\n60000.5,g,17\n60001,g,bright\n"},
		{"spectroscopy", "spectrum.fits", "SIMPLE  =                    T" + strings.Repeat("\x00\xff garbage ", 400)},
		// A datum the store refuses (a control character in its text) is
		// the user's mistake too, not an internal error.
		{"photometry", "control.csv", "time,filter,magnitude,error\n60000.5,g\x01,17,0.1\n"},
	} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField(csrfField, tok))
		require.NoError(t, mw.WriteField("data_product_type", c.typ))
		fw, err := mw.CreateFormFile("file", c.name)
		require.NoError(t, err)
		_, err = io.WriteString(fw, c.content)
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		resp, err := m.c.Post(m.ts.URL+path+"/upload", mw.FormDataContentType(), &buf)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, c.name)
	}
	ps, err := m.srv.app.Store.ListProducts(context.Background(), dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, ps, "refused uploads are not kept")
}
