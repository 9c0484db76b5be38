package singletarget

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/form/v4"

	"github.com/tomgo/targetdata/dataproduct"
)

// Settings are what a Factory gets to build a service: one entry of
// single_target_data_services plus the shared runtime pieces.
type Settings struct {
	// Name is the service's registry name, e.g. "ATLAS".
	Name string
	// Class is the class the entry named.
	Class string
	// URL is the base URL; empty means the class's default.
	URL string
	// APIKey is the token or key.
	APIKey Secret
	// Extra holds the entry's other keys. Decode them with DecodeExtra,
	// which rejects unknown keys.
	Extra map[string]string
	// HTTPClient, when set, is the client services should send through
	// (tests pass a simulator's or an httpmock transport here).
	HTTPClient *http.Client
	// Logger is the logger services should use; never nil in a Factory.
	Logger *slog.Logger
}

// String describes the settings without any secret values.
func (s Settings) String() string {
	keys := slices.Sorted(maps.Keys(s.Extra))
	return fmt.Sprintf("service %s (class %s, url %q, api key %s, extra keys %v)", s.Name, s.Class, s.URL, s.APIKey, keys)
}

// LogValue implements slog.LogValuer without secret values.
func (s Settings) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	extraDecoderOnce sync.Once
	extraDecoder     *form.Decoder
)

// DecodeExtra decodes the Extra keys into dst, a pointer to a struct whose
// fields carry `setting:"key"` tags (Secret fields for passwords;
// time.Duration fields take Go durations such as "90s"), then
// checks dst's `validate` tags. A key with no field is an error that lists
// the known ones; errors name the key as
// "single_target_data_services.<Name>.<key>" and match ErrConfig.
func (s Settings) DecodeExtra(dst any) error {
	extraDecoderOnce.Do(func() {
		extraDecoder = form.NewDecoder()
		extraDecoder.SetTagName("setting")
		extraDecoder.RegisterCustomTypeFunc(func(vals []string) (any, error) {
			if len(vals) == 0 || vals[0] == "" {
				return time.Duration(0), nil
			}
			return time.ParseDuration(vals[0])
		}, time.Duration(0))
	})
	setup()
	sv := structOf(dst)
	known := map[string]bool{}
	for i := range sv.NumField() {
		if name, _, _ := strings.Cut(sv.Type().Field(i).Tag.Get("setting"), ","); name != "" && name != "-" {
			known[name] = true
		}
	}
	var errs []error
	vals := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(s.Extra)) {
		if !known[k] {
			errs = append(errs, &ConfigError{Key: s.key(k),
				Msg: fmt.Sprintf("unknown key for class %s (known: class, url, api_key, %s)", s.Class, strings.Join(slices.Sorted(maps.Keys(known)), ", "))})
			continue
		}
		vals.Set(k, s.Extra[k])
	}
	if err := extraDecoder.Decode(dst, vals); err != nil {
		var de form.DecodeErrors
		if errors.As(err, &de) {
			for ns := range de {
				errs = append(errs, &ConfigError{Key: s.key(ns), Msg: fmt.Sprintf("cannot use %q", vals.Get(ns))})
			}
		} else {
			errs = append(errs, &ConfigError{Key: s.key("(extra)"), Msg: err.Error()})
		}
	}
	if len(errs) == 0 {
		if err := ValidateForm(dst); err != nil {
			var fe *FormErrors
			if errors.As(err, &fe) {
				for _, k := range slices.Sorted(maps.Keys(fe.Fields)) {
					errs = append(errs, &ConfigError{Key: s.key(settingName(dst, k)), Msg: strings.Join(fe.Fields[k], " ")})
				}
			}
		}
	}
	return errors.Join(errs...)
}

// settingName maps a field's form name (its Go name when the struct has
// only setting tags) to its setting key.
func settingName(dst any, field string) string {
	sv := structOf(dst)
	for i := range sv.NumField() {
		f := sv.Type().Field(i)
		if f.Name == field {
			if name, _, _ := strings.Cut(f.Tag.Get("setting"), ","); name != "" {
				return name
			}
		}
	}
	return field
}

func (s Settings) key(k string) string {
	return "single_target_data_services." + s.Name + "." + k
}

// Factory builds a service from its settings. It checks everything it can
// (required keys, URL, Extra) and returns errors naming the key.
type Factory func(s Settings) (Service, error)

// Registry knows the service classes and processor classes a settings
// file may name. Its zero value is ready to use; it is safe for concurrent
// use. Nothing registers itself: call, e.g., builtin.Register(r).
type Registry struct {
	mu         sync.RWMutex
	services   map[string]Factory
	processors map[string]Processor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Register adds a service class. A duplicate class is an error.
func (r *Registry) Register(class string, f Factory) error {
	if class == "" || f == nil {
		return errors.New("singletarget: Register needs a class name and a factory")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.services[class]; dup {
		return fmt.Errorf("singletarget: service class %q is already registered", class)
	}
	if r.services == nil {
		r.services = map[string]Factory{}
	}
	r.services[class] = f
	return nil
}

// MustRegister is Register that panics on error, for hard-coded wiring.
func (r *Registry) MustRegister(class string, f Factory) {
	if err := r.Register(class, f); err != nil {
		panic(err)
	}
}

// RegisterProcessor adds a processor class, e.g. "atlas.Processor". A
// duplicate class is an error.
func (r *Registry) RegisterProcessor(class string, p Processor) error {
	if class == "" || p == nil {
		return errors.New("singletarget: RegisterProcessor needs a class name and a processor")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.processors[class]; dup {
		return fmt.Errorf("singletarget: processor class %q is already registered", class)
	}
	if r.processors == nil {
		r.processors = map[string]Processor{}
	}
	r.processors[class] = p
	return nil
}

// MustRegisterProcessor is RegisterProcessor that panics on error.
func (r *Registry) MustRegisterProcessor(class string, p Processor) {
	if err := r.RegisterProcessor(class, p); err != nil {
		panic(err)
	}
}

// Classes lists the registered service classes, sorted.
func (r *Registry) Classes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.services))
}

// ProcessorClasses lists the registered processor classes, sorted.
func (r *Registry) ProcessorClasses() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.processors))
}

// Processor returns the processor registered as class.
func (r *Registry) Processor(class string) (Processor, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.processors[class]
	if !ok {
		return nil, fmt.Errorf("%w: processor class %q (registered: %s)", ErrUnknown, class, listOrNone(slices.Sorted(maps.Keys(r.processors))))
	}
	return p, nil
}

// New builds one service from its settings.
func (r *Registry) New(s Settings) (Service, error) {
	r.mu.RLock()
	f, ok := r.services[s.Class]
	classes := slices.Sorted(maps.Keys(r.services))
	r.mu.RUnlock()
	switch {
	case s.Class == "":
		return nil, &ConfigError{Key: s.key("class"), Msg: msgMissingClass}
	case !ok:
		return nil, &ConfigError{Key: s.key("class"), Msg: fmt.Sprintf("unknown class %q (registered: %s)", s.Class, listOrNone(classes))}
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	svc, err := f(s)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, &ConfigError{Key: "single_target_data_services." + s.Name, Msg: Redact(err.Error(), s.APIKey)}
	}
	if svc.Name() != s.Name {
		return nil, &ConfigError{Key: "single_target_data_services." + s.Name,
			Msg: fmt.Sprintf("class %s built a service named %q; its settings key must be its name", s.Class, svc.Name())}
	}
	return svc, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Load builds a Manager from settings: every service of
// single_target_data_services from its class, every processor of
// data_processors, with store as the place for products and datums. Every
// mistake is reported at once (the errors are joined, each naming its key,
// and its line when cfg was parsed from a file): an unknown class, a
// factory's refusal (missing url or key, unknown extra keys), a processor
// class not registered, or a service whose data product type has no
// processor.
func (r *Registry) Load(cfg *Config, store dataproduct.Store, opts *ManagerOptions) (*Manager, error) {
	if cfg == nil {
		return nil, &ConfigError{Key: "(settings)", Msg: "no settings"}
	}
	if store == nil {
		return nil, errors.New("singletarget: Load needs a store")
	}
	m, errs := r.build(cfg, store, opts)
	if len(errs) > 0 {
		return nil, cfg.RedactEnv(joinConfigErrors(errs))
	}
	return m, nil
}

// build builds the Manager and returns every mistake, with lines.
func (r *Registry) build(cfg *Config, store dataproduct.Store, opts *ManagerOptions) (*Manager, []error) {
	m := NewManager(store, opts)
	var errs []error
	types := slices.Sorted(maps.Keys(cfg.DataProcessors))
	for _, typ := range types {
		p, err := r.Processor(cfg.DataProcessors[typ])
		if err != nil {
			errs = append(errs, &ConfigError{Key: "data_processors." + typ, Msg: err.Error()})
			continue
		}
		if err := m.AddProcessor(typ, p); err != nil {
			errs = append(errs, &ConfigError{Key: "data_processors." + typ, Msg: err.Error()})
		}
	}
	m.productTypes = maps.Clone(cfg.DataProductTypes)
	for _, name := range cfg.ServiceNames() {
		sc := cfg.Services[name]
		svc, err := r.New(Settings{Name: name, Class: sc.Class, URL: sc.URL, APIKey: sc.APIKey, Extra: sc.Extra,
			HTTPClient: m.opts.HTTPClient, Logger: m.logger.With("service", name)})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := m.AddService(svc); err != nil {
			errs = append(errs, &ConfigError{Key: "single_target_data_services." + name, Msg: err.Error()})
			continue
		}
		if sc.RefreshOverlap != nil {
			if err := m.SetRefreshOverlap(name, *sc.RefreshOverlap); err != nil {
				errs = append(errs, &ConfigError{Key: "single_target_data_services." + name + ".refresh_overlap", Msg: err.Error()})
			}
		}
	}
	for _, name := range cfg.Refresh.ServiceNames() {
		if _, err := m.Service(name); err != nil {
			continue // reported above, or by ParseConfig
		}
		if _, err := m.Form(name, cfg.Refresh.Services[name]); err != nil {
			errs = append(errs, &ConfigError{Key: "refresh.services." + name, Msg: "the form refuses these values: " + err.Error()})
		}
	}
	withLines(cfg, errs)
	return m, errs
}

// withLines sets the line of every *ConfigError in errs (joined ones
// included) that has none, from the settings file.
func withLines(cfg *Config, errs []error) {
	for _, err := range flatten(errs) {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Line == 0 {
			ce.Line = cfg.Line(ce.Key)
		}
	}
}

// LoadConfig reads a settings file as singletarget.LoadConfig does and,
// in the same pass, checks what only the registry knows: that every
// service and processor class is registered and that each service's
// factory accepts its keys. Every mistake is reported at once, each naming
// its key and line, ordered by line. defaults, when not nil, completes the
// parsed settings before they are checked and returned (for instance
// builtin.WithDefaults, which adds the built-in product types).
func (r *Registry) LoadConfig(path string, defaults func(*Config) *Config) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return r.ParseConfig(data, os.LookupEnv, defaults)
}

// ParseConfig parses settings as singletarget.ParseConfig does and checks
// them against the registry in the same pass (see LoadConfig). The
// services are built once to be checked, then dropped.
func (r *Registry) ParseConfig(data []byte, lookupEnv func(string) (string, bool), defaults func(*Config) *Config) (*Config, error) {
	cfg, errs := parseConfig(data, lookupEnv)
	if cfg == nil { // not YAML at all: nothing was read from the environment
		return nil, joinConfigErrors(errs)
	}
	if defaults != nil {
		cfg = defaults(cfg)
	}
	bad := map[string]bool{} // keys the file already has a mistake at
	for _, err := range errs {
		var ce *ConfigError
		if errors.As(err, &ce) {
			bad[ce.Key] = true
		}
	}
	_, more := r.build(cfg, dataproduct.NewMemoryStore(nil), nil)
	for _, err := range flatten(more) {
		var ce *ConfigError
		if errors.As(err, &ce) && strings.HasPrefix(ce.Key, "single_target_data_services.") && bad[ce.Key] {
			continue // the same key's mistake, as the factory sees it
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, cfg.RedactEnv(joinConfigErrors(errs))
	}
	return cfg, nil
}

// flatten expands joined errors.
func flatten(errs []error) []error {
	var out []error
	for _, err := range errs {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(j.Unwrap())...)
			continue
		}
		out = append(out, err)
	}
	return out
}
