package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// What a contract owes stays owed once it ends, and what it is owed back is
// first set against what it owes. The contracts here run from 2026-01-01 at
// 8000 a month (fiveSeats).

// januaryContract is a year's contract from 2026-01-01, the business clock
// on that day, with January billed by a run.
func januaryContract(t *testing.T, env *testkit.Env, extra map[string]any) (id, account string) {
	t.Helper()
	env.Clock.Set(day("2026-01-01"))
	item := map[string]any{"effectiveDate": "2026-01-01", "expirationDate": "2027-01-01"}
	for k, v := range extra {
		item[k] = v
	}
	ct := fiveSeats(env, item)
	assert.Equal(t, 1, runBilling(t, env, "2026-01-01").Invoiced)
	return ct["id"].(string), ct["accountNumber"].(string)
}

// unpaidJanuary is januaryContract paying with pm_declined, once January's
// dunning has run out: January UNPAID, 8000 due.
func unpaidJanuary(t *testing.T, env *testkit.Env) (id, account string) {
	t.Helper()
	id, account = januaryContract(t, env, map[string]any{"paymentMethod": "pm_declined"})
	require.Eventually(t, func() bool { return settledInvoicesOf(t, env, id).InArrears }, 30*time.Second, 200*time.Millisecond,
		"January's dunning runs out")
	return id, account
}

// usdBalance is an account's balance in USD: owed, credited, refundDue.
func usdBalance(t *testing.T, env *testkit.Env, account string) [3]int64 {
	t.Helper()
	status, balance := balanceOf(t, env, env.A.SubmitterKey, account)
	require.Equal(t, http.StatusOK, status, "%v", balance)
	balances := balance["balances"].([]any)
	require.Len(t, balances, 1, "%v", balance)
	b := balances[0].(map[string]any)
	require.Equal(t, "USD", b["currency"])
	return [3]int64{int64(b["owed"].(float64)), int64(b["credited"].(float64)), int64(b["refundDue"].(float64))}
}

// creditsOn sums the credits applied to an invoice.
func creditsOn(inv settledInvoice) int64 {
	var sum int64
	for _, c := range inv.CreditsApplied {
		sum += c.Amount
	}
	return sum
}

// amendmentInvoices splits a contract's amendment invoices into its one
// charge and its one credit.
func amendmentInvoices(t *testing.T, list settledInvoices) (charge, credit settledInvoice) {
	t.Helper()
	for _, inv := range list.Items {
		switch {
		case inv.Kind == "AMENDMENT" && inv.Total > 0:
			charge = inv
		case inv.Kind == "AMENDMENT" && inv.Total < 0:
			credit = inv
		}
	}
	require.NotEmpty(t, charge.ID, "a charge among %+v", list.Items)
	require.NotEmpty(t, credit.ID, "a credit among %+v", list.Items)
	return charge, credit
}

// A customer who cancels its contract while the business has its payment
// schedule cancelled (over a dispute, say) still owes the early-termination
// fee: the Terminated schedule collects nothing, but the business can
// restart it while the contract owes, and the next run collects the fee.
func TestAFeeLeftOnAContractWhoseScheduleWasCancelledIsCollectedOnceTheScheduleRestarts(t *testing.T) {
	env := testkit.New(t)
	termination := createTermination(t, env, "Early exit")
	require.Equal(t, http.StatusOK, patchTermination(env, termination, nil, chargeItem(1, 0, 24, 50000, "USD")).Status)
	id, account := januaryContract(t, env, map[string]any{"contractTerminationId": termination})
	customer := env.NewCustomerKey(env.A, account)

	env.Clock.Set(day("2026-01-05"))
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	env.Clock.Set(day("2026-01-10"))
	applied(t, change(env, customer, cancel(id)))
	fee := invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-01-10")
	assert.EqualValues(t, 50000-5677, fee.Total, "the fee less 8000 × 22/31 of January unused")

	env.Clock.Set(day("2026-02-20"))
	assert.Equal(t, billingTotals{AsOf: "2026-02-20"}, runBilling(t, env, "2026-02-20"), "a Terminated schedule collects nothing")
	fee = invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-01-10")
	assert.Equal(t, "OPEN", fee.Status)
	assert.Empty(t, fee.Attempts)
	assert.Equal(t, [3]int64{44323, 0, 0}, usdBalance(t, env, account), "the fee is still owed")

	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "restartSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	assert.Equal(t, billingTotals{AsOf: "2026-02-20", Collected: 1}, runBilling(t, env, "2026-02-20"))
	fee = invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-01-10")
	assert.Equal(t, "PAID", fee.Status)
	require.Len(t, fee.Attempts, 1)
	assert.EqualValues(t, 44323, fee.Attempts[0].Amount)
	assert.Equal(t, [3]int64{0, 0, 0}, usdBalance(t, env, account))
	assert.Equal(t, 2, requireSettledOnce(t, env), "January and the fee")
	requireLedgerBalances(t, env)

	resp := scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey)
	assert.Equal(t, http.StatusBadRequest, resp.Status, "an ended contract that owes nothing keeps its schedule: %s", resp.Body)
}

// A customer key restarts no schedule, an ended contract's that still owes
// no more than an active one's: the fee stays the business's to collect.
func TestACustomerCannotRestartAnEndedContractsSchedule(t *testing.T) {
	env := testkit.New(t)
	termination := createTermination(t, env, "Early exit")
	require.Equal(t, http.StatusOK, patchTermination(env, termination, nil, chargeItem(1, 0, 24, 50000, "USD")).Status)
	id, account := januaryContract(t, env, map[string]any{"contractTerminationId": termination})
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	env.Clock.Set(day("2026-01-10"))
	applied(t, change(env, env.A.SubmitterKey, cancel(id)))

	requireRefusedToCustomer(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "restartSchedule"), env.NewCustomerKey(env.A, account)))
	assert.Equal(t, "Terminated", scheduleOf(t, env, id)["status"])
}

// A cancellation's credit goes first to what the contract still owes: an
// unpaid January is charged only for the days the contract ran, and nothing
// is reported to refund while it is unpaid.
func TestACancellationCreditIsSetAgainstTheUnpaidInvoiceBeforeAnyRefund(t *testing.T) {
	env := testkit.New(t)
	id, account := unpaidJanuary(t, env)

	env.Clock.Set(day("2026-01-15"))
	applied(t, change(env, env.A.SubmitterKey, cancel(id)))
	list := settledInvoicesOf(t, env, id)
	january := invoiceOf(t, list, "RECURRING", "2026-01-01")
	assert.Equal(t, "UNPAID", january.Status)
	assert.EqualValues(t, 4387, creditsOn(january), "8000 × 17/31 of January unused")
	assert.EqualValues(t, 8000-4387, january.AmountDue)
	require.Len(t, list.CreditNotes, 1)
	assert.Zero(t, list.CreditNotes[0].Remaining)
	assert.Equal(t, [3]int64{3613, 0, 0}, usdBalance(t, env, account), "owed the days used, nothing to refund")
	assert.Equal(t, []string{"credit_note.created", "credit_note.applied"}, eventTypes(t, env, "credit_note.created", "credit_note.applied"))
	assert.Zero(t, requireSettledOnce(t, env))
	requireLedgerBalances(t, env)
}

// A period billed before its contract ended is still collected, less the
// credit the cancellation set against it: here a run issued March and was
// interrupted before collecting it, and the contract was cancelled meanwhile.
func TestAPeriodLeftOpenWhenItsContractEndsIsCollectedLessTheCredit(t *testing.T) {
	env, id, march := marchPricedByARun(t)
	march.Lines = []domain.InvoiceLine{{Description: "March", Amount: march.Total}}
	issued, err := env.Store.IssueRecurringInvoices(context.Background(), env.A.ID, "interrupted", []string{id}, []store.NewInvoice{march}, day("2026-03-01"))
	require.NoError(t, err)
	require.Equal(t, 1, issued)
	env.Clock.Set(day("2026-03-15"))
	applied(t, change(env, env.A.SubmitterKey, cancel(id)))

	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Collected: 1}, runBilling(t, env, "2026-03-15"))
	inv := invoiceOf(t, settledInvoicesOf(t, env, id), "RECURRING", "2026-03-01")
	assert.Equal(t, "PAID", inv.Status)
	assert.EqualValues(t, 1919, creditsOn(inv), "3500 × 17/31 of March unused")
	require.Len(t, inv.Attempts, 1)
	assert.EqualValues(t, 3500-1919, inv.Attempts[0].Amount, "the days the contract ran")
	assert.Equal(t, 1, requireSettledOnce(t, env))
	requireLedgerBalances(t, env)
}

// raiseThenCancel pays January, raises a charge for two more seats on
// 01-10, and cancels the contract the same day: the cancellation's credit
// (seven seats for the rest of January) covers the charge, still open.
func raiseThenCancel(t *testing.T, env *testkit.Env) (id, account string) {
	t.Helper()
	id, account = januaryContract(t, env, nil)
	env.Clock.Set(day("2026-01-10"))
	applied(t, change(env, env.A.SubmitterKey, seats(id, 7)))
	applied(t, change(env, env.A.SubmitterKey, cancel(id)))
	return id, account
}

// A charge still open when the contract is cancelled is paid by the
// cancellation's credit, not taken from the card and refunded: only what
// the credit leaves over is to be refunded.
func TestACancellationCreditPaysTheOpenChargeOfItsPeriod(t *testing.T) {
	env := testkit.New(t)
	id, account := raiseThenCancel(t, env)
	charge, credit := amendmentInvoices(t, settledInvoicesOf(t, env, id))
	assert.EqualValues(t, 2129, charge.Total, "2 × 1500 × 22/31")
	assert.EqualValues(t, -7806, credit.Total, "(7 × 1500 + 500) × 22/31")
	assert.Equal(t, "PAID", charge.Status)
	assert.Zero(t, charge.AmountDue)
	assert.EqualValues(t, 2129, creditsOn(charge))
	assert.Equal(t, [3]int64{0, 0, 7806 - 2129}, usdBalance(t, env, account))

	env.Clock.Set(day("2026-02-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-02-01"}, runBilling(t, env, "2026-02-01"), "nothing left to collect")
	assert.Empty(t, invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-01-10").Attempts)
	assert.Equal(t, 1, requireSettledOnce(t, env), "only January was charged")
	requireLedgerBalances(t, env)
}

// A collection in flight when the credit was set against its invoice (a run
// that planned the charge before the cancellation committed, and recorded
// it after) pays the invoice: the credit it displaced goes back to its note,
// to be refunded, and the invoice is announced paid once. Recording the
// attempt again changes nothing.
func TestAPaymentInFlightWhenCreditPaidItsInvoiceGivesTheCreditBack(t *testing.T) {
	env := testkit.New(t)
	id, account := raiseThenCancel(t, env)
	charge, _ := amendmentInvoices(t, settledInvoicesOf(t, env, id))
	require.Equal(t, "PAID", charge.Status)

	payment, amount := "pay_in_flight", charge.Total
	attempt := store.CollectionAttempt{Outcome: domain.CollectionSucceeded, PaymentID: &payment, Amount: &amount, At: env.Clock.Now()}
	for range 2 {
		require.NoError(t, env.Store.RecordCollectionAttempt(context.Background(), env.A.ID, charge.ID, attempt))
	}
	list := settledInvoicesOf(t, env, id)
	charge, _ = amendmentInvoices(t, list)
	assert.Equal(t, "PAID", charge.Status)
	assert.Zero(t, charge.AmountDue)
	assert.Empty(t, charge.CreditsApplied, "the payment paid it")
	require.Len(t, charge.Attempts, 1)
	require.Len(t, list.CreditNotes, 1)
	assert.EqualValues(t, 7806, list.CreditNotes[0].Remaining)
	assert.Equal(t, [3]int64{0, 0, 7806}, usdBalance(t, env, account))
	assert.Equal(t, []string{"credit_note.applied", "invoice.paid", "payment.captured", "credit_note.restored"},
		eventTypes(t, env, "credit_note.applied", "invoice.paid", "payment.captured", "credit_note.restored")[2:],
		"January's payment and paid, then the credit applied, the charge paid, the payment and the credit back")
	requireLedgerBalances(t, env)
}
