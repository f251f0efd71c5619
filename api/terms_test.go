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

func timelineRead(env *testkit.Env, id string) func() map[string]any {
	return func() map[string]any {
		resp := env.Do("GET", "/api/contracts/"+id+"/timeline", env.A.SubmitterKey, nil)
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

// In its notice window an auto-renewing contract holds its renewal; a
// quantity change at the end of the term comes after it, priced on the
// uplifted prices, and an immediate change re-prices both without moving
// either date.
func TestEndOfTermChangeFollowsTheRenewal(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-04-01", "expirationDate": "2026-04-01", "renewal": autoRenew(350)})
	id := ct["id"].(string)
	eventually(t, timelineRead(env, id), func(tl map[string]any) bool { return len(tl["phases"].([]any)) == 1 })
	eot := seats(id, 7)
	eot["relativeEffectiveDate"] = "END_OF_TERM"
	resp := change(env, env.A.SubmitterKey, eot)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "2026-04-01", quote["effectiveDate"])
	assert.EqualValues(t, 7*1553+518, quote["recurringAfter"], "priced on the renewed prices")
	assert.EqualValues(t, 0, quote["prorationTotal"])

	now := change(env, env.A.SubmitterKey, seats(id, 6))
	require.Equal(t, http.StatusOK, now.Status, "%s", now.Body)
	tl := env.Do("GET", "/api/contracts/"+id+"/timeline", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, tl.Status)
	phases := tl.JSON(t)["phases"].([]any)
	require.Len(t, phases, 2)
	want := []struct {
		action    string
		recurring float64
	}{{"RENEWAL", 6*1553 + 518}, {"QUANTITY_CHANGE", 7*1553 + 518}}
	for i, w := range want {
		p := phases[i].(map[string]any)
		assert.Equal(t, w.action, p["action"], "phase %d", i)
		assert.Equal(t, "2026-04-01", p["effectiveDate"], "phase %d keeps its date", i)
		assert.Equal(t, "SCHEDULED", p["status"], "phase %d", i)
		assert.EqualValues(t, w.recurring, p["after"].(map[string]any)["recurringAmount"], "phase %d", i)
	}
}
