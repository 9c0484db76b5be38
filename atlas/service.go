package atlas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
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
	dataMJDMin      = "mjd_min"
	dataMJDMax      = "mjd_max"
	dataUseReduced  = "use_reduced"
	dataStatePolls  = "state_polls" // RemoteTask.Polls when the current state was first seen
	maxCleanupQueue = 1000
	// cleanupPerCall is how many remembered deletes a call retries while
	// the account's writes allow.
	cleanupPerCall = 8
)

// Service is the ATLAS forced-photometry service (class
// atlas.ForcedPhotometryService, registry name "ATLAS"). It is
// asynchronous: Query queues a remote task and returns it pending; Resume
// looks at it once and, when it has finished, stores the result file as a
// product, deletes the remote task and returns the product. Under
// singletarget.Manager.Run (the Immediate executor) the same calls run to
// completion in one call, waiting between looks.
//
// A Service never sleeps: throttling comes back as a
// *singletarget.ThrottledError for the Manager or executor to wait out.
// It is safe for concurrent use.
type Service struct {
	c    *Client
	opts Options

	mu      sync.Mutex
	cleanup []int64 // finished tasks whose DELETE was throttled
}

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
	return &Service{c: c, opts: c.opts}, nil
}

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
// *singletarget.ThrottledError and queues nothing.
func (s *Service) Query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
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
	task, err := s.c.Queue(ctx, QueueRequest{RA: t.RA, Dec: t.Dec, MJDMin: &lo, MJDMax: hi, UseReduced: form.UseReducedData})
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	state := task.State()
	if state != StateRunning {
		state = StateQueued // a task is never finished on creation; look at once if it were
	}
	data := map[string]string{dataMJDMin: formatFloat(lo), dataUseReduced: strconv.FormatBool(form.UseReducedData), dataStatePolls: "0"}
	if hi != nil {
		data[dataMJDMax] = formatFloat(*hi)
	}
	s.opts.Logger.InfoContext(ctx, "ATLAS task queued", "task", task.ID, "target", t.Name)
	s.flushCleanup(ctx, 1)
	return &singletarget.Outcome{Pending: &singletarget.RemoteTask{
		Service:   ServiceName,
		ID:        strconv.FormatInt(task.ID, 10),
		URL:       task.URL,
		State:     state,
		Submitted: now,
		NotBefore: now.Add(s.opts.pollDelay(state, 0)),
		Data:      data,
	}}, nil
}

// Resume implements singletarget.Resumer: it reads the task once. Queued or
// running: the task comes back pending with NotBefore from the poll policy
// (Client.PollDelay), or an error matching singletarget.ErrDeadline once
// Options.Deadline has passed since Submitted (the remote task is left in
// place). Finished: the result file is downloaded and checked, stored as
// the product atlas_<YYYY_MM_DD>-<YYYY_MM_DD>_<task id>.txt (the window's
// dates; the end date is the finish date when the window was open), the
// remote task deleted, and the product returned. Finished with "No data
// returned": an error matching singletarget.ErrNotFound; with another
// message: singletarget.ErrTaskFailed (the task is deleted in both cases).
func (s *Service) Resume(ctx context.Context, t singletarget.Target, task singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: task %s: %w", ServiceName, task.ID, err)
	}
	id, err := strconv.ParseInt(task.ID, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%s: remote task id %q is not an ATLAS task id", ServiceName, task.ID)
	}
	rt, err := s.c.Task(ctx, id)
	if err != nil {
		if errors.Is(err, singletarget.ErrNotFound) {
			return nil, fmt.Errorf("%s: task %d is gone from the server (deleted, or purged 31 days after it finished): %w: %w",
				ServiceName, id, singletarget.ErrTaskFailed, err)
		}
		return nil, err
	}
	now := s.opts.Now()
	switch state := rt.State(); state {
	case StateQueued, StateRunning:
		next := task
		next.Data = make(map[string]string, len(task.Data)+1)
		for k, v := range task.Data {
			next.Data[k] = v
		}
		next.Polls++
		since, _ := strconv.Atoi(task.Data[dataStatePolls])
		if state != task.State {
			since = next.Polls
			next.Data[dataStatePolls] = strconv.Itoa(since)
		}
		next.State = state
		singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: state, Message: describe(rt), Remote: &next})
		if !task.Submitted.IsZero() && now.Sub(task.Submitted) > s.opts.Deadline {
			return nil, fmt.Errorf("%s: task %d still %s %s after it was queued: %w (it may still finish; the task is left on the server)",
				ServiceName, id, state, now.Sub(task.Submitted).Round(time.Second), singletarget.ErrDeadline)
		}
		next.NotBefore = now.Add(s.opts.pollDelay(state, next.Polls-since))
		s.flushCleanup(ctx, cleanupPerCall)
		return &singletarget.Outcome{Pending: &next}, nil
	case StateFailed:
		s.delete(ctx, id)
		return nil, rt.Err()
	}
	if rt.ResultURL == "" {
		return nil, fmt.Errorf("%s: task %d finished with neither a result nor an error message: %w", ServiceName, id, singletarget.ErrRemote)
	}
	singletarget.ReportProgress(ctx, singletarget.Progress{Service: ServiceName, Stage: singletarget.StageFetching, Message: describe(rt)})
	body, err := s.c.Download(ctx, rt.ResultURL)
	if err != nil {
		if errors.Is(err, singletarget.ErrNotFound) {
			s.delete(ctx, id)
		}
		return nil, err
	}
	name, err := productName(task, rt, now)
	if err != nil {
		return nil, err
	}
	extra := map[string]string{"task_id": task.ID, "task_url": rt.URL, "mjd_min": task.Data[dataMJDMin],
		"use_reduced": strconv.FormatBool(rt.UseReduced), "finished": rt.FinishTimestamp.Format(time.RFC3339)}
	if v := task.Data[dataMJDMax]; v != "" {
		extra["mjd_max"] = v
	}
	p, err := out.PutProduct(ctx, dataproduct.Product{
		TargetID: t.ID, Name: name, DataProductType: DataProductType, ContentType: "text/plain", Extra: extra,
	}, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: task %d: storing %s: %w", ServiceName, id, name, err)
	}
	s.opts.Logger.InfoContext(ctx, "ATLAS result stored", "task", id, "product", name, "bytes", len(body))
	s.delete(ctx, id)
	s.flushCleanup(ctx, cleanupPerCall)
	return &singletarget.Outcome{Products: []dataproduct.Product{p}}, nil
}

// productName is atlas_<min date>-<max date>_<task id>.txt.
func productName(task singletarget.RemoteTask, rt *Task, now time.Time) (string, error) {
	lo, err := strconv.ParseFloat(task.Data[dataMJDMin], 64)
	if err != nil {
		if rt.MJDMin == nil {
			return "", fmt.Errorf("%s: task %s: the remote task record has no window start (Data[%q])", ServiceName, task.ID, dataMJDMin)
		}
		lo = *rt.MJDMin
	}
	var end time.Time
	switch {
	case task.Data[dataMJDMax] != "":
		hi, err := strconv.ParseFloat(task.Data[dataMJDMax], 64)
		if err != nil {
			return "", fmt.Errorf("%s: task %s: bad window end %q", ServiceName, task.ID, task.Data[dataMJDMax])
		}
		end = processor.MJDToTime(hi)
	case !rt.FinishTimestamp.IsZero():
		end = rt.FinishTimestamp
	default:
		end = now
	}
	const day = "2006_01_02"
	return fmt.Sprintf("atlas_%s-%s_%s.txt", processor.MJDToTime(lo).UTC().Format(day), end.UTC().Format(day),
		dataproduct.SafeName(task.ID)), nil
}

// CancelRemote implements singletarget.Canceller: it deletes the task
// (cancelling it when queued or running). A task that is already gone is
// not an error.
func (s *Service) CancelRemote(ctx context.Context, task singletarget.RemoteTask) error {
	id, err := strconv.ParseInt(task.ID, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%s: remote task id %q is not an ATLAS task id", ServiceName, task.ID)
	}
	if err := s.c.Delete(ctx, id); err != nil && !errors.Is(err, singletarget.ErrNotFound) {
		return err
	}
	s.opts.Logger.InfoContext(ctx, "ATLAS task cancelled", "task", id)
	return nil
}

// delete removes a finished task after its result was stored, unless
// Options.KeepRemote. It never fails the query: a throttled delete is
// remembered and retried on later calls (see Cleanup), other failures are
// logged.
func (s *Service) delete(ctx context.Context, id int64) {
	if s.opts.KeepRemote {
		return
	}
	err := s.c.Delete(ctx, id)
	var te *singletarget.ThrottledError
	switch {
	case err == nil || errors.Is(err, singletarget.ErrNotFound):
		return
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
