// Package singletarget is the core of targetdata: what the Python TOM
// Toolkit calls single-target data services, in Go.
//
// A Service asks one archive (ATLAS, PanSTARRS, ZTF, ALeRCE, or a TOM
// developer's own) for everything it has on one Target, stores the
// returned file as a data product, and a Processor turns that file into
// datums. The Manager runs that flow for any service; executors run it
// now (Immediate), on in-process workers (Pool), or durably (package
// riverexec).
//
// # Writing a service
//
// Implement the three interfaces the TOM's guide asks for: a Service
// (Name, NewForm, Query), a QueryForm (embed FormBase and tag the fields),
// and a Processor for your file format (package processor). Asynchronous
// services also implement Resumer: Query submits the remote task and
// returns Outcome.Pending; Resume looks once and returns. Optional
// interfaces add the rest: Describer (labels, product type, info URL),
// Canceller (withdraw a remote task), Finisher (clean a finished remote
// task up, which the Manager does only after the datums are committed)
// and KeyedQuerier (tag a remote task so that a lost submission is found
// again). Name products from the query alone (service, target, window,
// options), never from a remote task: the same query then replaces its
// product instead of adding one. Run servicetest.Run and processortest.Run
// on them. Register a Factory under a class name so that settings can
// name it.
//
// # Products and crash safety
//
// Manager.Step moves a query along the steps recorded in a Checkpoint
// (key, remote task, stored products, ingest), handing each to the
// executor's SaveFunc before acting on it; a worker that dies anywhere
// resumes without losing or duplicating a datum or leaving a remote task
// behind. Services store through a sink that replaces a product whose
// bytes changed (dataproduct.Store.ReplaceProduct, which also removes the
// old file's datums) and refuses the uploads' name space; Manager.Upload
// stores users' files there (dataproduct.UploadName) and never replaces.
//
// What a refresh guarantees: the same answer changes nothing; a changed
// answer replaces the file and drops the old file's datums in one store
// transaction, then ingests the new file in another (all or nothing).
// Between the two, the product has no datums (a reader may see the target
// without them for the length of an ingest); a crash there is healed by
// the job, which ingests the recorded product when it resumes. Two
// refreshes of the same query running at once with different answers may
// leave datums of both files until the next refresh.
//
// # Keeping light curves fresh
//
// A refresh (Request.Refresh, Manager.Refresh) asks a service only for
// what may be new: its window starts at the newest datum already stored
// for the target whose Source is the service's name (or one of its
// DatumSources, for a DatumSourcer such as ALeRCE's, whose alert and
// forced photometry have sources of their own), less the service's
// overlap (archives re-reduce recent nights: ATLAS and ZTF forced
// photometry 3 days, ZTF light curves 1 day, PanSTARRS none, ALeRCE 30
// days, the history an alert carries; Manager.SetRefreshOverlap or the
// settings' refresh_overlap change it).
// Services say how to narrow their window by implementing Refresher;
// tables with no epochs (PanSTARRS mean, stack, forced mean) say they
// always return everything (Window.All). The overlap's datums come back
// and are de-duplicated on ingest; a refresh's product that holds no datum
// of its own is not kept; an archive with nothing in the window is a
// success that adds nothing. Result.Window (and JobStatus.Window) say what
// was asked, and the window is recorded in the Checkpoint so that a
// retried submission asks it again. Run without Refresh is the full
// refresh. BatchOptions.Refresh refreshes many targets;
// riverexec.Schedule refreshes every target the TOM follows, periodically,
// within each Paced service's pace.
//
// # Executors
//
// An Executor runs queries: Immediate (inside Submit), Pool (in-process
// workers) or riverexec.Executor (durable River jobs, any number of
// processes). All three give Submit, Status, List, Watch, Wait and Cancel
// the same meaning, so a TOM written against Executor switches backend by
// settings alone: Submit checks the form at once; Status carries the
// latest Progress; List pages through jobs newest first, filtered by
// target, service and state (JobFilter, JobPage.Next); Watch is an
// iterator over a job's changes that ends with its final status; Wait
// blocks until then; Cancel stops the job and withdraws its remote task.
// Job ids are unguessable on every backend. A WithProgress callback on
// Submit's context hears an Immediate or Pool job's progress; across
// processes, use Watch.
//
// # Many targets
//
// Manager.Batch queries one service for many targets on a Pool (and
// riverexec.Executor.SubmitBatch durably), keeping the remote side exactly
// as busy as the account allows: Slots admit a target's query only within
// the account's limit on remote tasks in flight and its cap of tasks not
// started (a service that is a ConcurrencyLimiter states them, or, with
// ConcurrencyLimit.Learn, they are learned from refusals matching
// ErrConcurrencyLimit), when the service's own
// pacing allows (Pacer), and not during the pause a throttled query asks
// for. Request-rate limiters of synchronous services (MAST, IRSA) live in
// their clients, one per service, so a batch shares one.
//
// # Settings
//
// Config holds the TOM-style settings (single_target_data_services,
// data_product_types, data_processors, tasks, database, storage, refresh)
// read from YAML or JSON with ${ENV} expansion; Registry.Load builds a
// Manager from them and reports every mistake at once, each naming its key.
//
// # Errors
//
// Every error a caller may act on matches exactly one of seven categories
// with errors.Is (Category returns it); typed errors carry the details for
// errors.As. The categories, what matches each, and whether Retryable says
// trying again later can help:
//
//   - ErrNotFound: the archive has nothing for the target or window, a
//     remote object is gone (a purged result file), or a Store holds no
//     product with that ID. *RemoteError with 404 or 410; ATLAS's "No data
//     returned" (*atlas.TaskError); ZTF's empty answers and exit code 63.
//     Not retryable. The same value as dataproduct.ErrNotFound.
//   - ErrUnknownJob: an executor (Immediate, Pool, riverexec) holds no job
//     or batch with that id: never issued, or forgotten since it finished
//     (after PoolOptions.KeepFinished or DefaultKeepFinished in memory,
//     after River's retention in riverexec). Not retryable.
//   - ErrInvalidInput: the input is wrong and the same input gives the
//     same answer. *FormErrors and ErrInvalidForm (query parameters, field
//     by field; *atlas.ValidationError), *ParseError (a file that is not its
//     format, naming the line), *ConfigError and ErrConfig (the settings,
//     naming the key and line), ErrUnknown (a service, class or processor
//     that is not registered), dataproduct.ErrInvalidDatum. Not retryable.
//     The same value as dataproduct.ErrInvalidInput.
//   - ErrUnauthorized: the credentials were refused or are missing.
//     *RemoteError with 401 or 403, a redirect to a login page, a ZFPS page
//     refusing the account (*ztf.AnswerError). Not retryable.
//   - ErrThrottled: the service refuses for now. *ThrottledError, with the
//     server's wait in RetryAfter (a 429, a 503 announcing a wait where
//     the service says so, a client-side limit). Retryable after the wait;
//     the Manager and the executors wait it out.
//   - ErrRemote: the service failed or answered outside its protocol. A
//     5xx or other *RemoteError, a broken connection or body, HTML where
//     JSON was expected (*ztf.AnswerError), an answer over the size cap
//     (httpclient.ErrBodyTooLarge); and ErrTaskFailed, a remote task that
//     finished with an error of its own (*atlas.TaskError, a ZFPS exit
//     code), which is not retryable. Retryable otherwise, except a 4xx.
//   - ErrDeadline: a remote task did not finish within the service's
//     deadline; it may still finish later. Retryable.
//
// A cancelled or expired context is none of these: the error wraps
// ctx.Err() (context.Canceled, context.DeadlineExceeded).
//
// # Secrets
//
// Keys and passwords are Secret values, which print as [REDACTED] in every
// format, log and JSON encoding; services pass them to the HTTP layer,
// which redacts them from logged URLs and errors.
//
// # Concurrency
//
// Registry, Manager, Immediate, Pool, Batch and Slots are safe for
// concurrent use, and so is the iterator Watch returns (each range over it
// follows the job afresh);
// forms are not (each query gets a fresh one from NewForm).
//
// # Stability
//
// This package is stable: a patch release does not change its API and a
// minor release only adds to it (never a method to an existing interface);
// see Stability in the documentation of package
// github.com/tomgo/targetdata.
package singletarget
