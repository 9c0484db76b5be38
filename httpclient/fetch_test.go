package httpclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/singletarget"
)

// Fetch hands the body to its consumer as a stream, with the cap checked
// while it flows, and asks again when the body breaks off.
func TestFetch(t *testing.T) {
	ctx := context.Background()
	c, tr, _ := newClient(t, func(o *httpclient.Options) { o.MaxBodySize = 10 })
	tr.RegisterResponder("GET", base+"/ok", httpmock.NewStringResponder(200, "0123456789"))
	tr.RegisterResponder("GET", base+"/big", httpmock.NewStringResponder(200, "0123456789ABCDEF"))
	tr.RegisterResponder("GET", base+"/gone", httpmock.NewStringResponder(404, "no such file"))
	calls := 0
	tr.RegisterResponder("GET", base+"/flaky", func(*http.Request) (*http.Response, error) {
		calls++
		if calls < 3 {
			return &http.Response{StatusCode: 200, Body: &brokenBody{n: 5}, Header: http.Header{}}, nil
		}
		return httpmock.NewStringResponse(200, "whole"), nil
	})
	read := func(path string) (string, int, error) {
		var got string
		consumed := 0
		err := c.Fetch(ctx, &httpclient.Request{Method: "GET", URL: base + path}, func(resp *httpclient.Response, body io.Reader) error {
			consumed++
			assert.Equal(t, 200, resp.Status)
			assert.Nil(t, resp.Body, "the body is not read for the consumer")
			b, err := io.ReadAll(body)
			got = string(b)
			return err
		})
		return got, consumed, err
	}

	got, n, err := read("/ok")
	require.NoError(t, err)
	assert.Equal(t, "0123456789", got, "exactly the cap is fine")
	assert.Equal(t, 1, n)

	_, n, err = read("/big")
	assert.ErrorIs(t, err, httpclient.ErrBodyTooLarge, "over the cap fails while streaming")
	assert.ErrorIs(t, err, singletarget.ErrRemote)
	assert.Equal(t, 1, n, "an oversized answer is not asked for again")

	_, n, err = read("/gone")
	var re *singletarget.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 404, re.Status)
	assert.Equal(t, 0, n, "an error status never reaches the consumer")

	got, n, err = read("/flaky")
	require.NoError(t, err)
	assert.Equal(t, "whole", got)
	assert.Equal(t, 3, n, "a body that broke off is asked for again, and consumed afresh")

	// The consumer's own error comes back as it is, and is not retried.
	mine := errors.New("not a result file")
	n = 0
	err = c.Fetch(ctx, &httpclient.Request{Method: "GET", URL: base + "/ok"}, func(*httpclient.Response, io.Reader) error { n++; return mine })
	assert.Same(t, mine, err)
	assert.Equal(t, 1, n)

	// A consumer that stops reading early is fine.
	err = c.Fetch(ctx, &httpclient.Request{Method: "GET", URL: base + "/big"}, func(_ *httpclient.Response, body io.Reader) error {
		_, err := io.CopyN(io.Discard, body, 3)
		return err
	})
	assert.NoError(t, err)
}
