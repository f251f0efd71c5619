package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// Money owed is collected once the payment schedule is Active again. Billing
// runs collect only OPEN invoices; an UNPAID one is its dunning's, whose
// retries that came while the schedule was Terminated were skipped (hostile
// probe: January stayed UNPAID with attempts 0 and 1 for good, on an active
// contract and on a cancelled one whose schedule could be restarted to no
// effect). A restart resumes the dunning of each unpaid invoice. The
// contracts here run from 2026-01-01 at 8000 a month on a test clock, paying
// with pm_declined; the testkit checks the ledger's invariants after each
// test.

// januaryAttempts lists the collection attempts on a contract's January
// invoice as "number outcome at", and returns the invoice.
func januaryAttempts(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string) (settledInvoice, []string) {
	t.Helper()
	january := invoiceOf(t, tenantInvoicesOf(t, env, tn, contractID), "RECURRING", "2026-01-01")
	var out []string
	for _, a := range january.Attempts {
		out = append(out, fmt.Sprintf("%d %s %s", a.Attempt, a.Outcome, parseTime(t, a.At).UTC().Format(time.RFC3339)))
	}
	return january, out
}

// payWithPmOK stands for the customer giving a card that pays: the
// contract's payment method becomes pm_ok (no endpoint changes it).
func payWithPmOK(t *testing.T, env *testkit.Env, contractID string) {
	t.Helper()
	_, err := env.Store.DB().Exec(`UPDATE contracts SET payment_method = 'pm_ok' WHERE id = $1`, contractID)
	require.NoError(t, err)
}

// declinedOnClock is a sandbox tenant's test clock from 2026-01-01 with
// n year's contracts on it paying with pm_declined, and their accounts.
func declinedOnClock(t *testing.T, env *testkit.Env, n int) (sb testkit.Tenant, clockID string, ids, accounts []string) {
	t.Helper()
	sb = env.NewSandboxTenant("SB")
	clockID = createTestClock(t, env, sb, "2026-01-01T00:00:00Z")
	for range n {
		id, account := yearOnClock(t, env, sb, clockID, map[string]any{"paymentMethod": "pm_declined"})
		ids, accounts = append(ids, id), append(accounts, account)
	}
	return sb, clockID, ids, accounts
}

// advanceTo advances the clock and waits until it is ready there.
func advanceTo(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID, to string) {
	t.Helper()
	advance(t, env, tn, clockID, to)
	awaitReady(t, env, tn, clockID)
}

// Four contracts whose January was declined on 01-01 and on its first retry
// on 01-02, and whose schedule was then cancelled; two of them were also
// cancelled themselves, with an early-termination fee. Their retries of
// 01-04 and 01-08 came while the schedule was Terminated and were skipped.
// Restarted on 01-10, each January is tried again at once (retry 2) and
// retry 3 four days later, as the plan spaces them: declined, it goes to
// arrears on 01-14; paid by the card given meanwhile, it is PAID on 01-10,
// and with it everything the contract owes.
func TestARestartedScheduleDunsTheRetriesSkippedWhileItWasTerminated(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, "2026-01-01T00:00:00Z")
	termination := createTerminationOf(t, env, sb, "Early exit")
	require.Equal(t, http.StatusOK, patchTerminationOf(env, sb, termination, nil, chargeItem(1, 0, 24, 50000, "USD")).Status)
	type owing struct {
		name          string
		ended, paysOK bool
		id, account   string
	}
	contracts := []*owing{
		{name: "active, declined"}, {name: "cancelled, declined", ended: true},
		{name: "active, card changed", paysOK: true}, {name: "cancelled, card changed", ended: true, paysOK: true},
	}
	for _, c := range contracts {
		extra := map[string]any{"paymentMethod": "pm_declined"}
		if c.ended {
			extra["contractTerminationId"] = termination
		}
		c.id, c.account = yearOnClock(t, env, sb, clockID, extra)
	}
	tried := []string{"0 DECLINED 2026-01-01T00:30:00Z", "1 DECLINED 2026-01-02T00:00:00Z"}

	advanceTo(t, env, sb, clockID, "2026-01-02T02:00:00Z")
	for _, c := range contracts {
		january, attempts := januaryAttempts(t, env, sb, c.id)
		require.Equal(t, "UNPAID", january.Status, c.name)
		require.Equal(t, tried, attempts, c.name)
		changeSchedule(t, env, sb, c.id, "cancelSchedule", scheduleCancelled)
		if c.ended {
			appliedQuote(t, env, sb, cancel(c.id))
		}
	}
	advanceTo(t, env, sb, clockID, "2026-01-10T00:00:00Z")
	for _, c := range contracts {
		january, attempts := januaryAttempts(t, env, sb, c.id)
		assert.Equal(t, tried, attempts, "%s: the retries of 01-04 and 01-08 skipped", c.name)
		assert.EqualValues(t, 8000, january.AmountDue, c.name)
		assert.False(t, tenantInvoicesOf(t, env, sb, c.id).InArrears, "%s: no retry was made", c.name)
		if c.paysOK {
			payWithPmOK(t, env, c.id)
		}
		changeSchedule(t, env, sb, c.id, "restartSchedule", scheduleRestarted)
	}
	advanceTo(t, env, sb, clockID, "2026-02-12T00:00:00Z")

	for _, c := range contracts {
		list := tenantInvoicesOf(t, env, sb, c.id)
		january, attempts := januaryAttempts(t, env, sb, c.id)
		_, owed := refundAndOwed(t, env, sb, c.account)
		if !c.paysOK {
			assert.Equal(t, append(tried, "2 DECLINED 2026-01-10T00:00:00Z", "3 DECLINED 2026-01-14T00:00:00Z"), attempts,
				"%s: the retries left, the first at once", c.name)
			assert.Equal(t, "UNPAID", january.Status, c.name)
			assert.EqualValues(t, 8000, january.AmountDue, c.name)
			assert.True(t, list.InArrears, "%s: in arrears once every retry was tried", c.name)
			assert.Positive(t, owed, c.name)
			continue
		}
		assert.Equal(t, append(tried, "2 COLLECTED 2026-01-10T00:00:00Z"), attempts, c.name)
		assert.Equal(t, "PAID", january.Status, c.name)
		assert.EqualValues(t, 8000, january.Attempts[2].Amount, c.name)
		assert.False(t, list.InArrears, c.name)
		assert.Zero(t, owed, "%s: January, and February or the fee, paid", c.name)
	}
	requireSettledOnce(t, env)
	requireLedgerBalances(t, env)
}

// An invoice whose dunning ran out before its schedule was cancelled (in
// arrears) gets one more attempt when the schedule is restarted, on the
// restart's day, and no more: declined, it stays in arrears; paid by the
// card given meanwhile, nothing is owed and the schedule is in arrears no
// more.
func TestARestartTriesAnInvoiceInArrearsOnceMore(t *testing.T) {
	env := testkit.New(t)
	sb, clockID, ids, accounts := declinedOnClock(t, env, 2)
	declined, paysOK, paysOKAccount := ids[0], ids[1], accounts[1]
	tried := []string{"0 DECLINED 2026-01-01T00:30:00Z", "1 DECLINED 2026-01-02T00:00:00Z",
		"2 DECLINED 2026-01-04T00:00:00Z", "3 DECLINED 2026-01-08T00:00:00Z"}

	advanceTo(t, env, sb, clockID, "2026-01-09T00:00:00Z")
	for _, id := range []string{declined, paysOK} {
		_, attempts := januaryAttempts(t, env, sb, id)
		require.Equal(t, tried, attempts)
		require.True(t, tenantInvoicesOf(t, env, sb, id).InArrears)
		changeSchedule(t, env, sb, id, "cancelSchedule", scheduleCancelled)
	}
	payWithPmOK(t, env, paysOK)
	for _, id := range []string{declined, paysOK} {
		changeSchedule(t, env, sb, id, "restartSchedule", scheduleRestarted)
	}
	advanceTo(t, env, sb, clockID, "2026-01-20T00:00:00Z")

	january, attempts := januaryAttempts(t, env, sb, declined)
	assert.Equal(t, append(tried, "4 DECLINED 2026-01-09T00:00:00Z"), attempts, "one more attempt, at once")
	assert.Equal(t, "UNPAID", january.Status)
	assert.True(t, tenantInvoicesOf(t, env, sb, declined).InArrears)
	january, attempts = januaryAttempts(t, env, sb, paysOK)
	assert.Equal(t, append(tried, "4 COLLECTED 2026-01-09T00:00:00Z"), attempts)
	assert.Equal(t, "PAID", january.Status)
	assert.False(t, tenantInvoicesOf(t, env, sb, paysOK).InArrears, "what the dunning ran out on is paid")
	_, owed := refundAndOwed(t, env, sb, paysOKAccount)
	assert.Zero(t, owed)
	assert.Equal(t, 1, requireSettledOnce(t, env), "one capture")
	requireLedgerBalances(t, env)
}

// A restart that finds invoices to dun on a test clock holds the clock for
// its own workflow in the transaction that restarts the schedule, until
// that workflow has started their dunnings (which hold it in turn): an
// advance stepping on meanwhile waits where it stands (a busy hold), rather
// than moving days past their retries before they wait on it (a probe's
// restart made during an advance had both retries made at once, at the
// advance's end, and the schedule in arrears at once).
func TestARestartHoldsItsClockForTheDunningsItResumes(t *testing.T) {
	env := testkit.New(t)
	sb, clockID, ids, _ := declinedOnClock(t, env, 1)
	id := ids[0]
	advanceTo(t, env, sb, clockID, "2026-01-02T02:00:00Z")
	changeSchedule(t, env, sb, id, "cancelSchedule", scheduleCancelled)
	advanceTo(t, env, sb, clockID, "2026-01-05T00:00:00Z")

	// The restart's first step, as its workflow takes it.
	restart := store.ScheduleChange{ID: uuid.NewString(), TenantID: sb.ID, ContractID: id, Action: domain.RestartSchedule,
		ActorID: sb.SubmitterActor, Source: "USER", At: time.Now(), Workflow: "schedule-change/" + sb.ID + "/in-flight"}
	changed, err := env.Store.ChangeSchedule(t.Context(), restart)
	require.NoError(t, err)
	require.Len(t, changed.Unpaid, 1, "January, to dun")
	assert.Equal(t, time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC), changed.Unpaid[0].FirstTried.UTC(),
		"when its first collection was made, on the clock: its dunning's plan counts from that day if it was billed late")
	assert.Equal(t, "2026-01-05", changed.Event.At.UTC().Format(time.DateOnly), "restarted at the clock's time")
	var busy []string
	require.NoError(t, env.Store.DB().Select(&busy, `SELECT workflow_id FROM test_clock_waits WHERE clock_id = $1 AND due_at IS NULL`, clockID))
	assert.Contains(t, busy, restart.Workflow, "the clock held for the restart's workflow with the restart")
}
