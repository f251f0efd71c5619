// Package store is the service's Postgres persistence: connection, embedded
// migrations and the queries each part of the service needs. Every query on
// tenant data is scoped by tenant id.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Store wraps the connection pool.
type Store struct {
	db       *sqlx.DB
	catalogs *catalogCache
	segments *segmentCache
}

// Option changes how Open connects.
type Option func(*options)

type options struct {
	tracing trace.TracerProvider
}

// WithTracing makes every statement, transaction and connection a span of
// tp (otelsql), a child of the span in the statement's context. Without it
// the pool runs on lib/pq with nothing in between.
func WithTracing(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracing = tp }
}

// Open connects to Postgres and checks the connection.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	connector, err := pq.NewConnector(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	var pool *sql.DB
	if o.tracing == nil {
		pool = sql.OpenDB(preparingConnector{connector})
	} else {
		// Outside the preparing connector, so that a span times the statement
		// as it is run, prepared or not.
		pool = otelsql.OpenDB(preparingConnector{connector}, otelsql.WithTracerProvider(o.tracing),
			otelsql.WithAttributes(semconv.DBSystemNamePostgreSQL),
			otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitRows: true}))
	}
	db := sqlx.NewDb(pool, "postgres")
	// Sized for a small machine: the worker and API share one pool in `dev`.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Store{db: db, catalogs: &catalogCache{}, segments: &segmentCache{}}, nil
}

// DB exposes the pool for health checks and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// DatabaseID is the name this database was given when its schema was made
// (migration 0029): a database dropped and made again has another.
func (s *Store) DatabaseID(ctx context.Context) (string, error) {
	var id string
	if err := s.db.GetContext(ctx, &id, `SELECT id FROM database_identity`); err != nil {
		return "", fmt.Errorf("read the database's identity: %w", err)
	}
	return id, nil
}

// Close releases the pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that Postgres answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// EnsureDatabase creates the database named in databaseURL if it does not exist,
// connecting to the server's maintenance database to do so.
func EnsureDatabase(ctx context.Context, databaseURL string) error {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return errors.New("DATABASE_URL names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return fmt.Errorf("open maintenance database: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil && !isDuplicateDatabase(err) {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// ErrNotFound is returned when a tenant-scoped lookup finds nothing.
var ErrNotFound = errors.New("not found")

// BusyError is a write that gave up waiting for a lock other transactions
// held longer than it waits (Postgres's lock_timeout, SQLSTATE 55P03
// lock_not_available): its transaction was rolled back, nothing was
// written, and the same request later goes through once they are done.
type BusyError struct {
	// What names what was locked; Waited is how long the write waited.
	What   string
	Waited time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s is busy: other writes held it for more than %s; nothing was changed, retry later", e.What, e.Waited)
}

// setLockTimeout bounds each lock wait of the rest of tx to wait. A wait
// that runs out ends tx with SQLSTATE 55P03 (see busyAs).
func setLockTimeout(ctx context.Context, tx *sqlx.Tx, wait time.Duration) error {
	if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', $1, true)`, fmt.Sprintf("%dms", wait.Milliseconds())); err != nil {
		return fmt.Errorf("set lock_timeout: %w", err)
	}
	return nil
}

// restoreLockTimeout gives the rest of tx the connection's own lock_timeout
// back (the server's, the database's or the role's, as an operator set it):
// setting it to 0 would have lifted a bound the operator chose.
func restoreLockTimeout(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout TO DEFAULT`); err != nil {
		return fmt.Errorf("restore lock_timeout: %w", err)
	}
	return nil
}

// busyAs is err, or a BusyError naming what when err is a lock wait that
// ran out after waited.
func busyAs(err error, what string, waited time.Duration) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "55P03" {
		return &BusyError{What: what, Waited: waited}
	}
	return err
}

// isUniqueViolation reports a duplicate key (SQLSTATE 23505), optionally on a
// specific constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		return false
	}
	return constraint == "" || pqErr.Constraint == constraint
}

func isForeignKeyViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23503" && pqErr.Constraint == constraint
}

func isDuplicateDatabase(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42P04"
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// nextNumber allocates the tenant's next value of a named counter inside tx.
func nextNumber(ctx context.Context, tx *sqlx.Tx, tenantID, name string) (int64, error) {
	return advanceCounter(ctx, tx, tenantID, name, 1)
}

// advanceCounter allocates the tenant's next n values of a named counter
// inside tx and returns the last of them.
func advanceCounter(ctx context.Context, tx *sqlx.Tx, tenantID, name string, n int64) (int64, error) {
	var last int64
	err := tx.QueryRowxContext(ctx, counterAdvance, tenantID, name, n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("allocate %s numbers: %w", name, err)
	}
	return last, nil
}

// counterAdvance adds $3 to the tenant ($1)'s counter named $2, creating it
// at $3, and returns its new value.
var counterAdvance = counterUpsert("$1", "$2", "$3")

// counterUpsert is counterAdvance with its parameters named as given.
func counterUpsert(tenant, name, n string) string {
	return `INSERT INTO tenant_counters (tenant_id, name, value) VALUES (` + tenant + `, ` + name + `, ` + n + `)
	ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + ` + n + `
	RETURNING value`
}

// page trims a keyset query's rows, fetched with LIMIT size+1, to size and
// reports whether more follow.
func page[T any](rows []T, size int) ([]T, bool) {
	if len(rows) > size {
		return rows[:size], true
	}
	return rows, false
}
