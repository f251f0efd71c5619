package api_test

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A catalog edit re-prices the open amendments of every contract, and a
// re-pricing announces itself, which takes the tenant's event counter. It
// takes every contract's lock before the first re-pricing: a change that
// holds a contract the edit has not locked yet, and then announces itself,
// would otherwise wait for the counter while the edit waits for its
// contract, and Postgres would end one of the two as a deadlock.
func TestACatalogEditTakesEveryContractBeforeAnnouncingARepricing(t *testing.T) {
	env := newAmendmentEnv(t)
	ids := []string{fiveSeats(env, nil)["id"].(string), fiveSeats(env, nil)["id"].(string)}
	sort.Strings(ids) // the edit locks contracts in this order
	for _, id := range ids {
		require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, annualRateNextCycle(id)).Status)
	}

	// A change to the second contract, as it stands once it holds the
	// contract's lock and has yet to announce itself.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	held, err := env.Store.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = held.Rollback() }()
	_, err = held.ExecContext(ctx, `SELECT 1 FROM contracts WHERE id = $1 FOR UPDATE`, ids[1])
	require.NoError(t, err)

	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	raiseAnnualSeatPrice(cat)
	edited := make(chan testkit.Response, 1)
	go func() { edited <- env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat) }()
	waitForLockWait(t, env, "FOR UPDATE OF c")

	_, err = held.ExecContext(ctx, `INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, 'event', 1)
		ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1`, env.A.ID)
	require.NoError(t, err, "the change announces itself while the edit waits for its contract")
	require.NoError(t, held.Commit())
	put := <-edited
	assert.Equal(t, http.StatusOK, put.Status, "%s", put.Body)

	for _, id := range ids {
		var repriced int
		require.NoError(t, env.Store.DB().Get(&repriced, `SELECT count(*) FROM outbox_events WHERE contract_id = $1 AND type = 'amendment.repriced'`, id))
		assert.Equal(t, 1, repriced, "the pending rate change of %s is priced on the new annual price", id)
	}
}

// annualRateNextCycle moves a contract's Team line to the annual rate at its
// next bill cycle: a change that waits, priced on the catalog's rate.
func annualRateNextCycle(contractID string) map[string]any {
	return map[string]any{
		"action": "RATE_CHANGE", "contractId": contractID, "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	}
}

// raiseAnnualSeatPrice lists a Team seat on the annual rate at 17000.
func raiseAnnualSeatPrice(cat map[string]any) {
	for _, r := range offering(cat, "off_team")["rates"].([]any) {
		if rate := r.(map[string]any); rate["id"] == "rate_team_annual_usd" {
			rate["unitPrices"].(map[string]any)["prod_seat"] = 17000
		}
	}
}

// waitForLockWait waits until a statement containing text waits for a lock.
func waitForLockWait(t *testing.T, env *testkit.Env, text string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var waiting bool
		err := env.Store.DB().Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%')`, text)
		return err == nil && waiting
	}, 10*time.Second, 20*time.Millisecond)
}
