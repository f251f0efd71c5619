package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/invariants"
)

// raiseSeatPrice lists a Team seat at 1700 a month from now on.
func raiseSeatPrice(cat map[string]any) {
	for _, r := range offering(cat, "off_team")["rates"].([]any) {
		if rate := r.(map[string]any); rate["id"] == "rate_team_monthly_usd" {
			rate["unitPrices"].(map[string]any)["prod_seat"] = 1700
		}
	}
}

// teamPrices are the unit prices of the Team line in lines, by product.
func teamPrices(t *testing.T, lines any) map[string]any {
	t.Helper()
	for _, l := range lines.([]any) {
		line := l.(map[string]any)
		if line["offeringId"] != "off_team" {
			continue
		}
		prices := map[string]any{}
		for _, p := range line["products"].([]any) {
			prices[p.(map[string]any)["productId"].(string)] = p.(map[string]any)["unitPrice"]
		}
		return prices
	}
	t.Fatalf("no Team line in %v", lines)
	return nil
}

func TestAContractKeepsItsPricesWhenTheCatalogChanges(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	assert.Equal(t, map[string]any{"prod_seat": 1500.0, "prod_storage": 500.0}, teamPrices(t, ct["lines"]), "locked on creation")
	editCatalog(t, env, raiseSeatPrice)

	resp := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 10))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.EqualValues(t, 15500, quote["recurringAfter"], "10 × 1500 + 500: the contract's price, not the catalog's 1700")
	assert.EqualValues(t, 4113, quote["prorationTotal"])
	read := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, map[string]any{"prod_seat": 1500.0, "prod_storage": 500.0}, teamPrices(t, read["lines"]))

	// A new rate is a new price list: the catalog's.
	resp = change(env, env.A.SubmitterKey, map[string]any{
		"action": "RATE_CHANGE", "contractId": ct["id"], "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote = resp.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, map[string]any{"prod_seat": 15000.0, "prod_storage": 5000.0}, teamPrices(t, quote["linesAfter"]))
	invariants.Require(t, env.Store.DB(), env.Temporal, 10*time.Second)
}

// A contract stored before lines kept their prices takes the catalog's
// price on its next change, and keeps it from then on.
func TestALegacyLineTakesTheCatalogPriceOnItsNextChange(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	forgetUnitPrices(t, env, ct)
	editCatalog(t, env, raiseSeatPrice)

	resp := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.EqualValues(t, 8000, quote["recurringBefore"])
	assert.EqualValues(t, 10700, quote["recurringAfter"], "6 × 1700 + 500")
	assert.Equal(t, map[string]any{"prod_seat": 1700.0, "prod_storage": 500.0}, teamPrices(t, quote["linesAfter"]))
	invariants.Require(t, env.Store.DB(), env.Temporal, 10*time.Second)
}

// The API prices a preview with the catalog as stored when it is asked,
// though it keeps the catalog decoded between requests: an edit is seen by
// the very next preview.
func TestAPreviewIsPricedOnTheCatalogJustStored(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	forgetUnitPrices(t, env, ct)
	preview := func() any {
		t.Helper()
		resp := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, seats(ct["id"].(string), 6))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		return resp.JSON(t)["quote"].(map[string]any)["recurringAfter"]
	}
	assert.EqualValues(t, 9500, preview(), "6 × 1500 + 500")
	assert.EqualValues(t, 9500, preview(), "asked again")
	editCatalog(t, env, raiseSeatPrice)
	assert.EqualValues(t, 10700, preview(), "6 × 1700 + 500, at once")
}

// forgetUnitPrices stores ct's lines as they were before lines kept prices.
func forgetUnitPrices(t *testing.T, env *testkit.Env, ct map[string]any) {
	t.Helper()
	for _, l := range ct["lines"].([]any) {
		for _, p := range l.(map[string]any)["products"].([]any) {
			delete(p.(map[string]any), "unitPrice")
		}
	}
	lines, err := json.Marshal(ct["lines"])
	require.NoError(t, err)
	_, err = env.Store.DB().Exec(`UPDATE contracts SET lines = $2 WHERE id = $1`, ct["id"], lines)
	require.NoError(t, err)
	read := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, map[string]any{"prod_seat": nil, "prod_storage": nil}, teamPrices(t, read["lines"]))
}
