package sqlstore

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/internal/redact"
)

// Database kinds, as Open tells them apart by URL scheme.
const (
	kindSQLite   = "sqlite"
	kindPostgres = "postgres"
)

// supportedSchemes is listed in the error for an unknown scheme.
const supportedSchemes = "sqlite://, postgres://, postgresql://"

// dbConfig is a parsed database URL.
type dbConfig struct {
	kind string
	// SQLite: path is the database file; memory is set for an in-memory
	// database (path is then empty).
	path   string
	memory bool
	// SQLite: cacheSize and batchSize are the URL's cache_size and
	// batch_size parameters (0: not given).
	cacheSize int64
	batchSize int
	// PostgreSQL: dsn is the URL as given, handed to pgx.
	dsn string
	// redacted is the URL with any password replaced, for messages.
	redacted string
	// secrets are strings that must never appear in an error message.
	secrets []string
}

// parseDBURL splits a database URL into its kind and connection details.
// Errors never contain a password.
func parseDBURL(raw string) (dbConfig, error) {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/\\ ") {
		if strings.Contains(raw, "=") {
			return dbConfig{}, fmt.Errorf("sqlstore: the database setting is a key=value connection string (not shown: it may hold a password); give a URL instead (supported: %s)", supportedSchemes)
		}
		return dbConfig{}, fmt.Errorf("sqlstore: database URL %q has no scheme (supported: %s)", redact.URL(raw), supportedSchemes)
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		return parseSQLiteURL(raw, rest)
	case "postgres", "postgresql":
		cfg := dbConfig{kind: kindPostgres, dsn: raw, redacted: redact.URL(raw), secrets: redact.Passwords(raw)}
		if _, err := url.Parse(raw); err != nil {
			// url.Error repeats the URL; say only what is wrong.
			return dbConfig{}, fmt.Errorf("sqlstore: database URL %s is not a valid URL", cfg.redacted)
		}
		return cfg, nil
	}
	return dbConfig{}, fmt.Errorf("sqlstore: unsupported database URL scheme %q (supported: %s)", scheme, supportedSchemes)
}

// parseSQLiteURL handles sqlite://relative/path.db, sqlite:///absolute/path.db,
// sqlite::memory: and sqlite://:memory:, each with the optional parameters
// cache_size and batch_size. rest is what follows "sqlite:".
func parseSQLiteURL(raw, rest string) (dbConfig, error) {
	cfg := dbConfig{kind: kindSQLite, redacted: raw}
	path, query, hasQuery := strings.Cut(strings.TrimPrefix(rest, "//"), "?")
	if hasQuery {
		if err := parseSQLiteParams(raw, query, &cfg); err != nil {
			return dbConfig{}, err
		}
	}
	if path == ":memory:" {
		cfg.memory = true
		return cfg, nil
	}
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return dbConfig{}, fmt.Errorf("sqlstore: sqlite URL %q: bad escape in path: %v", raw, err)
	}
	if unescaped == "" {
		return dbConfig{}, fmt.Errorf("sqlstore: sqlite URL %q has no file path (want sqlite://relative/file.db, sqlite:///absolute/file.db or sqlite::memory:)", raw)
	}
	cfg.path = filepath.Clean(filepath.FromSlash(unescaped))
	return cfg, nil
}

// sqliteParams lists the parameters a sqlite URL takes, for messages.
const sqliteParams = "cache_size (bytes, or with KiB, MiB or GiB) and batch_size (datums)"

// parseSQLiteParams reads the query of a sqlite URL into cfg.
func parseSQLiteParams(raw, query string, cfg *dbConfig) error {
	q, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("sqlstore: sqlite URL %q: bad parameters: %v", raw, err)
	}
	for name, vs := range q {
		if len(vs) != 1 {
			return fmt.Errorf("sqlstore: sqlite URL %q: parameter %s is given %d times", raw, name, len(vs))
		}
		v := vs[0]
		switch name {
		case "cache_size":
			n, err := parseSize(v)
			if err != nil {
				return fmt.Errorf("sqlstore: sqlite URL %q: cache_size: %v", raw, err)
			}
			cfg.cacheSize = n
		case "batch_size":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("sqlstore: sqlite URL %q: batch_size %q is not a positive number of datums", raw, v)
			}
			cfg.batchSize = n
		default:
			return fmt.Errorf("sqlstore: sqlite URL %q: unknown parameter %q (a sqlite URL takes %s; the store sets its own connection options)",
				raw, name, sqliteParams)
		}
	}
	return nil
}

// parseSize reads a positive size in bytes: a whole number, optionally
// followed by KiB, MiB or GiB (any case).
func parseSize(v string) (int64, error) {
	num, mult := v, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}} {
		if len(v) > len(u.suffix) && strings.EqualFold(v[len(v)-len(u.suffix):], u.suffix) {
			num, mult = v[:len(v)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a positive whole number of bytes (e.g. 268435456, 256MiB, 1GiB)", v)
	}
	return n * mult, nil
}
