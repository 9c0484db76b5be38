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

// QueryDelay implements singletarget.Pacer: how long until a queue request
// would be sent (the account's write pacing, or a 429 wait still running);
// 0 when now.
func (s *Service) QueryDelay() time.Duration { return s.c.WriteBlockedFor() }
