package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// exit codes
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type paramFlag struct{ v url.Values }

func (p *paramFlag) String() string { return p.v.Encode() }
func (p *paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want field=value, got %q", s)
	}
	p.v.Add(strings.TrimSpace(k), v)
	return nil
}

type options struct {
	config, service, url, apiKey string
	apiKeyFile                   string
	simulate                     bool
	name                         string
	ra, dec                      float64
	targetID                     int64
	params                       paramFlag
	db, storage                  string
	process, file                string
	keepFailed                   bool
	observationTime              string
	format                       string
	timeout                      time.Duration
	verbose                      bool
	targets                      string
	workers, maxInFlight         int
	progressEvery                time.Duration
	refresh                      bool
}

// usageError is an input mistake: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := options{params: paramFlag{v: url.Values{}}}
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "settings file (YAML or JSON) naming the services")
	fs.StringVar(&o.service, "service", "", "service name: built in "+strings.Join(builtin.ServiceNames(), ", ")+"; others from -config")
	fs.StringVar(&o.url, "url", "", "base URL of the service (without -config)")
	fs.StringVar(&o.apiKey, "api-key", "", "API key of the service (without -config); shows in ps: prefer -api-key-file or the environment")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "file holding the API key of the service (without -config; default: $"+keyEnvGeneric+" or the service's variable)")
	fs.BoolVar(&o.simulate, "simulate", false, "query the bundled simulator of the service instead of the real one")
	fs.StringVar(&o.name, "name", "", "target name")
	fs.Float64Var(&o.ra, "ra", -1, "target right ascension, degrees")
	fs.Float64Var(&o.dec, "dec", -1000, "target declination, degrees")
	fs.Int64Var(&o.targetID, "target-id", 1, "target id in the store")
	fs.Var(&o.params, "param", "form field=value (repeatable)")
	fs.StringVar(&o.db, "db", "", "store database URL (sqlite://file.db, postgres://...); default in memory")
	fs.StringVar(&o.storage, "storage", "", "file storage URL for -db (default: next to the SQLite file)")
	fs.StringVar(&o.process, "process", "", "run the processor of this data product type over -file instead of querying")
	fs.StringVar(&o.file, "file", "", "file for -process")
	fs.BoolVar(&o.keepFailed, "keep-failed", false, "with -process: keep the file in the store even when processing refuses it")
	fs.StringVar(&o.observationTime, "observation-time", "", "with -process: the observation time of a file that holds none (a spectrum without DATE-OBS), as 2024-01-26T03:14:15 (UTC) or an MJD")
	fs.StringVar(&o.format, "format", "json", "output format: json or csv")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Hour, "give up after this long")
	fs.BoolVar(&o.verbose, "v", false, "log requests")
	fs.StringVar(&o.targets, "targets", "", "file of targets to query as a batch: name, ra, dec a line (comma or white space separated, # comments)")
	fs.IntVar(&o.workers, "workers", 4, "with -targets: queries running at once (remote tasks waiting hold none)")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 0, "with -targets: most targets in flight at once (0: as many as the service allows)")
	fs.DurationVar(&o.progressEvery, "progress-every", time.Second, "with -targets: how often to print progress")
	fs.BoolVar(&o.refresh, "refresh", false, "ask only for what is new: the epochs from the newest datum in the store (-db) for the target and service on, less the service's overlap")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "query: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	err := execute(ctx, &o, stdout, stderr)
	var fe *singletarget.FormErrors
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &fe):
		fmt.Fprintln(stderr, "query: invalid input:")
		for _, k := range slices.Sorted(maps.Keys(fe.Fields)) {
			fmt.Fprintf(stderr, "  %s: %s\n", k, strings.Join(fe.Fields[k], " "))
		}
		return exitUsage
	case errors.As(err, &ue), errors.Is(err, singletarget.ErrConfig), errors.Is(err, singletarget.ErrUnknown):
		fmt.Fprintf(stderr, "query: %s\n", oneLine(err))
		return exitUsage
	}
	fmt.Fprintf(stderr, "query: %s\n", oneLine(err))
	return exitFailure
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func execute(ctx context.Context, o *options, stdout, stderr io.Writer) (err error) {
	if o.format != "json" && o.format != "csv" {
		return &usageError{fmt.Sprintf("-format %q: use json or csv", o.format)}
	}
	if o.observationTime != "" && o.process == "" {
		return &usageError{"-observation-time goes with -process"}
	}
	env, err := newEnv(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := env.close(); err == nil {
			err = cerr
		}
	}()
	if o.process != "" {
		return processFile(ctx, env, o, stdout, stderr)
	}
	if o.refresh && !env.stored {
		return &usageError{"-refresh asks for what is new since the last query: it needs the store of that query (-db, or database in the settings)"}
	}
	if o.targets != "" {
		return runBatch(ctx, env, o, stdout, stderr)
	}
	return query(ctx, env, o, newWriter(o.format, stdout), stderr)
}

func query(ctx context.Context, env *env, o *options, out *writer, stderr io.Writer) error {
	services := env.m.Services()
	if o.service == "" {
		if len(services) != 1 {
			return &usageError{fmt.Sprintf("-service: choose one of %s", strings.Join(services, ", "))}
		}
		o.service = services[0]
	}
	if o.name == "" {
		return &usageError{"-name is required (the target's name)"}
	}
	t := singletarget.Target{ID: o.targetID, Name: singletarget.NormalizeTargetName(o.name), RA: o.ra, Dec: o.dec}
	start := time.Now()
	ctx = singletarget.WithProgress(ctx, func(p singletarget.Progress) {
		msg := p.Stage
		if p.Message != "" {
			msg += ": " + p.Message
		}
		fmt.Fprintf(stderr, "[%5.1fs] %s\n", time.Since(start).Seconds(), msg)
	})
	res, err := env.m.Run(ctx, singletarget.Request{Service: o.service, Target: t, Params: o.params.v, Refresh: o.refresh})
	if err != nil {
		return err
	}
	for _, p := range res.Products {
		ds, err := env.store.ListDatums(ctx, dataproduct.DatumFilter{ProductID: p.ID})
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := out.write(d); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "product %s (%d bytes)\n", p.Name, p.Size)
	}
	if err := out.flush(); err != nil {
		return err
	}
	printReports(stderr, res.Reports...)
	if res.Window != nil {
		fmt.Fprintf(stderr, "window: %s\n", res.Window)
	}
	fmt.Fprintf(stderr, "added %d, skipped %d\n", res.Added, res.Skipped)
	return nil
}
