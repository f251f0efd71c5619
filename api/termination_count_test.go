package api_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// A tenant has at most store.MaxTerminationsPerTenant terminations (1,000):
// a write that would create one more, a POST or a PATCH's create item, is
// 409 in the v5 format and stores nothing; a deletion frees a place, in the
// same patch too; another tenant has its own.

const terminationsBound = "a tenant has at most 1000 contract terminations; delete one (DELETE /api/v5/Contract/Termination/{id}) to create another"

// fillTerminations gives tn n terminations on penalty service 1, directly:
// a thousand requests would take longer than what they test.
func fillTerminations(t *testing.T, env *testkit.Env, tn testkit.Tenant, n int) {
	t.Helper()
	_, err := env.Store.DB().Exec(`INSERT INTO contract_terminations (tenant_id, penalty_service_id, name, created_by, updated_by)
		SELECT $1, 1, 'filler ' || g, $2, $2 FROM generate_series(1, $3) g`, tn.ID, uuid.NewString(), n)
	require.NoError(t, err)
}

// terminationsOf counts tn's terminations, as stored.
func terminationsOf(t *testing.T, env *testkit.Env, tn testkit.Tenant) int {
	t.Helper()
	var n int
	require.NoError(t, env.Store.DB().Get(&n, `SELECT count(*) FROM contract_terminations WHERE tenant_id = $1`, tn.ID))
	return n
}

func TestATenantHasAtMostItsBoundOfTerminations(t *testing.T) {
	_, router := openAPI(t)
	env := testkit.New(t)
	c := &conformance{t: t, env: env, router: router}
	fillTerminations(t, env, env.A, store.MaxTerminationsPerTenant-1-terminationsOf(t, env, env.A))
	body := map[string]any{"penaltyServiceId": 1, "name": "Early exit"}

	last := createTermination(t, env, "The last place")
	refused := c.do("POST", terminationsPath, env.A.OperatorKey, body, http.StatusConflict)
	assert.Equal(t, terminationsBound, requireV5Error(t, refused, http.StatusConflict).Message)
	created := []map[string]any{{"patchType": "create", "patchClientId": 1, "penaltyServiceId": 1, "name": "Patched in"}}
	assert.Equal(t, terminationsBound, requireV5Error(t, patchTermination(env, last, created), http.StatusConflict).Message)
	assert.Equal(t, store.MaxTerminationsPerTenant, terminationsOf(t, env, env.A), "nothing stored")

	swapped := append([]map[string]any{{"patchType": "delete", "patchClientId": 2}}, created...)
	requireWrite(t, patchTermination(env, last, swapped), "patch")
	assert.Equal(t, store.MaxTerminationsPerTenant, terminationsOf(t, env, env.A), "one deleted, one created")
	createTerminationOf(t, env, env.NewSandboxTenant("SB"), "Another tenant's")

	list := env.Do("GET", terminationsPath, env.A.SubmitterKey, nil).JSON(t)
	first := int64(list["items"].([]any)[0].(map[string]any)["identity"].(float64))
	requireWrite(t, env.Do("DELETE", terminationPath(first, ""), env.A.OperatorKey, nil), "delete")
	createTermination(t, env, "In the freed place")
	requireV5Error(t, env.Do("POST", terminationsPath, env.A.OperatorKey, body), http.StatusConflict)
}

// Two terminations asked for at once with one place left: one is created,
// the other is 409. A tenant's termination writes take turns under its
// catalog's row lock, held here until both wait for it; each counts the
// tenant's terminations under it, the second after the first committed.
func TestTerminationsCreatedAtOnceDoNotBothTakeTheLastPlace(t *testing.T) {
	env := testkit.New(t)
	fillTerminations(t, env, env.A, store.MaxTerminationsPerTenant-1-terminationsOf(t, env, env.A))
	db := env.Store.DB()
	hold, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = hold.Rollback() })
	_, err = hold.Exec(`SELECT 1 FROM catalogs WHERE tenant_id = $1 FOR UPDATE`, env.A.ID)
	require.NoError(t, err)

	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = env.Do("POST", terminationsPath, env.A.OperatorKey, map[string]any{"penaltyServiceId": 1, "name": "Racing"}).Status
		})
	}
	waitForLockWaits(t, env, len(statuses))
	require.NoError(t, hold.Rollback())
	wg.Wait()
	assert.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, statuses)
	assert.Equal(t, store.MaxTerminationsPerTenant, terminationsOf(t, env, env.A))
}
