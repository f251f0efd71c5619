package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// addOffering is a self-service ADD_OFFERING of offering with five seats
// and a terabyte; date, when not empty, schedules it.
func addOffering(t *testing.T, env *testkit.Env, contractID, offering, date string) map[string]any {
	t.Helper()
	body := map[string]any{"action": "ADD_OFFERING", "contractId": contractID,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": offering, "products": []any{
			map[string]any{"productId": "prod_seat", "quantity": 5}, map[string]any{"productId": "prod_storage", "quantity": 1},
		}}}}}
	if date != "" {
		return scheduled(t, env, body, date)
	}
	resp := change(env, env.A.SubmitterKey, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["quote"].(map[string]any)
}

// offeringsOf lists the offering of each line of the contract, in order.
func offeringsOf(t *testing.T, env *testkit.Env, contractID string) []string {
	t.Helper()
	var out []string
	for _, l := range env.Do("GET", "/api/contracts/"+contractID, env.A.SubmitterKey, nil).JSON(t)["lines"].([]any) {
		out = append(out, l.(map[string]any)["offeringId"].(string))
	}
	return out
}

// A crossgrade replaces the line of the contract's sales item. A probe
// crossgraded a Team contract to Business after adding the Business
// offering: the contract then held two identical Business lines, billed
// twice, of which a quantity change or a removal reached only the first.
// The self-service OFFERING_CHANGE to an offering on the contract is
// refused; so is this crossgrade, as the surface's 90063, and before a
// discount code's fault, which comes later in the seed's table.
func TestACrossgradeToAnOfferingAlreadyOnTheContractIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	addOffering(t, env, id, "off_business", "")
	ct := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)

	for _, body := range []map[string]any{
		{"salesItemCode": "BUSINESS-M"},
		{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "FREE"}},
	} {
		resp := crossgrade(env, ct, body)
		requireFault(t, resp, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
		assert.Contains(t, resp.JSON(t)["detail"], `offering "off_business" is on contract `+ct["number"].(string)+` already`, "%s", resp.Body)
	}
	preview := env.Do("POST", crossgradePath(ct)+"?preview=true", env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"})
	requireFault(t, preview, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")

	after := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, after["version"], "a refused crossgrade changes nothing")
	assert.Equal(t, []string{"off_team", "off_business"}, offeringsOf(t, env, id))
}

// A downgrade waits for the next period and is priced against the contract
// as it will be then: with its target offering added before that, it is
// refused, naming the addition ahead of it.
func TestACrossgradeBehindAnAddedOfferingOfItsTargetIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	business := fiveSeats(env, map[string]any{"planId": "off_business"})
	added := addOffering(t, env, business["id"].(string), "off_team", "2026-03-20")
	require.Equal(t, "SCHEDULED", added["status"])

	resp := crossgrade(env, business, map[string]any{"salesItemCode": "TEAM-M"})
	requireFault(t, resp, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	assert.Contains(t, resp.JSON(t)["detail"], "after the amendments ahead of this change on its timeline: "+added["id"].(string), "%s", resp.Body)
}

// A downgrade scheduled for the next period, then its target offering
// added at once: re-basing fails the crossgrade rather than let it put the
// offering on the contract a second time when its date comes.
func TestAScheduledCrossgradeFailsWhenItsTargetOfferingIsAddedFirst(t *testing.T) {
	env := newAmendmentEnv(t)
	business := fiveSeats(env, map[string]any{"planId": "off_business"})
	id := business["id"].(string)
	down := crossgrade(env, business, map[string]any{"salesItemCode": "TEAM-M"})
	require.Equal(t, http.StatusAccepted, down.Status, "%s", down.Body)
	downID := down.JSON(t)["amendment"].(map[string]any)["id"].(string)

	addOffering(t, env, id, "off_team", "")

	am := amendment(t, env, downID)
	assert.Equal(t, "FAILED", am["status"])
	_, notes := historyOf(am)
	assert.Contains(t, notes["FAILED"], `offering "off_team" is on contract `+business["number"].(string)+` already`)
	timeline := env.Do("GET", "/api/contracts/"+id+"/timeline", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, timeline.Status, "%s", timeline.Body)
	assert.NotContains(t, string(timeline.Body), downID, "nothing left to apply on 2026-04-01")
	assert.Equal(t, []string{"off_business", "off_team"}, offeringsOf(t, env, id))
}
