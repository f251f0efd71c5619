package invariants_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/invariants"
)

// The checker finds what it claims to: a contract whose version no longer
// counts its segments and an authorisation nobody settled, and nothing on a
// healthy database.
func TestCheckFindsBrokenInvariants(t *testing.T) {
	env := testkit.New(t)
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})
	db := env.Store.DB()
	check := func() []string {
		t.Helper()
		found, err := invariants.Check(t.Context(), db, env.Temporal, time.Second)
		require.NoError(t, err)
		var names []string
		for _, v := range found {
			names = append(names, v.Invariant)
		}
		return names
	}
	require.Empty(t, check())

	authorisation := uuid.NewString()
	_, err := db.Exec(`UPDATE contracts SET version = 2 WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sandbox_ledger (id, idempotency_key, operation, payment_method, amount, currency, approved)
		VALUES ($1, 'test', 'AUTHORISE', 'pm_card_ok', 100, 'USD', true)`, authorisation)
	require.NoError(t, err)
	assert.Equal(t, []string{"version = segments", "versions applied without gaps", "authorisation settled exactly once"}, check())

	// Put it back, for testkit's own check after the test.
	_, err = db.Exec(`UPDATE contracts SET version = 1 WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`DELETE FROM sandbox_ledger WHERE id = $1`, authorisation)
	require.NoError(t, err)
}
