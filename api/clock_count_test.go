package api_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// fillClocks gives tn clocks, through the store, until it has n not deleted.
func fillClocks(t *testing.T, env *testkit.Env, tn testkit.Tenant, n int) {
	t.Helper()
	at := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	for i := range n {
		_, err := env.Store.CreateTestClock(t.Context(), tn.ID, uuid.NewString(), "filler "+strconv.Itoa(i), at, at)
		require.NoError(t, err)
	}
}

// A sandbox tenant has at most store.MaxClocksPerTenant test clocks that
// are not deleted (100): the next is 409, naming the bound and what to do;
// a deleted clock frees its place; another tenant has its own.
func TestATenantHasAtMostItsBoundOfTestClocks(t *testing.T) {
	_, router := openAPI(t)
	env := testkit.New(t)
	c := &conformance{t: t, env: env, router: router}
	sb := env.NewSandboxTenant("SB")
	fillClocks(t, env, sb, store.MaxClocksPerTenant-1)
	body := map[string]any{"name": "rehearsal", "frozenTime": clockStart}

	last := c.do("POST", "/api/test-clocks", sb.OperatorKey, body, http.StatusCreated).JSON(t)["id"].(string)
	refused := c.do("POST", "/api/test-clocks", sb.OperatorKey, body, http.StatusConflict).JSON(t)
	assert.Equal(t, "a tenant has at most 100 test clocks that are not deleted; delete one (DELETE /api/test-clocks/{id}) to create another",
		refused["message"])
	assert.Equal(t, store.MaxClocksPerTenant, countLiveClocks(t, env, sb), "nothing stored")

	other := env.NewSandboxTenant("SC")
	c.do("POST", "/api/test-clocks", other.OperatorKey, body, http.StatusCreated)

	require.Equal(t, http.StatusOK, env.Do("DELETE", "/api/test-clocks/"+last, sb.OperatorKey, nil).Status)
	c.do("POST", "/api/test-clocks", sb.OperatorKey, body, http.StatusCreated)
	c.do("POST", "/api/test-clocks", sb.OperatorKey, body, http.StatusConflict)
}

// Two clocks asked for at once with one place left: one is created, the
// other is 409. Both are held, by a lock of the clocks' table, until each
// has gone as far as it can before it inserts: the tenant's row, locked
// before the count, orders them, the second counting once the first has
// committed; counted without it, both counted 99 and both were created.
func TestClocksCreatedAtOnceDoNotBothTakeTheLastPlace(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	fillClocks(t, env, sb, store.MaxClocksPerTenant-1)
	body := map[string]any{"name": "rehearsal", "frozenTime": clockStart}

	blocked, release := holdTable(t, env.Store.DB().DB, "test_clocks", "SHARE")
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = env.Do("POST", "/api/test-clocks", sb.OperatorKey, body).Status })
	}
	require.Eventually(t, func() bool { return blocked() >= len(statuses) }, 10*time.Second, 10*time.Millisecond)
	release()
	wg.Wait()
	assert.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, statuses)
	assert.Equal(t, store.MaxClocksPerTenant, countLiveClocks(t, env, sb))
}

// countLiveClocks counts tn's clocks that are not deleted, as stored.
func countLiveClocks(t *testing.T, env *testkit.Env, tn testkit.Tenant) int {
	t.Helper()
	var n int
	require.NoError(t, env.Store.DB().Get(&n, `SELECT count(*) FROM test_clocks WHERE tenant_id = $1 AND status <> 'deleted'`, tn.ID))
	return n
}
