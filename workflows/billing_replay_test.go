package workflows_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// billingHistories are the recorded histories of billing, and the steps
// each is kept for: a run over two contracts, one paying with a declining
// card, that counted them, invoiced its page (asking for the invoices in
// their compact form), collected them in a batch and started the declined
// invoice's dunning from an activity; and that dunning, whose retries were
// due already, collecting in batches of one until it marked the contract in
// arrears. The run bills periods due two weeks and six weeks before, so the
// declined invoices were billed late: since lateDunning (v2) the run starts
// their dunning with the day it began, and the dunning counts its retries
// from that day (the business clock's, which Temporal's time is months
// past, so they are still made at once).
var billingHistories = map[string][]string{
	billingRunHistory: {
		"billing-run-progress", "CountBillingContracts", "batched-collection", "compact-invoice-refs",
		"InvoiceDuePeriods", "CollectInvoices", "delayed-dunning", "StartDunning",
	},
	dunningHistory: {"batched-collection", "CollectInvoices", "MarkInArrears"},
	lateBillingRunHistory: {
		"billing-run-progress", "CountBillingContracts", "batched-collection", "compact-invoice-refs",
		"InvoiceDuePeriods", "CollectInvoices", "delayed-dunning", "StartDunning",
	},
	lateDunningHistory: {"late-dunning", "batched-collection", "CollectInvoices", "MarkInArrears"},
}

const (
	billingRunHistory     = "testdata/billing_run.v1.json"
	dunningHistory        = "testdata/dunning.v1.json"
	lateBillingRunHistory = "testdata/billing_run.v2.json"
	lateDunningHistory    = "testdata/dunning.v2.json"
)

// TestBillingHistoriesReplay replays billingHistories against today's
// workflow code and checks each holds the steps it is kept for. With
// RECORD_HISTORY=1 it first records today's logic again.
func TestBillingHistoriesReplay(t *testing.T) {
	replayHolding(t, billingHistories, recordBillingHistories)
}

// recordBillingHistories bills two contracts through the API, one of them
// declining, and writes the run's history and the declined invoice's
// dunning's once it has ended, as today's logic records them (v2).
func recordBillingHistories(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(time.Date(2026, 2, 15, 12, 0, 0, 0, time.UTC))
	env.CreateContract(nil)
	declined := env.CreateContract(map[string]any{"paymentMethod": "pm_declined"})["id"].(string)
	asOf := domain.NewDate(2026, 2, 1)
	resp := env.Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": asOf.String()})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	writeHistory(t, env.Temporal, flow.BillingRunWorkflowID(env.A.ID, asOf), lateBillingRunHistory)

	var invoiceID string
	require.NoError(t, env.Store.DB().Get(&invoiceID, `SELECT id FROM invoices WHERE contract_id = $1 ORDER BY period_start LIMIT 1`, declined))
	writeHistory(t, env.Temporal, flow.DunningWorkflowID(flow.InvoiceRef{TenantID: env.A.ID, InvoiceID: invoiceID}), lateDunningHistory)
}
