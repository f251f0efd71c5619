package api_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

func appliedInvoiceTotal(t *testing.T, resp testkit.Response) int64 {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	am := resp.JSON(t)["amendment"].(map[string]any)
	require.Equal(t, "APPLIED", am["status"])
	return int64(am["invoice"].(map[string]any)["total"].(float64))
}

// The cycle the finding describes: an upgrade with a percent-off code, an
// immediate downgrade back, the same code again. What the downgrade credits
// is what the upgrade charged, and the code works once per contract.
func TestDiscountCycleNetsTheCustomerNothing(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	up := appliedInvoiceTotal(t, crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "WELCOME10"}}))
	assert.EqualValues(t, 7601-4387, up, "15400 less 10% instead of 8000, for 17 of 31 days")

	down := appliedInvoiceTotal(t, crossgrade(env, ct, map[string]any{"salesItemCode": "TEAM-M", "downgradeImmediately": true}))
	assert.EqualValues(t, -up, down, "the credit is what was charged for the same days, not the list price")

	again := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "WELCOME10"}})
	requireFault(t, again, http.StatusNotFound, 90022, "InvalidDiscountCodeFault")
	assert.Contains(t, again.JSON(t)["detail"], "limit of 1 times on this contract")
	assert.EqualValues(t, 3, contractVersion(t, env, ct["id"].(string)), "the refused upgrade changed nothing")
	assert.Equal(t, 1, requireSettledOnce(t, env), "the refused upgrade took no payment")
	assert.Equal(t, 2, env.CountRows("amendments"), "the refusal came before any workflow")
}

// A change in the period a discount was charged for credits the discounted
// price: cancelling right after a discounted upgrade gives back exactly what
// the period's invoice and the upgrade charged for the days left.
func TestCancellationAfterDiscountedUpgradeCreditsWhatWasCharged(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	up := appliedInvoiceTotal(t, crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "WELCOME10"}}))
	resp := change(env, env.A.SubmitterKey, cancel(ct["id"]))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	credit := resp.JSON(t)["quote"].(map[string]any)["invoicePreview"].(map[string]any)["total"].(float64)
	listForDaysLeft := int64(4387) // 8000 × 17/31, billed with March
	assert.EqualValues(t, -(listForDaysLeft + up), credit)
}

// However a period's changes are split, their charges and credits net to
// the change in price: seats added to a discounted line are discounted, and
// cancelling credits exactly what the period's invoice and every change
// charged for the days left.
func TestChangesInADiscountedPeriodCreditWhatTheyCharged(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	up := appliedInvoiceTotal(t, crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "WELCOME10"}}))
	more := map[string]any{"action": "QUANTITY_CHANGE", "contractId": ct["id"], "payload": map[string]any{"offerings": []any{map[string]any{
		"offeringId": "off_business", "products": []any{map[string]any{"productId": "prod_seat", "quantity": 10}}}}}}
	resp := change(env, env.A.SubmitterKey, more)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	added := int64(quote["invoicePreview"].(map[string]any)["total"].(float64))
	assert.EqualValues(t, 15004-7601, added, "30400 less 10% instead of 15400 less 10%")
	assert.EqualValues(t, -3040, quote["discount"].(map[string]any)["perPeriod"], "the discount follows its line")

	resp = change(env, env.A.SubmitterKey, cancel(ct["id"]))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	credit := resp.JSON(t)["quote"].(map[string]any)["invoicePreview"].(map[string]any)["total"].(float64)
	assert.EqualValues(t, -(4387 + up + added), credit)
}

// Twenty customers race for a code limited to five redemptions: five get it.
func TestDiscountRedemptionLimitHoldsUnderConcurrency(t *testing.T) {
	env := newAmendmentEnv(t)
	editCatalog(t, env, func(cat map[string]any) {
		code := cat["discountCodes"].([]any)[0].(map[string]any)
		code["maxRedemptions"] = 5
	})
	const clients = 20
	contracts := make([]map[string]any, clients)
	for i := range contracts {
		contracts[i] = fiveSeats(env, nil)
	}
	answers := make([]testkit.Response, clients)
	var wg sync.WaitGroup
	for i, ct := range contracts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "WELCOME10"}})
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, a := range answers {
		count[a.Status]++
		if a.Status != http.StatusOK {
			requireFault(t, a, http.StatusNotFound, 90022, "InvalidDiscountCodeFault")
		}
	}
	assert.Equal(t, map[int]int{http.StatusOK: 5, http.StatusNotFound: clients - 5}, count)
	assert.Equal(t, 5, env.CountRows("discount_redemptions"))
	var discounted int
	require.NoError(t, env.Store.DB().Get(&discounted, `SELECT count(*) FROM contracts WHERE discount IS NOT NULL`))
	assert.Equal(t, 5, discounted)
	assert.Equal(t, 5, requireSettledOnce(t, env), "only the five applied upgrades were captured")
}
