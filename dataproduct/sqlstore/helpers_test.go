package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/tomgo/targetdata/internal/redact"
)

// PostgresEnv is the variable naming the PostgreSQL server the tests use.
const PostgresEnv = "TARGETDATA_POSTGRES_URL"

// RequirePostgresForTest returns TARGETDATA_POSTGRES_URL. Without it, it
// skips the test, except in CI (CI set), where it fails it: a test that
// needs a server must not pass there by skipping.
func RequirePostgresForTest(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal(PostgresEnv + " not set: CI must run the PostgreSQL tests; source .ci/postgres.sh before go test")
		}
		tb.Skip(PostgresEnv + " not set: skipping the PostgreSQL tests (source .ci/postgres.sh to run them)")
	}
	return base
}

// PostgresURLForTest returns the URL of a fresh, empty schema on the
// server TARGETDATA_POSTGRES_URL names (through search_path), dropped with
// everything in it when the test ends, so PostgreSQL tests can run in
// parallel and again. Without the variable the test is skipped, except in
// CI (CI set), where it fails: a test that needs a server must not pass
// there by skipping.
func PostgresURLForTest(tb testing.TB) string {
	tb.Helper()
	base := RequirePostgresForTest(tb)
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "td_test_" + hex.EncodeToString(r[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", redact.URL(base), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema %s on %s: %v", schema, redact.URL(base), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL (use the postgres://user:password@host:port/db form)", PostgresEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
