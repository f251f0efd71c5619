package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A change is prorated only over what billing invoices. A Terminated
// payment schedule bills nothing, and a restart resumes from the next due
// date, never back-billing what it missed: a change in a period so left
// unbilled charges or credits nothing (hostile probe: a cancellation was
// credited, and refunded, February days never billed; more seats were
// charged their share of a February whose base was never billed). The
// testkit checks the database's invariants after each test.

// yearOnClock is a monthly contract of 5 seats and 1 TB (8000 a month) for
// 2026, on the clock, paid by pm_ok unless extra says otherwise (extra's
// fields are the contract's); it returns its id and account number.
func yearOnClock(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID string, extra map[string]any) (string, string) {
	t.Helper()
	item := map[string]any{"effectiveDate": "2026-01-01", "expirationDate": "2027-01-01", "paymentMethod": "pm_ok"}
	for k, v := range extra {
		item[k] = v
	}
	id := clockContract(t, env, tn, clockID, item)
	got := env.Do("GET", "/api/contracts/"+id, tn.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	ct := got.JSON(t)
	require.EqualValues(t, 8000, ct["recurringAmount"])
	return id, ct["accountNumber"].(string)
}

// invoiceTotals are a contract's invoices as "KIND periodStart status" and
// their totals, and whether it holds credit notes.
func invoiceTotals(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string) (map[string]int64, bool) {
	t.Helper()
	list := tenantInvoicesOf(t, env, tn, contractID)
	out := map[string]int64{}
	for _, inv := range list.Items {
		out[inv.Kind+" "+inv.PeriodStart+" "+inv.Status] += inv.Total
	}
	return out, len(list.CreditNotes) > 0
}

// refundAndOwed are what the account's balance reports owed back to the
// customer and owed by it, over its currencies.
func refundAndOwed(t *testing.T, env *testkit.Env, tn testkit.Tenant, account string) (refund, owed float64) {
	t.Helper()
	status, balance := balanceOf(t, env, tn.SubmitterKey, account)
	require.Equal(t, http.StatusOK, status, "%v", balance)
	for _, raw := range balance["balances"].([]any) {
		b := raw.(map[string]any)
		refund += b["refundDue"].(float64)
		owed += b["owed"].(float64)
	}
	return refund, owed
}

func changeSchedule(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID, action, answer string) {
	t.Helper()
	requirePlain(t, scheduleCall(env, schedulePath(tn.Prefix, contractID, action), tn.SubmitterKey), http.StatusOK, answer)
}

// appliedQuote requires the change applied at once and returns its quote.
func appliedQuote(t *testing.T, env *testkit.Env, tn testkit.Tenant, body map[string]any) map[string]any {
	t.Helper()
	resp := change(env, tn.SubmitterKey, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, "APPLIED", quote["status"], "%s", resp.Body)
	return quote
}

// January billed and paid, the schedule cancelled, the contract cancelled
// on 10 February: February was never billed, so nothing of it is credited,
// and nothing is owed back. A cancellation scheduled for that day while the
// schedule still billed February was priced with its credit; cancelling the
// schedule prices it again, and it applies crediting nothing either.
func TestACancellationCreditsNothingOfAPeriodATerminatedScheduleNeverBilled(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, "2026-01-01T12:00:00Z")
	now, nowAccount := yearOnClock(t, env, sb, clockID, nil)
	dated, datedAccount := yearOnClock(t, env, sb, clockID, nil)
	advance(t, env, sb, clockID, "2026-01-02T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	for _, id := range []string{now, dated} {
		totals, _ := invoiceTotals(t, env, sb, id)
		require.Equal(t, map[string]int64{"RECURRING 2026-01-01 PAID": 8000}, totals, "January billed and paid")
	}

	scheduled := cancel(dated)
	scheduled["effectiveDate"] = "2026-02-10"
	resp := change(env, sb.SubmitterKey, scheduled)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, "SCHEDULED", quote["status"])
	assert.EqualValues(t, -5429, quote["prorationTotal"], "8000 × 19/28: February is to be billed while the schedule is Active")
	scheduledID := quote["id"].(string)

	changeSchedule(t, env, sb, now, "cancelSchedule", scheduleCancelled)
	changeSchedule(t, env, sb, dated, "cancelSchedule", scheduleCancelled)
	am := env.Do("GET", "/api/amendments/"+scheduledID, sb.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, am["quoteVersion"], "the schedule's cancel priced it again")
	assert.EqualValues(t, 0, am["quote"].(map[string]any)["prorationTotal"], "February will not be billed")
	assert.Nil(t, am["quote"].(map[string]any)["invoicePreview"])

	advance(t, env, sb, clockID, "2026-02-10T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	quote = appliedQuote(t, env, sb, cancel(now))
	assert.EqualValues(t, 0, quote["prorationTotal"], "no credit for February days never billed")
	assert.Empty(t, quote["proration"])
	assert.Nil(t, quote["invoicePreview"])
	am = env.Do("GET", "/api/amendments/"+scheduledID, sb.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "APPLIED", am["status"])
	assert.Nil(t, am["invoice"], "the scheduled cancellation credited nothing either")

	for id, account := range map[string]string{now: nowAccount, dated: datedAccount} {
		totals, credited := invoiceTotals(t, env, sb, id)
		assert.Equal(t, map[string]int64{"RECURRING 2026-01-01 PAID": 8000}, totals, "February not billed, nothing credited")
		assert.False(t, credited, "no credit note")
		refund, owed := refundAndOwed(t, env, sb, account)
		assert.Zero(t, refund, "nothing to refund")
		assert.Zero(t, owed)
	}
}

// The schedule cancelled before anything was billed, 20 seats from 10
// February, the schedule restarted that day and 25 seats: February (like
// January) was missed and is never billed, so neither change charges its
// share of it. Billing resumes on 1 March, at 25 seats. A change dated in
// March, priced while the schedule was Terminated, charged nothing; the
// restart prices it again for the March that billing will now invoice.
func TestSeatsAddedInAPeriodARestartedScheduleMissedAreNotCharged(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, "2026-01-01T12:00:00Z")
	id, account := yearOnClock(t, env, sb, clockID, nil)
	changeSchedule(t, env, sb, id, "cancelSchedule", scheduleCancelled)
	advance(t, env, sb, clockID, "2026-02-10T12:00:00Z")
	awaitReady(t, env, sb, clockID)

	quote := appliedQuote(t, env, sb, seats(id, 20))
	assert.EqualValues(t, 0, quote["prorationTotal"], "while Terminated, February will not be billed")
	assert.Nil(t, quote["invoicePreview"])
	resp := change(env, sb.SubmitterKey, seatsOn(id, 30, "2026-03-15"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote = resp.JSON(t)["quote"].(map[string]any)
	assert.EqualValues(t, 0, quote["prorationTotal"], "while Terminated, March will not be billed")
	march := quote["id"].(string)
	marchQuote := func() (any, any) {
		am := env.Do("GET", "/api/amendments/"+march, sb.SubmitterKey, nil).JSON(t)
		return am["quoteVersion"], am["quote"].(map[string]any)["prorationTotal"]
	}

	changeSchedule(t, env, sb, id, "restartSchedule", scheduleRestarted)
	version, total := marchQuote()
	assert.EqualValues(t, 2, version, "the restart priced it again")
	assert.EqualValues(t, 8226, total, "20 to 30 seats: 15000 × 17/31 of a March now to be billed")
	quote = appliedQuote(t, env, sb, seats(id, 25))
	assert.EqualValues(t, 0, quote["prorationTotal"], "restarted on 10 February: February was missed")
	assert.Nil(t, quote["invoicePreview"])
	version, total = marchQuote()
	assert.EqualValues(t, 3, version)
	assert.EqualValues(t, 4113, total, "25 to 30 seats: 7500 × 17/31")

	advance(t, env, sb, clockID, "2026-03-02T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	totals, credited := invoiceTotals(t, env, sb, id)
	assert.Equal(t, map[string]int64{"RECURRING 2026-03-01 PAID": 25*1500 + 500}, totals, "March only, at 25 seats")
	assert.False(t, credited)
	refund, owed := refundAndOwed(t, env, sb, account)
	assert.Zero(t, refund)
	assert.Zero(t, owed, "nothing charged for February")
}
