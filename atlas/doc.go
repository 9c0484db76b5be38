// Package atlas is the ATLAS forced-photometry service: a Client for the
// server's API (https://fallingstar-data.com/forcedphot/), the query Form,
// the asynchronous Service (class atlas.ForcedPhotometryService, registry
// name "ATLAS") and the Processor for its result files (class
// atlas.Processor, data product type atlas_photometry). Its subpackage
// atlastest is a faithful simulator of the server for offline tests.
//
// The protocol facts come from the project's specification
// (shared/services/atlas.md, written from the server's own source code)
// and the public API guide.
//
// # Settings
//
// An entry of single_target_data_services with class
// atlas.ForcedPhotometryService takes:
//
//   - url: the base URL; default https://fallingstar-data.com/forcedphot
//   - api_key: the account's API token (required; shown on the server's
//     "API token" page, or from Client.ObtainToken)
//   - poll_queued, poll_running, poll_max: the poll policy as Go durations
//     (defaults 4s, 2s, 1m), poll_growth: the factor between looks
//     (default 1.25)
//   - deadline: how long a remote task may take (default 6h)
//   - timeout: the per-request HTTP timeout (default 2m)
//   - keep_remote: true keeps finished tasks on the server (default false:
//     delete them once the result's datums are committed)
//   - write_rate, write_window: the client-side pacing of the account's
//     writes (defaults 60 and 1m, the server's throttle; write_rate -1
//     turns it off)
//   - max_active_tasks: the most tasks in flight that batches keep to, for
//     servers that limit it (default 0: none; the real server does not);
//     learn_active_limit: true learns it from 429 answers to queue requests
//     (default false); max_queued_tasks: the cap on tasks not yet started
//     that batches keep below (default 500, the server's; -1 for none)
//   - read_rate, read_window: the client-side pacing of the account's
//     reads (defaults 600 and 1m, the 2026 server's read throttle;
//     read_rate -1 turns it off)
//   - list_max_age: how old a read of the account's task list may be to
//     answer the polls of its pending tasks (default: poll_running, 2s);
//     queue_positions_max_age: how often /queuepositions.json is read
//     while tasks are queued (default 30s; "never")
//   - callback_url: the public https URL of the TOM's completion callback
//     endpoint (see Service.CallbackHandler); default none
//
// Unknown keys are refused at load time. Register adds both classes to a
// singletarget.Registry.
//
// # Protocol
//
// Query posts the target's coordinates and the form's window to
// {url}/queue/ (form-encoded, with send_email=false and
// Accept: application/json) and returns the new task as
// singletarget.Outcome.Pending. Under the Manager, QueryKeyed tags the task
// with the job's key in its comment ("targetdata:<key>"); a retried
// submission first looks for that task in the account's list (GET
// {url}/queue/), so a worker killed just after the server accepted the
// POST leaves no second task. Resume looks at the task once (see
// Polling): a task is queued, running, finished with a result_url, or
// finished with an error_msg and no result (terminal: the TOM Toolkit
// loops on it forever). Polls back off from 4 s while queued and 2 s while running,
// growing by 1.25 per look up to a minute, and stop with ErrDeadline after
// six hours. A finished task's file is downloaded, checked (HTML, empty or
// cut-short bodies are never stored as data) and stored as the product
// ProductName(window, mode), the same for every run of the same query (a
// refresh replaces it). FinishRemote deletes the task so the account's
// queue stays clean; the Manager calls it only once the product is
// recorded in the job and its datums are committed, so a crash before
// that finds the task still there (singletarget.Finisher), and a
// throttled delete waits without failing the job. CancelRemote deletes a
// task. Tokens are only sent to the configured host, and redirects are never followed:
// servers of 2022 to 2026-07 answered a refused token with a 302 to their
// login page, which the client reports as ErrUnauthorized.
//
// # Polling
//
// A Service coordinates the polls of the account's pending tasks in the
// process. With one task pending, Resume reads that task
// ({url}/queue/{id}/); with two or more, it reads the account's task list
// instead ({url}/queue/?pagesize=100, newest first, following the cursor
// pagination only as far as the oldest pending task) and answers every
// task's poll from that one read for Options.ListMaxAge (default
// poll_running, 2 s). Every read sends the ETag of its last answer
// (If-None-Match): a 304 means no change and costs no body. While tasks
// are queued, {url}/queuepositions.json is read at most every
// Options.QueuePositionsMaxAge (30 s) and each task's place in the queue
// is shown in its progress ("ATLAS task 1851119 queued (position 12)")
// and kept in RemoteTask.Data["queue_position"]. So 200 pending tasks
// cost two list pages a poll round (three with the queue positions), not
// 200 reads. Reads are paced like writes (Options.ReadRate: the 2026
// server's 600 a minute): a read beyond the pace fails fast with a
// *singletarget.ThrottledError. Result files are static files, neither
// paced nor throttled.
//
// # Completion callbacks
//
// The 2026 server can POST {"task_id": ..., "success": ...} once to a
// task's callback_url when it finishes, and never retries. With
// Options.CallbackURL (the setting callback_url: the public https URL of
// the TOM's endpoint) every task is submitted with it, and
// Service.CallbackHandler is that endpoint: it takes only the task id
// from the body, and only to wake the job waiting on that task
// (singletarget.RemoteWaker: a Pool parks it, riverexec makes its snoozed
// job available now). The woken job reads the task from the server, as
// its next poll would have: a forged callback can make a job look early,
// never fake a result (reads for woken jobs are at most one per
// ListMaxAge, 2 s at most, and the endpoint takes at most CallbackRate
// callbacks a second). Polling stays the fallback for callbacks lost or
// never sent. A server that refuses the URL (it must be https and resolve
// to a public address) gets tasks without it from then on; servers
// before 2026 ignore the field. builtin.App.CallbackHandlers gives a TOM
// the endpoints to serve (webtom does; so does examples/worker
// -callback-addr); see SECURITY.md.
//
// # Throttling
//
// The server allows each user 60 writes (queue POSTs and DELETEs) a
// minute and answers more with 429 and
// {"detail": "Request was throttled. Expected available in N seconds."}
// (and Retry-After). The client paces the account's writes itself, on the
// same sliding window (Options.WriteRate, WriteWindow): a write that would
// be the 61st in a minute fails fast with a *singletarget.ThrottledError
// saying when the next may go, without reaching the server. Answer times
// stand for request times, so the client's window always covers the
// server's. The queue POST is never retried; a 429 comes back as a
// *singletarget.ThrottledError with RetryAfter = N s, which the Manager or
// executor waits out and reports as progress. The client then fails
// further writes fast until the wait is over, without slowing reads. One
// Service (one Client) per account keeps the pacing whole; two processes
// sharing a token each pace themselves and learn of the other through
// 429s.
//
// Batches (singletarget.Manager.Batch, riverexec batches) reserve a place
// in the pacing for each queue request they admit, so that deletes take
// only the places left (the Service is a singletarget.Pacer), and keep
// the tasks not yet started below the server's cap of 500, and the tasks
// in flight within Options.MaxActiveTasks for servers that limit them
// (singletarget.ConcurrencyLimiter).
// An account with 500 tasks not yet started gets a 400 instead, returned
// as a ThrottledError (RetryAfter = Options.QueueFullWait) that also
// matches ErrQueueFull. A DELETE that is throttled after a result was
// stored does not hold the result back: the job waits for it (up to
// singletarget.ManagerOptions.MaxFinishWait, 15 minutes), then hands it
// to the executor's clean-up queue (singletarget.DeferCleanup), which
// riverexec keeps in its job database: a clean-up job that outlives the
// worker process and deletes the task once the account's writes allow.
// The deletes of tasks that finished without data go there too; without
// an executor's queue they are remembered in the Service and retried on
// later calls (Service.Cleanup retries them all).
//
// # Errors
//
// Errors match the singletarget categories: ErrThrottled
// (*singletarget.ThrottledError), ErrInvalidForm (*singletarget.FormErrors
// from the form, *ValidationError from a 400 with field errors),
// ErrUnauthorized (401, 403, a redirect to the login page, no token),
// ErrNotFound (a task that finished with "No data returned", a 404),
// ErrTaskFailed (*TaskError: a task that finished with another error, or
// one that vanished), ErrDeadline, and ErrRemote (5xx, HTML or malformed
// JSON where JSON was expected, a truncated result file). A malformed result
// row is a *dataproduct.ParseError naming the line and column.
//
// # Data products
//
// Each finished task gives one product of type atlas_photometry named
// from the query alone (ProductName): atlas_<start>-<end|now>[_reduced].txt,
// each bound a UTC date YYYY_MM_DD when it is a midnight and an MJD
// otherwise, so that the same query replaces its product; content type
// text/plain, with the task id and URL, the window and the finish time in
// its Extra. The Processor turns it into photometry:
// a magnitude and error for rows with S/N = uJy/duJy above 3, a 3-sigma
// limit 23.9 − 2.5·log10(3·duJy) otherwise, with the flux in µJy and the
// MJD on every datum (see Processor for the threshold, the FAQ quality
// cuts and the extra columns). Rows that are no measurement (duJy ≤ 0,
// a nan flux, mag5sig < 10: a failed photometric solution) give no datum;
// they are counted by reason and line in the ingest's dataproduct.Report,
// and the rest of the file is kept (Processor.Strict refuses the file
// instead).
//
// # Refresh
//
// The Service is a singletarget.Refresher: a refresh asks the server
// (mjd_min) only for the epochs from the newest stored ATLAS datum on,
// less DefaultRefreshOverlap (3 days: the server reduces a night's images
// over the following days and re-runs reductions); the settings'
// refresh_overlap changes it. It is also singletarget.Paced: 30 queries a
// minute (the account's 60 writes, a POST and a DELETE per query; 60 with
// keep_remote), the pace a scheduled refresh (riverexec.Schedule) keeps
// to across every worker process.
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not. Its registry
// names, data product types and form field names are kept as stable ones
// are; see Stability in the documentation of package
// github.com/tomgo/targetdata.
package atlas
