package builtin

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// Class returns the class of a built-in service name ("ATLAS" →
// "atlas.ForcedPhotometryService").
func Class(name string) (string, bool) {
	for _, s := range services {
		if s.name == name {
			return s.class, true
		}
	}
	return "", false
}

// ServiceNames lists the built-in service names, sorted.
func ServiceNames() []string {
	var out []string
	for _, s := range services {
		out = append(out, s.name)
	}
	return slices.Sorted(slices.Values(out))
}

// Simulate points every service of cfg at a freshly started bundled
// simulator of its class (in this process, on a loopback port), for
// offline runs. onStop receives each simulator's stop function.
func Simulate(cfg *singletarget.Config, onStop func(func())) error {
	for _, name := range cfg.ServiceOrder {
		sc := cfg.Services[name]
		var start func() (string, singletarget.Secret, map[string]string, func(), error)
		for _, s := range services {
			if s.class == sc.Class {
				start = s.simulate
			}
		}
		if start == nil {
			return fmt.Errorf("%w: service %s: no bundled simulator for class %q", singletarget.ErrConfig, name, sc.Class)
		}
		u, key, extra, stop, err := start()
		if err != nil {
			return fmt.Errorf("service %s: simulator: %w", name, err)
		}
		onStop(stop)
		sc.URL, sc.APIKey = u, key
		if extra != nil {
			sc.Extra = maps.Clone(extra)
		}
		cfg.Services[name] = sc
	}
	return nil
}

// OpenStore opens the store a settings file names: in memory when dbURL is
// empty. It returns the store and a function that closes it.
func OpenStore(ctx context.Context, dbURL, storageURL string) (dataproduct.Store, func(), error) {
	if dbURL == "" || dbURL == "memory://" {
		return dataproduct.NewMemoryStore(nil), func() {}, nil
	}
	return nil, nil, fmt.Errorf("%w: database %q: only the in-memory store is available in this build", singletarget.ErrConfig, dbURL)
}
