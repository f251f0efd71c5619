package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A statement the service runs is prepared once per connection, and a
// migration that changes what it returns does not make it fail.
func TestPreparedStatementsSurviveASchemaChange(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.Empty(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	db := st.DB()
	_, err = db.ExecContext(ctx, `CREATE TABLE plans (id int PRIMARY KEY, seats int NOT NULL)`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO plans VALUES (1, 5)`)
	require.NoError(t, err)

	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	const query = `SELECT seats FROM plans WHERE id = $1`
	var seats string
	for range 3 {
		require.NoError(t, conn.QueryRowContext(ctx, query, 1).Scan(&seats))
		require.Equal(t, "5", seats)
	}
	var prepared int
	require.NoError(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement = $1`, query).Scan(&prepared))
	require.Equal(t, 1, prepared, "three runs share one prepared statement")

	_, err = db.ExecContext(ctx, `ALTER TABLE plans ALTER COLUMN seats TYPE text USING seats || ' seats'`)
	require.NoError(t, err)
	require.NoError(t, conn.QueryRowContext(ctx, query, 1).Scan(&seats))
	require.Equal(t, "5 seats", seats)

	// Inside a transaction the stale statement fails it with Postgres's own
	// error, and the transaction's retry succeeds.
	require.NoError(t, conn.QueryRowContext(ctx, query, 1).Scan(&seats))
	_, err = db.ExecContext(ctx, `ALTER TABLE plans ALTER COLUMN seats TYPE varchar(20)`)
	require.NoError(t, err)
	readInTx := func() error {
		tx, err := conn.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		return tx.QueryRowContext(ctx, query, 1).Scan(&seats)
	}
	require.ErrorContains(t, readInTx(), "cached plan must not change result type")
	require.NoError(t, readInTx())
	require.Equal(t, "5 seats", seats)
}
