package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// targetsError is a mistake in a -targets file, naming the line.
type targetsError struct {
	file string
	line int
	msg  string
}

func (e *targetsError) Error() string {
	if e.line == 0 {
		return e.file + ": " + e.msg
	}
	return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
}

// readTargets reads a targets file: one target a line, "name, ra, dec"
// separated by commas, or by white space (then the last two fields are ra
// and dec and the rest is the name). RA and Dec are decimal degrees, or
// sexagesimal (RA in hours, hh:mm:ss.s; Dec ±dd:mm:ss.s). A '#' starts a
// comment; blank lines are skipped; a first line "name, ra, dec" is a
// header. IDs are given in order from firstID.
func readTargets(path string, r io.Reader, firstID int64) ([]singletarget.Target, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []singletarget.Target
	seen := map[string]int{}
	bad := func(line int, format string, args ...any) error {
		return &targetsError{file: path, line: line, msg: fmt.Sprintf(format, args...)}
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var fields []string
		if strings.Contains(line, ",") {
			fields = strings.Split(line, ",")
			for i := range fields {
				fields[i] = strings.TrimSpace(fields[i])
			}
		} else {
			f := strings.Fields(line)
			if len(f) >= 3 {
				fields = []string{strings.Join(f[:len(f)-2], " "), f[len(f)-2], f[len(f)-1]}
			} else {
				fields = f
			}
		}
		if len(fields) != 3 {
			return nil, bad(n, "want name, ra, dec; got %d field(s) in %q", len(fields), line)
		}
		name := singletarget.NormalizeTargetName(strings.Trim(fields[0], `"'`))
		if len(out) == 0 && strings.EqualFold(fields[1], "ra") && strings.EqualFold(fields[2], "dec") {
			continue // a header
		}
		if name == "" {
			return nil, bad(n, "the name is empty")
		}
		ra, err := parseAngle(fields[1], true)
		if err != nil {
			return nil, bad(n, "ra %q: %v", fields[1], err)
		}
		dec, err := parseAngle(fields[2], false)
		if err != nil {
			return nil, bad(n, "dec %q: %v", fields[2], err)
		}
		if first, dup := seen[name]; dup {
			return nil, bad(n, "target %q is already on line %d", name, first)
		}
		seen[name] = n
		t := singletarget.Target{ID: firstID + int64(len(out)), Name: name, RA: ra, Dec: dec}
		if err := t.Validate(); err != nil {
			var fe *singletarget.FormErrors
			if errors.As(err, &fe) {
				for _, k := range []string{"name", "ra", "dec", "target_id"} {
					if msgs := fe.Fields[k]; len(msgs) > 0 {
						return nil, bad(n, "%s: %s", k, strings.Join(msgs, " "))
					}
				}
			}
			return nil, bad(n, "%v", err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, &targetsError{file: path, msg: "no targets"}
	}
	return out, nil
}

// parseAngle reads decimal degrees, or sexagesimal: hours for RA
// (hh:mm:ss.s, 15° an hour), degrees for Dec (±dd:mm:ss.s).
func parseAngle(s string, ra bool) (float64, error) {
	if !strings.Contains(s, ":") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, errors.New("not a number of degrees")
		}
		return v, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, errors.New("want d:m:s")
	}
	neg := strings.HasPrefix(parts[0], "-")
	var v float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimLeft(p, "+-"), 64)
		limit := 60.0
		if i == 0 {
			limit = math.Inf(1)
		}
		if err != nil || x < 0 || x >= limit || (i > 0 && strings.ContainsAny(p, "+-")) {
			return 0, fmt.Errorf("bad sexagesimal part %q", p)
		}
		v += x / math.Pow(60, float64(i))
	}
	if neg {
		v = -v
	}
	if ra {
		v *= 15
	}
	return v, nil
}

// runBatch queries every target of o.targets: progress lines on stderr,
// one summary line per target on stdout.
func runBatch(ctx context.Context, env *env, o *options, stdout, stderr io.Writer) error {
	if o.name != "" {
		return &usageError{"-targets and -name go separately (one target, or a file of them)"}
	}
	services := env.m.Services()
	if o.service == "" {
		if len(services) != 1 {
			return &usageError{fmt.Sprintf("-service: choose one of %s", strings.Join(services, ", "))}
		}
		o.service = services[0]
	}
	f, err := os.Open(o.targets)
	if err != nil {
		return &usageError{err.Error()}
	}
	ts, err := readTargets(o.targets, f, o.targetID)
	f.Close()
	if err != nil {
		return &usageError{err.Error()}
	}
	b, err := env.m.Batch(ctx, o.service, ts, o.params.v, &singletarget.BatchOptions{Workers: o.workers, MaxInFlight: o.maxInFlight, Refresh: o.refresh})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %d targets\n", o.service, len(ts))
	every := o.progressEvery
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := ""
	report := func(p singletarget.BatchProgress) {
		if s := p.String(); s != last {
			last = s
			fmt.Fprintf(stderr, "[%6.1fs] %s\n", p.Elapsed.Seconds(), s)
		}
	}
	var p singletarget.BatchProgress
wait:
	for {
		select {
		case <-b.Done():
			p = b.Progress()
			break wait
		case <-tick.C:
			report(b.Progress())
		case <-ctx.Done():
			// The batch cancels itself with ctx; wait for it to settle.
			p, _ = b.Wait(context.WithoutCancel(ctx))
			break wait
		}
	}
	report(p)
	if err := writeSummary(o.format, stdout, b.Results()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "added %d, skipped %d\n", p.Added, p.Skipped)
	var failed, noData int
	for _, st := range b.Results() {
		switch {
		case st.State == singletarget.JobSucceeded:
		case st.State == singletarget.JobFailed && errors.Is(st.Err, singletarget.ErrNotFound):
			noData++
		default:
			failed++
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("batch stopped: %w (%s)", err, p)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d targets failed (%d had no data)", failed, len(ts), noData)
	}
	return nil
}

type summaryLine struct {
	Target   string   `json:"target"`
	ID       int64    `json:"target_id"`
	State    string   `json:"state"`
	Products []string `json:"products"`
	Added    int      `json:"added"`
	Skipped  int      `json:"skipped"`
	Remote   string   `json:"remote_task,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Window is the window a refresh (-refresh) asked for.
	Window string `json:"window,omitempty"`
}

func writeSummary(format string, w io.Writer, sts []singletarget.JobStatus) error {
	out := newWriter(format, w)
	if format == "csv" {
		if err := out.cw.Write([]string{"target", "target_id", "state", "products", "added", "skipped", "remote_task", "error", "window"}); err != nil {
			return err
		}
	}
	for _, st := range sts {
		l := summaryLine{Target: st.Request.Target.Name, ID: st.Request.Target.ID, State: string(st.State), Products: []string{},
			Added: st.Added, Skipped: st.Skipped, Error: st.Error}
		for _, p := range st.Products {
			l.Products = append(l.Products, p.Name)
		}
		if st.Remote != nil {
			l.Remote = st.Remote.ID
		}
		if st.Window != nil {
			l.Window = st.Window.String()
		}
		if format == "json" {
			b, err := json.Marshal(l)
			if err != nil {
				return err
			}
			out.bw.Write(b)
			out.bw.WriteByte('\n')
			continue
		}
		if err := out.cw.Write([]string{l.Target, strconv.FormatInt(l.ID, 10), l.State, strings.Join(l.Products, ";"),
			strconv.Itoa(l.Added), strconv.Itoa(l.Skipped), l.Remote, l.Error, l.Window}); err != nil {
			return err
		}
	}
	return out.flush()
}
