//go:build !unix

package panstarrs_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
