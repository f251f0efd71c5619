package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A transaction that changes several contracts announces what it did after
// it has locked them all: an announcement takes the tenant's event counter,
// and a change that holds a contract not locked yet, and then announces
// itself, would wait for the counter while the transaction waits for its
// contract. Postgres would end one of the two as a deadlock. Each test
// holds a contract's lock as such a change does, lets the transaction wait
// for it, then takes the counter and commits.

// A catalog edit re-prices the open amendments of every contract, and each
// re-pricing is announced.
func TestACatalogEditTakesEveryContractBeforeAnnouncingARepricing(t *testing.T) {
	env := newAmendmentEnv(t)
	ids := []string{fiveSeats(env, nil)["id"].(string), fiveSeats(env, nil)["id"].(string)}
	sort.Strings(ids) // the edit locks contracts in this order
	for _, id := range ids {
		require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, annualRateNextCycle(id)).Status)
	}

	// A change to the second contract, as it stands once it holds the
	// contract's lock and has yet to announce itself.
	held := holdContract(t, env, ids[1])

	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	raiseAnnualSeatPrice(cat)
	edited := make(chan testkit.Response, 1)
	go func() { edited <- env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat) }()
	waitForLockWait(t, env, "FOR UPDATE OF c")

	announceHeld(t, held, env.A.ID)
	put := <-edited
	assert.Equal(t, http.StatusOK, put.Status, "%s", put.Body)

	for _, id := range ids {
		var repriced int
		require.NoError(t, env.Store.DB().Get(&repriced, `SELECT count(*) FROM outbox_events WHERE contract_id = $1 AND type = 'amendment.repriced'`, id))
		assert.Equal(t, 1, repriced, "the pending rate change of %s is priced on the new annual price", id)
	}
}

// Deleting a clock fails the open amendments of each of its contracts and
// cancels it, each announced, contract after contract, under the clock's
// lock: one that leaves the clock's key alone, so that a change to a
// contract not locked yet may still hold the clock for its workflow. The
// deletion is
// called on the store, as the clock's workflow does: the workflow would
// retry a deletion that Postgres ended, which hides the deadlock.
func TestAClockDeletionTakesEveryContractBeforeAnnouncingIt(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	ids := []string{clockContract(t, env, sb, clockID, nil), clockContract(t, env, sb, clockID, nil)}
	sort.Strings(ids) // the deletion locks contracts in this order
	for _, id := range ids {
		scheduleSeats(t, env, sb, id, 8, "2027-06-10", http.StatusOK)
	}

	held := holdContract(t, env, ids[1])
	deleted := make(chan error, 1)
	go func() {
		_, err := env.Store.DeleteTestClock(t.Context(), sb.ID, clockID, uuid.NewString(), time.Now())
		deleted <- err
	}()
	waitForLockWait(t, env, "SELECT status FROM contracts")
	// A change opened on a contract of the clock holds the clock for its
	// workflow too, whose row names the clock the deletion has locked.
	_, err := held.Exec(`INSERT INTO test_clock_waits (workflow_id, clock_id) VALUES ($1, $2)`, "amendment-"+uuid.NewString(), clockID)
	require.NoError(t, err, "the change holds the clock while the deletion waits for its contract")
	announceHeld(t, held, sb.ID)
	require.NoError(t, <-deleted)

	// The API's deletion finds it done, and stops the clock's workflows.
	resp := env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	for _, id := range ids {
		got := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)
		assert.Equal(t, "canceled", got["status"])
		requireInOrder(t, clockEvents(t, env, sb, id), []string{
			"2027-01-10T12:00:00Z amendment.failed",
			"2027-01-10T12:00:00Z contract.canceled",
		})
	}
}

// holdContract locks a contract in a transaction of its own, as a change
// holds it before it announces itself; the test ends it.
func holdContract(t *testing.T, env *testkit.Env, contractID string) *sql.Tx {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	held, err := env.Store.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Rollback() })
	_, err = held.ExecContext(ctx, `SELECT 1 FROM contracts WHERE id = $1 FOR UPDATE`, contractID)
	require.NoError(t, err)
	return held
}

// announceHeld takes the tenant's event counter in the held transaction, as
// its change announcing itself does, and commits it.
func announceHeld(t *testing.T, held *sql.Tx, tenantID string) {
	t.Helper()
	_, err := held.Exec(`INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, 'event', 1)
		ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1`, tenantID)
	require.NoError(t, err, "the change announces itself while the other transaction waits for its contract")
	require.NoError(t, held.Commit())
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
	teamAnnualRate(cat)["unitPrices"].(map[string]any)["prod_seat"] = 17000
}

// teamAnnualRate is the Team offering's annual USD rate in cat.
func teamAnnualRate(cat map[string]any) map[string]any {
	for _, r := range offering(cat, "off_team")["rates"].([]any) {
		if rate := r.(map[string]any); rate["id"] == "rate_team_annual_usd" {
			return rate
		}
	}
	panic("no rate_team_annual_usd")
}

// waitForLockWait waits until a statement containing text waits for a lock.
// The statement comes after a request's way through Temporal and the
// worker, which a CI machine busy with the race detector and other
// packages' tests has taken more than 10 s over; a wait that never comes
// still fails the test.
func waitForLockWait(t *testing.T, env *testkit.Env, text string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var waiting bool
		err := env.Store.DB().Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%')`, text)
		return err == nil && waiting
	}, 45*time.Second, 20*time.Millisecond, "no statement containing %q waits for a lock", text)
}
