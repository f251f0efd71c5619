package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// Seed fidelity and conformance for selfservice-contract-management.txt:
// each subtest quotes the statement of the seed it checks. The seed's ids
// (ctrct_…, offer_…, prod_…, rate_…) stand for a fresh testkit tenant's: a
// contract's number, off_team, prod_seat and rate_team_annual_usd.

func seatsWith(contractID, product, quantity string) string {
	return `{"action": "QUANTITY_CHANGE", "contractId": "` + contractID + `", "payload": {"offerings": [
		{"offeringId": "off_team", "products": [{"productId": "` + product + `"` + quantity + `}]}]}}`
}

func requireFailed(t *testing.T, resp testkit.Response, status int, action any, message string) map[string]any {
	t.Helper()
	require.Equal(t, status, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "FAILED", body["status"])
	assert.Equal(t, action, body["action"], "%s", resp.Body)
	assert.Contains(t, body["errorMessage"], message)
	return body
}

func TestSeedSelfServiceFidelity(t *testing.T) {
	env := newAmendmentEnv(t)

	t.Run("a product without quantity is refused", func(t *testing.T) {
		// Seed schema: "required": ["productId", "quantity"]. Storage's minimum is 0,
		// so a quantity read as 0 would pass every bound.
		num := fiveSeats(env, nil)["number"].(string)
		requireFailed(t, change(env, env.A.SubmitterKey, seatsWith(num, "prod_storage", "")), http.StatusBadRequest,
			"QUANTITY_CHANGE", "payload.offerings[0].products[0].quantity is required")
	})

	t.Run("a whole number written 7.0 is 7 and 7.5 is refused", func(t *testing.T) {
		// Seed schema: "quantity": {"type": "number"}.
		num := fiveSeats(env, nil)["number"].(string)
		resp := change(env, env.A.SubmitterKey, seatsWith(num, "prod_seat", `, "quantity": 7.0`))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		line := resp.JSON(t)["contract"].(map[string]any)["lines"].([]any)[0].(map[string]any)
		assert.EqualValues(t, 7, line["products"].([]any)[0].(map[string]any)["quantity"])

		other := fiveSeats(env, nil)["number"].(string)
		requireFailed(t, change(env, env.A.SubmitterKey, seatsWith(other, "prod_seat", `, "quantity": 7.5`)), http.StatusUnprocessableEntity,
			"QUANTITY_CHANGE", "payload.offerings[0].products[0].quantity 7.5 must be a whole number")
	})

	t.Run("CANCELLATION without payload is refused", func(t *testing.T) {
		// Seed schema, CancellationOperation: "required": ["action", "payload"], "payload": {"type": "null"}.
		num := fiveSeats(env, nil)["number"].(string)
		requireFailed(t, change(env, env.A.SubmitterKey, `{"action": "CANCELLATION", "contractId": "`+num+`"}`), http.StatusBadRequest,
			"CANCELLATION", "payload is required")
		got := env.Do("GET", "/api/contracts/"+num, env.A.SubmitterKey, nil).JSON(t)
		assert.Equal(t, "active", got["status"])
	})

	t.Run("every answer echoes the action", func(t *testing.T) {
		// Seed, ContractOperationResponse: "required": ["action", "status", "quote", "contract"],
		// action in the six-value enum.
		num := fiveSeats(env, nil)["number"].(string)
		body := seatsWith(num, "prod_seat", `, "quantity": 6`)
		requireFailed(t, change(env, "", body), http.StatusUnauthorized, "QUANTITY_CHANGE", "API key")
		requireFailed(t, change(env, env.A.ApproverKey, body), http.StatusForbidden, "QUANTITY_CHANGE", "submitter")
		requireFailed(t, change(env, env.A.SubmitterKey, `{"action": "CANCELLATION", "contractId": "`+num+`", "payload": null,}`),
			http.StatusBadRequest, "CANCELLATION", "malformed JSON")
		requireFailed(t, change(env, env.A.SubmitterKey, `{"action": "CANCELLATION", "contractId": "`+num+`", "payload": null, "extra": 1}`),
			http.StatusBadRequest, "CANCELLATION", "extra")
		// A body naming no action of the enum gets null, not "".
		requireFailed(t, change(env, env.A.SubmitterKey, `{"contractId": "`+num+`", "payload": null}`), http.StatusBadRequest, nil, "action")
		requireFailed(t, change(env, env.A.SubmitterKey, `{"action": "UPGRADE", "contractId": "`+num+`", "payload": null}`), http.StatusBadRequest, nil, "action")
	})

	t.Run("the contract has the contract-actions contractInfo shape", func(t *testing.T) {
		// contract-actions seed, contractInfo: "contractNumber", "contractSegments": [{..., "currency": ["CNY"], ...}].
		created := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-0000000077", teamItem(nil)))
		require.Equal(t, http.StatusOK, created.Status, "%s", created.Body)
		info := created.JSON(t)["contractInfo"].(map[string]any)
		resp := change(env, env.A.SubmitterKey, seats(info["contractNumber"].(string), 6))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		contract := resp.JSON(t)["contract"].(map[string]any)
		for key, value := range info {
			require.Contains(t, contract, key)
			if key != "contractSegments" && key != "contractSegmentCount" && key != "updatedOn" && key != "updatedBy" {
				assert.Equal(t, value, contract[key], key)
			}
		}
		assert.Equal(t, []any{"USD"}, contract["currency"])
		assert.Len(t, contract["contractSegments"], 2)
		assert.EqualValues(t, 1, info["contractSegmentCount"], "as created")
		assert.EqualValues(t, 2, contract["contractSegmentCount"], "once changed")
	})
}

// TestSeedSelfServiceSamples walks the seed's two Quickstart samples and the
// CANCELLATION form of its schema, each against a fresh contract.
func TestSeedSelfServiceSamples(t *testing.T) {
	env := newAmendmentEnv(t)
	requireAnswer := func(resp testkit.Response, status int, action, quoteStatus string) {
		t.Helper()
		require.Equal(t, status, resp.Status, "%s", resp.Body)
		body := resp.JSON(t)
		assert.Equal(t, action, body["action"])
		assert.Equal(t, "SUCCESS", body["status"])
		assert.Equal(t, quoteStatus, body["quote"].(map[string]any)["status"])
		requireKeys(t, body, "action", "status", "quote", "contract", "invoice")
	}

	// "Add more seats effective today": the QUANTITY_CHANGE sample.
	num := fiveSeats(env, nil)["number"].(string)
	requireAnswer(change(env, env.A.SubmitterKey, `{
  "action": "QUANTITY_CHANGE",
  "contractId": "`+num+`",
  "payload": {
    "offerings": [
      {
        "offeringId": "off_team",
        "products": [
          {
            "productId": "prod_seat",
            "quantity": 11
          }
        ]
      }
    ]
  }
}`), http.StatusOK, "QUANTITY_CHANGE", "APPLIED")

	// "Change from Monthly to Annual effective on the next bill cycle": the
	// RATE_CHANGE sample as published has a trailing comma after rateId; it
	// is refused as malformed, with its action echoed ...
	num = fiveSeats(env, nil)["number"].(string)
	rateChange := `{
  "action": "RATE_CHANGE",
  "contractId": "` + num + `",
  "relativeEffectiveDate": "NEXT_BILL_CYCLE",
  "payload": {
    "offerings": [
      {
        "offeringId": "off_team",
        "rateId": "rate_team_annual_usd",
      }
    ]
  }
}`
	requireFailed(t, change(env, env.A.SubmitterKey, rateChange), http.StatusBadRequest, "RATE_CHANGE", "malformed JSON")
	// ... and its nearest valid form, without the comma, is scheduled.
	valid := strings.Replace(rateChange, `"rate_team_annual_usd",`, `"rate_team_annual_usd"`, 1)
	resp := change(env, env.A.SubmitterKey, valid)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "RATE_CHANGE", body["action"])
	assert.Equal(t, "SCHEDULED", body["quote"].(map[string]any)["status"])
	requireKeys(t, body, "action", "status", "quote", "contract")

	// CancellationOperation: "payload": null.
	num = fiveSeats(env, nil)["number"].(string)
	requireAnswer(change(env, env.A.SubmitterKey, `{"action": "CANCELLATION", "contractId": "`+num+`", "payload": null}`),
		http.StatusOK, "CANCELLATION", "APPLIED")
}
