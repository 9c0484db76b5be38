package main

import (
	"os"
	"syscall"
)

// maxRSSKB is the peak resident set of a finished process, in KiB.
func maxRSSKB(st *os.ProcessState) int64 {
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
