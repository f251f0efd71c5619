package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// appliedInvoice is the invoice an immediate change's answer shows, checked
// against the one a later read of its amendment shows: the answer's is the
// invoice as the change wrote it, not read back.
func appliedInvoice(t *testing.T, env *testkit.Env, resp testkit.Response) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	answered := body["invoice"].(map[string]any)
	read := env.Do("GET", "/api/amendments/"+body["quote"].(map[string]any)["id"].(string), env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, read.Status, "%s", read.Body)
	assert.Equal(t, read.JSON(t)["invoice"], answered, "the answer's invoice is the one recorded")
	return answered
}

// A charge raised by an immediate change takes the contract's credit as it
// is applied: covered in full it is answered PAID, in part with what is left
// due; the credit notes, the events and the ledger agree.
func TestAChargeTakesTheContractsCreditAsItIsApplied(t *testing.T) {
	env := newAmendmentEnv(t)
	id := marchContract(env, map[string]any{"quantities": map[string]int{"prod_seat": 10}})["id"].(string)
	assert.Equal(t, billingTotals{AsOf: "2026-03-15", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-03-15"))

	credit := appliedInvoice(t, env, change(env, env.A.SubmitterKey, seats(id, 5)))
	assert.EqualValues(t, -4113, credit["total"], "5 seats at 1,500 for 17 of March's 31 days")
	assert.Equal(t, "CREDIT", credit["status"])

	covered := appliedInvoice(t, env, change(env, env.A.SubmitterKey, seats(id, 6)))
	assert.EqualValues(t, 823, covered["total"])
	assert.EqualValues(t, 0, covered["amountDue"])
	assert.Equal(t, "PAID", covered["status"], "the credit covers it")

	part := appliedInvoice(t, env, change(env, env.A.SubmitterKey, seats(id, 12)))
	assert.EqualValues(t, 4935, part["total"])
	assert.EqualValues(t, 4935-(4113-823), part["amountDue"], "what the credit left is due")
	assert.Equal(t, "OPEN", part["status"])

	list := settledInvoicesOf(t, env, id)
	require.Len(t, list.CreditNotes, 1)
	assert.Zero(t, list.CreditNotes[0].Remaining, "the note is spent")
	assert.Equal(t, []string{"invoice.paid", "credit_note.created", "credit_note.applied", "invoice.paid", "credit_note.applied"},
		eventTypes(t, env, "credit_note.created", "credit_note.applied", "invoice.paid"), "March's collection, then the changes'")
	requireLedgerBalances(t, env)
}
