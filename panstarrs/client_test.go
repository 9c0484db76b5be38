package panstarrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/singletarget"
)

const base = "https://mast.example.org/api/v0.1/panstarrs"

const token = singletarget.Secret("secret-mast-token-1234")

func mockClient(t *testing.T, mutate func(*panstarrs.Options)) (*panstarrs.Client, *httpmock.MockTransport, *bytes.Buffer) {
	t.Helper()
	tr := httpmock.NewMockTransport()
	logs := &bytes.Buffer{}
	opts := &panstarrs.Options{
		HTTPClient:   &http.Client{Transport: tr},
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 2 * time.Millisecond,
		Limiter:      rate.NewLimiter(rate.Inf, 0),
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(opts)
	}
	c, err := panstarrs.New(base, token, opts)
	require.NoError(t, err)
	return c, tr, logs
}

// capture registers a responder that records each request and answers
// with the bodies in turn (the last one repeats).
func capture(tr *httpmock.MockTransport, method, u string, status int, bodies ...string) *[]*http.Request {
	var seen []*http.Request
	tr.RegisterResponder(method, u, func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r)
		b := bodies[min(len(seen), len(bodies))-1]
		resp := httpmock.NewStringResponse(status, b)
		resp.Header.Set("Content-Type", "text/csv")
		return resp, nil
	})
	return &seen
}

func TestSearchRequestEncoding(t *testing.T) {
	c, tr, logs := mockClient(t, nil)
	seen := capture(tr, "GET", base+"/dr2/mean.csv", 200, "objID,nDetections\n1,3\n")
	q := panstarrs.Query{
		Release: "dr2", Table: "mean",
		Cone:    &panstarrs.Cone{RA: 230.7155, Dec: 41.0503, Radius: 0.008333},
		Columns: []string{"objID", "nDetections"},
		Where: []panstarrs.Constraint{panstarrs.Range("nDetections", panstarrs.OpMin, 2), panstarrs.Range("epochMean", panstarrs.OpMax, 60600.5),
			panstarrs.Eq("objID", "157262307155530976", "157262307155530977")},
		SortBy:   []string{"distance.desc"},
		PageSize: 500,
	}
	body, err := c.Search(context.Background(), q, panstarrs.FormatCSV)
	require.NoError(t, err)
	assert.Equal(t, "objID,nDetections\n1,3\n", string(body))
	require.Len(t, *seen, 1)
	r := (*seen)[0]
	v := r.URL.Query()
	assert.Equal(t, "230.7155", v.Get("ra"))
	assert.Equal(t, "41.0503", v.Get("dec"))
	assert.Equal(t, "0.008333", v.Get("radius"), "radius in degrees")
	assert.Equal(t, "[objID,nDetections]", v.Get("columns"), "columns as one bracketed list")
	assert.Equal(t, "2", v.Get("nDetections.min"))
	assert.Equal(t, "60600.5", v.Get("epochMean.max"))
	assert.Equal(t, []string{"157262307155530976", "157262307155530977"}, v["objID"], "any-of as a repeated parameter")
	assert.Equal(t, "distance.desc", v.Get("sort_by"))
	assert.Equal(t, "500", v.Get("pagesize"))
	assert.Empty(t, v.Get("page"))
	ck, err := r.Cookie("mast_token")
	require.NoError(t, err)
	assert.Equal(t, token.Reveal(), ck.Value, "the token is sent as astroquery sends it")
	assert.Contains(t, r.Header.Get("User-Agent"), "targetdata/")
	assert.NotContains(t, logs.String(), token.Reveal())
}

func TestSearchPostJSON(t *testing.T) {
	c, tr, _ := mockClient(t, func(o *panstarrs.Options) { o.Method = "post" })
	var got map[string]any
	tr.RegisterResponder("POST", base+"/dr2/detection.json", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		require.NoError(t, dec.Decode(&got))
		return httpmock.NewStringResponse(200, `{"info": [{"name": "objID"}], "data": [{"objID": "1"}]}`), nil
	})
	_, err := c.Search(context.Background(), panstarrs.Query{Release: "dr2", Table: "detection",
		Columns: []string{"objID", "obsTime"},
		Where:   []panstarrs.Constraint{panstarrs.Eq("objID", "157262307155530976"), panstarrs.Eq("filterID", "1", "2")},
		SortBy:  []string{"obsTime"}, PageSize: 10, Page: 2}, panstarrs.FormatJSON)
	require.NoError(t, err)
	assert.Equal(t, json.Number("157262307155530976"), got["objID"], "a 64-bit id as an exact JSON number")
	assert.Equal(t, []any{json.Number("1"), json.Number("2")}, got["filterID"])
	assert.Equal(t, []any{"objID", "obsTime"}, got["columns"])
	assert.Equal(t, []any{"obsTime"}, got["sort_by"])
	assert.Equal(t, json.Number("10"), got["pagesize"])
	assert.Equal(t, json.Number("2"), got["page"])
}

func TestSearchEmptyAndErrors(t *testing.T) {
	ctx := context.Background()
	q := panstarrs.Query{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 1, Dec: 2, Radius: 0.01}}

	c, tr, _ := mockClient(t, nil)
	capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", 200, "")
	_, err := c.Search(ctx, q, panstarrs.FormatCSV)
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "an empty body is no data")
	_, err = c.SearchAll(ctx, q)
	assert.ErrorIs(t, err, singletarget.ErrNotFound)
	assert.False(t, singletarget.Retryable(err))

	capture(tr, "GET", "=~^"+base+"/dr2/mean.json", 200, `{"info": [{"name": "objID"}], "data": []}`)
	_, err = c.Search(ctx, q, panstarrs.FormatJSON)
	assert.ErrorIs(t, err, singletarget.ErrNotFound, "no JSON rows is no data")

	for _, tc := range []struct {
		status int
		body   string
		is     error
	}{
		{422, `{"detail":[{"loc":["query","radius"],"msg":"bad"}]}`, singletarget.ErrRemote},
		{401, "no", singletarget.ErrUnauthorized},
		{403, "no", singletarget.ErrUnauthorized},
		{500, "<html>oops</html>", singletarget.ErrRemote},
	} {
		c, tr, _ := mockClient(t, nil)
		seen := capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", tc.status, tc.body)
		_, err := c.Search(ctx, q, panstarrs.FormatCSV)
		require.Error(t, err)
		assert.ErrorIs(t, err, tc.is, "HTTP %d", tc.status)
		var re *singletarget.RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, tc.status, re.Status)
		if tc.status == 500 {
			assert.Len(t, *seen, 4, "a 5xx is retried (RetryMax 3)")
		} else {
			assert.Len(t, *seen, 1, "a 4xx is not retried")
		}
		assert.NotContains(t, err.Error(), token.Reveal())
	}

	c, tr, _ = mockClient(t, nil)
	tr.RegisterRegexpResponder("GET", mustRegexp(base+"/dr2/mean.csv"), func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(200, "<html><body>Maintenance</body></html>")
		r.Header.Set("Content-Type", "text/html; charset=utf-8")
		return r, nil
	})
	_, err = c.Search(ctx, q, panstarrs.FormatCSV)
	assert.ErrorIs(t, err, singletarget.ErrRemote, "an HTML page is not an answer")
}

func TestThrottling(t *testing.T) {
	ctx := context.Background()
	q := panstarrs.Query{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 1, Dec: 2, Radius: 0.01}}
	c, tr, _ := mockClient(t, nil)
	calls := 0
	tr.RegisterRegexpResponder("GET", mustRegexp(base+"/dr2/mean.csv"), func(*http.Request) (*http.Response, error) {
		calls++
		r := httpmock.NewStringResponse(429, `{"detail": "Too many requests"}`)
		r.Header.Set("Retry-After", "30")
		return r, nil
	})
	_, err := c.Search(ctx, q, panstarrs.FormatCSV)
	var te *singletarget.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 30*time.Second, te.RetryAfter)
	assert.Equal(t, "PANSTARRS", te.Service)
	assert.Equal(t, 1, calls, "a long wait is not waited out inside the request")
	_, err = c.Search(ctx, q, panstarrs.FormatCSV)
	assert.ErrorIs(t, err, singletarget.ErrThrottled)
	assert.Equal(t, 1, calls, "the wait is remembered: no request before it is over")

	c, tr, _ = mockClient(t, nil)
	calls = 0
	tr.RegisterRegexpResponder("GET", mustRegexp(base+"/dr2/mean.csv"), func(*http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			r := httpmock.NewStringResponse(429, "slow down")
			r.Header.Set("Retry-After", "0")
			return r, nil
		}
		return httpmock.NewStringResponse(200, "objID\n1\n"), nil
	})
	_, err = c.Search(ctx, q, panstarrs.FormatCSV)
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "a short wait is waited out and retried")
}

func mustRegexp(prefix string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(prefix))
}

func TestInvalidQueries(t *testing.T) {
	c, tr, _ := mockClient(t, nil)
	ctx := context.Background()
	cone := &panstarrs.Cone{RA: 1, Dec: 2, Radius: 0.01}
	for _, q := range []panstarrs.Query{
		{Release: "dr1", Table: "detection", Cone: cone},
		{Release: "dr1", Table: "forced_mean", Cone: cone},
		{Release: "dr3", Table: "mean", Cone: cone},
		{Release: "dr2", Table: "mean"},
		{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 400, Dec: 2, Radius: 0.01}},
		{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 1, Dec: 2, Radius: 0}},
		{Release: "dr2", Table: "mean", Cone: cone, Columns: []string{"objID&x=1"}},
		{Release: "dr2", Table: "mean", Cone: cone, Where: []panstarrs.Constraint{{Column: "nDetections", Op: "between", Values: []string{"1"}}}},
		{Release: "dr2", Table: "mean", Cone: cone, Where: []panstarrs.Constraint{{Column: "nDetections", Op: panstarrs.OpMin, Values: []string{"1", "2"}}}},
		{Release: "dr2", Table: "mean", Cone: cone, SortBy: []string{"distance.sideways"}},
	} {
		_, err := c.Search(ctx, q, panstarrs.FormatCSV)
		assert.ErrorIs(t, err, panstarrs.ErrInvalidQuery, "%+v", q)
	}
	_, err := c.Search(ctx, panstarrs.Query{Release: "dr2", Table: "mean", Cone: cone}, "votable")
	assert.ErrorIs(t, err, panstarrs.ErrInvalidQuery)
	assert.Zero(t, tr.GetTotalCallCount(), "nothing invalid is sent")

	// A radius above MAST's maximum is capped.
	seen := capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", 200, "objID\n1\n")
	_, err = c.Search(ctx, panstarrs.Query{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 1, Dec: 2, Radius: 3}}, panstarrs.FormatCSV)
	require.NoError(t, err)
	assert.Equal(t, "0.5", (*seen)[0].URL.Query().Get("radius"))
}

func TestCancelled(t *testing.T) {
	c, tr, _ := mockClient(t, nil)
	capture(tr, "GET", "=~^"+base, 200, "objID\n1\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.SearchAll(ctx, panstarrs.Query{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 1, Dec: 2, Radius: 0.01}})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.Metadata(ctx, "dr2", "mean")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, tr.GetTotalCallCount())
}

// pages answers a paged search from rows, with pages numbered from base.
func pages(t *testing.T, tr *httpmock.MockTransport, header string, rows []string, firstPage int, seen *[]url.Values) {
	tr.RegisterRegexpResponder("GET", mustRegexp(base+"/dr2/mean.csv"), func(r *http.Request) (*http.Response, error) {
		v := r.URL.Query()
		*seen = append(*seen, v)
		size, _ := strconv.Atoi(v.Get("pagesize"))
		page := firstPage
		if p := v.Get("page"); p != "" {
			page, _ = strconv.Atoi(p)
		}
		from := (page - firstPage) * size
		if from >= len(rows) {
			return httpmock.NewStringResponse(200, ""), nil
		}
		return httpmock.NewStringResponse(200, header+"\n"+strings.Join(rows[from:min(len(rows), from+size)], "\n")+"\n"), nil
	})
}

func TestSearchAllPaging(t *testing.T) {
	ctx := context.Background()
	q := panstarrs.Query{Release: "dr2", Table: "mean", Cone: &panstarrs.Cone{RA: 1, Dec: 2, Radius: 0.01}, PageSize: 3}
	var rows []string
	for i := range 8 {
		rows = append(rows, strconv.Itoa(100+i)+",x")
	}
	for _, first := range []int{1, 0} {
		t.Run("pages from "+strconv.Itoa(first), func(t *testing.T) {
			c, tr, _ := mockClient(t, nil)
			var seen []url.Values
			pages(t, tr, "objID,name", rows, first, &seen)
			tbl, err := c.SearchAll(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, []string{"objID", "name"}, tbl.Header)
			assert.Equal(t, rows, tbl.Rows, "every row once, in order")
			assert.Equal(t, "objID,name\n"+strings.Join(rows, "\n")+"\n", string(tbl.Bytes()))
			assert.Equal(t, 0, tbl.Column("objID"))
			assert.Equal(t, -1, tbl.Column("nope"))
			var asked []string
			for _, v := range seen {
				asked = append(asked, v.Get("page"))
			}
			if first == 1 {
				assert.Equal(t, []string{"", "1", "2", "3"}, asked, "page 1 repeats the first answer: pages count from 1")
			} else {
				assert.Equal(t, []string{"", "1", "2"}, asked)
			}
		})
	}

	t.Run("exact multiple", func(t *testing.T) {
		c, tr, _ := mockClient(t, nil)
		var seen []url.Values
		pages(t, tr, "objID,name", rows[:6], 1, &seen)
		tbl, err := c.SearchAll(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, 6, tbl.Len())
	})

	t.Run("page cap", func(t *testing.T) {
		c, tr, _ := mockClient(t, func(o *panstarrs.Options) { o.MaxPages = 2 })
		var seen []url.Values
		pages(t, tr, "objID,name", rows, 1, &seen)
		_, err := c.SearchAll(ctx, q)
		assert.ErrorIs(t, err, panstarrs.ErrTooManyRows)
	})

	t.Run("server ignores page", func(t *testing.T) {
		c, tr, _ := mockClient(t, nil)
		capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", 200, "objID\n1\n2\n3\n")
		_, err := c.SearchAll(ctx, q)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Contains(t, err.Error(), "ignores paging")
	})

	t.Run("truncated row", func(t *testing.T) {
		c, tr, logs := mockClient(t, nil)
		seen := capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", 200, "objID,name\n1,a\n2")
		_, err := c.SearchAll(ctx, q)
		assert.ErrorIs(t, err, singletarget.ErrRemote)
		assert.Contains(t, err.Error(), "truncated")
		assert.Len(t, *seen, 2, "a broken answer is asked for once more")
		assert.Contains(t, logs.String(), "asking once more")

		c, tr, _ = mockClient(t, nil)
		seen = capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", 200, "objID,name\n1,a\n2", "objID,name\n1,a\n2,b\n")
		tbl, err := c.SearchAll(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, 2, tbl.Len(), "the second answer is whole")
		assert.Len(t, *seen, 2, "the broken answer, then the whole one")
	})
}

func TestMetadata(t *testing.T) {
	c, tr, _ := mockClient(t, nil)
	seen := capture(tr, "GET", base+"/dr2/forced_mean/metadata", 200,
		`[{"name": "objID", "type": "long", "unit": "NULL", "description": "Unique object identifier.", "default_value": "NULL", "column_index": 5},
		  {"column_name": "gFPSFFlux", "datatype": "float", "unit": "Jy"},
		  {"description": "no name at all"}]`)
	cols, err := c.Metadata(context.Background(), "dr2", "forced_mean")
	require.NoError(t, err)
	require.Len(t, cols, 2, "entries without a name are dropped")
	assert.Equal(t, panstarrs.Column{Name: "objID", Type: "long", Description: "Unique object identifier."}, cols[0])
	assert.Equal(t, panstarrs.Column{Name: "gFPSFFlux", Type: "float", Unit: "Jy"}, cols[1], "name and type fall back to column_name and datatype")
	again, err := c.Metadata(context.Background(), "dr2", "forced_mean")
	require.NoError(t, err)
	assert.Equal(t, cols, again)
	assert.Len(t, *seen, 1, "metadata is cached")

	capture(tr, "GET", base+"/dr2/mean/metadata", 200, `{"not": "an array"}`)
	_, err = c.Metadata(context.Background(), "dr2", "mean")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	_, err = c.Metadata(context.Background(), "dr1", "detection")
	assert.ErrorIs(t, err, panstarrs.ErrInvalidQuery)
}

func TestObjects(t *testing.T) {
	c, tr, _ := mockClient(t, nil)
	seen := capture(tr, "GET", "=~^"+base+"/dr2/mean.csv", 200,
		"objID,raMean,decMean,nDetections\n"+
			"157262307155530976,230.71551566722147,41.05027985611414,71\n"+
			"157252307094655476,230.70914990495905,41.045672563419714,66\n"+
			"157262307999999999,-999.0,-999.0,2\n"+
			"157262307155530975,230.7155,41.0503,5\n")
	objs, err := c.Objects(context.Background(), "dr2", panstarrs.Cone{RA: 230.7155, Dec: 41.0503, Radius: 30.0 / 3600}, 2)
	require.NoError(t, err)
	require.Len(t, objs, 4)
	assert.Equal(t, "157262307155530975", objs[0].ObjID, "nearest first")
	assert.InDelta(t, 0, objs[0].Separation, 1e-9)
	assert.Equal(t, "157262307155530976", objs[1].ObjID)
	assert.InDelta(t, 0.0841, objs[1].Separation, 0.0001, "arcsec")
	assert.Equal(t, 71, objs[1].NDetections)
	assert.Equal(t, "157262307999999999", objs[3].ObjID, "no position: last")
	v := (*seen)[0].URL.Query()
	assert.Equal(t, "2", v.Get("nDetections.min"))
	assert.Equal(t, "[objID,raMean,decMean,nDetections]", v.Get("columns"))
}

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts panstarrs.Options
		want string
	}{
		{"ftp://x", panstarrs.Options{}, "baseURL"},
		{"https://x/api?token=1", panstarrs.Options{}, "baseURL"},
		{"", panstarrs.Options{Timeout: -1}, "Options.Timeout"},
		{"", panstarrs.Options{PageSize: -1}, "Options.PageSize"},
		{"", panstarrs.Options{MaxPages: -1}, "Options.MaxPages"},
		{"", panstarrs.Options{MaxObjects: -1}, "Options.MaxObjects"},
		{"", panstarrs.Options{Method: "PUT"}, "Options.Method"},
		{"", panstarrs.Options{RetryWaitMin: time.Second, RetryWaitMax: time.Millisecond}, "Options.RetryWaitMin"},
		{"", panstarrs.Options{MaxBodySize: -1}, "Options.MaxBodySize"},
		{"", panstarrs.Options{MaxRetryAfter: -1}, "Options.MaxRetryAfter"},
	} {
		_, err := panstarrs.New(tc.url, "", &tc.opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err := panstarrs.New("", "bad token; with spaces", nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "spaces", "the token is not revealed")
	c, err := panstarrs.New("", "", nil)
	require.NoError(t, err)
	assert.Equal(t, panstarrs.DefaultURL, c.BaseURL())
	c, err = panstarrs.New(base+"/", "", nil)
	require.NoError(t, err)
	assert.Equal(t, base, c.BaseURL())
}

func TestTablesAndNames(t *testing.T) {
	assert.Equal(t, []string{"dr1", "dr2"}, panstarrs.Releases())
	assert.Equal(t, []string{"mean", "stack"}, panstarrs.Tables("dr1"))
	assert.Equal(t, []string{"mean", "stack", "forced_mean", "detection"}, panstarrs.Tables("dr2"))
	assert.Nil(t, panstarrs.Tables("dr9"))
	assert.NoError(t, panstarrs.CheckTable("dr2", "detection"))
	err := panstarrs.CheckTable("dr1", "detection")
	assert.ErrorIs(t, err, panstarrs.ErrInvalidQuery)
	assert.Contains(t, err.Error(), "mean, stack")
	assert.Len(t, panstarrs.DefaultColumns("mean"), 23)
	assert.Len(t, panstarrs.DefaultColumns("detection"), 16)
	assert.Nil(t, panstarrs.DefaultColumns("nope"))
	cols := panstarrs.DefaultColumns("mean")
	cols[0] = "changed"
	assert.Equal(t, "objID", panstarrs.DefaultColumns("mean")[0], "DefaultColumns returns a copy")

	lo, hi := 58000.0, 60000.25
	assert.Equal(t, "panstarrs-dr2-mean-SN_2023ixf-none-none.csv", panstarrs.ProductName("dr2", "mean", "SN 2023ixf", nil, nil))
	assert.Equal(t, "panstarrs-dr2-detection-a_b-58000-60000.25.csv", panstarrs.ProductName("dr2", "detection", "../a/b", &lo, &hi))
	assert.InDelta(t, 1.0, panstarrs.Separation(10, 0, 11, 0), 1e-12)
}

// The client's sentinels are in the singletarget taxonomy.
func TestErrorCategories(t *testing.T) {
	for _, err := range []error{panstarrs.ErrInvalidQuery, panstarrs.ErrTooManyRows} {
		assert.Same(t, singletarget.ErrInvalidInput, singletarget.Category(err), "%v", err)
		assert.False(t, singletarget.Retryable(err))
	}
}
