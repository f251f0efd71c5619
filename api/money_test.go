package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// editCatalog reads tenant A's catalog over HTTP, lets edit change it and
// stores it back.
func editCatalog(t *testing.T, env *testkit.Env, edit func(cat map[string]any)) {
	t.Helper()
	resp := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	cat := resp.JSON(t)
	edit(cat)
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
}

// offering finds a catalog offering by id in the catalog's JSON.
func offering(cat map[string]any, id string) map[string]any {
	for _, o := range cat["offerings"].([]any) {
		if o.(map[string]any)["id"] == id {
			return o.(map[string]any)
		}
	}
	panic("no offering " + id)
}

// unboundedSeats drops maxQuantity from every offering's seats, as the README
// allows.
func unboundedSeats(cat map[string]any) {
	for _, o := range cat["offerings"].([]any) {
		for _, p := range o.(map[string]any)["products"].([]any) {
			delete(p.(map[string]any), "maxQuantity")
		}
	}
}

func setLimits(maxQuantity, maxAmount int64) func(map[string]any) {
	return func(cat map[string]any) {
		cat["limits"] = map[string]any{"maxQuantity": maxQuantity, "maxAmount": maxAmount}
	}
}

func contractVersion(t *testing.T, env *testkit.Env, id string) float64 {
	t.Helper()
	return env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)["version"].(float64)
}

func TestMoneyOverflowIsRefusedOnContractCreation(t *testing.T) {
	env := newAmendmentEnv(t)
	editCatalog(t, env, unboundedSeats)
	for name, seats := range map[string]int64{"wraps int64": 7_000_000_000_000_000, "above the quantity ceiling": 1_000_000_001} {
		t.Run(name, func(t *testing.T) {
			resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, map[string]any{
				"accountNumber": "ACC-OVERFLOW",
				"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{map[string]any{
					"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": []string{"USD"},
					"quantities": map[string]int64{"prod_seat": seats},
				}}}},
			})
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			// Beyond any tenant's ceiling the decoder refuses it; within, the domain.
			assert.Regexp(t, `createContractWithPlan\[0?\]\.quantities`, resp.JSON(t)["message"])
			assert.Zero(t, env.CountRows("contracts"), "nothing stored")
		})
	}
	// The ceiling itself is allowed, and priced without wrapping.
	ct := env.CreateContract(map[string]any{"quantities": map[string]int64{"prod_seat": 1_000_000_000}})
	assert.EqualValues(t, 1_000_000_000*1500+500, ct["recurringAmount"])
}

func TestMoneyOverflowIsRefusedOnSelfService(t *testing.T) {
	env := newAmendmentEnv(t)
	editCatalog(t, env, unboundedSeats)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	// 6148914691236518 seats wrapped int64 before; it is beyond any tenant's
	// ceiling, so the decoder refuses it. 2e9 is within what a tenant may
	// allow but above the default ceiling, so the domain refuses it.
	for quantity, want := range map[int64]string{6_148_914_691_236_518: "quantity must be a whole number", 2_000_000_000: "above the limit of 1000000000"} {
		huge := []map[string]any{{"productId": "prod_seat", "quantity": quantity}}
		for _, body := range []map[string]any{
			seats(id, int(quantity)),
			{"action": "OFFERING_CHANGE", "contractId": id, "payload": map[string]any{"offerings": []any{map[string]any{
				"offeringId": "off_team", "newOfferingId": "off_business", "products": huge}}}},
			{"action": "ADD_OFFERING", "contractId": id, "payload": map[string]any{"offerings": []any{map[string]any{
				"offeringId": "off_business", "products": huge}}}},
		} {
			t.Run(fmt.Sprint(body["action"], quantity), func(t *testing.T) {
				for _, preview := range []string{"?preview=true", ""} {
					resp := env.Do("POST", "/api/selfService/contract"+preview, env.A.SubmitterKey, body)
					require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
					got := resp.JSON(t)
					assert.Equal(t, "FAILED", got["status"])
					assert.Regexp(t, `payload\.offerings\[0?\]`, got["errorMessage"])
					assert.Contains(t, got["errorMessage"], want)
				}
			})
		}
	}
	assert.Zero(t, env.CountRows("amendments"), "nothing stored")
	assert.Zero(t, env.CountRows("invoices"))
	assert.EqualValues(t, 1, contractVersion(t, env, id))

	// A tenant's own amount ceiling holds the same way: 100 seats are 150000.
	editCatalog(t, env, setLimits(0, 100_000))
	resp := change(env, env.A.SubmitterKey, seats(id, 50))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	editCatalog(t, env, func(cat map[string]any) { unboundedSeats(cat); setLimits(0, 100_000)(cat) })
	resp = change(env, env.A.SubmitterKey, seats(id, 100))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	assert.Contains(t, resp.JSON(t)["errorMessage"], "beyond the limit of 100000 minor units")
	assert.EqualValues(t, 2, contractVersion(t, env, id))
}

func TestMoneyLimitIsRefusedOnCrossgrade(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)                 // TEAM-M at 8000; BUSINESS-M would be 15400
	editCatalog(t, env, setLimits(0, 15_000)) // the highest unit price is 15000
	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M"})
	requireFault(t, resp, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	assert.Contains(t, resp.JSON(t)["detail"], "salesItemCode")
	assert.Contains(t, resp.JSON(t)["detail"], "amount 15400 is beyond the limit of 15000 minor units")
	assert.Zero(t, env.CountRows("amendments"), "nothing stored")
	assert.Zero(t, env.CountRows("sandbox_ledger"), "nothing authorised")
	assert.EqualValues(t, 1, contractVersion(t, env, ct["id"].(string)))
}

func TestCatalogRefusesPricesAndLimitsBeyondTheCeilings(t *testing.T) {
	env := newAmendmentEnv(t)
	resp := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil)
	cat := resp.JSON(t)
	rate := offering(cat, "off_team")["rates"].([]any)[0].(map[string]any)
	rate["unitPrices"].(map[string]any)["prod_seat"] = int64(1_000_000_000_000_001)
	cat["limits"] = map[string]any{"maxQuantity": int64(-1)}
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusBadRequest, put.Status, "%s", put.Body)
	problems := toStrings(put.JSON(t)["problems"])
	assert.Contains(t, problems, `offerings[0] (off_team): rates[0] (rate_team_monthly_usd) prices product "prod_seat" at 1000000000000001, above the amount limit 1000000000000000`)
	assert.Contains(t, problems, "limits.maxQuantity must be between 1 and 1000000000000 (omit it for the default 1000000000)")
}

// A contract stored before amounts were checked no longer stops its tenant's
// billing: it is reported and left out, the others are billed.
func TestBillingRunLeavesOutAContractBeyondTheLimits(t *testing.T) {
	env := newAmendmentEnv(t)
	good := fiveSeats(env, nil)
	bad := fiveSeats(env, nil)
	_, err := env.Store.DB().Exec(`UPDATE contracts SET lines = jsonb_set(lines, '{0,recurringAmount}', '9223372036854775000') WHERE id = $1`, bad["id"])
	require.NoError(t, err)

	resp := env.Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": "2026-03-15"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	run := resp.JSON(t)
	assert.Equal(t, []string{bad["id"].(string)}, toStrings(run["refused"]))
	assert.EqualValues(t, 3, run["invoiced"], "the good contract's January to March")
	assert.Len(t, invoicesOf(t, env, good["id"].(string)).Items, 3)
	assert.Empty(t, invoicesOf(t, env, bad["id"].(string)).Items)
}

func TestTerminationFeeAboveTheCeilingIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	id := createTermination(t, env, "Fee")
	body := requireV5Error(t, patchTermination(env, id, nil, chargeItem(1, 0, 24, 1_000_000_000_000_001, "USD")), http.StatusBadRequest)
	assert.Contains(t, body.errorText(), "amount 1000000000000001 is above the amount limit 1000000000000000")
	assert.Zero(t, env.CountRows("contract_termination_period_charges"))
}
