package ztf

import "github.com/tomgo/targetdata/singletarget"

// DefaultMaxOutstanding is the number of outstanding single requests ZFPS
// allows a user (spec B.1).
const DefaultMaxOutstanding = 100

var _ singletarget.ConcurrencyLimiter = (*ForcedPhotometryService)(nil)

// ConcurrencyLimit implements singletarget.ConcurrencyLimiter: batches keep
// the account's outstanding jobs within ForcedPhotometryOptions.MaxOutstanding.
func (s *ForcedPhotometryService) ConcurrencyLimit() singletarget.ConcurrencyLimit {
	return singletarget.ConcurrencyLimit{Max: max(s.c.opts.MaxOutstanding, 0)}
}
