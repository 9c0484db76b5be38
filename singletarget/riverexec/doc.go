// Package riverexec is the durable, distributed singletarget.Executor, on
// the River job engine (github.com/riverqueue/river).
//
// # Deployment
//
// A web process builds an insert-only Executor (Options.InsertOnly): Submit
// validates the form and inserts a job; Status, List, Watch, Wait and
// Cancel read and change it. Worker processes (examples/worker, the TOM's db_worker) build the same
// Manager from the same settings and call Start; they run the jobs. The job
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
// A job is a restartable state machine. Its state (the remote task, the
// products stored but not yet processed, the result) is River's job output,
// written to the database as soon as it changes: the remote task is
// recorded right after Query returns it, before anything else. While the
// remote says "not yet", the job snoozes until the task's NotBefore, which
// uses no attempt and holds no goroutine; throttling (429) snoozes for the
// server's wait. A worker killed mid-poll resumes polling the same remote
// task when the job runs again (after Stop, at once; after a crash, once
// River rescues the stuck job, see Options.RescueStuckJobsAfter): the
// remote task is queued exactly once. The only window for a second remote
// task is a crash between the archive accepting the task and the database
// recording it, a few milliseconds.
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
// # Retries
//
// Retryable errors (singletarget.Retryable) are retried by River with its
// backoff, up to Options.MaxAttempts; a failed Query of an asynchronous
// service is not retried unless it was throttled (the remote task may
// exist). Other errors end the job at once.
package riverexec
