package demo_test

import (
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/singletarget/servicetest"
)

func TestDemoConformance(t *testing.T) {
	servicetest.Run(t, servicetest.Harness{
		New: func(t *testing.T, _ *slog.Logger) servicetest.Instance {
			a := demo.NewArchive("demo-key-1234", 2)
			return servicetest.Instance{
				Service:  demo.NewService(a, "demo-key-1234", time.Millisecond),
				Throttle: a.ThrottleNext,
				Secrets:  []singletarget.Secret{"demo-key-1234"},
			}
		},
		Target:       singletarget.Target{ID: 1, Name: "SN 2023ixf", RA: 210.910674, Dec: 54.311686},
		Valid:        url.Values{"min_date_mjd": {"60080"}, "max_date_mjd": {"60110"}},
		Invalid:      url.Values{"min_date_mjd": {"60100"}, "max_date_mjd": {"60090"}},
		InvalidField: "max_date_mjd",
		Processor:    demo.Processor(),
	})
}
