package atlas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// Task is a remote task as the server describes it (spec §3-4; fields the
// clients of this library do not need are left out). A JSON null leaves
// the field at its zero value.
type Task struct {
	// ID is the task's id; URL its absolute URL, with a trailing slash.
	ID  int64  `json:"id"`
	URL string `json:"url"`
	// Username is the owner's user name.
	Username string `json:"username,omitempty"`
	// Timestamp is when the task was queued; StartTimestamp when its
	// current run started; FinishTimestamp when it finished (UTC, whole
	// seconds). Zero when null.
	Timestamp       time.Time `json:"timestamp"`
	StartTimestamp  time.Time `json:"starttimestamp"`
	FinishTimestamp time.Time `json:"finishtimestamp"`
	// RA and Dec are the target's coordinates (nil for a minor-planet
	// task); MPCName the minor planet's name.
	RA      *float64 `json:"ra"`
	Dec     *float64 `json:"dec"`
	MPCName string   `json:"mpc_name,omitempty"`
	// MJDMin and MJDMax are the window (nil when open).
	MJDMin *float64 `json:"mjd_min"`
	MJDMax *float64 `json:"mjd_max"`
	// UseReduced is true for photometry on reduced (not difference) images.
	UseReduced bool `json:"use_reduced"`
	// Finished is the server's flag; State uses the timestamps too.
	Finished bool `json:"finished"`
	// ResultURL is the result file's URL, set once the task finished
	// without an error.
	ResultURL string `json:"result_url,omitempty"`
	// ErrorMsg is set when the task finished without a result, e.g.
	// NoDataMessage.
	ErrorMsg string `json:"error_msg,omitempty"`
	// QueuePos is the position in the global queue (0 = next or running),
	// nil once finished.
	QueuePos *int `json:"queuepos"`
	// RequestType is "FP" for forced photometry.
	RequestType string `json:"request_type,omitempty"`
	// Comment is the user's free text.
	Comment string `json:"comment,omitempty"`
}

// State derives the task's state from its timestamps: StateQueued,
// StateRunning, StateFinished or StateFailed.
func (t *Task) State() string {
	switch {
	case !t.FinishTimestamp.IsZero() || t.Finished:
		if t.ErrorMsg != "" {
			return StateFailed
		}
		return StateFinished
	case !t.StartTimestamp.IsZero():
		return StateRunning
	}
	return StateQueued
}

// Err returns the *TaskError of a failed task, or nil.
func (t *Task) Err() error {
	if t.State() == StateFailed {
		return &TaskError{ID: t.ID, Message: t.ErrorMsg}
	}
	return nil
}

// UnmarshalJSON decodes a task, accepting the timestamp forms Django REST
// framework writes ("2024-01-26T10:15:02Z", with or without fractions or
// zone) and null.
func (t *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	var aux struct {
		*plain
		Timestamp       *string `json:"timestamp"`
		StartTimestamp  *string `json:"starttimestamp"`
		FinishTimestamp *string `json:"finishtimestamp"`
	}
	aux.plain = (*plain)(t)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		s    *string
		dst  *time.Time
	}{{"timestamp", aux.Timestamp, &t.Timestamp}, {"starttimestamp", aux.StartTimestamp, &t.StartTimestamp}, {"finishtimestamp", aux.FinishTimestamp, &t.FinishTimestamp}} {
		*f.dst = time.Time{}
		if f.s == nil || *f.s == "" {
			continue
		}
		ts, err := parseTimestamp(*f.s)
		if err != nil {
			return fmt.Errorf("task %s: %w", f.name, err)
		}
		*f.dst = ts
	}
	return nil
}

var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"}

func parseTimestamp(s string) (time.Time, error) {
	for _, l := range timestampLayouts {
		if ts, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return ts.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read timestamp %q", s)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// QueueAndWait queues a task, waiting out throttling (each wait reported
// through singletarget.ReportProgress as "throttled", and never past ctx),
// then waits for it with WaitTask. It is the convenience for programs that
// use the Client alone; a Service never waits like this.
func (c *Client) QueueAndWait(ctx context.Context, q QueueRequest) (*Task, error) {
	var t *Task
	for {
		var err error
		t, err = c.Queue(ctx, q)
		var te *singletarget.ThrottledError
		if errors.As(err, &te) {
			wait := max(te.RetryAfter, time.Second)
			singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: singletarget.StageThrottled, RetryAfter: wait,
				Message: fmt.Sprintf("throttled for %d s", int(wait.Round(time.Second)/time.Second))})
			c.opts.Logger.InfoContext(ctx, "ATLAS queue throttled", "wait", wait, "detail", te.Detail)
			if err := sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: queue: %w (waiting out throttling)", ServiceName, err)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	return c.WaitTask(ctx, t.ID)
}

// WaitTask polls task id until it finishes, following the poll policy
// (PollDelay) and reporting each state through singletarget.ReportProgress.
// It returns the finished task, a *TaskError when the task finished with an
// error, an error matching singletarget.ErrDeadline after Options.Deadline,
// or ctx's error.
func (c *Client) WaitTask(ctx context.Context, id int64) (*Task, error) {
	start := c.opts.Now()
	state, n := "", 0
	for {
		t, err := c.Task(ctx, id)
		var te *singletarget.ThrottledError
		switch {
		case errors.As(err, &te):
			if err := sleep(ctx, max(te.RetryAfter, time.Second)); err != nil {
				return nil, fmt.Errorf("%s: task %d: %w", ServiceName, id, err)
			}
			continue
		case err != nil:
			return nil, err
		}
		s := t.State()
		switch s {
		case StateFinished:
			return t, nil
		case StateFailed:
			return t, t.Err()
		}
		if s != state {
			state, n = s, 0
		} else {
			n++
		}
		singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: s, Message: describe(t)})
		if c.opts.Now().Sub(start) > c.opts.Deadline {
			return t, fmt.Errorf("%s: task %d still %s after %s: %w", ServiceName, id, s, c.opts.Deadline, singletarget.ErrDeadline)
		}
		if err := sleep(ctx, c.opts.pollDelay(s, n)); err != nil {
			return nil, fmt.Errorf("%s: task %d: %w", ServiceName, id, err)
		}
	}
}

// Fetch runs one request to the end with the Client alone: QueueAndWait,
// Download, then Delete (unless Options.KeepRemote; a failed delete is
// logged, not returned). It returns the finished task and its result file.
func (c *Client) Fetch(ctx context.Context, q QueueRequest) (*Task, []byte, error) {
	t, err := c.QueueAndWait(ctx, q)
	if err != nil {
		if t != nil && t.State() == StateFailed && !c.opts.KeepRemote {
			c.deleteLogged(ctx, t.ID)
		}
		return t, nil, err
	}
	body, err := c.Download(ctx, t.ResultURL)
	if err != nil {
		return t, nil, err
	}
	if !c.opts.KeepRemote {
		c.deleteLogged(ctx, t.ID)
	}
	return t, body, nil
}

func (c *Client) deleteLogged(ctx context.Context, id int64) {
	if err := c.Delete(ctx, id); err != nil && !errors.Is(err, singletarget.ErrNotFound) {
		c.opts.Logger.WarnContext(ctx, "ATLAS: deleting the finished task failed; the server purges it after 31 days", "task", id, "error", err)
	}
}

// describe is a progress line for a task.
func describe(t *Task) string {
	switch t.State() {
	case StateQueued:
		if t.QueuePos != nil {
			return fmt.Sprintf("ATLAS task %d queued (position %d)", t.ID, *t.QueuePos)
		}
		return fmt.Sprintf("ATLAS task %d queued", t.ID)
	case StateRunning:
		return fmt.Sprintf("ATLAS task %d running since %s", t.ID, t.StartTimestamp.Format("15:04:05 UTC"))
	case StateFailed:
		return fmt.Sprintf("ATLAS task %d finished: %s", t.ID, t.ErrorMsg)
	}
	return fmt.Sprintf("ATLAS task %d finished", t.ID)
}
