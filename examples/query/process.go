package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// processFile runs the processor of data product type o.process over
// o.file and prints the datums. Without a database (-db or the settings'
// database) it converts as it reads: no store, nothing kept per row. With
// one, the file is stored as a product and its datums ingested, as a query
// would. Either way the output goes through a spool and is printed only
// once the whole file has been read without error, so a bad file prints
// nothing; the report goes to stderr last.
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
	f, err := os.Open(o.file)
	if err != nil {
		return fmt.Errorf("-file: %w", err)
	}
	defer f.Close()
	sp := &spool{max: spoolMemory}
	defer sp.Close()
	out := newWriter(o.format, sp)
	rep := processReport{file: dataproduct.Report{Product: filepath.Base(o.file)}}
	if env.stored {
		err = ingestFile(ctx, env, o, proc, in, f, out, &rep, stderr)
	} else {
		err = convertFile(ctx, o, proc, in, f, out, &rep)
	}
	if err != nil {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	if _, err := sp.WriteTo(stdout); err != nil {
		return err
	}
	rep.print(stderr)
	return nil
}

// processReport is what a -process run tells on stderr after its output
// (print).
type processReport struct {
	// file is what the processor made of the file: rows read, datums
	// made, rows skipped by reason.
	file dataproduct.Report
	// stored is set when the datums went to a store; res says what it did.
	stored bool
	res    dataproduct.IngestResult
	// datums is the number of datums printed.
	datums int
}

func (r *processReport) print(w io.Writer) {
	printReports(w, r.file)
	if r.stored {
		fmt.Fprintf(w, "added %d, skipped %d\n", r.res.Added, r.res.Skipped)
	} else {
		s := "s"
		if r.datums == 1 {
			s = ""
		}
		fmt.Fprintf(w, "converted %d datum%s (no -db: none stored, duplicates not checked)\n", r.datums, s)
	}
}

// convertFile prints the datums of r as the processor yields them. The
// processor runs in a goroutine of its own and hands its datums over in
// batches, so that reading and formatting use two cores.
func convertFile(ctx context.Context, o *options, proc processor.Processor, in processor.Input, r io.Reader, out *writer, rep *processReport) error {
	// The heap a conversion keeps is small and the same whatever the
	// file's size (buffers and the batches in flight), so collecting when
	// it has grown fivefold instead of twofold costs a few MB and saves a
	// tenth of the CPU time.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches, free := make(chan []dataproduct.Datum, 4), make(chan []dataproduct.Datum, 6)
	var procErr error // set before batches is closed
	go func() {
		defer close(batches)
		batch := make([]dataproduct.Datum, 0, convertBatch)
		// rep.file is the goroutine's until batches is closed.
		for d, err := range processor.StreamReport(ctx, proc, bufio.NewReaderSize(r, 1<<20), in, &rep.file) {
			if err != nil {
				procErr = err
				return
			}
			if batch = append(batch, d); len(batch) < convertBatch {
				continue
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return
			}
			select {
			case batch = <-free:
			default:
				batch = make([]dataproduct.Datum, 0, convertBatch)
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-ctx.Done():
			}
		}
	}()
	fail := func(err error) error {
		cancel()
		for range batches { // wait for the processor to stop
		}
		return err
	}
	for batch := range batches {
		for i := range batch {
			d := &batch[i]
			d.TargetID = o.targetID
			if err := d.Check(); err != nil {
				return fail(fmt.Errorf("datum %d: %w", rep.datums, err))
			}
			if err := out.write(*d); err != nil {
				return fail(fmt.Errorf("datum %d: %w", rep.datums, err))
			}
			rep.datums++
		}
		clear(batch)
		select {
		case free <- batch[:0]:
		default:
		}
	}
	if procErr != nil {
		return nameFile(procErr, o.file)
	}
	return ctx.Err()
}

// convertBatch is the number of datums convertFile's processor hands over
// at a time.
const convertBatch = 256

// ingestFile stores r as a product of target o.targetID (in the uploads'
// name space: a user's file never replaces a service's product) and
// ingests its datums, printing each as it goes to the store. A file the
// processor refuses is removed again, unless -keep-failed or the product
// was stored before this run.
func ingestFile(ctx context.Context, env *env, o *options, proc processor.Processor, in processor.Input, r io.Reader, out *writer, rep *processReport, stderr io.Writer) error {
	name := dataproduct.UploadName(dataproduct.SafeName(filepath.Base(o.file)))
	old, err := env.store.ListProducts(ctx, dataproduct.ProductFilter{TargetID: o.targetID, Name: name})
	if err != nil {
		return err
	}
	prod, err := env.store.PutProduct(ctx, dataproduct.Product{TargetID: o.targetID, Name: name, DataProductType: o.process}, r)
	if errors.Is(err, dataproduct.ErrConflict) {
		return fmt.Errorf("%w; to store this file too, rename the file or give another -target-id", err)
	}
	if err != nil {
		return err
	}
	// A file the processor refuses is not kept (unless -keep-failed, or the
	// product was there before this run).
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
	rep.stored = true
	seq := func(yield func(dataproduct.Datum, error) bool) {
		for d, err := range processor.StreamReport(ctx, proc, bufio.NewReaderSize(rc, 1<<20), in, &rep.file) {
			if err != nil {
				yield(dataproduct.Datum{}, nameFile(err, o.file))
				return
			}
			d.TargetID, d.ProductID = prod.TargetID, prod.ID
			if err := out.write(d); err != nil {
				yield(dataproduct.Datum{}, fmt.Errorf("datum %d: %w", rep.datums, err))
				return
			}
			rep.datums++
			if !yield(d, nil) {
				return
			}
		}
	}
	rep.res, err = env.store.AddDatums(ctx, seq)
	ingested = err == nil
	return err
}

// nameFile puts the file's name into a parse error that has none.
func nameFile(err error, path string) error {
	var pe *dataproduct.ParseError
	if errors.As(err, &pe) && pe.File == "" {
		pe.File = filepath.Base(path)
	}
	return err
}

// spoolMemory is how much output a spool keeps in memory before it moves
// to a temporary file.
const spoolMemory = 1 << 20

// spool holds output until it may be shown: in memory up to max bytes,
// beyond that in a temporary file (unlinked at once where the system
// allows, so nothing is left behind even if the process is killed). A
// run's memory does not grow with its output.
type spool struct {
	max  int
	buf  []byte
	file *os.File
	name string // the file's name while it is still linked
}

func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil {
		if len(s.buf)+len(p) <= s.max {
			s.buf = append(s.buf, p...)
			return len(p), nil
		}
		f, err := os.CreateTemp("", "query-*.out")
		if err != nil {
			return 0, fmt.Errorf("spool the output: %w", err)
		}
		s.file, s.name = f, f.Name()
		if os.Remove(s.name) == nil {
			s.name = ""
		}
		if _, err := f.Write(s.buf); err != nil {
			return 0, fmt.Errorf("spool the output: %w", err)
		}
		s.buf = nil
	}
	n, err := s.file.Write(p)
	if err != nil {
		err = fmt.Errorf("spool the output: %w", err)
	}
	return n, err
}

// WriteTo copies everything written so far to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	if s.file == nil {
		n, err := w.Write(s.buf)
		return int64(n), err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, s.file)
}

// Close removes the temporary file, if any.
func (s *spool) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if s.name != "" {
		err = errors.Join(err, os.Remove(s.name))
	}
	return err
}
