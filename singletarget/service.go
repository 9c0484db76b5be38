package singletarget

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// Target is the sidereal target a query is about.
type Target struct {
	// ID is the TOM's target id (positive); products and datums carry it.
	ID int64 `json:"id"`
	// Name is the target's name, e.g. "SN 2023ixf". Product names use a
	// sanitised form of it (dataproduct.SafeName).
	Name string `json:"name"`
	// RA and Dec are ICRS coordinates in degrees.
	RA  float64 `json:"ra"`
	Dec float64 `json:"dec"`
}

// MaxTargetNameLength caps Target.Name, in bytes.
const MaxTargetNameLength = 256

// Validate reports a target a query cannot use: a non-positive ID, a name
// that is empty, too long, not UTF-8, holds control characters, invisible
// or formatting characters (zero-width spaces, bidirectional overrides
// such as U+202E, a byte order mark), spaces other than the plain one (a
// no-break space), is not in Unicode normalization form C, or holds a ".."
// path segment ("../x", "a/../b"), RA outside [0, 360) or Dec outside
// [−90, 90]. The error is a *FormErrors naming the field (target_id,
// name, ra, dec). A TOM passes what a user typed through
// NormalizeTargetName first, and warns of a name that looks like another
// (LookAlike).
func (t Target) Validate() error {
	var errs FormErrors
	if t.ID <= 0 {
		errs.Add("target_id", fmt.Sprintf("Must be a positive integer, not %d.", t.ID))
	}
	nameProblem := checkTargetName(t.Name) // invisible characters, odd spaces, not NFC
	switch {
	case strings.TrimSpace(t.Name) == "":
		errs.Add("name", "This field is required.")
	case len(t.Name) > MaxTargetNameLength:
		errs.Add("name", fmt.Sprintf("Ensure this value has at most %d bytes (it has %d).", MaxTargetNameLength, len(t.Name)))
	case strings.ContainsFunc(t.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		errs.Add("name", "Must not contain control characters.")
	case !utf8.ValidString(t.Name):
		errs.Add("name", "Must be valid UTF-8.")
	case nameProblem != "":
		// See NormalizeTargetName and LookAlike.
		errs.Add("name", nameProblem)
	case slices.ContainsFunc(strings.FieldsFunc(t.Name, func(r rune) bool { return r == '/' || r == '\\' }),
		func(seg string) bool { return strings.TrimSpace(seg) == ".." }):
		// A "/" alone is allowed (comets: "C/2023 A3"); product names
		// never hold it (dataproduct.SafeName).
		errs.Add("name", "Must not contain a \"..\" path segment.")
	}
	if math.IsNaN(t.RA) || t.RA < 0 || t.RA >= 360 {
		errs.Add("ra", fmt.Sprintf("Must be in [0, 360) degrees, not %v.", t.RA))
	}
	if math.IsNaN(t.Dec) || t.Dec < -90 || t.Dec > 90 {
		errs.Add("dec", fmt.Sprintf("Must be in [-90, 90] degrees, not %v.", t.Dec))
	}
	return errs.Err()
}

// ProductSink is where a service puts result files; every
// dataproduct.Store is one.
type ProductSink = dataproduct.ProductSink

// Processor turns a stored file into datums (see package processor).
type Processor = processor.Processor

// Service is a single-target data service: ATLAS, PanSTARRS, ZTF, or one
// of a TOM developer's own. Keep it this small: new capabilities come as
// optional interfaces (Describer, Resumer) that the Manager detects.
//
// Implementations must be safe for concurrent use.
type Service interface {
	// Name is the stable registry key, e.g. "ATLAS". It ends up in
	// databases and job records; never change it.
	Name() string
	// NewForm returns a fresh form holding the initial values. Forms from
	// two calls share nothing.
	NewForm() QueryForm
	// Query asks the archive about t with the decoded and validated form f
	// (always a form from this service's NewForm, never nil).
	//
	// A synchronous service stores its result file(s) in out and returns
	// them in Outcome.Products. An asynchronous one submits the remote task
	// and returns Outcome.Pending without waiting; the executor then calls
	// Resume (the service must implement Resumer).
	//
	// An archive with nothing for the target returns an error matching
	// ErrNotFound; a refusal for now a *ThrottledError (no remote state was
	// created, so the same call may be repeated after the wait); bad
	// credentials ErrUnauthorized. When ctx is done, Query returns promptly
	// with an error wrapping ctx.Err().
	//
	// Product names come from the query's identity: the service, the
	// target and the normalised form (window, options), never from a
	// remote task id or the time of the run, so that the same query twice
	// gives products with the same names. Names must not start with
	// dataproduct.UploadPrefix (the uploads' name space). The sink the
	// Manager passes replaces a product of the same name whose bytes
	// changed (dataproduct.Store.ReplaceProduct); the Manager then ingests
	// it again.
	Query(ctx context.Context, t Target, f QueryForm, out ProductSink) (*Outcome, error)
}

// Resumer is implemented by asynchronous services (ATLAS, ZTF forced
// photometry). Resume looks once at a remote task that Query (or an
// earlier Resume) returned as pending, and returns at once: Outcome.Pending
// with the updated task (NotBefore says when to look again) while the
// remote is not done, the stored products when it is, or an error. It
// never submits a new remote task, so a restarted worker can resume
// safely. A deadline that has passed gives an error matching ErrDeadline.
type Resumer interface {
	Resume(ctx context.Context, t Target, task RemoteTask, out ProductSink) (*Outcome, error)
}

// Finisher is implemented by asynchronous services that clean up a
// finished remote task once its results are safe (ATLAS: DELETE the task,
// which also removes its result file from the server). It gives a
// third-party service the same crash safety as the built-in ones.
//
// The Manager calls FinishRemote only after the products Resume returned
// are recorded in the job (Checkpoint) and their datums are committed: a
// crash at any point before leaves the remote task in place, and the next
// attempt processes the recorded products (or resumes the task again)
// without losing anything. So Resume must not clean up a task it returns
// products of: until FinishRemote, Resume on a finished task returns its
// products again (storing the same bytes again changes nothing).
//
// FinishRemote must be idempotent (a task already gone is success): after
// a crash it may be called again. A *ThrottledError means "not now": the
// Manager returns the task pending until RetryAfter (the job does not
// fail and holds no worker) and calls again, up to
// ManagerOptions.MaxFinishWait in all. Past that time, or after a
// retryable error (Retryable), the task goes to the executor's clean-up
// queue (DeferCleanup), which calls FinishRemote again later (riverexec
// keeps it in its job database); without one, and after any other error,
// it is logged. The query succeeds in every case: its data are stored,
// and at worst the archive's own retention removes the task. A query whose
// processing fails for good (a file that does not parse) never reaches
// FinishRemote: its remote task is left to the archive's retention, and
// the stored product keeps the file.
type Finisher interface {
	FinishRemote(ctx context.Context, task RemoteTask) error
}

// KeyedQuerier is implemented by asynchronous services that can tag the
// remote task a query submits with a key and find it again by that key
// (ATLAS: in the task's comment). The Manager then calls QueryKeyed
// instead of Query, with a key (Checkpoint.Key) that it records in the job
// before the call.
//
// retry reports that an earlier attempt with the same key may have
// reached the archive without the job recording its answer (a worker
// killed right after the archive accepted the task, a connection lost
// before the answer): QueryKeyed then looks for the task tagged with key
// first and returns it pending instead of submitting a second one. So a
// query whose submission failed or was lost can be retried safely, and
// each query makes at most one remote task. Everything else is as Query.
type KeyedQuerier interface {
	QueryKeyed(ctx context.Context, t Target, f QueryForm, key string, retry bool, out ProductSink) (*Outcome, error)
}

// Describer is implemented by services that describe themselves to a UI.
type Describer interface {
	Info() Info
}

// Info describes a service for users.
type Info struct {
	// Label is a human-readable name, e.g. "ATLAS Forced Photometry".
	Label string `json:"label"`
	// Kind is the TOM's service kind, e.g. "Forced Photometry" or
	// "Catalog Search".
	Kind string `json:"kind"`
	// DataProductType is the type of the products the service stores,
	// e.g. "atlas_photometry".
	DataProductType string `json:"data_product_type"`
	// InfoURL points to the service's own documentation.
	InfoURL string `json:"info_url,omitempty"`
	// Notes is a short help text shown with the form.
	Notes string `json:"notes,omitempty"`
	// Async reports whether queries return a pending remote task.
	Async bool `json:"async"`
}

// Outcome is what Query or Resume produced: products, or a pending task.
type Outcome struct {
	// Products are the stored result files.
	Products []dataproduct.Product
	// Pending is the remote task still to wait for, or nil.
	Pending *RemoteTask
}

// Checkpoint is where a query stands between two steps. An executor keeps
// it with its job (riverexec in its database, as JSON), passes it to
// Manager.Step and keeps the one Step returns. Step hands every change
// that must survive a crash to the executor's SaveFunc before it acts on
// it, in this order:
//
//  1. Key, before a KeyedQuerier submits the remote task;
//  2. Remote, as soon as the service returns it pending;
//  3. Products, as soon as the service has stored them, before they are
//     processed: from then on the query's data never come from the
//     archive again, a later step processes the recorded products;
//  4. Ingested, once their datums are committed; only then does the
//     Manager clean up the remote task (Finisher).
//
// So a worker killed at any point resumes without losing or duplicating a
// datum and without leaving a remote task behind. The zero Checkpoint is a
// query not started yet.
type Checkpoint struct {
	// Key identifies the query's submission across attempts (KeyedQuerier).
	Key string `json:"key,omitempty"`
	// Remote is the asynchronous service's remote task, once submitted.
	Remote *RemoteTask `json:"remote,omitempty"`
	// Products are the products the query stored.
	Products []dataproduct.Product `json:"products,omitempty"`
	// Ingested holds the counts of the products' ingest once it committed;
	// what is left then is the remote clean-up (Finisher).
	Ingested *dataproduct.IngestResult `json:"ingested,omitempty"`
	// FinishWaited is the time waited so far on a throttled clean-up.
	FinishWaited time.Duration `json:"finish_waited,omitempty"`
	// Window is the window a refresh asks for (Request.Refresh), recorded
	// with Key (or the products), so that a retried submission asks the
	// same window again.
	Window *Window `json:"window,omitempty"`
	// Since is when a refresh began (recorded with Window). Only a product
	// first stored since then may be dropped as redundant: a product of
	// the same name stored earlier is the user's and is kept.
	Since time.Time `json:"since,omitzero"`
}

// SaveFunc records a job's checkpoint durably; Step calls it before acting
// on a change (see Checkpoint) and stops with its error. A nil SaveFunc
// (the in-memory executors) records nothing.
type SaveFunc func(ctx context.Context, cp Checkpoint) error

// RemoteFinishing is the State of a finished remote task whose clean-up
// (Finisher) was throttled: Step returns it pending until NotBefore.
const RemoteFinishing = "finishing"

// RemoteTask is an asynchronous service's remote job. Executors persist it
// (so it must stay small and JSON-encodable) and hand it back to Resume.
type RemoteTask struct {
	// Service is the registry name of the service that made it.
	Service string `json:"service"`
	// ID is the remote task's id, e.g. "1851119".
	ID string `json:"id"`
	// URL is where to poll it. It must not contain secrets.
	URL string `json:"url"`
	// State is the remote state as last seen: "queued", "running", ...
	State string `json:"state,omitempty"`
	// Submitted is when the task was queued.
	Submitted time.Time `json:"submitted"`
	// Polls counts the looks so far, for backoff.
	Polls int `json:"polls,omitempty"`
	// NotBefore is the earliest time worth looking again.
	NotBefore time.Time `json:"not_before"`
	// Data holds what the service needs to finish (e.g. the query window
	// for the product name). Never secrets.
	Data map[string]string `json:"data,omitempty"`
}

// Wait returns how long from now until NotBefore (never negative).
func (t RemoteTask) Wait(now time.Time) time.Duration {
	if d := t.NotBefore.Sub(now); d > 0 {
		return d
	}
	return 0
}

// errNoResumer is returned when a service returns Pending without being a
// Resumer.
var errNoResumer = errors.New("service returned a pending task but does not implement Resumer")
