package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// An operator saving the catalog as it is, again and again, neither waits
// for the tenant's changes nor holds them off, and re-prices nothing: a
// change holding the catalog's lock shared and its contract's lock, which
// a replacement would wait for (the first) and a re-pricing of the
// contract's open amendment too (the second), is held while the catalog is
// saved unchanged, and the save answers first, as a replacement would,
// storing nothing.
func TestAnUnchangedCatalogIsAnsweredWithoutWaitingForAChange(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	opened := change(env, env.A.SubmitterKey, annualRateNextCycle(id))
	require.Equal(t, http.StatusOK, opened.Status, "%s", opened.Body)
	amendmentID := opened.JSON(t)["quote"].(map[string]any)["id"].(string)
	// The first save stores the catalog as a read shows it (lists as [],
	// say): the next ones send it unchanged.
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat).Status)
	before := catalogRow(t, env)

	// The change, priced and written, waits to announce itself.
	held := holdCounter(t, env, "event")
	changed := inBackground(func() testkit.Response { return change(env, env.A.SubmitterKey, seats(id, 6)) })
	waitForLockWait(t, env, "tenant_counters")
	requireContractLocked(t, env, id)

	for range 3 {
		put := answeredWhileHeld(t, inBackground(func() testkit.Response {
			return env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
		}))
		require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
		assert.Equal(t, cat, put.JSON(t), "answered with the catalog, as a replacement is")
	}
	assert.Equal(t, before, catalogRow(t, env), "nothing stored: the same version, updated_at and updated_by")
	statuses, _ := historyOf(amendment(t, env, amendmentID))
	assert.NotContains(t, statuses, "REPRICED")
	assert.Empty(t, events(t, env, "type=amendment.repriced").Items)

	require.NoError(t, held.Rollback())
	resp := <-changed
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// A catalog changing only the tenant's default renewal terms is stored, but
// re-prices no open amendment, whose price they cannot change: it does not
// wait for the lock of a contract with one.
func TestACatalogChangingOnlyTheDefaultRenewalRepricesNothing(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	opened := change(env, env.A.SubmitterKey, annualRateNextCycle(id))
	require.Equal(t, http.StatusOK, opened.Status, "%s", opened.Body)
	before := catalogRow(t, env)

	held := holding(t, env, `SELECT 1 FROM contracts WHERE id = $1 FOR UPDATE`, id)
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	renewal := map[string]any{"mode": "AUTO_RENEW", "termMonths": 24.0, "upliftBasisPoints": 200.0, "noticeDays": 60.0}
	cat["renewal"] = renewal
	put := answeredWhileHeld(t, inBackground(func() testkit.Response {
		return env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	}))
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	require.NoError(t, held.Rollback())

	assert.Equal(t, renewal, env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)["renewal"])
	assert.NotEqual(t, before.Version, catalogRow(t, env).Version, "stored")
}

// An unchanged catalog gets the answer a replacement would give, a refusal
// too: one stored before contract terminations were checked may name one
// that is gone, and is refused unchanged (400, as in
// TestCatalogRefusesAnOfferingsUnknownTermination), without waiting for the
// catalog's row, which a replacement locks. The row is written directly,
// as such a catalog was stored.
func TestAnUnchangedCatalogIsRefusedAsAReplacementWouldBe(t *testing.T) {
	env := newAmendmentEnv(t)
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	offering := cat["offerings"].([]any)[0].(map[string]any)
	offering["contractTerminationId"] = 999999.0
	doc, err := json.Marshal(cat)
	require.NoError(t, err)
	_, err = env.Store.DB().Exec(`UPDATE catalogs SET document = $2 WHERE tenant_id = $1`, env.A.ID, doc)
	require.NoError(t, err)
	before := catalogRow(t, env)

	held := holdCatalogRow(t, env)
	put := answeredWhileHeld(t, inBackground(func() testkit.Response {
		return env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	}))
	require.NoError(t, held.Rollback())
	require.Equal(t, http.StatusBadRequest, put.Status, "%s", put.Body)
	assert.Contains(t, string(put.Body), "contractTerminationId 999999 is not a contract termination of this tenant")
	assert.Equal(t, before, catalogRow(t, env))
}

// answeredWhileHeld returns the answer of a request that must not wait for
// what the test holds: if it waits, it answers only once the test lets go,
// which the test does after this, so it fails here instead of hanging.
func answeredWhileHeld(t *testing.T, answered chan testkit.Response) testkit.Response {
	t.Helper()
	select {
	case resp := <-answered:
		return resp
	case <-time.After(time.Minute):
		t.Fatal("the request waited for what the test holds")
		return testkit.Response{}
	}
}

// storedCatalog is what the tenant's catalog row records of its last write.
type storedCatalog struct {
	Version   string    `db:"version"`
	UpdatedAt time.Time `db:"updated_at"`
	UpdatedBy string    `db:"updated_by"`
}

func catalogRow(t *testing.T, env *testkit.Env) storedCatalog {
	t.Helper()
	var row storedCatalog
	require.NoError(t, env.Store.DB().Get(&row, `SELECT version, updated_at, updated_by FROM catalogs WHERE tenant_id = $1`, env.A.ID))
	return row
}
