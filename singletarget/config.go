package singletarget

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tomgo/targetdata/internal/redact"
)

// Config is the TOM-style settings file, in YAML or JSON:
//
//	single_target_data_services:
//	  ATLAS:
//	    class: atlas.ForcedPhotometryService
//	    url: https://fallingstar-data.com/forcedphot
//	    api_key: ${ATLAS_FORCED_PHOTOMETRY_API_KEY}
//	  PANSTARRS:
//	    class: panstarrs.Service
//	    url: https://catalogs.mast.stsci.edu/api/v0.1/panstarrs
//	data_product_types:
//	  atlas_photometry: Atlas Photometry
//	  panstarrs_photometry: PanSTARRS Photometry
//	data_processors:
//	  atlas_photometry: atlas.Processor
//	  panstarrs_photometry: panstarrs.Processor
//	tasks:
//	  backend: pool          # immediate | pool | river
//	  workers: 4
//	  database: sqlite://targetdata-jobs.db   # for river; default: database
//	database: sqlite://targetdata.db            # or postgres://...
//	storage: file://./data                      # or mem://, s3://bucket?region=...
//	refresh:                 # a scheduled refresh (river backend)
//	  every: 24h
//	  services:              # default: every service, with its initial form values
//	    ATLAS:
//	    PANSTARRS: {catalog: detection}
//
// String values may use ${NAME} or ${NAME:-default} to read the
// environment ($$ is a literal $). A service's keys other than class, url,
// api_key and refresh_overlap go to its Extra and are checked by its
// factory. Unknown keys anywhere else are errors.
type Config struct {
	// Services maps a registry name ("ATLAS") to its settings.
	Services map[string]ServiceConfig `json:"single_target_data_services"`
	// ServiceOrder lists the service names in file order.
	ServiceOrder []string `json:"-"`
	// DataProductTypes maps a data product type to its label.
	DataProductTypes map[string]string `json:"data_product_types"`
	// DataProcessors maps a data product type to a processor class.
	DataProcessors map[string]string `json:"data_processors"`
	// Tasks configures the executor.
	Tasks TasksConfig `json:"tasks"`
	// Database is the URL of the store's database.
	Database string `json:"database,omitempty"`
	// Storage is the URL of the file storage.
	Storage string `json:"storage,omitempty"`
	// Refresh is the scheduled refresh (the refresh section).
	Refresh RefreshConfig `json:"refresh"`

	// env holds the values ParseConfig read from the environment, by
	// variable name, for RedactEnv; written holds, by dotted key, the text
	// of each setting that read the environment, as the file writes it.
	env, written map[string]string
	// lines maps each dotted key of the parsed file to its line.
	lines map[string]int
}

// Line returns the line of a dotted key ("single_target_data_services.ATLAS.url")
// in the file the settings were parsed from; for a key the file does not
// have, the line of its nearest enclosing key; 0 for settings built in
// code.
func (c *Config) Line(key string) int {
	for key != "" {
		if n, ok := c.lines[key]; ok {
			return n
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// RefreshConfig is the refresh section: a refresh of every target the TOM
// names (riverexec.Schedule.Targets), every Every, as River periodic jobs.
// It needs tasks.backend river.
type RefreshConfig struct {
	// Every is the period of the scheduled refresh; 0 means none.
	Every time.Duration `json:"every,omitempty"`
	// Services maps the services to refresh to their form values (nil
	// for the initial values); empty means every configured service.
	Services map[string]url.Values `json:"services,omitempty"`
	// ServiceOrder lists Services' names in file order.
	ServiceOrder []string `json:"-"`
}

// ServiceNames returns the names of Services in file order
// (ServiceOrder), or in name order when ServiceOrder does not list each of
// them once (a Config built in code may leave it empty).
func (c *Config) ServiceNames() []string { return orderedNames(c.ServiceOrder, c.Services) }

// ServiceNames returns the names of Services in file order
// (ServiceOrder), or in name order when ServiceOrder does not list each of
// them once (a RefreshConfig built in code may leave it empty).
func (c *RefreshConfig) ServiceNames() []string { return orderedNames(c.ServiceOrder, c.Services) }

// orderedNames returns m's keys in the order given, or sorted when order
// is not a listing of each key once.
func orderedNames[V any](order []string, m map[string]V) []string {
	if len(order) == len(m) {
		seen := make(map[string]bool, len(order))
		for _, name := range order {
			if _, ok := m[name]; !ok || seen[name] {
				return slices.Sorted(maps.Keys(m))
			}
			seen[name] = true
		}
		return slices.Clone(order)
	}
	return slices.Sorted(maps.Keys(m))
}

// ServiceConfig is one entry of single_target_data_services.
type ServiceConfig struct {
	// Class names the registered service class, e.g. "atlas.ForcedPhotometryService".
	Class string `json:"class"`
	// URL is the service's base URL; empty means the class's default.
	URL string `json:"url,omitempty"`
	// APIKey is the token or key, when the service needs one.
	APIKey Secret `json:"api_key,omitempty"`
	// Extra holds the entry's other keys, as strings.
	Extra map[string]string `json:"extra,omitempty"`
	// RefreshOverlap, when set, replaces the service's default overlap of
	// an incremental refresh (Manager.SetRefreshOverlap): how far before
	// the newest stored epoch a refresh starts. Key refresh_overlap, a
	// duration such as 72h or 3d.
	RefreshOverlap *time.Duration `json:"refresh_overlap,omitempty"`
}

// TasksConfig is the tasks section.
type TasksConfig struct {
	// Backend is "immediate" (default), "pool" or "river".
	Backend string `json:"backend,omitempty"`
	// Database is the job database for the river backend; default: the
	// top-level database.
	Database string `json:"database,omitempty"`
	// Workers is the number of concurrent jobs (pool and river); default 4.
	Workers int `json:"workers,omitempty"`
	// JobTimeout bounds one step of a river job (a query, a poll, a
	// download with its processing); default 30 minutes.
	JobTimeout time.Duration `json:"job_timeout,omitempty"`
	// RescueAfter is how long a river job left running by a worker that
	// died waits before another worker takes it over; it must exceed
	// JobTimeout; default JobTimeout + 10 minutes.
	RescueAfter time.Duration `json:"rescue_after,omitempty"`
}

// Backends the tasks section accepts.
var Backends = []string{"immediate", "pool", "river"}

// ConfigError is one mistake in a settings file. It matches ErrConfig.
type ConfigError struct {
	// Key is the dotted path of the key, e.g.
	// "single_target_data_services.ATLAS.url".
	Key string
	// Line is the line in the file, when known.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("settings line %d: %s: %s", e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("settings: %s: %s", e.Key, e.Msg)
}

// Is matches ErrConfig (and so its category ErrInvalidInput).
func (e *ConfigError) Is(target error) bool { return target == ErrConfig || target == ErrInvalidInput }

// LoadConfig reads a settings file (YAML or JSON) and expands ${NAME}
// from the process environment. See ParseConfig; Registry.LoadConfig also
// checks the classes and their keys in the same pass.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return ParseConfig(data, os.LookupEnv)
}

// ParseConfig parses settings from YAML or JSON. lookupEnv resolves
// ${NAME} (nil means no environment: every reference without a default is
// an error). Every mistake found is reported, each naming its key and
// line; the error joins *ConfigError values and matches ErrConfig. Which
// classes exist, and which keys a class takes, only a Registry knows:
// Registry.ParseConfig checks those too, in the same pass.
func ParseConfig(data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg, errs := parseConfig(data, lookupEnv)
	if len(errs) > 0 {
		return nil, cfg.RedactEnv(joinConfigErrors(errs))
	}
	return cfg, nil
}

// parseConfig parses what it can and returns every mistake; the Config is
// nil only when the file is not YAML at all.
func parseConfig(data []byte, lookupEnv func(string) (string, bool)) (*Config, []error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{&ConfigError{Key: "(file)", Msg: err.Error()}}
	}
	cfg := &Config{Services: map[string]ServiceConfig{}, DataProductTypes: map[string]string{}, DataProcessors: map[string]string{},
		lines: map[string]int{}, env: map[string]string{}, written: map[string]string{}}
	p := &configParser{env: func(name string) (string, bool) {
		v, ok := lookupEnv(name)
		if ok && v != "" {
			cfg.env[name] = v
		}
		return v, ok
	}, written: cfg.written, lines: cfg.lines}
	if len(doc.Content) == 0 {
		return cfg, nil
	}
	root := doc.Content[0]
	p.mapping(root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "single_target_data_services":
			p.mapping(v, key, func(name string, k, sv *yaml.Node) {
				path := key + "." + name
				sc := ServiceConfig{}
				rawURL := ""
				var urlNode *yaml.Node
				p.mapping(sv, path, func(field string, fk, fv *yaml.Node) {
					s, ok := p.scalar(fv, path+"."+field)
					if !ok {
						return
					}
					switch field {
					case "class":
						sc.Class = s
					case "url":
						sc.URL, rawURL, urlNode = s, shown(redact.BaseURL(fv.Value), redact.BaseURL(s)), fv
					case "api_key":
						sc.APIKey = Secret(s)
					case "refresh_overlap":
						d, err := parseDays(s)
						if err != nil || d < 0 {
							p.errorf(fv, path+"."+field, fmt.Sprintf("%s is not a duration such as 72h or 3d", shown(fv.Value, s)))
						}
						sc.RefreshOverlap = &d
					default:
						if sc.Extra == nil {
							sc.Extra = map[string]string{}
						}
						sc.Extra[field] = s
					}
				})
				if sc.Class == "" {
					p.errorf(k, path+".class", msgMissingClass)
				}
				if sc.URL != "" {
					if u, err := url.Parse(sc.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
						p.errorf(urlNode, path+".url", rawURL+" is not an absolute http(s) URL")
					}
				}
				cfg.Services[name] = sc
				cfg.ServiceOrder = append(cfg.ServiceOrder, name)
			})
		case "data_product_types":
			p.stringMap(v, key, cfg.DataProductTypes)
		case "data_processors":
			p.stringMap(v, key, cfg.DataProcessors)
		case "database":
			cfg.Database, _ = p.scalar(v, key)
		case "storage":
			cfg.Storage, _ = p.scalar(v, key)
		case "refresh":
			p.refresh(v, key, &cfg.Refresh)
		case "tasks":
			p.mapping(v, key, func(field string, fk, fv *yaml.Node) {
				path := key + "." + field
				s, ok := p.scalar(fv, path)
				if !ok {
					return
				}
				switch field {
				case "backend":
					if !slices.Contains(Backends, s) {
						p.errorf(fv, path, fmt.Sprintf("%s is not one of %s", shown(fv.Value, s), strings.Join(Backends, ", ")))
					}
					cfg.Tasks.Backend = s
				case "database":
					cfg.Tasks.Database = s
				case "workers":
					n, err := strconv.Atoi(s)
					if err != nil || n < 1 || n > 1000 {
						p.errorf(fv, path, fmt.Sprintf("%s is not a number of workers in 1..1000", shown(fv.Value, s)))
					}
					cfg.Tasks.Workers = n
				case "job_timeout", "rescue_after":
					d, err := time.ParseDuration(s)
					if err != nil || d <= 0 {
						p.errorf(fv, path, fmt.Sprintf("%s is not a positive duration such as 30m", shown(fv.Value, s)))
					}
					if field == "job_timeout" {
						cfg.Tasks.JobTimeout = d
					} else {
						cfg.Tasks.RescueAfter = d
					}
				default:
					p.errorf(fk, path, "unknown key (known: backend, database, workers, job_timeout, rescue_after)")
				}
			})
		default:
			p.errorf(k, key, "unknown key (known: single_target_data_services, data_product_types, data_processors, tasks, database, storage, refresh)")
		}
	})
	if cfg.Refresh.Every > 0 && cfg.Tasks.Backend != "river" {
		p.errs = append(p.errs, &ConfigError{Key: "refresh.every", Line: cfg.Line("refresh.every"),
			Msg: "a scheduled refresh runs on the river backend: set tasks.backend: river"})
	}
	for _, name := range cfg.Refresh.ServiceOrder {
		if _, ok := cfg.Services[name]; !ok {
			key := "refresh.services." + name
			p.errs = append(p.errs, &ConfigError{Key: key, Line: cfg.Line(key),
				Msg: fmt.Sprintf("no such service in single_target_data_services (configured: %s)", listOrNone(cfg.ServiceOrder))})
		}
	}
	for typ := range cfg.DataProcessors {
		if _, ok := cfg.DataProductTypes[typ]; !ok && len(cfg.DataProductTypes) > 0 {
			key := "data_processors." + typ
			p.errs = append(p.errs, &ConfigError{Key: key, Line: cfg.Line(key),
				Msg: fmt.Sprintf("data product type %q is not listed in data_product_types", typ)})
		}
	}
	for typ := range cfg.DataProductTypes {
		if _, ok := cfg.DataProcessors[typ]; !ok {
			key := "data_product_types." + typ
			p.errs = append(p.errs, &ConfigError{Key: key, Line: cfg.Line(key),
				Msg: fmt.Sprintf("no processor: add data_processors.%s", typ)})
		}
	}
	return cfg, p.errs
}

// msgMissingClass is the error of a service entry without a class.
const msgMissingClass = "missing: every service needs a class (e.g. atlas.ForcedPhotometryService)"

// refresh parses the refresh section.
func (p *configParser) refresh(n *yaml.Node, path string, rc *RefreshConfig) {
	p.mapping(n, path, func(field string, fk, fv *yaml.Node) {
		key := path + "." + field
		switch field {
		case "every":
			s, ok := p.scalar(fv, key)
			if !ok {
				return
			}
			d, err := parseDays(s)
			if err != nil || d < time.Minute {
				p.errorf(fv, key, fmt.Sprintf("%s is not a period of at least a minute, such as 24h or 1d", shown(fv.Value, s)))
				return
			}
			rc.Every = d
		case "services":
			rc.Services = map[string]url.Values{}
			if fv.Kind == yaml.SequenceNode { // a list of names
				for _, item := range fv.Content {
					name, ok := p.scalar(item, key)
					if !ok || name == "" {
						continue
					}
					if _, dup := rc.Services[name]; dup {
						p.errorf(item, key+"."+name, "duplicate service")
						continue
					}
					rc.Services[name] = nil
					rc.ServiceOrder = append(rc.ServiceOrder, name)
				}
				return
			}
			p.mapping(fv, key, func(name string, _, sv *yaml.Node) {
				var params url.Values
				p.mapping(sv, key+"."+name, func(param string, _, pv *yaml.Node) {
					if s, ok := p.scalar(pv, key+"."+name+"."+param); ok {
						if params == nil {
							params = url.Values{}
						}
						params.Set(param, s)
					}
				})
				rc.Services[name] = params
				rc.ServiceOrder = append(rc.ServiceOrder, name)
			})
		default:
			p.errorf(fk, key, "unknown key (known: every, services)")
		}
	})
}

// parseDays parses a duration as time.ParseDuration does ("72h", "90m"),
// and also in days ("3d", "1.5d").
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if num, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(days) || math.Abs(days) > 1e5 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(s)
}

// RedactEnv returns err with every value the settings read from the
// environment replaced, in its text, by the ${NAME} that read it (also in
// its URL-escaped and Go-quoted forms), so that an error about a setting
// never shows a value that may be a secret: a password inside a database
// URL, a token, a key=value connection string. Values shorter than 4
// bytes are replaced only where quoted whole ("5" → "${NAME}"). The
// *ConfigError values inside err are rewritten in place; the result still
// matches what err matched (errors.Is, errors.As). Registry.Load and
// builtin.Open apply it to the errors they return; call it on any other
// error that may quote a setting.
func (c *Config) RedactEnv(err error) error {
	if err == nil || c == nil || len(c.env) == 0 {
		return err
	}
	rewriteConfigErrors(err, c.redactEnvText, c.envNote)
	return redact.ErrorFunc(err, c.redactEnvText)
}

// redactEnvText is RedactEnv on a text.
func (c *Config) redactEnvText(text string) string {
	names := slices.Sorted(maps.Keys(c.env))
	// Longest values first, so that a value holding another is replaced whole.
	slices.SortStableFunc(names, func(a, b string) int { return len(c.env[b]) - len(c.env[a]) })
	for _, name := range names {
		v, ref := c.env[name], "${"+name+"}"
		text = strings.ReplaceAll(text, strconv.Quote(v), strconv.Quote(ref))
		if len(v) < 4 {
			continue
		}
		quoted := strconv.Quote(v)
		for _, form := range []string{v, quoted[1 : len(quoted)-1], url.QueryEscape(v), url.PathEscape(v)} {
			text = strings.ReplaceAll(text, form, ref)
		}
	}
	return text
}

// Written returns the text of the setting at key (a dotted path such as
// "database" or "single_target_data_services.ATLAS.url") as the file
// writes it, when it read the environment (e.g. "${DATABASE_URL}"); ok is
// false for a value written out in the file, or one not set.
func (c *Config) Written(key string) (text string, ok bool) {
	if c == nil {
		return "", false
	}
	text, ok = c.written[key]
	return text, ok
}

// envNote says which settings under key read the environment, e.g.
// " (url is ${ATLAS_URL})", or "" when none did or the message names them.
func (c *Config) envNote(key, msg string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.written)) {
		w := c.written[k]
		if strings.Contains(msg, w) {
			continue
		}
		switch {
		case k == key:
			parts = append(parts, "read from "+w)
		case strings.HasPrefix(k, key+"."):
			parts = append(parts, strings.TrimPrefix(k, key+".")+" is "+w)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// rewriteConfigErrors applies fn to the message of every *ConfigError in
// err's tree, and appends note(key, message).
func rewriteConfigErrors(err error, fn func(string) string, note func(key, msg string) string) {
	if ce, ok := err.(*ConfigError); ok {
		ce.Msg = fn(ce.Msg)
		ce.Msg += note(ce.Key, ce.Msg)
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			rewriteConfigErrors(e, fn, note)
		}
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			rewriteConfigErrors(e, fn, note)
		}
	}
}

// shown is how an error quotes a value: the value itself when it is
// written in the file, else (it came from the environment, and may be a
// secret) only the reference, e.g. "the value of ${ATLAS_URL}".
func shown(raw, expanded string) string {
	if raw == expanded {
		return strconv.Quote(raw)
	}
	return "the value of " + strconv.Quote(raw)
}

type configParser struct {
	env     func(string) (string, bool)
	written map[string]string
	errs    []error
	lines   map[string]int
}

func (p *configParser) errorf(n *yaml.Node, key, msg string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ConfigError{Key: key, Line: line, Msg: msg})
}

// joinConfigErrors flattens joined errors, drops repeats (the same key
// and message), orders them by line, then key, and joins them.
func joinConfigErrors(errs []error) error {
	var flat []error
	seen := map[string]bool{}
	for _, err := range flatten(errs) {
		if ce, ok := err.(*ConfigError); ok {
			if seen[ce.Key+"\x00"+ce.Msg] {
				continue
			}
			seen[ce.Key+"\x00"+ce.Msg] = true
		}
		flat = append(flat, err)
	}
	if len(flat) == 0 {
		return nil
	}
	sort.SliceStable(flat, func(i, j int) bool {
		a, aok := flat[i].(*ConfigError)
		b, bok := flat[j].(*ConfigError)
		switch {
		case !aok || !bok:
			return aok && !bok // settings mistakes first
		case a.Line != b.Line:
			return a.Line < b.Line
		}
		return a.Key < b.Key // the checks after parsing walk maps: keep their order stable
	})
	return errors.Join(flat...)
}

func (p *configParser) mapping(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return // an empty section
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, orRoot(path), "must be a mapping")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		full := key
		if path != "" {
			full = path + "." + key
		}
		if strings.TrimSpace(key) == "" {
			p.errorf(k, orRoot(path)+"."+strconv.Quote(key), "empty key")
			continue
		}
		if seen[key] {
			p.errorf(k, full, "duplicate key")
			continue
		}
		seen[key] = true
		if p.lines != nil {
			p.lines[full] = k.Line
		}
		fn(key, k, v)
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

func (p *configParser) stringMap(n *yaml.Node, path string, into map[string]string) {
	p.mapping(n, path, func(key string, k, v *yaml.Node) {
		if s, ok := p.scalar(v, path+"."+key); ok {
			if s == "" {
				p.errorf(v, path+"."+key, "empty value")
			}
			into[key] = s
		}
	})
}

func (p *configParser) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, path, "must be a single value")
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	s, err := ExpandEnv(n.Value, p.env)
	if err != nil {
		p.errorf(n, path, err.Error())
		return "", false
	}
	if s != n.Value && strings.Contains(n.Value, "${") {
		p.written[path] = n.Value
	}
	return s, true
}

var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|\$\{[^}]*\}?`)

// ExpandEnv replaces ${NAME} and ${NAME:-default} in s using lookup; $$ is
// a literal $. A reference to an unset variable without a default, or a
// malformed reference, is an error naming the variable (never its value).
func ExpandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	var err error
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := envRef.FindStringSubmatch(m)
		if sub[1] == "" {
			if err == nil {
				err = fmt.Errorf("malformed environment reference %q (use ${NAME} or ${NAME:-default})", m)
			}
			return m
		}
		if v, ok := lookup(sub[1]); ok && (v != "" || sub[2] == "") {
			return v
		}
		if sub[2] != "" {
			return sub[3]
		}
		if err == nil {
			err = fmt.Errorf("environment variable %s is not set", sub[1])
		}
		return ""
	})
	return out, err
}
