package sqlstore

import (
	"fmt"
	"net/url"
	"path/filepath"
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
// sqlite::memory: and sqlite://:memory:. rest is what follows "sqlite:".
func parseSQLiteURL(raw, rest string) (dbConfig, error) {
	cfg := dbConfig{kind: kindSQLite, redacted: raw}
	path, query, hasQuery := strings.Cut(strings.TrimPrefix(rest, "//"), "?")
	if hasQuery {
		return dbConfig{}, fmt.Errorf("sqlstore: sqlite URL %q: query parameters (%q) are not supported; the store sets its own connection options", raw, query)
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
