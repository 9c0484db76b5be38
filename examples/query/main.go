// Command query is a command-line client for any configured single-target
// data service, the tool a user scripts with.
//
// Query a service:
//
//	query -config settings.yaml -service ATLAS -name "SN 2023ixf" -ra 210.910674 -dec 54.311686 \
//	      -param min_date_mjd=60080 -param max_date_mjd=60110
//	query -service ATLAS -api-key-file ~/.atlas-token -name ... -ra ... -dec ...
//	ATLAS_FORCED_PHOTOMETRY_API_KEY=... query -service ATLAS -name ... -ra ... -dec ...
//	query -simulate -service ZTF -name ... -ra ... -dec ...   # against the bundled simulator, offline
//
// Without -config, the key of -service comes from -api-key-file (a file
// holding it), else $ATLAS_FORCED_PHOTOMETRY_API_KEY (ATLAS) or
// $MAST_API_TOKEN (PANSTARRS), else $TARGETDATA_API_KEY. -api-key still
// works but warns: a command-line argument is visible to every user of
// the machine (ps, /proc/PID/cmdline) for the whole run.
//
// Query many targets as one batch, keeping the service exactly as busy as
// the account allows (ATLAS: its write rate and queue cap; MAST and IRSA:
// their request rates):
//
//	query -config settings.yaml -service ATLAS -targets targets.txt -param min_date_mjd=60000 -db sqlite://tom.db
//
// targets.txt holds one target a line, "name, ra, dec" (commas or white
// space; RA and Dec in degrees, or sexagesimal hh:mm:ss and ±dd:mm:ss),
// with '#' comments. Progress goes to stderr every -progress-every, and one
// summary line per target to stdout (JSON, or CSV with -format csv:
// target, target_id, state, products, added, skipped, remote_task, error);
// the datums go to the store (-db). Target ids count up from -target-id.
// Interrupting the command cancels the batch and withdraws its remote
// tasks. Exit status 1 if any target failed (a target with no data is not
// a failure).
//
// Keep a light curve fresh: -refresh asks only for what is new since the
// data in -db (the epochs from the newest stored one for the target and
// service on, less the service's overlap), and prints the window it asked
// for on stderr ("window: MJD 60310.25 – now") above "added N"; with
// -targets it refreshes every target of the file (the summary lines carry
// each one's window):
//
//	query -config settings.yaml -service ATLAS -name ... -ra ... -dec ... -db sqlite://tom.db -refresh
//	query -config settings.yaml -service ATLAS -targets targets.txt -db sqlite://tom.db -refresh
//
// Process a local file with a registered processor instead of querying:
//
//	query -process atlas_photometry -file job01234.txt -format json
//	query -process atlas_photometry -file job01234.txt -db sqlite://tom.db
//	query -process spectroscopy -file spec1.csv -observation-time 2020-09-15T09:37:01
//
// A row that is no measurement (an ATLAS row with duJy ≤ 0, a nan flux
// or mag5sig < 10, a PanSTARRS flux of -999, ...) gives no datum: stderr
// then says, per file, how many rows were read, how many datums made,
// and which rows were skipped and why (with their first lines). A file that is not the format
// is refused with its line and column. -observation-time gives the time of
// a file that holds none (a spectrum without DATE-OBS), as an ISO date and
// time (UTC) or an MJD.
//
// Without a database (-db, or the settings' database) the file is
// converted as it is read, on two cores, and nothing is stored: memory
// stays the same whatever the file's size, and stderr says how many datums
// were converted (duplicates are not looked for). With one, the file is
// stored as a product of -target-id and its datums ingested, and stderr
// says "added N, skipped M". Either way the output is held (in a
// temporary file beyond 1 MiB) until the whole file has been read, so a
// bad file prints nothing.
//
// A file the processor refuses is not kept in the store (-db); -keep-failed
// keeps it.
//
// Output: one JSON object per datum per line on stdout
// ({"timestamp", "mjd", "source", "data_type", "value"}), or CSV with
// -format csv; progress and the summary on stderr.
// Exit status: 0 on success, 2 for invalid input (the form's field errors
// are printed), 1 for any other failure, with a one-line reason.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
