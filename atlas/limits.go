package atlas

import (
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// ConcurrencyLimit implements singletarget.ConcurrencyLimiter: batches keep
// the account's tasks in flight within Options.MaxActiveTasks (none by
// default: the real server has no such limit), learn a limit from 429
// answers to queue requests when Options.LearnActiveLimit is set, and keep
// the tasks not yet started below Options.MaxQueuedTasks (the server's
// 500).
func (s *Service) ConcurrencyLimit() singletarget.ConcurrencyLimit {
	l := singletarget.ConcurrencyLimit{Max: s.opts.MaxActiveTasks, Learn: s.opts.LearnActiveLimit}
	if s.opts.MaxQueuedTasks > 0 {
		l.MaxNotStarted = s.opts.MaxQueuedTasks
	}
	return l
}

// ReserveQuery implements singletarget.Pacer: when the account's writes
// allow one more now, it keeps that place for the next queue request
// (deletes of finished tasks wait for the next free place; a reservation
// no request uses lapses after a minute) and returns 0; otherwise it
// returns how long until a place frees (the write pacing, or a 429 wait
// still running).
func (s *Service) ReserveQuery() time.Duration {
	if d := s.c.write.BlockedFor(); d > 0 {
		return d
	}
	return s.c.pace.reserve()
}
