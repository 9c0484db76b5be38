package riverexec

import (
	"context"
	"sync"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// progressWriter records a running job's progress in its row, so that
// Status shows it in every process: a new stage is written at once, other
// reports at most once per Options.ProgressInterval, and a report held
// back is written when the interval has passed even if no other follows.
// The worker stops it before Work returns, so nothing is written after.
type progressWriter struct {
	x       *Executor
	ctx     context.Context
	id      int64
	service string
	mu      *sync.Mutex // the worker's: it guards st
	st      *State

	stage   string
	written time.Time
	timer   *time.Timer
	held    bool
	stopped bool
}

// newProgressWriter returns the writer of job id's progress into st,
// which mu guards.
func (x *Executor) newProgressWriter(ctx context.Context, id int64, service string, mu *sync.Mutex, st *State) *progressWriter {
	return &progressWriter{x: x, ctx: context.WithoutCancel(ctx), id: id, service: service, mu: mu, st: st}
}

// report is the job's singletarget.ProgressFunc.
func (w *progressWriter) report(p singletarget.Progress) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if p.Service == "" {
		p.Service = w.service
	}
	w.st.Progress = &p
	wait := w.x.opts.ProgressInterval - time.Since(w.written)
	if p.Stage != w.stage || wait <= 0 {
		w.stage = p.Stage
		w.writeLocked()
		return
	}
	w.held = true
	if w.timer == nil {
		w.timer = time.AfterFunc(wait, w.flush)
	}
}

// flush writes a held report.
func (w *progressWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	if w.held && !w.stopped {
		w.writeLocked()
	}
}

func (w *progressWriter) writeLocked() {
	w.held = false
	w.written = time.Now()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if err := w.x.eng.setOutput(w.ctx, w.id, w.st); err != nil {
		w.x.opts.Logger.Debug("recording progress failed", "job", w.id, "error", err)
		return
	}
	w.x.note.notify()
}

// stop ends the writer: a held report is dropped (the worker writes the
// job's state itself as it returns).
func (w *progressWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}
