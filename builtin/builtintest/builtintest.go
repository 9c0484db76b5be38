// Package builtintest runs the built-in services against their bundled
// simulators (alercetest, atlastest, panstarrstest, ztftest), for offline programs
// (the quickstart, the examples' -simulate flags) and for a TOM's own
// tests. It is apart from package builtin so that a production binary,
// which imports builtin, links no simulator and no test code.
//
//	cfg := builtin.WithDefaults(cfg)
//	var stops []func()
//	if err := builtintest.Simulate(cfg, func(stop func()) { stops = append(stops, stop) }); err != nil { ... }
//	defer func() { for _, stop := range stops { stop() } }()
//	app, err := builtin.Open(ctx, cfg, nil)
//
// # Stability
//
// This package is experimental: a minor release may change its API, each
// change listed in CHANGELOG.md; a patch release does not; see Stability in
// the documentation of package github.com/tomgo/targetdata.
package builtintest

import (
	"fmt"
	"maps"
	"time"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/atlas/atlastest"
	"github.com/tomgo/targetdata/panstarrs"
	"github.com/tomgo/targetdata/panstarrs/panstarrstest"
	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
	"github.com/tomgo/targetdata/ztf/ztftest"
)

// simulator starts the bundled simulator of a service class; it returns
// the URL, the key it accepts, extra settings and a stop function.
type simulator func() (url string, key singletarget.Secret, extra map[string]string, stop func())

// simulators are the bundled simulators, by service class.
var simulators = map[string]simulator{
	ztf.ServiceClass: func() (string, singletarget.Secret, map[string]string, func()) {
		s := ztftest.Start(nil)
		return s.LightCurveURL, "", nil, s.Close
	},
	ztf.ForcedPhotometryServiceClass: func() (string, singletarget.Secret, map[string]string, func()) {
		s := ztftest.Start(&ztftest.Options{QueueTime: 300 * time.Millisecond, RunTime: 500 * time.Millisecond})
		c := s.Credentials()
		return s.ForcedPhotometryURL, "", map[string]string{
			"email": c.Email.Reveal(), "userpass": c.Password.Reveal(),
			"http_user": c.HTTPUser.Reveal(), "http_password": c.HTTPPassword.Reveal(),
			"poll_interval": "100ms", "max_poll_interval": "200ms",
		}, s.Close
	},
	atlas.ServiceClass: func() (string, singletarget.Secret, map[string]string, func()) {
		// Tasks queue for 0.3 s and run for 0.5 s: long enough to show the
		// protocol's progress, short enough for a demo. AllowHTTPCallbacks:
		// a TOM on this machine may ask for completion callbacks
		// (callback_url on loopback http).
		s := atlastest.Start(&atlastest.Options{QueueDelay: 300 * time.Millisecond, RunTime: 500 * time.Millisecond, AllowHTTPCallbacks: true})
		return s.URL, s.Token, map[string]string{"poll_queued": "100ms", "poll_running": "100ms", "poll_max": "200ms"}, s.Close
	},
	panstarrs.ServiceClass: func() (string, singletarget.Secret, map[string]string, func()) {
		s := panstarrstest.Start(nil)
		return s.URL, "", nil, s.Close
	},
	alerce.ServiceClass: func() (string, singletarget.Secret, map[string]string, func()) {
		s := alercetest.Start(nil)
		u := s.URLs()
		return u.ZTF, "", map[string]string{"lightcurve_url": u.LightCurve, "multisurvey_url": u.Multisurvey}, s.Close
	},
}

// Simulate points every service of cfg at a freshly started bundled
// simulator of its class (in this process, on a loopback port): its url,
// its key, and settings that make the simulated tasks quick. onStop
// receives each simulator's stop function; call them all when done. A
// service whose class has no bundled simulator is an error matching
// singletarget.ErrConfig. Every service of cfg.Services counts, whether
// or not cfg.ServiceOrder lists it.
func Simulate(cfg *singletarget.Config, onStop func(stop func())) error {
	for _, name := range cfg.ServiceNames() {
		sc := cfg.Services[name]
		start, ok := simulators[sc.Class]
		if !ok {
			return fmt.Errorf("%w: service %s: no bundled simulator for class %q", singletarget.ErrConfig, name, sc.Class)
		}
		u, key, extra, stop := start()
		onStop(stop)
		sc.URL, sc.APIKey = u, key
		if extra != nil {
			// The simulator's keys (its quick polls) win; the others
			// (e.g. callback_url) stay.
			merged := maps.Clone(sc.Extra)
			if merged == nil {
				merged = map[string]string{}
			}
			maps.Copy(merged, extra)
			sc.Extra = merged
		}
		cfg.Services[name] = sc
	}
	return nil
}
