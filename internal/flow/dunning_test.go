package flow

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

// An invoice first collected on its due date starts its dunning as before,
// its input the invoice alone and its first retry a day after that date;
// one first collected later (billed late) begins its dunning that day, and
// its first retry is a day after it.
func TestADunningBeginsOnTheDayALateInvoiceWasFirstTried(t *testing.T) {
	due := domain.NewDate(2026, 1, 1)
	inv := InvoiceRef{TenantID: "tenant-1", ContractID: "contract-1", InvoiceID: "invoice-1", DueDate: due}

	onTime := DunningOf(inv, due.Time().Add(30*time.Minute))
	assert.Equal(t, DunningInput{InvoiceRef: inv}, onTime)
	assert.Equal(t, due, onTime.PlanStart())
	assert.Equal(t, due.AddDays(1).Time(), FirstDunningRetry(onTime))
	encoded, err := json.Marshal(onTime)
	require.NoError(t, err)
	alone, err := json.Marshal(inv)
	require.NoError(t, err)
	assert.JSONEq(t, string(alone), string(encoded), "as the histories recorded before hold it")
	assert.Equal(t, DunningInput{InvoiceRef: inv}, DunningOf(inv, time.Time{}), "a batch of a worker from before says no time")

	late := DunningOf(inv, time.Date(2026, 4, 10, 0, 30, 0, 0, time.UTC))
	began := domain.NewDate(2026, 4, 10)
	assert.Equal(t, DunningInput{InvoiceRef: inv, Began: began}, late)
	assert.Equal(t, began, late.PlanStart())
	assert.Equal(t, began.AddDays(1).Time(), FirstDunningRetry(late))
	encoded, err = json.Marshal(late)
	require.NoError(t, err)
	var back DunningInput
	require.NoError(t, json.Unmarshal(encoded, &back))
	assert.Equal(t, late, back)

	start := StartDunningInput{Invoices: InvoiceRefs{inv}, Began: map[string]domain.Date{inv.InvoiceID: began}}
	assert.Equal(t, late, start.Dunning(0))
	assert.Equal(t, onTime, StartDunningInput{Invoices: InvoiceRefs{inv}}.Dunning(0))
}
