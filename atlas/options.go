package atlas

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options configure a Client and a Service. A nil *Options means the
// defaults noted on each field; negative durations are refused by the
// constructors with an error naming the field.
type Options struct {
	// HTTPClient supplies the transport (tests pass a simulator's client or
	// an httpmock transport). Default: a pooled client. Redirects are never
	// followed, whatever its CheckRedirect says: ATLAS answers a refused
	// token with a redirect to its login page (spec §1, legacy servers).
	HTTPClient *http.Client
	// Logger receives debug logs of requests and info logs of task
	// changes; secrets are redacted. Default: discard.
	Logger *slog.Logger
	// UserAgent is sent with every request. Default: the library's.
	UserAgent string
	// Timeout bounds each HTTP attempt, body included. Default 2 minutes.
	Timeout time.Duration
	// RetryMax is the number of retries of an idempotent request (reading
	// a task, downloading, deleting, getting a token) after a connection
	// error or a 5xx. The queue POST is never retried. Default 3; -1
	// disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff between those
	// retries. Defaults 1 s and 30 s.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxResultSize caps a downloaded result file. Default 256 MiB (a
	// decade of ATLAS data for one target is a few MB).
	MaxResultSize int64
	// Now returns the current time (task deadlines, poll times, form
	// initial values). Default time.Now.
	Now func() time.Time

	// PollQueued is the wait before looking again at a task that is still
	// queued, and the first wait after queueing. Default 4 s (the API
	// guide's example and the TOM Toolkit's cadence).
	PollQueued time.Duration
	// PollRunning is the wait before looking again at a running task.
	// Default 2 s.
	PollRunning time.Duration
	// PollGrowth multiplies the wait after every look in the same state, so
	// a task that sits in a long queue is looked at less and less often.
	// Default 1.25; 1 keeps a fixed cadence.
	PollGrowth float64
	// PollMax caps the wait between looks. Default 1 minute.
	PollMax time.Duration
	// Deadline is how long after queueing a task may take before Resume
	// gives up with an error matching singletarget.ErrDeadline (the remote
	// task is left in place; it may still finish). ATLAS kills runs after
	// 4 hours, but queues can be long. Default 6 hours.
	Deadline time.Duration
	// QueueFullWait is the wait suggested (as a ThrottledError) when the
	// server refuses a task because the account already has 500 tasks that
	// have not started (spec §6). Default 1 minute.
	QueueFullWait time.Duration
	// KeepRemote keeps finished tasks on the server instead of deleting
	// them after their result is stored. Default false: delete (the API
	// guide's advice; ATLAS purges API tasks 31 days after they finish).
	KeepRemote bool

	// WriteRate is how many writes (queue POSTs and DELETEs) the client
	// lets through per WriteWindow for the account: the server's
	// throttle (spec §6: 60 a minute). A write beyond it fails fast with a
	// *singletarget.ThrottledError saying when the next may go, without
	// reaching the server; the server's own 429 waits are honoured on top.
	// Share one Client (one Service) per account for the pacing to hold.
	// Default 60; -1 disables the client-side pacing.
	WriteRate int
	// WriteWindow is the pacing's sliding window. Default 1 minute.
	WriteWindow time.Duration
	// MaxActiveTasks limits the account's tasks in flight (queued or
	// running) in singletarget batches (Manager.Batch, riverexec workers),
	// for servers or simulators that impose such a limit; the real server
	// does not (spec §6). Default 0: none.
	MaxActiveTasks int
	// LearnActiveLimit makes a 429 answer to a queue request count as the
	// server's limit on tasks in flight: batches then keep to the number of
	// tasks in flight at that moment. Leave it off for the real server,
	// whose 429s are about its write rate. Default false.
	LearnActiveLimit bool
	// MaxQueuedTasks is the server's cap on the account's tasks not yet
	// started (spec §6: 500), which batches keep below. Default 500; -1
	// for none.
	MaxQueuedTasks int

	// ReadRate is how many reads (task details, task list pages, queue
	// positions; not result files) the client lets through per ReadWindow
	// for the account: the 2026 server's read throttle (spec §6: 600 a
	// minute). A read beyond it fails fast with a
	// *singletarget.ThrottledError, as writes do. Default 600; -1
	// disables the pacing.
	ReadRate int
	// ReadWindow is the read pacing's sliding window. Default 1 minute.
	ReadWindow time.Duration
	// ListMaxAge is how old a read of the account's task list may be for
	// a Service to answer the poll of any of its pending tasks from it:
	// with two or more tasks pending in the process, Resume reads the
	// list (GET /queue/, up to 100 tasks a page, with If-None-Match) at
	// most this often and shares it among them, instead of reading each
	// task. Default PollRunning (2 s): sharing delays no look beyond the
	// poll policy's shortest wait. Looks of jobs woken by completion
	// callbacks want news from after the wake; the reads made for them
	// are at least ListMaxAge apart (at most 2 s), whatever the number of
	// callbacks.
	ListMaxAge time.Duration
	// QueuePositionsMaxAge is how often, at most, a Service reads
	// /queuepositions.json while tasks of the account are queued, to show
	// each task's place in the queue as progress. Default 30 s; -1 never
	// reads it (the tasks' own queuepos is shown then).
	QueuePositionsMaxAge time.Duration
	// CallbackURL, when set, is sent as every task's callback_url: the
	// public https URL of the TOM's endpoint that the server POSTs to
	// once when the task finishes (2026 server; see
	// Service.CallbackHandler). Polling stays the fallback: the server
	// sends a callback once and never retries it. A server that refuses
	// the field (400) gets tasks without it from then on. It must be an
	// absolute https URL without credentials, at most 500 characters;
	// http is accepted only for a loopback host (tests). Default "": no
	// callbacks.
	CallbackURL string
}

// Defaults of Options.
const (
	DefaultTimeout              = 2 * time.Minute
	DefaultRetryMax             = 3
	DefaultMaxResultSize        = 256 << 20
	DefaultPollQueued           = 4 * time.Second
	DefaultPollRunning          = 2 * time.Second
	DefaultPollGrowth           = 1.25
	DefaultPollMax              = time.Minute
	DefaultDeadline             = 6 * time.Hour
	DefaultQueueFullWait        = time.Minute
	DefaultWriteRate            = 60
	DefaultWriteWindow          = time.Minute
	DefaultMaxQueued            = 500
	DefaultReadRate             = 600
	DefaultReadWindow           = time.Minute
	DefaultQueuePositionsMaxAge = 30 * time.Second
)

// withDefaults returns a copy with every default applied, or an error
// naming the first bad field.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	var errs []error
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Timeout", &out.Timeout, DefaultTimeout},
		{"RetryWaitMin", &out.RetryWaitMin, 0},
		{"RetryWaitMax", &out.RetryWaitMax, 0},
		{"PollQueued", &out.PollQueued, DefaultPollQueued},
		{"PollRunning", &out.PollRunning, DefaultPollRunning},
		{"PollMax", &out.PollMax, DefaultPollMax},
		{"Deadline", &out.Deadline, DefaultDeadline},
		{"QueueFullWait", &out.QueueFullWait, DefaultQueueFullWait},
		{"WriteWindow", &out.WriteWindow, DefaultWriteWindow},
		{"ReadWindow", &out.ReadWindow, DefaultReadWindow},
		{"ListMaxAge", &out.ListMaxAge, 0},
	} {
		switch {
		case *d.v < 0:
			errs = append(errs, fmt.Errorf("atlas: Options.%s must not be negative (%s)", d.name, *d.v))
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case out.RetryMax == 0:
		out.RetryMax = DefaultRetryMax
	case out.RetryMax < -1:
		errs = append(errs, fmt.Errorf("atlas: Options.RetryMax must be -1 (no retries) or more, not %d", out.RetryMax))
	}
	for _, n := range []struct {
		name string
		v    *int
		def  int
	}{{"WriteRate", &out.WriteRate, DefaultWriteRate}, {"MaxQueuedTasks", &out.MaxQueuedTasks, DefaultMaxQueued},
		{"ReadRate", &out.ReadRate, DefaultReadRate}} {
		switch {
		case *n.v == 0:
			*n.v = n.def
		case *n.v < -1:
			errs = append(errs, fmt.Errorf("atlas: Options.%s must be -1 (none) or positive, not %d", n.name, *n.v))
		}
	}
	switch {
	case out.QueuePositionsMaxAge == 0:
		out.QueuePositionsMaxAge = DefaultQueuePositionsMaxAge
	case out.QueuePositionsMaxAge < 0 && out.QueuePositionsMaxAge != -1:
		errs = append(errs, fmt.Errorf("atlas: Options.QueuePositionsMaxAge must be -1 (never) or positive, not %s", out.QueuePositionsMaxAge))
	}
	if out.CallbackURL != "" {
		if err := checkCallbackURL(out.CallbackURL); err != nil {
			errs = append(errs, fmt.Errorf("atlas: Options.CallbackURL: %w", err))
		}
	}
	if out.MaxActiveTasks < 0 {
		errs = append(errs, fmt.Errorf("atlas: Options.MaxActiveTasks must not be negative (%d)", out.MaxActiveTasks))
	}
	switch {
	case out.MaxResultSize == 0:
		out.MaxResultSize = DefaultMaxResultSize
	case out.MaxResultSize < 0:
		errs = append(errs, fmt.Errorf("atlas: Options.MaxResultSize must not be negative (%d)", out.MaxResultSize))
	}
	switch {
	case out.PollGrowth == 0:
		out.PollGrowth = DefaultPollGrowth
	case !(out.PollGrowth >= 1) || math.IsInf(out.PollGrowth, 0):
		errs = append(errs, fmt.Errorf("atlas: Options.PollGrowth must be at least 1, not %v", out.PollGrowth))
	}
	if out.PollMax < out.PollQueued || out.PollMax < out.PollRunning {
		if o == nil || o.PollMax == 0 {
			out.PollMax = max(out.PollQueued, out.PollRunning, DefaultPollMax)
		} else {
			errs = append(errs, fmt.Errorf("atlas: Options.PollMax (%s) must not be below PollQueued (%s) or PollRunning (%s)",
				out.PollMax, out.PollQueued, out.PollRunning))
		}
	}
	if out.ListMaxAge == 0 {
		out.ListMaxAge = out.PollRunning
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	return out, errors.Join(errs...)
}

// pollDelay is the poll policy (see Client.PollDelay).
func (o *Options) pollDelay(state string, n int) time.Duration {
	base := o.PollQueued
	if state == StateRunning {
		base = o.PollRunning
	}
	d := float64(base) * math.Pow(o.PollGrowth, float64(max(0, min(n, 200))))
	if d >= float64(o.PollMax) {
		return o.PollMax
	}
	return time.Duration(d)
}

// maxCallbackURL is the longest callback_url the server accepts.
const maxCallbackURL = 500

// checkCallbackURL checks a callback URL before any task carries it:
// absolute https without credentials or fragment, at most 500 characters
// (the server's rules, spec §3); plain http only to a loopback host, for
// tests against the simulator. Whether the name resolves to a public
// address only the server can tell.
func checkCallbackURL(raw string) error {
	if len(raw) > maxCallbackURL {
		return fmt.Errorf("%d characters; the server takes at most %d", len(raw), maxCallbackURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", raw)
	case u.User != nil:
		return errors.New("must not contain credentials")
	case u.Hostname() == "":
		return fmt.Errorf("%q has no host", raw)
	case u.Fragment != "":
		return fmt.Errorf("%q has a fragment", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopbackName(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q must be an https URL (the server refuses others; http only to a loopback host, for tests)", raw)
}

// isLoopbackName reports whether host is localhost or a loopback address.
func isLoopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
