package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// holdChange creates a contract and a change its submitter asked to have
// approved, and returns the amendment's id.
func holdChange(t *testing.T, env *testkit.Env) string {
	contract := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})
	held := env.Do("POST", "/api/selfService/contract", env.A.SubmitterKey, map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": contract["id"], "requireApproval": true,
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_seat", "quantity": 7}}}}},
	})
	require.Equal(t, http.StatusAccepted, held.Status, "%s", held.Body)
	return held.JSON(t)["quote"].(map[string]any)["id"].(string)
}

// An approver reading `show` and `approve` gets a summary a person can read
// at a glance, not the ~150 lines of the API's answer; --json gives that.
func TestShowAndApprovePrintASummaryOrJSON(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	id := holdChange(t, env)
	t.Setenv("CONTRACTD_URL", env.HTTP.URL)
	t.Setenv("CONTRACTD_API_KEY", env.A.ApproverKey)
	ctx := context.Background()

	var show bytes.Buffer
	require.NoError(t, runAmendments(ctx, &show, []string{"show", id}))
	summary := show.String()
	assert.Contains(t, summary, "amendment  "+id)
	assert.Contains(t, summary, "QUANTITY_CHANGE on CT-")
	assert.Contains(t, summary, "status     REVIEW")
	assert.Contains(t, summary, "recurring  8000 → 11000 USD monthly (+3000)")
	assert.Contains(t, summary, `held by "Approval requested by the submitter"`)
	assert.Less(t, strings.Count(summary, "\n"), 15, summary)

	var whole bytes.Buffer
	require.NoError(t, runAmendments(ctx, &whole, []string{"show", "--json", id}))
	var am map[string]any
	require.NoError(t, json.Unmarshal(whole.Bytes(), &am), whole.String())
	assert.Equal(t, "REVIEW", am["status"])
	assert.Contains(t, am, "quote")

	var approve bytes.Buffer
	require.NoError(t, runDecision(ctx, &approve, "approve", []string{id, "--comment", "checked with sales"}))
	assert.Contains(t, approve.String(), "status     APPLIED")
	assert.Contains(t, approve.String(), `APPROVED by `)
	assert.Contains(t, approve.String(), `"checked with sales"`)
	assert.False(t, json.Valid(approve.Bytes()), "a summary, not JSON")
}

func TestDecisionNeedsExactlyOneID(t *testing.T) {
	t.Setenv("CONTRACTD_API_KEY", "unused")
	for _, args := range [][]string{{}, {"--comment", "x"}, {"a", "b"}} {
		err := runDecision(context.Background(), &bytes.Buffer{}, "approve", args)
		if assert.Error(t, err, "%v", args) {
			assert.Contains(t, err.Error(), "usage: contractd approve ID", "%v", args)
		}
	}
}
