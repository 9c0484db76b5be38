package mjdwindow

import (
	"testing"
	"time"

	"github.com/tomgo/targetdata/processor"
)

func TestStartHoldsFrom(t *testing.T) {
	from := time.Date(2024, 3, 1, 12, 34, 56, 789_000_000, time.UTC)
	for _, perDay := range []float64{1e5, 1e6} {
		got := Start(from, perDay)
		if got == nil {
			t.Fatalf("perDay %g: nil start", perDay)
		}
		exact := processor.TimeToMJD(from)
		if *got > exact {
			t.Errorf("perDay %g: start %v is after from (%v)", perDay, *got, exact)
		}
		if exact-*got >= 1/perDay {
			t.Errorf("perDay %g: start %v is more than one step before %v", perDay, *got, exact)
		}
		if w := Window(got, nil); w.From.After(from) {
			t.Errorf("perDay %g: window from %v is after %v", perDay, w.From, from)
		}
	}
}

func TestWindowOpenEnds(t *testing.T) {
	if w := Window(nil, nil); !w.From.IsZero() || !w.To.IsZero() {
		t.Errorf("Window(nil, nil) = %+v, want both ends open", w)
	}
	lo, hi := 60000.0, 60001.5
	w := Window(&lo, &hi)
	if want := time.Date(2023, 2, 25, 0, 0, 0, 0, time.UTC); !w.From.Equal(want) {
		t.Errorf("From = %v, want %v", w.From, want)
	}
	if want := time.Date(2023, 2, 26, 12, 0, 0, 0, time.UTC); !w.To.Equal(want) {
		t.Errorf("To = %v, want %v", w.To, want)
	}
	if w.From.Location() != time.UTC || w.To.Location() != time.UTC {
		t.Errorf("window not in UTC: %v %v", w.From.Location(), w.To.Location())
	}
}
