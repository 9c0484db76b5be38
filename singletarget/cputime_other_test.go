//go:build !unix

package singletarget_test

import "time"

// cpuTime is not measured on this platform.
func cpuTime() time.Duration { return 0 }
