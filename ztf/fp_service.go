package ztf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
	"github.com/tomgo/targetdata/singletarget"
)

// ForcedPhotometryService is the asynchronous service "ZTF_FP": forced
// PSF photometry on ZTF difference images at the target's position, by the
// ZTF Forced Photometry Service. Query submits a job and returns
// Outcome.Pending; Resume looks at the account's job list once per call
// and, when the job is done, downloads the result file and stores it as a
// "ztf_forced_photometry" product. A query whose request (position and JD
// window) is already in the job list reuses that job instead of queueing
// another: an unfinished one is followed, and a finished, successful one
// (ZFPS lists jobs for 30 days) gives its file at once, provided the window
// ends by the end of the current UTC day. So the same query twice makes
// one job and stores the same bytes (ZFPS writes the time a job ended into
// its file, so a second job's file would differ and be ingested again),
// while a query on a later day, whose default window ends later, makes a
// new job. See Query for the rules. Build it with
// NewForcedPhotometryService or from settings through Register. It is safe
// for concurrent use.
//
// ZFPS has no way to withdraw a job, so the service is not a
// singletarget.Canceller.
type ForcedPhotometryService struct {
	c *ForcedPhotometryClient
}

var (
	_ singletarget.Service   = (*ForcedPhotometryService)(nil)
	_ singletarget.Describer = (*ForcedPhotometryService)(nil)
	_ singletarget.Resumer   = (*ForcedPhotometryService)(nil)
)

// NewForcedPhotometryService returns the forced-photometry service for the
// ZFPS site at baseURL (DefaultForcedPhotometryURL for the real one) with
// the account creds. opts may be nil.
func NewForcedPhotometryService(baseURL string, creds Credentials, opts *ForcedPhotometryOptions) (*ForcedPhotometryService, error) {
	c, err := NewForcedPhotometryClient(baseURL, creds, opts)
	if err != nil {
		return nil, err
	}
	return &ForcedPhotometryService{c: c}, nil
}

// Client returns the service's client.
func (s *ForcedPhotometryService) Client() *ForcedPhotometryClient { return s.c }

// Redact implements singletarget.Redactor: text without the account's
// email and userpass or the site's HTTP Basic credentials.
func (s *ForcedPhotometryService) Redact(text string) string { return s.c.http.Redact(text) }

// Name implements singletarget.Service: ForcedPhotometryOptions.Name,
// default "ZTF_FP".
func (s *ForcedPhotometryService) Name() string { return s.c.name }

// NewForm implements singletarget.Service: a *ForcedPhotometryForm from
// the survey start to today.
func (s *ForcedPhotometryService) NewForm() singletarget.QueryForm { return newForcedPhotometryForm() }

// Info implements singletarget.Describer.
func (s *ForcedPhotometryService) Info() singletarget.Info {
	return singletarget.Info{
		Label:           "ZTF Forced Photometry",
		Kind:            "Forced Photometry",
		DataProductType: ForcedPhotometryDataProductType,
		InfoURL:         "https://irsa.ipac.caltech.edu/data/ZTF/docs/ztf_zfps_userguide.pdf",
		Notes: "PSF-fit forced photometry on ZTF difference images at the target's position, by the ZTF Forced " +
			"Photometry Service (registration required). Jobs take minutes to hours.",
		Async: true,
	}
}

// Task data keys.
const (
	dataRA      = "ra"
	dataDec     = "dec"
	dataJDStart = "jdstart"
	dataJDEnd   = "jdend"
	dataKnown   = "known"
	dataAdopted = "adopted"
)

// Query implements singletarget.Service. It first lists the account's
// jobs (which checks the credentials before anything is queued). Unless
// ForcedPhotometryOptions.NoAdopt, a job listed for the same position and
// window is reused instead of queueing a duplicate (the newest such job
// that qualifies):
//
//   - an unfinished job is followed: Query returns it as the pending task;
//   - a finished job with a result file is used at once: Query downloads
//     the file and stores the product as Resume would, so the same query
//     twice makes one job and stores the same bytes;
//   - a finished job with exit code 63 (no epochs) gives the same error as
//     Resume would, an error matching singletarget.ErrNotFound.
//
// A finished job is reused only when the window ends by the end of the
// current UTC day (the default window does): a window reaching into the
// future still gains epochs, so it is always submitted again. A failed job
// (exit codes 64, 65, 255) is never reused, nor one whose file is gone.
// Otherwise Query submits one request, never retried, and remembers the
// ids of older jobs of the same request so that Resume recognises the new
// one; the returned task holds the request (no credentials: they come
// from the service's settings on every call), and nothing is stored yet.
func (s *ForcedPhotometryService) Query(ctx context.Context, t singletarget.Target, f singletarget.QueryForm, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	form, ok := f.(*ForcedPhotometryForm)
	if !ok {
		return nil, fmt.Errorf("%s: Query needs the service's own *ztf.ForcedPhotometryForm, got %T", s.c.name, f)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.c.name, err)
	}
	now := s.c.opts.Now()
	req := ForcedPhotometryRequest{RA: round7(t.RA), Dec: round7(t.Dec), JDStart: SurveyStartJD, JDEnd: endOfDayJD(now)}
	if form.MinDateMJD != nil {
		req.JDStart = *form.MinDateMJD + processor.MJDOffset
	}
	if form.MaxDateMJD != nil {
		req.JDEnd = *form.MaxDateMJD + processor.MJDOffset
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	jobs, err := s.c.Jobs(ctx, AllRecentJobs)
	if err != nil {
		return nil, err
	}
	var known []string
	var adopt *Job
	for i, j := range jobs {
		if !j.Matches(req.RA, req.Dec, req.JDStart, req.JDEnd) {
			continue
		}
		known = append(known, strconv.FormatInt(j.ReqID, 10))
		if !s.c.opts.NoAdopt && reusable(j, req, now) && (adopt == nil || j.ReqID > adopt.ReqID) {
			adopt = &jobs[i]
		}
	}
	task := &singletarget.RemoteTask{
		Service:   s.c.name,
		URL:       s.c.url(StatusPath, nil),
		State:     "submitted",
		Submitted: now.UTC(),
		NotBefore: now.Add(s.c.opts.PollInterval).UTC(),
		Data: map[string]string{
			dataRA: fmtNum(req.RA), dataDec: fmtNum(req.Dec),
			dataJDStart: fmtNum(req.JDStart), dataJDEnd: fmtNum(req.JDEnd),
		},
	}
	if adopt != nil && adopt.Done() {
		s.c.opts.Logger.InfoContext(ctx, "using the finished job of the same request", "service", s.c.name, "reqid", adopt.ReqID)
		res, err := s.finish(ctx, t, *task, req, *adopt, out)
		if err == nil || adopt.LightCurve == "" || !errors.Is(err, singletarget.ErrNotFound) {
			return res, err
		}
		// The listed file is gone: submit the request again.
		s.c.opts.Logger.WarnContext(ctx, "the finished job's file is gone; submitting the request again", "service", s.c.name, "reqid", adopt.ReqID, "error", err)
		adopt = nil
	}
	if adopt != nil {
		task.ID = strconv.FormatInt(adopt.ReqID, 10)
		task.State = adopt.State()
		task.Data[dataAdopted] = "true"
		s.c.opts.Logger.InfoContext(ctx, "following an unfinished job of the same request", "service", s.c.name, "reqid", adopt.ReqID)
		return &singletarget.Outcome{Pending: task}, nil
	}
	if len(known) > 0 {
		task.Data[dataKnown] = strings.Join(known, ",")
	}
	sub, err := s.c.Submit(ctx, req)
	if err != nil {
		return nil, err
	}
	// Match the job by what the service recorded, when it echoed it.
	if sub.JDStart != 0 || sub.JDEnd != 0 {
		task.Data[dataRA], task.Data[dataDec] = fmtNum(sub.RA), fmtNum(sub.Dec)
		task.Data[dataJDStart], task.Data[dataJDEnd] = fmtNum(sub.JDStart), fmtNum(sub.JDEnd)
	}
	s.c.opts.Logger.InfoContext(ctx, "forced-photometry job submitted", "service", s.c.name, "target", t.Name)
	return &singletarget.Outcome{Pending: task}, nil
}

// Resume implements singletarget.Resumer: one look at the job list. While
// the job is queued or running (or not listed yet: the single-job status
// page may lag), it returns the task with the next NotBefore (doubling
// from PollInterval to MaxPollInterval) or, past the Deadline, an error
// matching singletarget.ErrDeadline. A finished job's result file is
// downloaded and stored as ztf_fp-<target>-<jdstart>-<jdend>.txt (named
// by the request, not the job: a repeated query that another job answers
// gives the same product, superseding the earlier file). ZFPS lists a
// job for 30 days and cannot delete one, so Resume gives the same product
// again until then: a worker that died before the datums were committed
// loses nothing.
// Exit code 63 (no epochs) gives an error matching
// singletarget.ErrNotFound; other failures (64, 65, 255) and a job that
// vanished from the list give singletarget.ErrTaskFailed.
func (s *ForcedPhotometryService) Resume(ctx context.Context, t singletarget.Target, task singletarget.RemoteTask, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.c.name, err)
	}
	req, err := taskRequest(task)
	if err != nil {
		return nil, fmt.Errorf("%s: task %q: %w: %v", s.c.name, task.ID, singletarget.ErrTaskFailed, err)
	}
	jobs, err := s.c.Jobs(ctx, AllRecentJobs)
	if err != nil {
		return nil, err
	}
	now := s.c.opts.Now()
	task.Polls++
	task.Data = cloneData(task.Data)
	job := findJob(jobs, task, req)
	switch {
	case job == nil && task.ID != "":
		return nil, fmt.Errorf("%s: job %s is no longer in the job list (ZFPS lists jobs for 30 days): %w", s.c.name, task.ID, singletarget.ErrTaskFailed)
	case job == nil:
		task.State = "submitted"
	case !job.Done():
		task.ID = strconv.FormatInt(job.ReqID, 10)
		delete(task.Data, dataKnown)
		task.State = job.State()
	default:
		return s.finish(ctx, t, task, req, *job, out)
	}
	if !task.Submitted.IsZero() && now.Sub(task.Submitted) > s.c.opts.Deadline {
		id := task.ID
		if id == "" {
			id = "(not listed yet)"
		}
		return nil, fmt.Errorf("%s: job %s still %s %s after submission: %w", s.c.name, id, task.State,
			now.Sub(task.Submitted).Round(time.Second), singletarget.ErrDeadline)
	}
	task.NotBefore = now.Add(s.backoff(task.Polls)).UTC()
	return &singletarget.Outcome{Pending: &task}, nil
}

// backoff is the wait after the n-th look (n ≥ 1).
func (s *ForcedPhotometryService) backoff(n int) time.Duration {
	d := s.c.opts.PollInterval
	for i := 1; i < n && d < s.c.opts.MaxPollInterval; i++ {
		d *= 2
	}
	return min(d, s.c.opts.MaxPollInterval)
}

// finish handles a finished job: download and store, or the failure.
func (s *ForcedPhotometryService) finish(ctx context.Context, t singletarget.Target, task singletarget.RemoteTask, req ForcedPhotometryRequest, job Job, out singletarget.ProductSink) (*singletarget.Outcome, error) {
	code := -1
	if job.ExitCode != nil {
		code = *job.ExitCode
	}
	if job.LightCurve == "" {
		switch code {
		case 63:
			return nil, fmt.Errorf("%s: job %d: no ZTF epochs for %s between JD %v and %v (exit code 63): %w",
				s.c.name, job.ReqID, t.Name, req.JDStart, req.JDEnd, singletarget.ErrNotFound)
		case -1:
			return nil, fmt.Errorf("%s: job %d ended with neither an exit code nor a light curve: %w", s.c.name, job.ReqID, singletarget.ErrTaskFailed)
		}
		hint := ""
		if code == 255 {
			hint = " (a server-side database error: submit the query again)"
		}
		return nil, fmt.Errorf("%s: job %d failed with exit code %d, %s%s: %w", s.c.name, job.ReqID, code, ExitCodeMeaning(code), hint, singletarget.ErrTaskFailed)
	}
	singletarget.ReportProgress(ctx, singletarget.Progress{Service: s.c.name, Stage: singletarget.StageFetching, Message: fileName(job.LightCurve)})
	name := fmt.Sprintf("ztf_fp-%s-%s-%s.txt", dataproduct.SafeName(t.Name), task.Data[dataJDStart], task.Data[dataJDEnd])
	p := dataproduct.Product{
		TargetID:        t.ID,
		Name:            name,
		DataProductType: ForcedPhotometryDataProductType,
		ContentType:     "text/plain",
		Extra: map[string]string{
			"reqid":   strconv.FormatInt(job.ReqID, 10),
			"ra":      task.Data[dataRA],
			"dec":     task.Data[dataDec],
			"jdstart": task.Data[dataJDStart],
			"jdend":   task.Data[dataJDEnd],
			"file":    fileName(job.LightCurve),
		},
	}
	if code >= 0 {
		p.Extra["exitcode"] = strconv.Itoa(code)
	}
	// The file streams from the server into the sink, checked on the way:
	// a file that is not one (or over the cap) stores nothing.
	var stored dataproduct.Product
	err := s.c.DownloadTo(ctx, job.LightCurve, func(r io.Reader) error {
		var perr error
		if stored, perr = out.PutProduct(ctx, p, r); perr != nil {
			return fmt.Errorf("%s: storing %s: %w", s.c.name, name, perr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &singletarget.Outcome{Products: []dataproduct.Product{stored}}, nil
}

// reusable reports whether Query may use job j, listed for request req,
// instead of submitting req again at time now: an unfinished job always;
// a finished one when it has a result file (exit code below 63) or found
// no epochs (63), and req's window ends by the end of now's UTC day.
func reusable(j Job, req ForcedPhotometryRequest, now time.Time) bool {
	if !j.Done() {
		return true
	}
	if req.JDEnd > endOfDayJD(now)+1e-6 {
		return false
	}
	if j.ExitCode == nil {
		return j.LightCurve != ""
	}
	return *j.ExitCode == 63 || *j.ExitCode < 63 && j.LightCurve != ""
}

// findJob finds the task's job: by id once known, else the oldest job of
// the same request that was not listed before the submission.
func findJob(jobs []Job, task singletarget.RemoteTask, req ForcedPhotometryRequest) *Job {
	if task.ID != "" {
		id, err := strconv.ParseInt(task.ID, 10, 64)
		if err != nil {
			return nil
		}
		for i := range jobs {
			if jobs[i].ReqID == id {
				return &jobs[i]
			}
		}
		return nil
	}
	known := strings.Split(task.Data[dataKnown], ",")
	var best *Job
	for i, j := range jobs {
		if !j.Matches(req.RA, req.Dec, req.JDStart, req.JDEnd) || slices.Contains(known, strconv.FormatInt(j.ReqID, 10)) {
			continue
		}
		if best == nil || j.ReqID < best.ReqID {
			best = &jobs[i]
		}
	}
	return best
}

// taskRequest reads the request back from a task's data.
func taskRequest(task singletarget.RemoteTask) (ForcedPhotometryRequest, error) {
	var r ForcedPhotometryRequest
	var errs []error
	for _, f := range []struct {
		k string
		p *float64
	}{{dataRA, &r.RA}, {dataDec, &r.Dec}, {dataJDStart, &r.JDStart}, {dataJDEnd, &r.JDEnd}} {
		v, err := strconv.ParseFloat(task.Data[f.k], 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("data %q is %q, not a number", f.k, task.Data[f.k]))
		}
		*f.p = v
	}
	return r, errors.Join(errs...)
}

func cloneData(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// round7 rounds degrees to 7 decimals (0.36 mas), as the official ZFPS
// batch script does.
func round7(x float64) float64 { return math.Round(x*1e7) / 1e7 }

// endOfDayJD returns the Julian Date of the next UTC midnight after t.
func endOfDayJD(t time.Time) float64 {
	jd := float64(t.Unix())/86400 + 2440587.5
	return math.Floor(jd-0.5) + 1.5
}

// fpSettings are the extra settings of ztf.ForcedPhotometryService.
type fpSettings struct {
	Email           singletarget.Secret `setting:"email"`
	Userpass        singletarget.Secret `setting:"userpass"`
	HTTPUser        singletarget.Secret `setting:"http_user"`
	HTTPPassword    singletarget.Secret `setting:"http_password"`
	PollInterval    string              `setting:"poll_interval"`
	MaxPollInterval string              `setting:"max_poll_interval"`
	Deadline        string              `setting:"deadline"`
	Timeout         string              `setting:"timeout"`
	MaxOutstanding  int                 `setting:"max_outstanding" validate:"gte=-1"`
}

// newForcedPhotometryFromSettings is the Factory of
// ztf.ForcedPhotometryService.
func newForcedPhotometryFromSettings(s singletarget.Settings) (singletarget.Service, error) {
	var x fpSettings
	if err := s.DecodeExtra(&x); err != nil {
		return nil, err
	}
	var errs []error
	if !s.APIKey.IsZero() {
		errs = append(errs, configError(s, "api_key", "not used by ztf.ForcedPhotometryService: set email and userpass (the ZFPS account)"))
	}
	if x.Email.IsZero() {
		errs = append(errs, configError(s, "email", "missing: the address registered with the ZTF forced-photometry service"))
	}
	if x.Userpass.IsZero() {
		errs = append(errs, configError(s, "userpass", "missing: the password IPAC issued for the ZTF forced-photometry service"))
	}
	opts := &ForcedPhotometryOptions{Name: s.Name, HTTPClient: s.HTTPClient, Logger: s.Logger, MaxOutstanding: x.MaxOutstanding}
	for _, d := range []struct {
		key string
		v   string
		p   *time.Duration
	}{{"poll_interval", x.PollInterval, &opts.PollInterval}, {"max_poll_interval", x.MaxPollInterval, &opts.MaxPollInterval},
		{"deadline", x.Deadline, &opts.Deadline}, {"timeout", x.Timeout, &opts.Timeout}} {
		v, err := parseDuration(s, d.key, d.v, false)
		if err != nil {
			errs = append(errs, err)
		}
		*d.p = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	url := s.URL
	if url == "" {
		url = DefaultForcedPhotometryURL
	}
	svc, err := NewForcedPhotometryService(url, Credentials{Email: x.Email, Password: x.Userpass, HTTPUser: x.HTTPUser, HTTPPassword: x.HTTPPassword}, opts)
	if err != nil {
		return nil, configError(s, "", singletarget.Redact(err.Error(), x.Email, x.Userpass, x.HTTPUser, x.HTTPPassword))
	}
	return svc, nil
}

// Register registers the package's classes with r: the services
// ztf.Service and ztf.ForcedPhotometryService, and the processors
// ztf.Processor and ztf.ForcedPhotometryProcessor (with their defaults).
// Their data product types and labels are DataProductType,
// DataProductLabel, ForcedPhotometryDataProductType and
// ForcedPhotometryDataProductLabel.
func Register(r *singletarget.Registry) error {
	return errors.Join(
		r.Register(ServiceClass, newServiceFromSettings),
		r.Register(ForcedPhotometryServiceClass, newForcedPhotometryFromSettings),
		r.RegisterProcessor(ProcessorClass, Processor{}),
		r.RegisterProcessor(ForcedPhotometryProcessorClass, ForcedPhotometryProcessor{}),
	)
}
