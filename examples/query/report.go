package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// processInput is what -observation-time says about the -process file.
func processInput(o *options) (processor.Input, error) {
	var in processor.Input
	if o.observationTime == "" {
		return in, nil
	}
	t, err := processor.ParseObservationTime(o.observationTime)
	if err != nil {
		return in, &usageError{"-observation-time: " + err.Error()}
	}
	in.ObservationTime = t
	return in, nil
}

// printReports tells what the processor made of each file: rows read,
// datums made, rows skipped by reason with their first lines, and the
// assumptions it made.
func printReports(w io.Writer, reps ...dataproduct.Report) {
	for _, r := range reps {
		name := r.Product
		if name == "" {
			name = "file"
		}
		fmt.Fprintf(w, "%s: %s read, %s", name, count(r.Rows, "row"), count(r.Datums, "datum"))
		if n := r.SkippedCount(); n > 0 {
			fmt.Fprintf(w, ", %s skipped", count(n, "row"))
		}
		fmt.Fprintln(w)
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "  skipped %d: %s", s.Count, s.Reason)
			if len(s.Lines) > 0 {
				lines := make([]string, len(s.Lines))
				for i, l := range s.Lines {
					lines[i] = fmt.Sprint(l)
				}
				more := ""
				if s.Count > len(s.Lines) {
					more = ", ..."
				}
				word := "line"
				if s.Count > 1 {
					word = "lines"
				}
				fmt.Fprintf(w, " (%s %s%s)", word, strings.Join(lines, ", "), more)
			}
			fmt.Fprintln(w)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
