package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// An upload shows what the processor made of the file (rows without a
// datum, notes); a spectrum without a time takes the form's observation
// time, and is refused without one.
func TestUploadReportAndObservationTime(t *testing.T) {
	m := newTOM(t, "pool")
	path := m.addTarget()
	tok := m.token()
	upload := func(typ, name, content, obsTime string) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField(csrfField, tok))
		require.NoError(t, mw.WriteField("data_product_type", typ))
		require.NoError(t, mw.WriteField("observation_time", obsTime))
		fw, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = io.WriteString(fw, content)
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		resp, err := m.c.Post(m.ts.URL+path+"/upload", mw.FormDataContentType(), &buf)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, _ := upload("photometry", "phot.csv", "time,filter,magnitude,limit\n60000.5,g,17,\n60001.5,g,,\n", "")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body := m.get(resp.Header.Get("Location"))
	assert.Contains(t, body, `<ul class="notice report" id="upload-report"><li>2 rows, 1 datum; 1 row skipped: 1 neither a magnitude nor a limit (line 3)</li></ul>`)

	spectrum := "wavelength flux\n4000 1e-16\n4001 2e-16\n"
	resp, body = upload("spectroscopy", "spec.txt", spectrum, "")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, section(t, body, "upload"), "no observation time")
	resp, body = upload("spectroscopy", "spec.txt", spectrum, "yesterday")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, section(t, body, "upload"), "Observation time: ")
	assert.Contains(t, section(t, body, "upload"), `value="yesterday"`, "the form keeps what was typed")

	resp, _ = upload("spectroscopy", "spec-dated.txt", spectrum, "2024-01-26T03:14:15")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = m.get(resp.Header.Get("Location"))
	assert.Contains(t, body, "note: the file gives no observation time: the time given with it is used (2024-01-26T03:14:15Z)")
	ds, err := m.app.Manager.Store().ListDatums(context.Background(), dataproduct.DatumFilter{DataType: dataproduct.TypeSpectroscopy})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, time.Date(2024, 1, 26, 3, 14, 15, 0, time.UTC), ds[0].Timestamp)
}

func TestJobTemplateReport(t *testing.T) {
	m := newTOM(t, "pool")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	st := singletarget.JobStatus{ID: "j1", State: singletarget.JobSucceeded, Created: now, Updated: now,
		Request: singletarget.Request{Service: "ATLAS", Target: singletarget.Target{ID: 1, Name: "SN X"}}}
	st.Added = 1770
	st.Reports = []dataproduct.Report{{Product: "job01381.txt", Rows: 1790, Datums: 1770, Skipped: []dataproduct.SkippedRows{
		{Reason: "no flux error (duJy ≤ 0)", Count: 2, Lines: []int{79, 1217}},
		{Reason: "failed photometric solution (mag5sig < 10)", Count: 18, Lines: []int{314, 315, 637, 676, 677}}}}}
	require.NoError(t, m.srv.pages["job"].ExecuteTemplate(&buf, "layout", jobPage{page: page{Title: "job"}, Status: st}))
	body := buf.String()
	assert.Contains(t, body, `<dt>Processed</dt><dd class="report">job01381.txt: 1790 rows read, 1770 datums, 20 rows without a datum<ul>`+
		`<li>2 × no flux error (duJy ≤ 0) (lines 79, 1217)</li><li>18 × failed photometric solution (mag5sig &lt; 10) (lines 314, 315, 637, 676, 677, …)</li></ul></dd>`)
}
