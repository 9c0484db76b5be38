package atlas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// Registry names.
const (
	// ServiceName is the service's registry name and the name in its errors.
	ServiceName = "ATLAS"
	// ServiceClass is the service class a settings file names.
	ServiceClass = "atlas.ForcedPhotometryService"
	// ProcessorClass is the processor class a settings file names.
	ProcessorClass = "atlas.Processor"
	// DataProductType is the type of the stored result files.
	DataProductType = "atlas_photometry"
	// DataProductLabel is the type's human-readable label.
	DataProductLabel = "ATLAS Photometry"
	// InfoURL is the server's own documentation.
	InfoURL = "https://fallingstar-data.com/forcedphot/"
)

// Keys of RemoteTask.Data.
const (
	dataMJDMin     = "mjd_min"
	dataMJDMax     = "mjd_max"
	dataUseReduced = "use_reduced"
	dataStatePolls = "state_polls" // RemoteTask.Polls when the current state was first seen
	// dataQueuePosition is a queued task's place in the server's queue (0
	// = next), as last seen.
	dataQueuePosition = "queue_position"
	// dataWoken is when a woken job's look was put off (it wants news
	// from after then).
	dataWoken       = "woken"
	maxCleanupQueue = 1000
	// cleanupPerCall is how many remembered deletes a call retries while
	// the account's writes allow.
	cleanupPerCall = 8
)

// Service is the ATLAS forced-photometry service (class
// atlas.ForcedPhotometryService, registry name "ATLAS"). It is
// asynchronous: Query (QueryKeyed under the Manager) queues a remote task
// and returns it pending; Resume looks at it once and, when it has
// finished, stores the result file as a product (named by ProductName,
// from the query alone) and returns it; FinishRemote deletes the task,
// which the Manager calls only once the product's datums are committed.
// Under singletarget.Manager.Run (the Immediate executor) the same calls
// run to completion in one call, waiting between looks.
//
// A Service never sleeps: throttling comes back as a
// *singletarget.ThrottledError for the Manager or executor to wait out.
// It is safe for concurrent use.
type Service struct {
	c    *Client
	opts Options
	poll *poller

	// noCallback is set once the server refused the callback URL.
	noCallback atomic.Bool

	mu      sync.Mutex
	cleanup []int64 // finished tasks whose DELETE was throttled
}

var (
	_ singletarget.Resumer          = (*Service)(nil)
	_ singletarget.Finisher         = (*Service)(nil)
	_ singletarget.KeyedQuerier     = (*Service)(nil)
	_ singletarget.Canceller        = (*Service)(nil)
	_ singletarget.CallbackReceiver = (*Service)(nil)
)

// NewService returns the service for the server at baseURL (DefaultURL for
// the real one) with the account's API token.
func NewService(baseURL string, token singletarget.Secret, opts *Options) (*Service, error) {
	c, err := New(baseURL, token, opts)
	if err != nil {
		return nil, err
	}
	if token.IsZero() {
		return nil, errors.New("atlas: the service needs an API token")
	}
	svc := &Service{c: c, opts: c.opts}
	svc.poll = newPoller(c, &svc.opts)
	return svc, nil
}

// Redact implements singletarget.Redactor: text without the API token.
func (s *Service) Redact(text string) string { return s.c.read.Redact(text) }

// Client returns the service's client.
func (s *Service) Client() *Client { return s.c }

// Name implements singletarget.Service: "ATLAS".
func (s *Service) Name() string { return ServiceName }

// NewForm implements singletarget.Service (see Form).
func (s *Service) NewForm() singletarget.QueryForm { return NewForm(s.opts.Now) }

// Info implements singletarget.Describer.
func (s *Service) Info() singletarget.Info {
	return singletarget.Info{
		Label:           "ATLAS Forced Photometry",
		Kind:            "Forced Photometry",
		DataProductType: DataProductType,
		InfoURL:         InfoURL,
		Notes: "Forced photometry at the target's position on every ATLAS image of the window (difference images " +
			"unless 'Use reduced data'). The server queues requests; a result usually takes minutes, longer when its queue is busy.",
		Async: true,
	}
}

// Query implements singletarget.Service: it queues the task (never
// retrying the POST) and returns Outcome.Pending with the remote task: ID,
// URL, State, Submitted, NotBefore (the first poll) and Data holding the
// window. Throttling (a 429, or the 500-task cap) gives a
// *singletarget.ThrottledError and queues nothing. The Manager calls
// QueryKeyed instead.
func (s *Service) Query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	return s.query(ctx, t, f, "", false)
}

// QueryKeyed implements singletarget.KeyedQuerier: Query, with the task's
// comment set to "targetdata:<key>". With retry set it first lists the
// account's tasks (Client.Tasks) and, when one carries that comment,
// returns it pending instead of queueing a second task: a worker killed
// between the server accepting the POST and the job recording the task
// leaves no task behind.
func (s *Service) QueryKeyed(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, key string, retry bool, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	return s.query(ctx, t, f, key, retry)
}

// keyComment is the comment that tags the task of a keyed query.
func keyComment(key string) string { return "targetdata:" + key }

func (s *Service) query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, key string, retry bool) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: query %q: %w", ServiceName, t.Name, err)
	}
	form, ok := f.(*Form)
	if !ok {
		return nil, fmt.Errorf("%s: query %q: the form is a %T, not an *atlas.Form", ServiceName, t.Name, f)
	}
	if err := form.Validate(); err != nil {
		return nil, err
	}
	lo, hi := form.Window()
	var task *Task
	if key != "" && retry {
		tagged, err := s.c.Tasks(ctx, func(tk Task) bool { return tk.Comment == keyComment(key) })
		if err != nil {
			return nil, fmt.Errorf("%s: looking for the task of an earlier attempt: %w", ServiceName, err)
		}
		if n := len(tagged); n > 0 && tagged[n-1].Comment == keyComment(key) {
			task = &tagged[n-1]
			if task.URL == "" {
				task.URL = s.c.TaskURL(task.ID)
			}
			s.opts.Logger.InfoContext(ctx, "ATLAS task of an earlier attempt found; following it", "task", task.ID, "target", t.Name)
		}
	}
	if task == nil {
		req := QueueRequest{RA: t.RA, Dec: t.Dec, MJDMin: &lo, MJDMax: hi, UseReduced: form.UseReducedData, CallbackURL: s.CallbackURL()}
		if key != "" {
			req.Comment = keyComment(key)
		}
		var err error
		task, err = s.c.Queue(ctx, req)
		var ve *ValidationError
		if errors.As(err, &ve) && req.CallbackURL != "" && len(ve.Fields["callback_url"]) > 0 {
			// No task was made. The server refuses the URL (it must be
			// https and resolve to a public address): poll without it.
			s.noCallback.Store(true)
			s.opts.Logger.WarnContext(ctx, "ATLAS refused the callback URL; tasks are sent without it and polled",
				"callback_url", req.CallbackURL, "error", strings.Join(ve.Fields["callback_url"], " "))
			req.CallbackURL = ""
			task, err = s.c.Queue(ctx, req)
		}
		if err != nil {
			return nil, err
		}
		s.opts.Logger.InfoContext(ctx, "ATLAS task queued", "task", task.ID, "target", t.Name)
	}
	s.poll.track(task.ID)
	now := s.opts.Now()
	state := task.State()
	if state != StateRunning {
		state = StateQueued // a task is never finished on creation; a found one may be: the first look tells
	}
	data := map[string]string{dataMJDMin: formatFloat(lo), dataUseReduced: strconv.FormatBool(form.UseReducedData), dataStatePolls: "0"}
	if hi != nil {
		data[dataMJDMax] = formatFloat(*hi)
	}
	s.flushCleanup(ctx, 1)
	return &singletarget.Outcome{Pending: &singletarget.RemoteTask{
		Service:   ServiceName,
		ID:        strconv.FormatInt(task.ID, 10),
		URL:       s.c.TaskURL(task.ID),
		State:     state,
		Submitted: now,
		NotBefore: now.Add(s.opts.pollDelay(state, 0)),
		Data:      data,
	}}, nil
}

// Resume implements singletarget.Resumer: it looks at the task once.
// With two or more tasks of the account pending in the process, the look
// comes from the account's task list, read at most every
// Options.ListMaxAge and shared by all of them; with one, from the task
// itself (both conditional GETs: a 304 costs no body). A job woken before
// its NotBefore (a completion callback, singletarget.RemoteWaker) gets
// news read after the wake: at most one read per ListMaxAge (2 s at most)
// whatever the number of wakes. Queued or running: the task comes back pending
// with NotBefore from the poll policy (Client.PollDelay), its queue
// position (from /queuepositions.json) in the progress message and in
// Data["queue_position"], or an error matching singletarget.ErrDeadline once
// Options.Deadline has passed since Submitted (the remote task is left in
// place). Finished: the result file is downloaded and checked, stored as
// the product ProductName(window, use_reduced) (replacing the earlier
// result of the same query when the Manager's sink is used), and the
// product returned. The task stays on the server until FinishRemote, which
// the Manager calls once the datums are committed: Resume on it again
// returns the same product. Finished with "No data returned": an error
// matching singletarget.ErrNotFound; with another message:
// singletarget.ErrTaskFailed (the task, holding no data, is deleted in
// both cases).
func (s *Service) Resume(ctx context.Context, t singletarget.Target, task singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: task %s: %w", ServiceName, task.ID, err)
	}
	id, err := strconv.ParseInt(task.ID, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%s: remote task id %q is not an ATLAS task id", ServiceName, task.ID)
	}
	now := s.opts.Now()
	var want time.Time // news must come from a read begun at or after this
	if !task.NotBefore.IsZero() && now.Before(task.NotBefore.Add(-time.Second)) {
		want = now // woken before its time
	}
	if w, err := time.Parse(time.RFC3339Nano, task.Data[dataWoken]); err == nil && w.After(want) {
		want = w
	}
	rt, again, err := s.poll.look(ctx, id, want)
	if err == nil && rt == nil {
		// Woken, but read moments ago: look again when the next read may
		// go, still wanting news from after the wake.
		next := pendingCopy(task)
		next.Data[dataWoken] = want.UTC().Format(time.RFC3339Nano)
		next.NotBefore = again
		return &singletarget.Outcome{Pending: &next}, nil
	}
	if err != nil {
		if errors.Is(err, singletarget.ErrNotFound) {
			s.poll.forget(id)
			return nil, fmt.Errorf("%s: task %d is gone from the server (deleted, or purged 31 days after it finished): %w: %v",
				ServiceName, id, singletarget.ErrTaskFailed, err)
		}
		return nil, err
	}
	switch state := rt.State(); state {
	case StateQueued, StateRunning:
		next := pendingCopy(task)
		next.Polls++
		since, _ := strconv.Atoi(task.Data[dataStatePolls])
		if state != task.State {
			since = next.Polls
			next.Data[dataStatePolls] = strconv.Itoa(since)
		}
		next.State = state
		delete(next.Data, dataWoken)
		delete(next.Data, dataQueuePosition)
		if state == StateQueued && rt.QueuePos != nil {
			next.Data[dataQueuePosition] = strconv.Itoa(*rt.QueuePos)
		}
		singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: state, Message: describe(rt), Remote: &next})
		if !task.Submitted.IsZero() && now.Sub(task.Submitted) > s.opts.Deadline {
			return nil, fmt.Errorf("%s: task %d still %s %s after it was queued: %w (it may still finish; the task is left on the server)",
				ServiceName, id, state, now.Sub(task.Submitted).Round(time.Second), singletarget.ErrDeadline)
		}
		next.NotBefore = now.Add(s.opts.pollDelay(state, next.Polls-since))
		s.flushCleanup(ctx, cleanupPerCall)
		return &singletarget.Outcome{Pending: &next}, nil
	case StateFailed:
		s.poll.forget(id)
		s.delete(ctx, id)
		return nil, rt.Err()
	}
	s.poll.forget(id)
	if rt.ResultURL == "" {
		return nil, fmt.Errorf("%s: task %d finished with neither a result nor an error message: %w", ServiceName, id, singletarget.ErrRemote)
	}
	singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: singletarget.StageFetching, Message: describe(rt)})
	name, err := taskProductName(task, rt)
	if err != nil {
		return nil, err
	}
	extra := map[string]string{"task_id": task.ID, "task_url": s.c.TaskURL(id), "mjd_min": task.Data[dataMJDMin],
		"use_reduced": strconv.FormatBool(rt.UseReduced), "finished": rt.FinishTimestamp.Format(time.RFC3339)}
	if v := task.Data[dataMJDMax]; v != "" {
		extra["mjd_max"] = v
	}
	// The file streams from the server into the sink, checked on the way:
	// a file that is not one (or over the cap) stores nothing.
	var p dataproduct.Product
	err = s.c.DownloadTo(ctx, rt.ResultURL, func(r io.Reader) error {
		var perr error
		p, perr = out.PutProduct(ctx, dataproduct.Product{
			TargetID: t.ID, Name: name, DataProductType: DataProductType, ContentType: "text/plain", Extra: extra,
		}, r)
		if perr != nil {
			return fmt.Errorf("%s: task %d: storing %s: %w", ServiceName, id, name, perr)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, singletarget.ErrNotFound) {
			s.delete(ctx, id)
		}
		return nil, err
	}
	s.opts.Logger.InfoContext(ctx, "ATLAS result stored", "task", id, "product", name, "bytes", p.Size)
	s.flushCleanup(ctx, cleanupPerCall)
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

// pendingCopy is task with a copy of its Data (never nil) to change for
// the next look.
func pendingCopy(task singletarget.RemoteTask) singletarget.RemoteTask {
	next := task
	next.Data = make(map[string]string, len(task.Data)+2)
	maps.Copy(next.Data, task.Data)
	return next
}

// FinishRemote implements singletarget.Finisher: it deletes the finished
// task (unless Options.KeepRemote), which the Manager asks for once the
// task's datums are committed. A task already gone is not an error; a
// throttled delete (the account's 60 writes a minute, POST and DELETE
// alike) comes back as the *singletarget.ThrottledError, for the Manager
// to call again after its wait.
func (s *Service) FinishRemote(ctx context.Context, task singletarget.RemoteTask) error {
	if s.opts.KeepRemote {
		return nil
	}
	return s.deleteRemote(ctx, task, "ATLAS task deleted")
}

// ProductName is the product name of the query with window [mjdMin,
// mjdMax] (mjdMax nil: open, up to now) on difference images, or reduced
// ones: atlas_<start>-<end>[_reduced].txt, each bound as its UTC date
// YYYY_MM_DD when it is a whole MJD (a midnight), as the MJD otherwise
// (e.g. 60316.25), and an open end as "now". The same query always gets
// the same name, whatever its remote task, so a refresh replaces the
// product instead of adding one.
func ProductName(mjdMin float64, mjdMax *float64, useReduced bool) string {
	bound := func(v float64) string {
		if v == math.Trunc(v) {
			return processor.MJDToTime(v).UTC().Format("2006_01_02")
		}
		return formatFloat(v)
	}
	end := "now"
	if mjdMax != nil {
		end = bound(*mjdMax)
	}
	name := "atlas_" + bound(mjdMin) + "-" + end
	if useReduced {
		name += "_reduced"
	}
	return name + ".txt"
}

// taskProductName is the ProductName of the task's query, from the
// window and mode the task records (Data), or the server's copy of them.
func taskProductName(task singletarget.RemoteTask, rt *Task) (string, error) {
	lo, err := strconv.ParseFloat(task.Data[dataMJDMin], 64)
	if err != nil {
		if rt.MJDMin == nil {
			return "", fmt.Errorf("%s: task %s: the remote task record has no window start (Data[%q])", ServiceName, task.ID, dataMJDMin)
		}
		lo = *rt.MJDMin
	}
	var hi *float64
	if v := task.Data[dataMJDMax]; v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", fmt.Errorf("%s: task %s: bad window end %q", ServiceName, task.ID, v)
		}
		hi = &x
	} else if _, ok := task.Data[dataMJDMin]; !ok {
		hi = rt.MJDMax
	}
	reduced := rt.UseReduced
	if v, err := strconv.ParseBool(task.Data[dataUseReduced]); err == nil {
		reduced = v
	}
	return ProductName(lo, hi, reduced), nil
}

// CancelRemote implements singletarget.Canceller: it deletes the task
// (cancelling it when queued or running). A task that is already gone is
// not an error.
func (s *Service) CancelRemote(ctx context.Context, task singletarget.RemoteTask) error {
	return s.deleteRemote(ctx, task, "ATLAS task cancelled")
}

// deleteRemote deletes task (FinishRemote, CancelRemote) and logs done;
// a task already gone is not an error.
func (s *Service) deleteRemote(ctx context.Context, task singletarget.RemoteTask, done string) error {
	id, err := strconv.ParseInt(task.ID, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%s: remote task id %q is not an ATLAS task id", ServiceName, task.ID)
	}
	s.poll.forget(id)
	if err := s.c.Delete(ctx, id); err != nil && !errors.Is(err, singletarget.ErrNotFound) {
		return err
	}
	s.opts.Logger.InfoContext(ctx, done, "task", id)
	return nil
}

// delete removes a task that finished without data (an error message, a
// purged result), unless Options.KeepRemote. It never fails the query: a
// throttled delete goes to the executor's clean-up queue
// (singletarget.DeferCleanup: riverexec keeps it in its job database), or
// without one is remembered here and retried on later calls (see
// Cleanup); other failures are logged. A task with data is deleted by
// FinishRemote instead, after its datums are committed.
func (s *Service) delete(ctx context.Context, id int64) {
	if s.opts.KeepRemote {
		return
	}
	err := s.c.Delete(ctx, id)
	var te *singletarget.ThrottledError
	switch {
	case err == nil || errors.Is(err, singletarget.ErrNotFound):
		return
	case errors.As(err, &te) && singletarget.DeferCleanup(ctx, singletarget.RemoteTask{Service: ServiceName, ID: strconv.FormatInt(id, 10), URL: s.c.TaskURL(id)}, false):
		s.opts.Logger.InfoContext(ctx, "ATLAS delete throttled; handed to the executor's clean-up queue", "task", id, "wait", te.RetryAfter)
	case errors.As(err, &te):
		s.mu.Lock()
		if len(s.cleanup) < maxCleanupQueue {
			s.cleanup = append(s.cleanup, id)
		}
		s.mu.Unlock()
		s.opts.Logger.InfoContext(ctx, "ATLAS delete throttled; will retry on a later call", "task", id, "wait", te.RetryAfter)
	default:
		s.opts.Logger.WarnContext(ctx, "ATLAS: deleting the finished task failed; the server purges it after 31 days", "task", id, "error", err)
	}
}

// flushCleanup retries up to n remembered deletes when writes are not
// blocked.
func (s *Service) flushCleanup(ctx context.Context, n int) {
	for range n {
		if s.c.WriteBlockedFor() > 0 || ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if len(s.cleanup) == 0 {
			s.mu.Unlock()
			return
		}
		id := s.cleanup[0]
		s.cleanup = s.cleanup[1:]
		s.mu.Unlock()
		s.delete(ctx, id)
	}
}

// PendingCleanup lists finished tasks whose delete was throttled and has
// not been retried yet.
func (s *Service) PendingCleanup() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.cleanup...)
}

// Cleanup retries every remembered delete now (call it before a program
// exits, or from a periodic job). It stops at the first throttling and
// returns that *singletarget.ThrottledError; the rest stay remembered.
func (s *Service) Cleanup(ctx context.Context) error {
	for {
		s.mu.Lock()
		if len(s.cleanup) == 0 {
			s.mu.Unlock()
			return nil
		}
		id := s.cleanup[0]
		s.mu.Unlock()
		err := s.c.Delete(ctx, id)
		var te *singletarget.ThrottledError
		if errors.As(err, &te) || ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return err
		}
		s.mu.Lock()
		if len(s.cleanup) > 0 && s.cleanup[0] == id {
			s.cleanup = s.cleanup[1:]
		}
		s.mu.Unlock()
		if err != nil && !errors.Is(err, singletarget.ErrNotFound) {
			s.opts.Logger.WarnContext(ctx, "ATLAS: deleting the finished task failed", "task", id, "error", err)
		}
	}
}
