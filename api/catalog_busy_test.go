package api_test

import (
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A catalog edit waits a few seconds at most for each lock it takes. A
// transaction holding one open (a change stuck with the catalog's advisory
// lock shared, a termination write holding the catalog's row) kept the
// edit waiting without bound, its request and connection held, and every
// change of the tenant sent meanwhile queued behind it. It is answered 503
// with Retry-After in the general format, having stored nothing, and goes
// through once the lock is let go.
func TestACatalogEditBehindAHeldLockIsAnsweredBusy(t *testing.T) {
	env := newAmendmentEnv(t)
	holds := []struct {
		name string
		hold func() *sql.Tx
	}{
		// The advisory lock of catalog_lock.go (class "cata", the tenant's
		// id hashed), shared, as a change under way holds it.
		{"a change's share of the catalog's advisory lock", func() *sql.Tx {
			return holding(t, env, `SELECT pg_advisory_xact_lock_shared(x'63617461'::int, hashtext($1::uuid::text))`, env.A.ID)
		}},
		{"a termination write's share of the catalog's row", func() *sql.Tx { return holdCatalogRow(t, env) }},
	}
	for i, h := range holds {
		cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
		price := 17000 + i
		teamAnnualRate(cat)["unitPrices"].(map[string]any)["prod_seat"] = price
		held := h.hold()

		start := time.Now()
		put := inBackground(func() testkit.Response { return env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat) })
		var busy testkit.Response
		select {
		case busy = <-put:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the edit still waits after 30 s", h.name)
		}
		require.Equal(t, http.StatusServiceUnavailable, busy.Status, "%s: %s", h.name, busy.Body)
		assert.Less(t, time.Since(start), 20*time.Second, h.name)
		assert.Equal(t, "5", busy.Header.Get("Retry-After"), h.name)
		assert.Equal(t, map[string]any{"code": "Service Unavailable",
			"message": "the tenant's catalog is busy: other writes held it for more than 5s; nothing was changed, retry later"}, busy.JSON(t), h.name)
		assert.NotEqual(t, price, annualSeatPrice(t, env), "%s: nothing stored", h.name)

		require.NoError(t, held.Rollback())
		again := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
		require.Equal(t, http.StatusOK, again.Status, "%s: %s", h.name, again.Body)
		assert.Equal(t, price, annualSeatPrice(t, env), h.name)
	}
}

// annualSeatPrice is the Team annual rate's seat price in the stored catalog.
func annualSeatPrice(t *testing.T, env *testkit.Env) int {
	t.Helper()
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	return int(teamAnnualRate(cat)["unitPrices"].(map[string]any)["prod_seat"].(float64))
}
