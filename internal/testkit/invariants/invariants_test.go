package invariants_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/invariants"
)

// The checker finds what it claims to: a contract whose version no longer
// counts its segments, one holding an offering on two lines, an
// authorisation nobody settled, a schedule in arrears that owes nothing and
// a line on another billing period than its contract's, a schedule whose
// history skips a place or ends in another status than its own, and nothing
// on a healthy database.
func TestCheckFindsBrokenInvariants(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})
	db := env.Store.DB()
	check := func() []string { return violated(t, db, env.Temporal) }
	require.Empty(t, check())

	authorisation := uuid.NewString()
	_, err := db.Exec(`UPDATE contracts SET version = 2 WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sandbox_ledger (id, idempotency_key, operation, payment_method, amount, currency, approved)
		VALUES ($1, 'test', 'AUTHORISE', 'pm_card_ok', 100, 'USD', true)`, authorisation)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE contracts SET schedule_in_arrears = true, lines = lines || lines WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	assert.Equal(t, []string{"version = segments", "versions applied without gaps", "one line per offering",
		"authorisation settled exactly once", "in arrears only while owing"}, check())

	// Put it back, for testkit's own check after the test.
	_, err = db.Exec(`UPDATE contracts SET version = 1, schedule_in_arrears = false, lines = jsonb_build_array(lines -> 0) WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`DELETE FROM sandbox_ledger WHERE id = $1`, authorisation)
	require.NoError(t, err)

	// A schedule whose status changed with no event, and a history with a
	// place missing.
	_, err = db.Exec(`UPDATE contracts SET schedule_status = 'Terminated' WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	assert.Equal(t, []string{"schedule history without gaps, ending in the schedule's status"}, check())
	_, err = db.Exec(`UPDATE contracts SET schedule_status = 'Active' WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE schedule_events SET position = 2 WHERE contract_id = $1`, ct["id"])
	require.NoError(t, err)
	assert.Equal(t, []string{"schedule history without gaps, ending in the schedule's status"}, check())
	// The newest is the one at the last place, whatever the ids say: an
	// event written later at the first place changes nothing.
	_, err = db.Exec(`INSERT INTO schedule_events (tenant_id, contract_id, status, actor_id, source, at, position)
		SELECT tenant_id, contract_id, 'Terminated', actor_id, source, at, 1 FROM schedule_events WHERE contract_id = $1`, ct["id"])
	require.NoError(t, err)
	assert.Empty(t, check())
	_, err = db.Exec(`DELETE FROM schedule_events WHERE contract_id = $1 AND position = 1`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE schedule_events SET position = 1 WHERE contract_id = $1`, ct["id"])
	require.NoError(t, err)
	// A contract with no history at all.
	var saved string
	require.NoError(t, db.Get(&saved, `DELETE FROM schedule_events e WHERE contract_id = $1 RETURNING row_to_json(e)`, ct["id"]))
	assert.Equal(t, []string{"schedule history without gaps, ending in the schedule's status"}, check())
	_, err = db.Exec(`INSERT INTO schedule_events SELECT * FROM json_populate_record(NULL::schedule_events, $1)`, saved)
	require.NoError(t, err)

	_, err = db.Exec(`UPDATE contracts SET billing_period = 'ANNUAL' WHERE id = $1`, ct["id"])
	require.NoError(t, err)
	assert.Equal(t, []string{"every line bills its contract's period"}, check())
	_, err = db.Exec(`UPDATE contracts SET billing_period = 'MONTHLY' WHERE id = $1`, ct["id"])
	require.NoError(t, err)
}

// The timeline's invariants: a change left dated after its contract's
// scheduled cancellation, and a quote version that counts a re-pricing
// nobody recorded, are found; the database's constraints keep the others
// (one order, one open cancellation) from being broken at all.
func TestCheckFindsABrokenTimeline(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})
	submit := func(body map[string]any) string {
		t.Helper()
		resp := env.Do("POST", "/api/selfService/contract", env.A.SubmitterKey, body)
		require.Equal(t, 200, resp.Status, "%s", resp.Body)
		return resp.JSON(t)["quote"].(map[string]any)["id"].(string)
	}
	submit(map[string]any{"action": "CANCELLATION", "contractId": ct["id"], "payload": nil, "effectiveDate": "2026-04-10"})
	seats := submit(map[string]any{"action": "QUANTITY_CHANGE", "contractId": ct["id"], "effectiveDate": "2026-04-01",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team",
			"products": []any{map[string]any{"productId": "prod_seat", "quantity": 6}}}}}})
	db := env.Store.DB()
	check := func() []string { return violated(t, db, nil) }
	require.Empty(t, check())

	_, err := db.Exec(`UPDATE amendments SET effective_date = '2026-05-01', quote_version = 2 WHERE id = $1`, seats)
	require.NoError(t, err)
	assert.Equal(t, []string{"nothing open after a scheduled cancellation", "each re-pricing recorded"}, check())

	_, err = db.Exec(`UPDATE amendments SET effective_date = '2026-04-01', quote_version = 1 WHERE id = $1`, seats)
	require.NoError(t, err)
}

// The ledger's invariants: an invoice whose amount due no longer makes up
// its total with what paid it, and a credit note whose remaining credit
// disagrees with what it was applied to, are found.
func TestCheckFindsAnUnbalancedLedger(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})
	resp := env.Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": "2026-03-01"})
	require.Equal(t, 200, resp.Status, "%s", resp.Body)
	env.Clock.Set(time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC))
	down := env.Do("POST", "/api/selfService/contract", env.A.SubmitterKey, map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": ct["id"],
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team",
			"products": []any{map[string]any{"productId": "prod_seat", "quantity": 2}}}}}})
	require.Equal(t, 200, down.Status, "%s", down.Body)
	db := env.Store.DB()
	check := func() []string { return violated(t, db, nil) }
	require.Empty(t, check())

	_, err := db.Exec(`UPDATE invoices SET amount_due = amount_due + 1 WHERE id = (SELECT id FROM invoices WHERE contract_id = $1 AND kind = 'RECURRING' ORDER BY period_start DESC LIMIT 1)`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE credit_notes SET remaining = remaining - 1 WHERE contract_id = $1`, ct["id"])
	require.NoError(t, err)
	assert.Equal(t, []string{"invoice settled by what paid it", "credit note spent as applied"}, check())

	// Put it back, for testkit's own check after the test.
	_, err = db.Exec(`UPDATE invoices SET amount_due = amount_due - 1 WHERE id = (SELECT id FROM invoices WHERE contract_id = $1 AND kind = 'RECURRING' ORDER BY period_start DESC LIMIT 1)`, ct["id"])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE credit_notes SET remaining = remaining + 1 WHERE contract_id = $1`, ct["id"])
	require.NoError(t, err)
}

// violated names the invariants Check finds broken on db (with workflows,
// asked too, given a second to catch up), in its order.
func violated(t *testing.T, db *sqlx.DB, workflows client.Client) []string {
	t.Helper()
	found, err := invariants.Check(t.Context(), db, workflows, time.Second)
	require.NoError(t, err)
	var names []string
	for _, v := range found {
		names = append(names, v.Invariant)
	}
	return names
}

// Two advances of one tenant under way holding more work than one advance
// may carry out between them break the shared budget; one alone holding it
// (its first day, free when it started alone) does not.
func TestCheckFindsATenantsAdvancesHoldingTooMuch(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	db := env.Store.DB()
	check := func() []string { return violated(t, db, nil) }
	clocks := make([]string, 2)
	for i := range clocks {
		c, err := env.Store.CreateTestClock(t.Context(), sb.ID, uuid.NewString(), "clock", time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC), time.Now())
		require.NoError(t, err)
		clocks[i] = c.ID
		_, err = db.Exec(`UPDATE test_clocks SET status = 'advancing', target_time = frozen_time + interval '1 year' WHERE id = $1`, c.ID)
		require.NoError(t, err)
		_, err = db.Exec(`INSERT INTO clock_advance_work (clock_id, tenant_id, work) VALUES ($1, $2, 700)`, c.ID, sb.ID)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"a tenant's advances under way within the work one may carry out"}, check())

	_, err := db.Exec(`UPDATE clock_advance_work SET work = 1300 WHERE clock_id = $1`, clocks[0])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE clock_advance_work SET work = 0 WHERE clock_id = $1`, clocks[1])
	require.NoError(t, err)
	assert.Empty(t, check(), "one holds it alone")
	// Put them back, for testkit's own check after the test.
	_, err = db.Exec(`UPDATE test_clocks SET status = 'ready', target_time = NULL`)
	require.NoError(t, err)
}
