//go:build !linux

package main

import "os"

// maxRSSKB is not measured outside Linux (getrusage's units differ).
func maxRSSKB(*os.ProcessState) int64 { return 0 }
