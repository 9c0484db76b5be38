package singletarget

import (
	"fmt"
	"time"
)

// Pace is how many queries an account may start in a period, at most:
// its server's rate limit divided by the requests that count against it
// per query.
type Pace struct {
	// Queries is the number of queries per Per; 0 means unpaced.
	Queries int `json:"queries"`
	// Per is the period.
	Per time.Duration `json:"per"`
}

// IsZero reports an unpaced service.
func (p Pace) IsZero() bool { return p.Queries <= 0 || p.Per <= 0 }

// Interval is the time between two queries at the pace (0 when unpaced).
func (p Pace) Interval() time.Duration {
	if p.IsZero() {
		return 0
	}
	return p.Per / time.Duration(p.Queries)
}

// String is e.g. "30 queries per 1m0s" or "unpaced".
func (p Pace) String() string {
	if p.IsZero() {
		return "unpaced"
	}
	return fmt.Sprintf("%d queries per %s", p.Queries, p.Per)
}

// Paced is implemented by services whose account may start only so many
// queries in a period (ATLAS: 60 writes a minute, a query's POST and its
// DELETE each counting). A scheduled refresh (riverexec.Schedule) spreads
// a cycle's queries of such a service at that pace across every worker
// process, and reports a cycle that cannot finish within its period at
// it. Pacing each request stays the service's job (Pacer).
type Paced interface {
	Pace() Pace
}
