// Package testdb gives a test a Postgres database of its own, created fresh
// and dropped when the test ends. It needs only the database: a store or
// payments test built on it compiles neither the API nor the worker (the
// full service is internal/testkit's).
package testdb

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	_ "github.com/lib/pq"

	"github.com/contractd/contractd/internal/store"
)

// AdminURL is the Postgres server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_ADMIN_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Empty creates an empty database for one test, with no schema, drops it
// when the test ends, and returns its URL.
func Empty(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		t.Fatalf("open the admin database: %v", err)
	}
	name := "contractd_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		_ = admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	return strings.Replace(AdminURL(), "/postgres?", "/"+name+"?", 1)
}

// Migrated opens a fresh database for one test with every migration
// applied; the store is closed and the database dropped when the test ends.
func Migrated(t testing.TB, opts ...store.Option) *store.Store {
	t.Helper()
	s, _ := MigratedURL(t, opts...)
	return s
}

// MigratedURL is Migrated, with the database's URL as well, for a test of
// a command that opens the database itself.
func MigratedURL(t testing.TB, opts ...store.Option) (*store.Store, string) {
	t.Helper()
	ctx := context.Background()
	url := Empty(t)
	s, err := store.Open(ctx, url, opts...)
	if err != nil {
		t.Fatalf("open the test database: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate the test database: %v", err)
	}
	return s, url
}
