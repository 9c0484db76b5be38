// Package riverexec is the durable, distributed singletarget.Executor, on
// the River job engine (github.com/riverqueue/river).
//
// # Deployment
//
// A web process builds an insert-only Executor (Options.InsertOnly): Submit
// validates the form and inserts a job; Status, List, Watch, Wait and
// Cancel read and change it. Worker processes (examples/worker, the TOM's
// db_worker) build the same Manager from the same settings and call
// Start; they run the jobs. The job
// holds only the service name, the target and the form values: the worker
// rebuilds the service from its own settings, so secrets never enter the
// job table.
//
// Embedded default: River's SQLite driver on a local file, with one open
// connection as River advises (River's SQLite driver is in early testing).
// Distributed: River on PostgreSQL (riverpgxv5), with any number of worker
// processes on any number of machines. Migrations run by an explicit call
// to Migrate.
//
// # Jobs from any process
//
// Everything the web process shows is read from the job table, so it
// works in an insert-only executor and survives restarts:
//
//   - Job ids are "<row id>-<key>": the key is 96 random bits kept in the
//     job's args (Args.Key) and checked on every look-up, so ids cannot be
//     guessed from one another (the row id alone finds nothing).
//   - Status includes the latest progress: the worker writes each new
//     stage to the job's row at once and other reports at most every
//     Options.ProgressInterval (the latest always reaches the row).
//   - List filters by target and service in the database (each job is
//     tagged targetdata_target_<id> and targetdata_service_<name>) and
//     pages by row id, newest first.
//   - Watch and Wait read the job's row every Options.PollInterval; in a
//     worker process they also wake at once when its own workers record
//     progress or River reports a job ended or snoozed.
//
// # Asynchronous services
//
// A job is a restartable state machine. Its state is River's job output:
// the query's singletarget.Checkpoint, which Manager.Step hands to the
// executor to write to the database before it acts on each change (see
// singletarget.Checkpoint):
//
//   - the query's key, before the remote task is submitted;
//   - the remote task, as soon as the service returns it;
//   - the stored products, before they are processed: from then on a
//     retry processes the recorded products and never asks the archive
//     again;
//   - the ingest, once its datums are committed; only then is the remote
//     task cleaned up (ATLAS: DELETE, a singletarget.Finisher). A throttled
//     clean-up snoozes the job (the datums are already in); it never fails
//     the job.
//
// While the remote says "not yet", the job snoozes until the task's
// NotBefore, which uses no attempt and holds no goroutine; throttling
// (429) snoozes for the server's wait. A worker killed at any point
// resumes the job from the recorded state when the job runs again (after
// Stop, at once; after a crash, once River rescues the stuck job, see
// Options.RescueStuckJobsAfter): no datum is lost or duplicated, one
// product is stored, and no remote task is left behind. A worker killed
// between the archive accepting a task and the job recording it is covered
// too for services that tag their tasks (a singletarget.KeyedQuerier, such
// as ATLAS): the retry finds the task by the recorded key instead of
// submitting a second one. internal/e2etest kills a worker with SIGKILL at
// each of these points.
//
// # Batches and account limits
//
// SubmitBatch inserts one job per target, tagged with the batch's id, in a
// few transactions; BatchProgress, BatchStatuses, WaitBatch and
// CancelBatch find the jobs by that tag from any process. Before a job
// sends its query, the worker asks the Manager's singletarget.Slots of the
// service for a place (the account's limit on remote tasks in flight, its
// cap of tasks not started, the service's pacing): a job without one
// snoozes (Options.SlotWait, doubling per wait with jitter, up to 32
// times), using no attempt. The counts are in-process: each worker process
// keeps its own, so with several worker processes an account's limit
// holds per process (configure each with its share); jobs resumed after a
// restart take their places back as they are polled, and a job cancelled
// from another process frees its place 30 minutes after its last expected
// poll.
//
// # Scheduled refresh
//
// Options.Refresh (a Schedule; builtin.Open builds it from the settings'
// refresh section) refreshes every target a TOM-supplied function returns
// from every configured service, every Schedule.Every, as River periodic
// jobs: the elected leader inserts a cycle job (and one when it becomes
// leader), a worker runs it, and the cycle inserts one refresh job per
// target and service (singletarget.Request.Refresh) that every worker
// process shares. A singletarget.Paced service's queries (ATLAS: 60
// writes a minute, a POST and a DELETE per query) get their start times
// spread at Schedule.PaceShare (95%) of its pace, so the fleet as a whole
// keeps the account's limit; a job waits for its time snoozing. A cycle
// comes while the previous cycle's jobs run is skipped (no pile-up) and
// reports why; a cycle whose paced queries need longer than the period
// says so (RefreshCycle.Shortfall) and logs a warning. RefreshNow starts a
// cycle at once, RefreshCycles lists them with their progress, and each
// service's jobs of a cycle form a batch (BatchProgress, BatchStatuses,
// CancelBatch).
//
// # Retries
//
// Retryable errors (singletarget.Retryable) are retried by River with its
// backoff, up to Options.MaxAttempts, from the recorded checkpoint; a
// failed Query of an asynchronous service is not retried unless it was
// throttled or the service is a singletarget.KeyedQuerier (otherwise the
// remote task may exist unrecorded). A checkpoint the database did not
// take is retried too. Other errors end the job at once.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package riverexec
