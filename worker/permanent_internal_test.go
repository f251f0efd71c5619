package worker

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
)

func TestPermanentFailuresAreThoseThatCannotSucceed(t *testing.T) {
	wrap := func(code pq.ErrorCode) error { return fmt.Errorf("store: %w", &pq.Error{Code: code}) }
	// A value Postgres refuses fails the same way on every attempt.
	assert.True(t, isPermanent(wrap("22021"), 1), "NUL byte")
	assert.True(t, isPermanent(wrap("22P05"), 1), "NUL in jsonb")
	assert.True(t, isPermanent(wrap("54000"), 1), "index row too large")
	// A constraint violation may be a race a retry resolves; one that repeats is not.
	assert.False(t, isPermanent(wrap("23505"), 1))
	assert.True(t, isPermanent(wrap("23505"), integrityAttempts))
	// Infrastructure failures retry for as long as they last.
	assert.False(t, isPermanent(wrap("08006"), 100), "connection failure")
	assert.False(t, isPermanent(wrap("40001"), 100), "serialization failure")
	assert.False(t, isPermanent(errors.New("dial tcp: connection refused"), 100))
}
