package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scheduled removal accepted while the contract kept another offering
// would, once that offering is removed first, remove the last one: cancel
// the contract, owing its fee, past the approval rules that judged it as a
// change that keeps it (a probe's contract was cancelled so, unreviewed,
// under the rule cancelsContract). It fails instead, saying to send a
// cancellation.
func TestARemovalThatWouldNowCancelTheContractFails(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, map[string]any{"id": "cancel", "name": "Cancellations", "when": `cancelsContract`})
	id := fiveSeats(env, nil)["id"].(string)
	removeOffering := func(offering string) map[string]any {
		return map[string]any{"action": "REMOVE_OFFERING", "contractId": id,
			"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": offering}}}}
	}
	sports := change(env, env.A.SubmitterKey, map[string]any{"action": "ADD_OFFERING", "contractId": id,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_sports", "products": []any{}}}}})
	require.Equal(t, http.StatusOK, sports.Status, "%s", sports.Body)
	team := scheduled(t, env, removeOffering("off_team"), "2026-04-01")
	require.Equal(t, "SCHEDULED", team["status"])
	require.Equal(t, false, team["cancelsContract"])

	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, removeOffering("off_sports")).Status)

	am := amendment(t, env, team["id"].(string))
	assert.Equal(t, "FAILED", am["status"])
	_, notes := historyOf(am)
	assert.Contains(t, notes["FAILED"], "submit a CANCELLATION")
	contract := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "active", contract["status"])
}

// Removing the last offering of an auto-renewing contract at the end of
// its term would apply to the renewed term, with a fee: only a
// CANCELLATION ends a contract then.
func TestRemovingTheLastOfferingAtTheEndOfTheTermIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, map[string]any{"renewal": map[string]any{"mode": "AUTO_RENEW"}})["id"].(string)
	resp := change(env, env.A.SubmitterKey, map[string]any{"action": "REMOVE_OFFERING", "contractId": id, "relativeEffectiveDate": "END_OF_TERM",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team"}}}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), "send a CANCELLATION with relativeEffectiveDate END_OF_TERM")
}
