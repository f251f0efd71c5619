package store

import (
	"os"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A catalog replacement bounds its own lock waits and then gives the
// connection's lock_timeout back, the one an operator set for the role,
// the database or the connection: lifting the bound to 0 (as it did) would
// have let the replacement's re-pricing wait longer than the operator
// allows every other write.
func TestRestoreLockTimeoutGivesBackTheOperatorsOwn(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_ADMIN_URL") // as testdb.AdminURL, which imports this package
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	db, err := sqlx.Open("postgres", url+"&lock_timeout=7s")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	tx, err := db.BeginTxx(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	show := func() string {
		var v string
		require.NoError(t, tx.Get(&v, `SHOW lock_timeout`))
		return v
	}
	require.Equal(t, "7s", show(), "the operator's own, set for the connection")
	require.NoError(t, setLockTimeout(t.Context(), tx, catalogLockWait))
	assert.Equal(t, "5s", show())
	require.NoError(t, restoreLockTimeout(t.Context(), tx))
	assert.Equal(t, "7s", show())
}
