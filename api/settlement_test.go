package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// settledInvoice is an invoice as GET /api/contracts/{id}/invoices shows it,
// with what settled it.
type settledInvoice struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	AmendmentID string `json:"amendmentId"`
	PeriodStart string `json:"periodStart"`
	Total       int64  `json:"total"`
	AmountDue   int64  `json:"amountDue"`
	Status      string `json:"status"`
	Attempts    []struct {
		Attempt   int    `json:"attempt"`
		Outcome   string `json:"outcome"`
		PaymentID string `json:"paymentId"`
		Amount    int64  `json:"amount"`
		At        string `json:"at"`
	} `json:"attempts"`
	CreditsApplied []struct {
		CreditNoteID string `json:"creditNoteId"`
		Amount       int64  `json:"amount"`
	} `json:"creditsApplied"`
}

type creditNote struct {
	ID        string `json:"id"`
	InvoiceID string `json:"invoiceId"`
	Amount    int64  `json:"amount"`
	Remaining int64  `json:"remaining"`
	RefundDue bool   `json:"refundDue"`
}

type settledInvoices struct {
	InArrears   bool             `json:"inArrears"`
	Items       []settledInvoice `json:"items"`
	CreditNotes []creditNote     `json:"creditNotes"`
}

func settledInvoicesOf(t *testing.T, env *testkit.Env, contractID string) settledInvoices {
	t.Helper()
	return tenantInvoicesOf(t, env, env.A, contractID)
}

// tenantInvoicesOf is settledInvoicesOf for a contract of tn's.
func tenantInvoicesOf(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string) settledInvoices {
	t.Helper()
	resp := env.Do("GET", "/api/contracts/"+contractID+"/invoices", tn.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var list settledInvoices
	resp.Decode(t, &list)
	return list
}

// invoiceOf finds the contract's invoice of a kind for a period.
func invoiceOf(t *testing.T, list settledInvoices, kind, periodStart string) settledInvoice {
	t.Helper()
	for _, inv := range list.Items {
		if inv.Kind == kind && inv.PeriodStart == periodStart {
			return inv
		}
	}
	t.Fatalf("no %s invoice for %s in %+v", kind, periodStart, list.Items)
	return settledInvoice{}
}

// requireLedgerBalances checks what the fault suite checks after a run: each
// invoice's total is its payments, credits applied and amount due, and no
// credit note gave more than it had.
func requireLedgerBalances(t *testing.T, env *testkit.Env) {
	t.Helper()
	var unbalanced, overspent int
	require.NoError(t, env.Store.DB().Get(&unbalanced, `
		SELECT count(*) FROM invoices i WHERE i.total >= 0 AND i.total <>
			(SELECT coalesce(sum(a.amount), 0) FROM invoice_payment_attempts a WHERE a.invoice_id = i.id AND a.outcome = 'COLLECTED')
			+ (SELECT coalesce(sum(c.amount), 0) FROM credit_note_applications c WHERE c.invoice_id = i.id) + i.amount_due`))
	assert.Zero(t, unbalanced, "invoices whose total is not payments + credits + amount due")
	require.NoError(t, env.Store.DB().Get(&overspent, `
		SELECT count(*) FROM credit_notes n WHERE n.amount - n.remaining <>
			(SELECT coalesce(sum(c.amount), 0) FROM credit_note_applications c WHERE c.credit_note_id = n.id)`))
	assert.Zero(t, overspent, "credit notes whose applications do not match what they spent")
}

// eventTypes lists the tenant's events of the given types, in order.
func eventTypes(t *testing.T, env *testkit.Env, types ...string) []string {
	t.Helper()
	var page struct {
		Items []struct {
			Type string `json:"type"`
		} `json:"items"`
	}
	env.Do("GET", "/api/events?pageSize=500", env.A.OperatorKey, nil).Decode(t, &page)
	out := []string{}
	for _, ev := range page.Items {
		for _, typ := range types {
			if ev.Type == typ {
				out = append(out, typ)
			}
		}
	}
	return out
}

// balanceOf reads an account's balance.
func balanceOf(t *testing.T, env *testkit.Env, key, account string) (int, map[string]any) {
	t.Helper()
	resp := env.Do("GET", "/api/accounts/"+account+"/balance", key, nil)
	return resp.Status, resp.JSON(t)
}

func marchContract(env *testkit.Env, extra map[string]any) map[string]any {
	item := map[string]any{"effectiveDate": "2026-03-01"}
	for k, v := range extra {
		item[k] = v
	}
	return fiveSeats(env, item)
}

func applied(t *testing.T, resp testkit.Response) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, "APPLIED", quote["status"], "%s", resp.Body)
	return quote
}

func TestSeatIncreaseProrationIsCollectedByTheNextBillingRun(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := marchContract(env, nil)
	id, account := ct["id"].(string), ct["accountNumber"].(string)
	applied(t, change(env, env.A.SubmitterKey, seats(id, 10)))

	proration := invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15")
	assert.Equal(t, "OPEN", proration.Status)
	assert.EqualValues(t, 4113, proration.AmountDue, "7500 × 17/31, as the README's worked example")
	status, balance := balanceOf(t, env, env.A.SubmitterKey, account)
	require.Equal(t, http.StatusOK, status, "%v", balance)
	assert.EqualValues(t, 4113, balance["balances"].([]any)[0].(map[string]any)["owed"])

	// The run bills March and collects the proration as its own payment.
	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Invoiced: 1, Collected: 2}, runBilling(t, env, "2026-03-15"))
	proration = invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15")
	assert.Equal(t, "PAID", proration.Status)
	assert.Zero(t, proration.AmountDue)
	require.Len(t, proration.Attempts, 1)
	assert.Equal(t, "COLLECTED", proration.Attempts[0].Outcome)
	assert.EqualValues(t, 4113, proration.Attempts[0].Amount)
	assert.Equal(t, billingTotals{AsOf: "2026-03-15"}, runBilling(t, env, "2026-03-15"), "a paid proration is not collected again")
	assert.Equal(t, 2, requireSettledOnce(t, env))
	assert.Equal(t, []string{"invoice.paid", "invoice.paid"}, eventTypes(t, env, "invoice.paid"))
	_, balance = balanceOf(t, env, env.A.SubmitterKey, account)
	assert.EqualValues(t, 0, balance["balances"].([]any)[0].(map[string]any)["owed"])
	requireLedgerBalances(t, env)
}

func TestDeclinedProrationChargeIsDunnedLikeARecurringOne(t *testing.T) {
	env := newAmendmentEnv(t)
	id := marchContract(env, map[string]any{"paymentMethod": "pm_declined"})["id"].(string)
	applied(t, change(env, env.A.SubmitterKey, seats(id, 10)))
	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Invoiced: 1, Declined: 2}, runBilling(t, env, "2026-03-15"))

	proration := invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15")
	assert.Equal(t, "UNPAID", proration.Status)
	assert.EqualValues(t, 4113, proration.AmountDue)
	// The first attempt and three dunning retries, then the schedule is in arrears.
	dunned := func() bool {
		list := settledInvoicesOf(t, env, id)
		return list.InArrears && len(invoiceOf(t, list, "AMENDMENT", "2026-03-15").Attempts) == 4
	}
	require.Eventually(t, dunned, 30*time.Second, 200*time.Millisecond)
	assert.Equal(t, "UNPAID", invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15").Status)
	requireLedgerBalances(t, env)
}

func TestPaidCrossgradeSettlesItsInvoice(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := marchContract(env, nil)
	id := ct["id"].(string)
	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	answered := resp.JSON(t)["amendment"].(map[string]any)["invoice"].(map[string]any)
	assert.Equal(t, "PAID", answered["status"], "the answer shows the invoice the capture paid")

	upgrade := invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15")
	assert.Equal(t, "PAID", upgrade.Status)
	assert.Zero(t, upgrade.AmountDue)
	require.Len(t, upgrade.Attempts, 1)
	var captureID string
	require.NoError(t, env.Store.DB().Get(&captureID, `SELECT id FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	assert.Equal(t, captureID, upgrade.Attempts[0].PaymentID, "the capture is linked to the invoice")
	assert.Equal(t, upgrade.Total, upgrade.Attempts[0].Amount)

	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-03-15"),
		"the run collects March, not the upgrade again")
	assert.Equal(t, 2, requireSettledOnce(t, env))
	requireLedgerBalances(t, env)
}

func TestDowngradeCreditIsAppliedToTheNextRecurringInvoice(t *testing.T) {
	env := newAmendmentEnv(t)
	id := marchContract(env, map[string]any{"quantities": map[string]int{"prod_seat": 10}})["id"].(string)
	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-03-15"))
	applied(t, change(env, env.A.SubmitterKey, seats(id, 5)))

	list := settledInvoicesOf(t, env, id)
	credit := invoiceOf(t, list, "AMENDMENT", "2026-03-15")
	assert.EqualValues(t, -4113, credit.Total)
	assert.Equal(t, "CREDIT", credit.Status)
	require.Len(t, list.CreditNotes, 1)
	note := list.CreditNotes[0]
	assert.Equal(t, credit.ID, note.InvoiceID)
	assert.EqualValues(t, 4113, note.Remaining)

	env.Clock.Set(day("2026-04-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-04-01", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-04-01"))
	list = settledInvoicesOf(t, env, id)
	april := invoiceOf(t, list, "RECURRING", "2026-04-01")
	assert.EqualValues(t, 8000, april.Total)
	require.Len(t, april.CreditsApplied, 1, "the credit shows on the invoice it reduced")
	assert.Equal(t, note.ID, april.CreditsApplied[0].CreditNoteID)
	assert.EqualValues(t, 4113, april.CreditsApplied[0].Amount)
	assert.Equal(t, "PAID", april.Status)
	require.Len(t, april.Attempts, 1)
	assert.EqualValues(t, 8000-4113, april.Attempts[0].Amount, "only what the credit left is collected")
	assert.Zero(t, list.CreditNotes[0].Remaining)
	assert.Equal(t, []string{"credit_note.created", "credit_note.applied"}, eventTypes(t, env, "credit_note.created", "credit_note.applied"))
	requireLedgerBalances(t, env)
}

func TestCreditLargerThanTheNextInvoiceCarriesOver(t *testing.T) {
	env := newAmendmentEnv(t)
	id := marchContract(env, map[string]any{"quantities": map[string]int{"prod_seat": 20}})["id"].(string)
	runBilling(t, env, "2026-03-15")
	// 20 seats and 1 TB (30500) down to 1 seat (2000): 28500 × 17/31 credited.
	applied(t, change(env, env.A.SubmitterKey, seats(id, 1)))

	env.Clock.Set(day("2026-05-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-05-01", Invoiced: 2}, runBilling(t, env, "2026-05-01"), "credit pays April and May: nothing to collect")
	list := settledInvoicesOf(t, env, id)
	for _, period := range []string{"2026-04-01", "2026-05-01"} {
		inv := invoiceOf(t, list, "RECURRING", period)
		assert.Equal(t, "PAID", inv.Status, period)
		assert.Empty(t, inv.Attempts, period)
		require.Len(t, inv.CreditsApplied, 1, period)
		assert.EqualValues(t, 2000, inv.CreditsApplied[0].Amount, period)
	}
	require.Len(t, list.CreditNotes, 1)
	assert.EqualValues(t, 15629, list.CreditNotes[0].Amount)
	assert.EqualValues(t, 15629-2*2000, list.CreditNotes[0].Remaining, "the rest carries over to June")
	assert.Equal(t, 1, requireSettledOnce(t, env), "only March was paid by card")
	requireLedgerBalances(t, env)
}

func TestCancellationCreditWithNoFutureInvoicesIsReported(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := marchContract(env, nil)
	id, account := ct["id"].(string), ct["accountNumber"].(string)
	runBilling(t, env, "2026-03-15")
	applied(t, change(env, env.A.SubmitterKey, cancel(id)))

	status, balance := balanceOf(t, env, env.A.SubmitterKey, account)
	require.Equal(t, http.StatusOK, status, "%v", balance)
	assert.Equal(t, []any{map[string]any{"currency": "USD", "owed": 0.0, "credited": 0.0, "refundDue": 4387.0}}, balance["balances"],
		"8000 × 17/31 left on a cancelled contract is owed back")
	notes := balance["creditNotes"].([]any)
	require.Len(t, notes, 1)
	assert.Equal(t, true, notes[0].(map[string]any)["refundDue"])
	assert.Equal(t, "canceled", notes[0].(map[string]any)["contractStatus"])

	env.Clock.Set(day("2026-04-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-04-01"}, runBilling(t, env, "2026-04-01"), "a cancelled contract is not billed")
	_, balance = balanceOf(t, env, env.A.SubmitterKey, account)
	assert.EqualValues(t, 4387, balance["balances"].([]any)[0].(map[string]any)["refundDue"])
}

func TestAccountBalanceIsTheTenantsOwn(t *testing.T) {
	env := newAmendmentEnv(t)
	account := marchContract(env, nil)["accountNumber"].(string)
	status, _ := balanceOf(t, env, env.A.SubmitterKey, account)
	assert.Equal(t, http.StatusOK, status)
	status, body := balanceOf(t, env, env.B.SubmitterKey, account)
	assert.Equal(t, http.StatusNotFound, status, "another tenant's account is missing: %v", body)
	status, _ = balanceOf(t, env, env.A.SubmitterKey, "ACC-NOPE")
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = balanceOf(t, env, env.A.SubmitterKey, strings.Repeat("A", 101))
	assert.Equal(t, http.StatusBadRequest, status)
}

func TestSameDayChangesLeaveNoZeroLengthSegmentInForce(t *testing.T) {
	env := newAmendmentEnv(t)
	id := marchContract(env, nil)["id"].(string)
	applied(t, change(env, env.A.SubmitterKey, seats(id, 10)))
	second := applied(t, change(env, env.A.SubmitterKey, seats(id, 7)))
	// The second change is priced against the first: 10 -> 7 seats for 17 of 31 days.
	assert.EqualValues(t, -2468, second["prorationTotal"], "%v", second)

	ct := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 3, ct["version"])
	segments := ct["segments"].([]any)
	require.Len(t, segments, 3, "one segment per version")
	var statuses []string
	for i, s := range segments {
		seg := s.(map[string]any)
		statuses = append(statuses, seg["status"].(string))
		if i > 0 {
			assert.Equal(t, segments[i-1].(map[string]any)["id"], seg["previousContractSegmentId"], "one linear chain")
		}
		if seg["effectiveDate"] == seg["expirationDate"] {
			assert.Equal(t, "superseded", seg["status"], "a zero-length segment never took effect")
		}
	}
	assert.Equal(t, []string{"expired", "superseded", "active"}, statuses)
}

func TestTerminationFeeAboveTheCreditIsCollectedAfterTheContractEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	termination := createTermination(t, env, "Early exit")
	require.Equal(t, http.StatusOK, patchTermination(env, termination, nil, chargeItem(1, 0, 36, 25000, "USD")).Status)
	id := marchContract(env, map[string]any{"contractTerminationId": termination})["id"].(string)
	runBilling(t, env, "2026-03-15")
	applied(t, change(env, env.A.SubmitterKey, cancel(id)))

	charge := invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15")
	assert.EqualValues(t, 25000-4387, charge.Total, "the fee less the unused part of March")
	assert.Equal(t, "OPEN", charge.Status)
	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Collected: 1}, runBilling(t, env, "2026-03-15"))
	charge = invoiceOf(t, settledInvoicesOf(t, env, id), "AMENDMENT", "2026-03-15")
	assert.Equal(t, "PAID", charge.Status, "a cancelled contract's fee is still collected")
	assert.Equal(t, 2, requireSettledOnce(t, env))
	requireLedgerBalances(t, env)
}

// A model-based run: random seat changes mid-month and monthly billing runs
// on one contract. What the card paid must be what the model says was
// charged net of credits (every invoice total, from the API's own answers),
// less the credit still unspent, and the ledger must balance.
func TestSettlementModelRun(t *testing.T) {
	env := newAmendmentEnv(t)
	id := marchContract(env, nil)["id"].(string)
	rnd := rand.New(rand.NewPCG(24, 24))
	var charged int64 // every invoice's total, as the model expects it
	bill := func(asOf string) {
		env.Clock.Set(day(asOf))
		charged += int64(env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)["recurringAmount"].(float64))
		assert.Equal(t, 1, runBilling(t, env, asOf).Invoiced, asOf)
	}
	seatCount := 5
	for _, month := range []string{"2026-03", "2026-04", "2026-05", "2026-06"} {
		bill(month + "-01")
		for _, first := range []int{2, 15} {
			env.Clock.Set(day(fmt.Sprintf("%s-%02d", month, first+rnd.IntN(13))))
			next := 1 + rnd.IntN(20)
			if next == seatCount {
				continue
			}
			seatCount = next
			charged += int64(applied(t, change(env, env.A.SubmitterKey, seats(id, next)))["prorationTotal"].(float64))
		}
	}
	bill("2026-07-01")

	var captured, unspent, due int64
	db := env.Store.DB()
	require.NoError(t, db.Get(&captured, `SELECT coalesce(sum(amount), 0) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	require.NoError(t, db.Get(&unspent, `SELECT coalesce(sum(remaining), 0) FROM credit_notes`))
	require.NoError(t, db.Get(&due, `SELECT coalesce(sum(amount_due), 0) FROM invoices`))
	assert.Zero(t, due, "every charge was collected by the runs")
	assert.Equal(t, charged+unspent, captured, "paid = charged net of credits + credit still held")
	requireLedgerBalances(t, env)
	requireSettledOnce(t, env)
}
