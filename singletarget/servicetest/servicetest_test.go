package servicetest_test

import (
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
)

// A harness without a Processor is allowed ("nil skips processing"): the
// suite passes for a service that passes with one, the refresh checks
// included (its products then hold no datums, so a refresh keeps none).
func TestRunWithoutProcessor(t *testing.T) {
	servicetest.Run(t, servicetest.Harness{
		New: func(t *testing.T, log *slog.Logger) servicetest.Instance {
			sim := atlastest.NewServer(t, nil)
			svc, err := atlas.NewService(sim.URL, sim.Token, &atlas.Options{
				HTTPClient: sim.Client(), Logger: log,
				PollQueued: 2 * time.Millisecond, PollRunning: 2 * time.Millisecond, PollMax: 10 * time.Millisecond,
				RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
			})
			require.NoError(t, err)
			return servicetest.Instance{Service: svc, Throttle: sim.ThrottleNext, Secrets: []singletarget.Secret{sim.Token, sim.Password}}
		},
		Target:       singletarget.Target{ID: 1, Name: "NGC 1566", RA: 65.00165, Dec: -54.93795},
		Valid:        url.Values{"min_date_mjd": {"60316"}, "max_date_mjd": {"60336"}},
		Invalid:      url.Values{"min_date_mjd": {"abc"}},
		InvalidField: "min_date_mjd",
		Timeout:      20 * time.Second,
	})
}
