package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// TestEvent and AppendEvents give the outbox's writer to store_test.
type TestEvent = newEvent

func AppendEvents(ctx context.Context, s *Store, events []TestEvent) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return appendEvents(ctx, tx, events) })
}
