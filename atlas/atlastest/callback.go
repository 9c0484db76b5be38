package atlastest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// Completion callbacks (callback_url, 2026 server, spec §3): validated
// when the task is queued and again before the request is sent, POSTed
// once when the task finishes, never retried, redirects not followed.

// maxCallbackURL is the longest callback_url the server takes.
const maxCallbackURL = 500

// callbackTimeout bounds one callback request, as on the server.
const callbackTimeout = 10 * time.Second

// clockTick is how often the simulator moves its task clock on its own
// while a task with a callback waits to finish (otherwise the clock moves
// only when a request comes), so that callbacks come without polling.
const clockTick = 20 * time.Millisecond

// checkCallbackURL validates a callback_url with the server's rules and
// returns the server's message for a bad one ("" when good): https (or http with AllowHTTPCallbacks), a host name, no
// credentials, a valid port, at most 500 characters, and a name that
// resolves (within 5 s) to public addresses only (any address with
// AllowHTTPCallbacks).
func (s *Server) checkCallbackURL(raw string) string {
	if len(raw) > maxCallbackURL {
		return fmt.Sprintf("callback_url must be at most %d characters", maxCallbackURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "Enter a valid URL."
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.opts.AllowHTTPCallbacks:
	case s.opts.AllowHTTPCallbacks:
		return "callback_url must use https or http"
	default:
		return "callback_url must use https"
	}
	if u.Hostname() == "" {
		return "callback_url must include a hostname"
	}
	if u.User != nil {
		return "callback_url must not contain credentials"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return "callback_url has an invalid port: Port out of range 0-65535"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Sprintf("callback_url hostname could not be resolved: %v", err)
	}
	if !s.opts.AllowHTTPCallbacks {
		for _, a := range addrs {
			if !isPublic(a) {
				return "callback_url must resolve to a public address"
			}
		}
	}
	return ""
}

// special are the address ranges that are not public besides those
// netip.Addr names (loopback, private, link-local, multicast, unspecified).
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "64:ff9b::/96", "100::/64", "2001::/23", "2001:db8::/32"} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// isPublic reports whether an address is globally reachable.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() ||
		a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// callbackPayload is the body the server POSTs.
type callbackPayload struct {
	TaskID          int64   `json:"task_id"`
	TaskURL         string  `json:"task_url"`
	RequestType     string  `json:"request_type"`
	FinishTimestamp *string `json:"finishtimestamp"`
	ErrorMsg        *string `json:"error_msg"`
	Success         bool    `json:"success"`
}

// callbackLocked sends the callback of a task that just finished, if it
// has one, in the background.
func (s *Server) callbackLocked(t *task) {
	if t.callbackURL == "" {
		return
	}
	select {
	case <-s.closed:
		return
	default:
	}
	fin := t.finished.UTC().Format("2006-01-02T15:04:05.000000+00:00")
	p := callbackPayload{TaskID: t.id, TaskURL: fmt.Sprintf("%s/queue/%d/", s.URL, t.id), RequestType: "FP",
		FinishTimestamp: &fin, ErrorMsg: str(t.errorMsg), Success: t.errorMsg == ""}
	s.sending.Add(1)
	go s.deliver(t.callbackURL, p)
}

// deliver POSTs one callback, once.
func (s *Server) deliver(target string, p callbackPayload) {
	defer s.sending.Done()
	count := func(field *int) {
		s.mu.Lock()
		*field++
		s.mu.Unlock()
	}
	if f, ok := s.faults.Take(func(e string) bool { return Endpoint(e) == EndpointCallback }); ok {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-s.closed:
				t.Stop()
			}
		}
		if f.Status != 0 || f.Reset {
			count(&s.stats.CallbacksDropped)
			return
		}
	}
	if msg := s.checkCallbackURL(target); msg != "" {
		count(&s.stats.CallbacksFailed)
		return
	}
	body, _ := json.Marshal(p)
	ctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		count(&s.stats.CallbacksFailed)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "atlasserver-forcedphot-callback")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		count(&s.stats.CallbacksFailed)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		count(&s.stats.CallbacksSent)
	} else {
		count(&s.stats.CallbacksFailed)
	}
}

// clockLoop moves the task clock while a task with a callback is
// unfinished, until Close.
func (s *Server) clockLoop() {
	tick := time.NewTicker(clockTick)
	defer tick.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-tick.C:
		}
		s.mu.Lock()
		for _, t := range s.tasks {
			if t.callbackURL != "" && t.active() {
				s.advanceLocked(s.opts.Now())
				break
			}
		}
		s.mu.Unlock()
	}
}
