package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// autoRenew is renewal terms that renew for a year with an uplift.
func autoRenew(upliftBP int) map[string]any {
	return map[string]any{"mode": "AUTO_RENEW", "termMonths": 12, "upliftBasisPoints": upliftBP, "noticeDays": 30}
}

// eventually polls read until done holds of its result, for what a
// workflow does after the request that started it has been answered.
func eventually(t *testing.T, read func() map[string]any, done func(map[string]any) bool) map[string]any {
	t.Helper()
	var got map[string]any
	require.Eventually(t, func() bool { got = read(); return done(got) }, 20*time.Second, 50*time.Millisecond)
	return got
}

func contractRead(env *testkit.Env, id string) func() map[string]any {
	return func() map[string]any {
		resp := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil)
		require.Equal(env.T, http.StatusOK, resp.Status)
		return resp.JSON(env.T)
	}
}

// A contract created back-dated whose term ends today renews at once: a
// new term of twelve months, prices uplifted per unit, version 2.
func TestTermEndingTodayAutoRenews(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2026-03-15", "renewal": autoRenew(350)})
	id := ct["id"].(string)
	assert.Equal(t, "AUTO_RENEW", ct["renewal"].(map[string]any)["mode"])
	got := eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["version"].(float64) == 2 })
	assert.Equal(t, "active", got["status"])
	assert.Equal(t, "2027-03-15", got["expirationDate"])
	assert.Equal(t, "2026-03-15", got["termStart"])
	// 5 seats × 1500 → 1553 (1552.5 rounds up) and 1 TB × 500 → 518 (517.5).
	assert.EqualValues(t, 5*1553+518, got["recurringAmount"])
}

// EXPIRE: a term that ended yesterday ends the contract and says so in
// the event feed.
func TestTermEndedYesterdayExpires(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-14", "expirationDate": "2026-03-14"})
	id := ct["id"].(string)
	assert.Equal(t, "EXPIRE", ct["renewal"].(map[string]any)["mode"])
	eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["status"] == "expired" })
	events := env.Do("GET", "/api/events?type=contract.expired", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, events.Status)
	assert.Contains(t, string(events.Body), id)
}
