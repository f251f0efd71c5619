package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// Seed fidelity and conformance for contract-actions.txt. A fresh testkit
// tenant's plans are the demo catalog's offerings (off_team, ...), not
// UUIDs: the sample's planId is replaced by off_team, as the README's "Where
// we differ" says.

// contractActionSample is the seed's request, with planId as given.
func contractActionSample(planID string) string {
	return `{
  "accountNumber": "ACC-0000000001",
  "actions": [
    {
      "type": "create-contract-with-plan",
      "createContractWithPlan": [
        {
          "planId": "` + planID + `",
          "effectiveDate": "2026-02-01",
          "expirationDate": "2027-02-01",
          "currency": [
            "USD"
          ]
        }
      ]
    }
  ]
}`
}

func TestSeedContractActions(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)

	// As published, the sample's plan is a UUID no fresh tenant has.
	unknown := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, contractActionSample("16ad814a-dd1b-41c8-9b4b-4e8551170fee"))
	require.Equal(t, http.StatusBadRequest, unknown.Status, "%s", unknown.Body)
	assert.Contains(t, unknown.JSON(t)["message"], "planId")

	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, contractActionSample("off_team"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)

	t.Run("status takes the seed's enum", func(t *testing.T) {
		// Seed, Response: "status enum<string> Available options: active, expired, canceled".
		assert.Equal(t, "active", body["status"])
	})

	t.Run("contractActionItemRequest echoes the requested item", func(t *testing.T) {
		// Seed, Response: "contractActionItemRequest object".
		assert.Equal(t, map[string]any{"planId": "off_team", "effectiveDate": "2026-02-01", "expirationDate": "2027-02-01",
			"currency": []any{"USD"}}, body["contractActionItemRequest"])
	})

	t.Run("the answer has the sample's and the schema's fields", func(t *testing.T) {
		// Sample response: contractActionNumber, contractInfo{...}; schema: id, createdOn, updatedOn,
		// createdBy, updatedBy, number, accountId, contractId, actionType, contractActionItemRequest,
		// contractSegmentIds, status.
		for _, key := range []string{"contractActionNumber", "contractInfo", "id", "createdOn", "updatedOn", "createdBy", "updatedBy",
			"number", "accountId", "contractId", "actionType", "contractActionItemRequest", "contractSegmentIds", "status"} {
			assert.Contains(t, body, key)
		}
		info := body["contractInfo"].(map[string]any)
		for _, key := range []string{"accountNumber", "contractNumber", "effectiveDate", "expirationDate", "status", "contractSegments",
			"id", "createdOn", "updatedOn", "createdBy", "updatedBy"} {
			assert.Contains(t, info, key)
		}
		segment := info["contractSegments"].([]any)[0]
		requireKeys(t, segment, "accountNumber", "contractNumber", "previousContractSegmentId", "effectiveDate", "expirationDate",
			"currency", "planId", "billingCycleDay", "billingCycleType", "status", "id", "createdOn", "updatedOn", "createdBy",
			"updatedBy", "lines")
		assert.Equal(t, []any{segment.(map[string]any)["id"]}, body["contractSegmentIds"])
		assert.Equal(t, "create-contract-with-plan", body["actionType"])
	})
}
