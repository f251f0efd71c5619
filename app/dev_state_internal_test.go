package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded Temporal server's state is paired with the first database
// dev runs it against; another database (the first dropped and made again,
// or DATABASE_URL pointed elsewhere) is refused, saying what to do, rather
// than run workflows that skip its work.
func TestTemporalStateIsRefusedToAnotherDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, claimTemporalState(dir, "db-one"), "a new state directory is paired")
	require.NoError(t, claimTemporalState(dir, "db-one"), "the same database again")

	err := claimTemporalState(dir, "db-two")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was made with another database than DATABASE_URL's (database db-one, not db-two)")
	assert.Contains(t, err.Error(), "Remove "+dir+" to start Temporal afresh")
	require.NoError(t, claimTemporalState(dir, "db-one"), "refusing changed nothing")
}

// A state directory from before the pairing holds the server's file but no
// database's name: it is taken by the database it runs against now.
func TestTemporalStateFromBeforeThePairingIsTaken(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "temporal.db"), nil, 0o644))
	require.NoError(t, claimTemporalState(dir, "db-one"))
	assert.Error(t, claimTemporalState(dir, "db-two"))
}
