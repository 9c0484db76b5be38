package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tomgo/targetdata/httpclient"
	"github.com/tomgo/targetdata/singletarget"
)

// A service's client: one httpclient.Client per service, a GET that is
// retried on failures, and a 429 that comes back as a
// *singletarget.ThrottledError with the server's wait instead of being
// slept inside the request.
func Example() {
	archive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ra") == "0" {
			w.Header().Set("Retry-After", "120")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		fmt.Fprintln(w, "mjd,mag")
	}))
	defer archive.Close()

	c := httpclient.New(httpclient.Options{
		Service:    "MYARCHIVE", // the registry name: errors and logs carry it
		HTTPClient: archive.Client(),
		Secrets:    []singletarget.Secret{"my-api-key"}, // never in logs or errors
	})
	ctx := context.Background()
	resp, err := c.Do(ctx, &httpclient.Request{Method: http.MethodGet, URL: archive.URL + "/search?ra=10"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("HTTP %d: %q\n", resp.Status, resp.Body)

	_, err = c.Do(ctx, &httpclient.Request{Method: http.MethodGet, URL: archive.URL + "/search?ra=0"})
	var te *singletarget.ThrottledError
	if errors.As(err, &te) {
		fmt.Println("throttled:", errors.Is(err, singletarget.ErrThrottled), te.Service, te.RetryAfter)
	}
	// Output:
	// HTTP 200: "mjd,mag\n"
	// throttled: true MYARCHIVE 2m0s
}
