package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
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
	fs.StringVar(&o.service, "service", "", "service name (e.g. ATLAS, PANSTARRS, ZTF, ZTF_FP)")
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
	if o.refresh && env.memory {
		return &usageError{"-refresh asks for what is new since the last query: it needs the store of that query (-db, or database in the settings)"}
	}
	if o.targets != "" {
		return runBatch(ctx, env, o, stdout, stderr)
	}
	return query(ctx, env, o, newWriter(o.format, stdout), stderr)
}

func processFile(ctx context.Context, env *env, o *options, stdout, stderr io.Writer) error {
	if o.file == "" {
		return &usageError{"-process needs -file"}
	}
	proc, err := env.m.ProcessorFor(o.process)
	if err != nil {
		return &usageError{err.Error()}
	}
	in, err := processInput(o)
	if err != nil {
		return err
	}
	rep := &dataproduct.Report{Product: filepath.Base(o.file)}
	f, err := os.Open(o.file)
	if err != nil {
		return err
	}
	defer f.Close()
	name := dataproduct.SafeName(filepath.Base(o.file))
	// A user's file: in the uploads' name space, never replacing a service's product.
	stored := dataproduct.UploadName(name)
	old, err := env.store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: o.targetID, Name: stored})
	if err != nil {
		return err
	}
	prod, err := env.store.PutProduct(ctx, dataproduct.Product{TargetID: o.targetID, Name: stored, DataProductType: o.process}, f)
	if err != nil {
		return err
	}
	// A file the processor refuses is not kept (unless -keep-failed, or it
	// replaced a product that was there before).
	ingested := false
	defer func() {
		if !ingested && !o.keepFailed && len(old) == 0 {
			if err := env.store.DeleteProduct(context.WithoutCancel(ctx), prod.ID); err != nil {
				fmt.Fprintf(stderr, "query: removing the refused file from the store: %v\n", err)
			}
		}
	}()
	rc, err := env.store.OpenProduct(ctx, prod.ID)
	if err != nil {
		return err
	}
	defer rc.Close()
	// One pass: every datum is written to a temporary file as it goes to
	// the store; the output is shown only once the ingest succeeded, so a
	// bad file prints nothing.
	tmp, err := os.CreateTemp("", "query-*.out")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	out := newWriter(o.format, tmp)
	seq := func(yield func(dataproduct.Datum, error) bool) {
		for d, err := range processor.StreamReport(ctx, proc, bufio.NewReaderSize(rc, 1<<20), in, rep) {
			if err != nil {
				var pe *dataproduct.ParseError
				if errors.As(err, &pe) && pe.File == "" {
					pe.File = filepath.Base(o.file)
				}
				yield(dataproduct.Datum{}, err)
				return
			}
			d.TargetID, d.ProductID = prod.TargetID, prod.ID
			if err := out.write(d); err != nil {
				yield(dataproduct.Datum{}, err)
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
	res, err := env.store.AddDatums(ctx, seq)
	if err != nil {
		return err
	}
	ingested = true
	if err := out.flush(); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(stdout, tmp); err != nil {
		return err
	}
	printReports(stderr, *rep)
	fmt.Fprintf(stderr, "added %d, skipped %d\n", res.Added, res.Skipped)
	return nil
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

// writer prints datums as JSON lines or CSV.
type writer struct {
	format string
	bw     *bufio.Writer
	cw     *csv.Writer
	header bool
}

func newWriter(format string, w io.Writer) *writer {
	bw := bufio.NewWriterSize(w, 1<<16)
	return &writer{format: format, bw: bw, cw: csv.NewWriter(bw)}
}

type jsonDatum struct {
	Timestamp string  `json:"timestamp"`
	MJD       float64 `json:"mjd"`
	Source    string  `json:"source"`
	DataType  string  `json:"data_type"`
	Value     any     `json:"value"`
}

var csvHeader = []string{"timestamp", "mjd", "source", "data_type", "filter", "magnitude", "error", "limit", "limit_sigma",
	"telescope", "flux_ujy", "flux_err_ujy", "value"}

func (w *writer) write(d dataproduct.Datum) error {
	ts := d.Timestamp.UTC().Format(time.RFC3339Nano)
	mjd := processor.TimeToMJD(d.Timestamp)
	if w.format == "json" {
		b, err := json.Marshal(jsonDatum{Timestamp: ts, MJD: mjd, Source: d.Source, DataType: d.DataType, Value: d.Value})
		if err != nil {
			return err
		}
		w.bw.Write(b)
		return w.bw.WriteByte('\n')
	}
	if !w.header {
		w.header = true
		if err := w.cw.Write(csvHeader); err != nil {
			return err
		}
	}
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	row := []string{ts, strconv.FormatFloat(mjd, 'f', 6, 64), d.Source, d.DataType}
	if p, ok := d.Value.(dataproduct.Photometry); ok {
		sigma := ""
		if p.LimitSigma != 0 {
			sigma = strconv.FormatFloat(p.LimitSigma, 'f', -1, 64)
		}
		row = append(row, p.Filter, f(p.Magnitude), f(p.Error), f(p.Limit), sigma, p.Telescope, f(p.FluxUJy), f(p.FluxErrUJy), "")
	} else {
		b, err := dataproduct.CanonicalValue(d.Value)
		if err != nil {
			return err
		}
		row = append(row, "", "", "", "", "", "", "", "", string(b))
	}
	return w.cw.Write(row)
}

func (w *writer) flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return err
	}
	return w.bw.Flush()
}
