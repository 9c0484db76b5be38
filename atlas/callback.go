package atlas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/time/rate"

	"github.com/tomgo/targetdata/singletarget"
)

// Limits of the callback endpoint (Service.CallbackHandler).
const (
	// CallbackRate and CallbackBurst bound the callbacks the endpoint
	// takes (a second, and at once); more are answered 429 and left to
	// polling. A burst of tasks finishing together fits; a flood of
	// forged callbacks does not reach the job database.
	CallbackRate  = 20
	CallbackBurst = 200
	// maxCallbackBody caps the body read (the server's is about 250
	// bytes).
	maxCallbackBody = 8 << 10
)

// CallbackURL implements singletarget.CallbackReceiver: Options.CallbackURL,
// or "" once the server has refused it (then tasks go without it and
// are polled).
func (s *Service) CallbackURL() string {
	if s.noCallback.Load() {
		return ""
	}
	return s.opts.CallbackURL
}

// CallbackHandler implements singletarget.CallbackReceiver: the endpoint
// that the server POSTs to when a task submitted with Options.CallbackURL
// finishes ({"task_id": 1851119, "task_url": ..., "success": ...}), for a
// TOM to serve at that URL's path without its login (the server cannot
// log in; builtin.App.CallbackHandlers mounts it).
//
// The endpoint trusts nothing in the body but the task id, and only to
// wake the job waiting on that task through w (a Pool, or riverexec's
// Executor): the job then reads the task from the server, as its next
// poll would have (Resume), and only what the server says is stored. So a
// forged callback cannot fake a result or touch a job: at most it makes a
// job of ours look early, and looks that want fresh news cost at most one
// list read per Options.ListMaxAge (2 s at most) in all. A task id that no waiting job
// follows gets 404 and changes nothing. Answers: 202 (woken), 400 (no
// task id), 404, 405 (not POST), 429 (more than CallbackRate a second,
// CallbackBurst at once: left to polling), 500 (the job database failed).
// The server sends each callback once and never retries: polling stays
// the fallback.
func (s *Service) CallbackHandler(w singletarget.RemoteWaker) http.Handler {
	lim := rate.NewLimiter(CallbackRate, CallbackBurst)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", http.MethodPost)
			http.Error(rw, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if !lim.Allow() {
			http.Error(rw, "too many callbacks; the task is polled", http.StatusTooManyRequests)
			return
		}
		var body struct {
			TaskID json.Number `json:"task_id"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, maxCallbackBody))
		dec.UseNumber()
		err := dec.Decode(&body)
		id, perr := strconv.ParseInt(body.TaskID.String(), 10, 64)
		if err != nil || perr != nil || id <= 0 {
			http.Error(rw, `the body must be JSON with a positive integer "task_id"`, http.StatusBadRequest)
			return
		}
		s.poll.wake(id)
		job, err := w.WakeRemote(r.Context(), ServiceName, strconv.FormatInt(id, 10))
		switch {
		case errors.Is(err, singletarget.ErrUnknownJob):
			http.Error(rw, fmt.Sprintf("no job waits on task %d", id), http.StatusNotFound)
			return
		case err != nil:
			s.opts.Logger.WarnContext(r.Context(), "ATLAS callback: waking the job failed", "task", id, "error", err)
			http.Error(rw, "waking the job failed; the task is polled", http.StatusInternalServerError)
			return
		}
		s.opts.Logger.InfoContext(r.Context(), "ATLAS callback: job woken", "task", id, "job", job)
		rw.WriteHeader(http.StatusAccepted)
	})
}
