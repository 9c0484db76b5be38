package sdsstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/examples/customservice/sdss"
	"github.com/tomgo/targetdata/examples/customservice/sdss/sdsstest"
)

func get(t *testing.T, s *sdsstest.Server, u string) (*http.Response, string) {
	t.Helper()
	resp, err := s.Client().Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func searchURL(s *sdsstest.Server, sql string) string {
	return s.URL + "/SkyServerWS/SearchTools/SqlSearch?" + url.Values{"cmd": {sql}, "format": {"json"}}.Encode()
}

func TestSearch(t *testing.T) {
	s := sdsstest.NewServer(t, nil)
	assert.True(t, strings.HasSuffix(s.URL, "/sim/dr17"), "mounted under a base path")

	resp, body := get(t, s, searchURL(s, sdss.NearestSQL(210.910674, 54.311686, 20, "")))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"specObjID":4776035489613422592`, "a bare 64-bit number, as SkyServer writes it")
	var tables []struct {
		TableName string
		Rows      []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tables))
	require.Len(t, tables, 1)
	assert.Equal(t, "Table1", tables[0].TableName)
	require.Len(t, tables[0].Rows, 1, "TOP 1")
	assert.Equal(t, "GALAXY", tables[0].Rows[0]["class"])
	assert.InDelta(t, 0, tables[0].Rows[0]["distance"], 1e-9)

	// The class filter and the distance in arcmin.
	_, body = get(t, s, searchURL(s, sdss.NearestSQL(210.910674, 54.311686, 20, "STAR")))
	require.NoError(t, json.Unmarshal([]byte(body), &tables))
	require.Len(t, tables[0].Rows, 1)
	assert.Equal(t, "STAR", tables[0].Rows[0]["class"])
	assert.InDelta(t, 10.0/60, tables[0].Rows[0]["distance"], 1e-6)

	// TOP n and the radius.
	_, body = get(t, s, searchURL(s, strings.Replace(sdss.NearestSQL(210.910674, 54.311686, 20, ""), "TOP 1", "TOP 5", 1)))
	require.NoError(t, json.Unmarshal([]byte(body), &tables))
	assert.Len(t, tables[0].Rows, 2)
	_, body = get(t, s, searchURL(s, sdss.NearestSQL(0, 0, 20, "")))
	require.NoError(t, json.Unmarshal([]byte(body), &tables))
	assert.Empty(t, tables[0].Rows)

	// SQL it does not understand: an HTML page, as SkyServer's errors.
	resp, body = get(t, s, searchURL(s, "SELECT 1"))
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, body, "<html>")
	resp, _ = get(t, s, s.URL+"/SkyServerWS/SearchTools/SqlSearch?cmd=x&format=csv")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestFiles(t *testing.T) {
	s := sdsstest.NewServer(t, nil)
	resp, body := get(t, s, s.SASURL+"/eboss/spectro/redux/v5_13_2/spectra/lite/4242/spec-4242-55555-0123.fits")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, string(sdsstest.SpecLite()), body)
	assert.True(t, strings.HasPrefix(body, "SIMPLE  ="))
	resp, _ = get(t, s, s.SASURL+"/sdss/spectro/redux/v5_13_2/spectra/lite/4242/spec-4242-55555-0123.fits")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "BOSS spectra are not under sdss/")
	resp, _ = get(t, s, s.SASURL+"/sdss/spectro/redux/26/spectra/lite/1324/spec-1324-52797-0007.fits")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	custom := []byte("SIMPLE  = T")
	s2 := sdsstest.NewServer(t, &sdsstest.Options{Objects: []sdsstest.Object{{SpecObj: sdss.SpecObj{Plate: 1, MJD: 2, FiberID: 3, Run2D: "104"}, File: custom}}})
	_, body = get(t, s2, s2.SASURL+"/sdss/spectro/redux/104/spectra/lite/0001/spec-0001-2-0003.fits")
	assert.Equal(t, string(custom), body)
}

func TestFaults(t *testing.T) {
	s := sdsstest.NewServer(t, nil)
	file := s.SASURL + "/eboss/spectro/redux/v5_13_2/spectra/lite/4242/spec-4242-55555-0123.fits"

	s.ThrottleNext(1500 * time.Millisecond)
	resp, _ := get(t, s, file)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "whole seconds, rounded up")

	s.Inject(sdsstest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Minute})
	resp, _ = get(t, s, file)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))

	s.Inject(sdsstest.Fault{Status: http.StatusOK, Body: "<html>oops</html>"})
	resp, body := get(t, s, file)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Equal(t, "<html>oops</html>", body)

	resp, _ = get(t, s, file)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "faults are used once")

	// A fault for files waits for a file.
	s.Inject(sdsstest.Fault{Endpoint: sdsstest.EndpointFile, Truncate: true})
	resp, _ = get(t, s, searchURL(s, sdss.NearestSQL(1, 1, 1, "")))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err := s.Client().Get(file)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	// A dropped connection, twice; then a normal answer again.
	s.Inject(sdsstest.Fault{Reset: true, Times: 2})
	for range 2 {
		_, err = (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(file)
		assert.Error(t, err)
	}
	resp, _ = get(t, s, file)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// ClearFaults drops what is left.
	s.Inject(sdsstest.Fault{Status: http.StatusInternalServerError})
	s.ClearFaults()
	resp, _ = get(t, s, file)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	reqs := s.Requests()
	assert.Len(t, reqs, 10)
	assert.True(t, strings.HasPrefix(reqs[0], "/sim/sas/dr17/eboss/"), reqs[0])
}

// NewServer closes the server when the test ends.
func TestNewServerCleanup(t *testing.T) {
	var s *sdsstest.Server
	t.Run("inner", func(t *testing.T) {
		s = sdsstest.NewServer(t, nil)
		resp, _ := get(t, s, s.SASURL+"/nothing")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	_, err := http.Get(s.URL)
	assert.Error(t, err, "closed after the test")

	started := sdsstest.Start(nil)
	resp, err := started.Client().Get(started.SASURL + "/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	started.Close()
}
