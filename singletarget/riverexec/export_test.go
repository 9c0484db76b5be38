package riverexec

import (
	"context"
	"time"
)

// InsertScheduledCycle inserts a cycle as the schedule's periodic job
// does (not forced), to run after delay, for tests of what meets it.
func InsertScheduledCycle(ctx context.Context, x *Executor, delay time.Duration) (CycleID, error) {
	opts := x.cycleInsertOpts()
	opts.ScheduledAt = time.Now().Add(delay)
	job, err := x.eng.insertArgs(ctx, cycleArgs{}, opts)
	if err != nil {
		return 0, err
	}
	return CycleID(job.ID), nil
}
