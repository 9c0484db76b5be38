package e2etest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
)

// A service whose server redirects elsewhere (another port, and from
// https to http) never follows: the MAST token cookie, ZTF's HTTP Basic
// header and the ZFPS email and userpass in the query string never reach
// the other server (issue 20 item 9).
func TestRedirectsKeepCredentialsHome(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Method+" "+r.URL.String()+" auth="+r.Header.Get("Authorization")+" cookie="+r.Header.Get("Cookie"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer evil.Close()
	// The service's host (TLS, on another port of the same machine)
	// redirects every request to the same path and query on evil: what a
	// hijacked proxy or a misconfigured load balancer would do.
	var homeHits int
	home := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		homeHits++
		mu.Unlock()
		http.Redirect(w, r, evil.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer home.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		name string
		svc  func() (singletarget.Service, string, singletarget.Processor, error)
		req  singletarget.Request
	}{
		{"PANSTARRS", func() (singletarget.Service, string, singletarget.Processor, error) {
			s, err := panstarrs.NewService(home.URL+"/api/v0.1/panstarrs", panstarrsToken, &panstarrs.Options{
				HTTPClient: home.Client(), RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
			return s, panstarrs.DataProductType, panstarrs.Processor{}, err
		}, singletarget.Request{Service: panstarrs.ServiceName, Target: target, Params: url.Values{"catalog": {"mean"}, "radius_arcsec": {"60"}}}},
		{"ZTF", func() (singletarget.Service, string, singletarget.Processor, error) {
			s, err := ztf.NewService(home.URL+"/irsa", &ztf.Options{HTTPClient: home.Client(), Username: ztfHTTPUser, Password: ztfHTTPPass,
				RequestInterval: time.Millisecond, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
			return s, ztf.DataProductType, ztf.Processor{}, err
		}, singletarget.Request{Service: ztf.ServiceName, Target: target, Params: url.Values{"radius": {"3"}}}},
		{"ZTF_FP", func() (singletarget.Service, string, singletarget.Processor, error) {
			s, err := ztf.NewForcedPhotometryService(home.URL+"/zfps", ztf.Credentials{Email: ztfEmail, Password: ztfUserpass,
				HTTPUser: ztfHTTPUser, HTTPPassword: ztfHTTPPass}, &ztf.ForcedPhotometryOptions{HTTPClient: home.Client(),
				RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, PollInterval: 10 * time.Millisecond})
			return s, ztf.ForcedPhotometryDataProductType, ztf.ForcedPhotometryProcessor{}, err
		}, singletarget.Request{Service: ztf.ForcedPhotometryServiceName, Target: target, Params: url.Values{"jd_start": {"2459000.5"}, "jd_end": {"2459100.5"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			leaked, homeHits = nil, 0
			mu.Unlock()
			svc, typ, proc, err := c.svc()
			must(t, err)
			m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), nil)
			must(t, m.AddProcessor(typ, proc))
			must(t, m.AddService(svc))
			_, err = m.Run(ctx, c.req)
			if err == nil {
				t.Fatal("a query the server redirects elsewhere succeeded")
			}
			if !errors.Is(err, singletarget.ErrRemote) || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("want an ErrRemote naming the redirect, got %v", err)
			}
			for form, secret := range secretForms() {
				if strings.Contains(err.Error(), form) {
					t.Errorf("the error shows %s: %v", secret, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if homeHits == 0 {
				t.Fatal("the service's own server was never asked")
			}
			if len(leaked) > 0 {
				t.Errorf("the redirect was followed: the other server got %q", leaked)
			}
		})
	}
}
