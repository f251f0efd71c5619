package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// addSports adds the Sports offering (monthly only, one product at its
// default quantity) by a self-service ADD_OFFERING; date, when not empty,
// schedules it.
func addSports(t *testing.T, env *testkit.Env, contractID, date string) map[string]any {
	t.Helper()
	body := map[string]any{"action": "ADD_OFFERING", "contractId": contractID,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_sports", "products": []any{}}}}}
	if date != "" {
		return scheduled(t, env, body, date)
	}
	resp := change(env, env.A.SubmitterKey, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["quote"].(map[string]any)
}

// requirePeriodsFault checks resp is the 90063 refusing a crossgrade from
// monthly to annual Team that would leave Sports billed monthly.
func requirePeriodsFault(t *testing.T, resp testkit.Response, number string) {
	t.Helper()
	requireFault(t, resp, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	detail := resp.JSON(t)["detail"]
	assert.Contains(t, detail, `offering "off_sports" on contract `+number+` bills MONTHLY`, "%s", resp.Body)
	assert.Contains(t, detail, "the crossgrade from TEAM-M to TEAM-A would bill ANNUAL", "%s", resp.Body)
	assert.Contains(t, detail, "remove the offerings billed MONTHLY first, or crossgrade to an item billed MONTHLY", "%s", resp.Body)
}

// A probe crossgraded a monthly Team contract holding Sports to annual
// Team: the contract billed annually with a Sports line at its monthly
// price. A crossgrade replaces one line, so one changing the period of a
// contract with other lines is refused, as the surface's 90063, before a
// discount code's fault, which comes later in the seed's table; so is its
// preview, and the contract is left as it was.
func TestACrossgradeChangingTheBillingPeriodOfAContractWithOtherLinesIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	addSports(t, env, id, "")
	ct := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	number := ct["number"].(string)

	for _, body := range []map[string]any{
		{"salesItemCode": "TEAM-A"},
		{"salesItemCode": "TEAM-A", "discountCode": map[string]any{"code": "FREE"}},
	} {
		requirePeriodsFault(t, crossgrade(env, ct, body), number)
	}
	preview := env.Do("POST", crossgradePath(ct)+"?preview=true", env.A.SubmitterKey, map[string]any{"salesItemCode": "TEAM-A"})
	requirePeriodsFault(t, preview, number)

	after := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, after["version"], "a refused crossgrade changes nothing")
	assert.Equal(t, "MONTHLY", after["billingPeriod"])
	assert.Equal(t, []string{"off_team", "off_sports"}, offeringsOf(t, env, id))
}

// A crossgrade changing the period waits for the next one and is priced
// against the contract as it will be then: with Sports added before that,
// it is refused, naming the addition ahead of it.
func TestACrossgradeChangingThePeriodBehindAnAddedOfferingIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	added := addSports(t, env, ct["id"].(string), "2026-03-20")
	require.Equal(t, "SCHEDULED", added["status"])

	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "TEAM-A"})
	requirePeriodsFault(t, resp, ct["number"].(string))
	assert.Contains(t, resp.JSON(t)["detail"], "after the amendments ahead of this change on its timeline: "+added["id"].(string), "%s", resp.Body)
}

// A crossgrade to annual Team scheduled for the next period, then Sports
// (monthly) added at once: re-basing fails the crossgrade rather than let
// it bill Sports monthly on an annual contract when its date comes.
func TestAScheduledCrossgradeChangingThePeriodFailsWhenAnOfferingIsAddedFirst(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	annual := crossgrade(env, ct, map[string]any{"salesItemCode": "TEAM-A"})
	require.Equal(t, http.StatusAccepted, annual.Status, "%s", annual.Body)
	annualID := annual.JSON(t)["amendment"].(map[string]any)["id"].(string)

	addSports(t, env, id, "")

	am := amendment(t, env, annualID)
	assert.Equal(t, "FAILED", am["status"])
	_, notes := historyOf(am)
	assert.Contains(t, notes["FAILED"], `offering "off_sports" on contract `+ct["number"].(string)+` bills MONTHLY`)
	timeline := env.Do("GET", "/api/contracts/"+id+"/timeline", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, timeline.Status, "%s", timeline.Body)
	assert.NotContains(t, string(timeline.Body), annualID, "nothing left to apply on 2026-04-01")
	after := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "MONTHLY", after["billingPeriod"])
	assert.Equal(t, []string{"off_team", "off_sports"}, offeringsOf(t, env, id))
}
