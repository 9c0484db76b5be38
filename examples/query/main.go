// Command query is a command-line client for any configured single-target
// data service, the tool a user scripts with.
//
// Query a service:
//
//	query -config settings.yaml -service ATLAS -name "SN 2023ixf" -ra 210.910674 -dec 54.311686 \
//	      -param min_mjd=60080 -param max_mjd=60110
//	query -service ATLAS -url https://fallingstar-data.com/forcedphot -api-key "$KEY" -name ... -ra ... -dec ...
//	query -simulate -service ZTF -name ... -ra ... -dec ...   # against the bundled simulator, offline
//
// Process a local file with a registered processor instead of querying:
//
//	query -process atlas_photometry -file job01234.txt -format json
//
// Output: one JSON object per datum per line on stdout
// ({"timestamp", "mjd", "source", "data_type", "value"}), or CSV with
// -format csv; progress and the summary ("added N, skipped M") on stderr.
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
