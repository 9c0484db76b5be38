package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// Job lists and live job progress. Every list comes from the executor
// (Executor.List), so it survives a restart of webtom when the executor
// keeps its jobs (river); live progress follows Executor.Watch.

const (
	// jobsPerPage is how many jobs the job list shows at a time.
	jobsPerPage = 25
	// streamFor is how long one event stream lasts; the browser's
	// EventSource then reconnects by itself.
	streamFor = 5 * time.Minute
	// keepAliveEvery is how often an idle event stream sends a comment,
	// so that proxies keep it open.
	keepAliveEvery = 15 * time.Second
)

// jobPage builds the job page of a status (without its CSRF token).
func (s *server) jobPage(st singletarget.JobStatus) jobPage {
	p := jobPage{page: page{Title: "Job " + string(st.ID)}, Status: st}
	p.Info, _ = s.app.Manager.Info(st.Request.Service)
	p.Target, _ = s.targets.get(st.Request.Target.ID)
	if !st.State.Done() {
		p.Refresh = s.refresh
	}
	return p
}

// jobsPage is the job list.
type jobsPage struct {
	page
	Jobs []singletarget.JobStatus
	// Filter is the list's conditions as given; Target is the filtered
	// target, if known.
	Filter   singletarget.JobFilter
	State    string
	Target   singletarget.Target
	Services []string
	// NextURL lists the older jobs ("" on the last page).
	NextURL string
	Errors  []string
}

// handleJobs lists jobs, newest first: ?target=ID, ?service=NAME and
// ?state=STATE filter, ?after=CURSOR pages.
func (s *server) handleJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := jobsPage{page: page{Title: "Queries"}, Services: s.app.Manager.Services()}
	f := singletarget.JobFilter{Service: q.Get("service"), Limit: jobsPerPage, After: q.Get("after")}
	if v := q.Get("target"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("There is no target %q.", v))
			return
		}
		f.TargetID = id
		p.Target, _ = s.targets.get(id)
		if p.Target.Name != "" {
			p.Title = "Queries of " + p.Target.Name
		}
	}
	if v := q.Get("state"); v != "" {
		f.States = []singletarget.JobState{singletarget.JobState(v)}
		p.State = v
	}
	p.Filter = f
	res, err := s.app.Executor.List(r.Context(), f)
	var fe *singletarget.FormErrors
	switch {
	case errors.As(err, &fe):
		for field, msgs := range fe.Fields {
			for _, m := range msgs {
				p.Errors = append(p.Errors, field+": "+m)
			}
		}
		s.render(w, r, http.StatusBadRequest, "jobs", p)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	p.Jobs = res.Jobs
	if res.Next != "" {
		next := url.Values{"after": {res.Next}}
		for _, k := range []string{"target", "service", "state"} {
			if v := q.Get(k); v != "" {
				next.Set(k, v)
			}
		}
		p.NextURL = "/jobs?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "jobs", p)
}

// jobEvent is one server-sent event of a job's stream: its state and the
// job page's status fields, rendered by the page's own template.
type jobEvent struct {
	State singletarget.JobState `json:"state"`
	Done  bool                  `json:"done"`
	HTML  string                `json:"html"`
}

// handleJobEvents streams a job's changes as server-sent events ("status",
// a jobEvent) until the job is final, the stream has lasted streamFor or
// the browser goes away. The job page's script follows it; without script
// the page reloads itself instead.
func (s *server) handleJobEvents(w http.ResponseWriter, r *http.Request) {
	id := singletarget.JobID(r.PathValue("id"))
	if _, err := s.app.Executor.Status(r.Context(), id); err != nil {
		if errors.Is(err, singletarget.ErrUnknownJob) {
			http.Error(w, "no such job", http.StatusNotFound)
			return
		}
		s.log.Error("job events", "job", id, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	rc := http.NewResponseController(w)
	// A stream outlives the server's write timeout, if any.
	_ = rc.SetWriteDeadline(time.Now().Add(streamFor + time.Minute))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), streamFor)
	defer cancel()
	type update struct {
		st  singletarget.JobStatus
		err error
	}
	updates := make(chan update)
	go func() {
		defer close(updates)
		for st, err := range s.app.Executor.Watch(ctx, id) {
			select {
			case updates <- update{st, err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	for {
		select {
		case u, ok := <-updates:
			if !ok || u.err != nil {
				return // the stream ends; EventSource reconnects
			}
			if err := s.sendJobEvent(w, u.st); err != nil {
				return
			}
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// sendJobEvent writes one "status" event.
func (s *server) sendJobEvent(w http.ResponseWriter, st singletarget.JobStatus) error {
	var buf bytes.Buffer
	if err := s.pages["job"].ExecuteTemplate(&buf, "jobfields", s.jobPage(st)); err != nil {
		return err
	}
	b, err := json.Marshal(jobEvent{State: st.State, Done: st.State.Done(), HTML: buf.String()})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: status\ndata: %s\n\n", b)
	return err
}
