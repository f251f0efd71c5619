package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// addBusiness is a self-service ADD_OFFERING of Business (its minimums:
// five seats, one TB) on rate rateID; date, when not empty, dates it.
func addBusiness(contractID, rateID, date string) map[string]any {
	item := map[string]any{"offeringId": "off_business", "products": []any{}}
	if rateID != "" {
		item["rateId"] = rateID
	}
	body := map[string]any{"action": "ADD_OFFERING", "contractId": contractID, "payload": map[string]any{"offerings": []any{item}}}
	if date != "" {
		body["effectiveDate"] = date
	}
	return body
}

// requireRateRefusal checks resp is the self-service 422 naming the item's
// rateId and saying want.
func requireRateRefusal(t *testing.T, resp testkit.Response, want string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "FAILED", body["status"])
	assert.Equal(t, "ADD_OFFERING", body["action"])
	assert.Contains(t, body["errorMessage"], "payload.offerings[0].rateId "+want, "%s", resp.Body)
}

// A probe's ADD_OFFERING with "rateId": "no_such_rate" was answered 200
// APPLIED, and one asking for Business's quarterly rate on a monthly
// contract was applied on the monthly rate. The rate asked for must be one
// of the offering's, billing the contract's period and currency, or the
// change is refused (preview too) and the contract left as it was; a rate
// that may be is the rate the new line bills.
func TestAnAddedOfferingIsRefusedARateItCannotBillAndBillsTheOneAskedFor(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id, number := ct["id"].(string), ct["number"].(string)

	requireRateRefusal(t, change(env, env.A.SubmitterKey, addBusiness(id, "no_such_rate", "")),
		`"no_such_rate" is not a rate of offering "off_business"`)
	requireRateRefusal(t, change(env, env.A.SubmitterKey, addBusiness(id, "rate_team_monthly_usd", "")),
		`"rate_team_monthly_usd" is not a rate of offering "off_business"`)
	quarterly := `"rate_business_quarterly_usd" bills QUARTERLY but contract ` + number + ` bills MONTHLY, and every offering on a contract bills one period`
	requireRateRefusal(t, change(env, env.A.SubmitterKey, addBusiness(id, "rate_business_quarterly_usd", "")), quarterly)
	preview := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, addBusiness(id, "rate_business_quarterly_usd", ""))
	requireRateRefusal(t, preview, quarterly)
	assert.Zero(t, env.CountRows("amendments"))
	assert.Equal(t, []string{"off_team"}, offeringsOf(t, env, id))

	resp := change(env, env.A.SubmitterKey, addBusiness(id, "rate_business_monthly_usd", ""))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	lines := resp.JSON(t)["contract"].(map[string]any)["lines"].([]any)
	require.Len(t, lines, 2)
	biz := lines[1].(map[string]any)
	assert.Equal(t, "rate_business_monthly_usd", biz["rateId"])
	assert.EqualValues(t, 5*3000+400, biz["recurringAmount"])
}

// An addition dated after a scheduled move to annual billing is priced
// against the contract as it will be then: Business's monthly rate, which
// the contract bills today, is refused, naming the move ahead of it.
func TestAnAddedOfferingsRateIsHeldToThePeriodTheTimelineGivesTheContract(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	annual := scheduledRateChange(t, env, id)

	resp := change(env, env.A.SubmitterKey, addBusiness(id, "rate_business_monthly_usd", "2026-04-15"))
	requireRateRefusal(t, resp, `"rate_business_monthly_usd" bills MONTHLY but contract `)
	assert.Contains(t, resp.JSON(t)["errorMessage"], "bills ANNUAL", "%s", resp.Body)
	assert.Contains(t, resp.JSON(t)["errorMessage"], "after the amendments ahead of this change on its timeline: "+annual, "%s", resp.Body)
	assert.Equal(t, "SCHEDULED", amendment(t, env, annual)["status"], "the refusal leaves the move as it was")
}

// OFFERING_CHANGE takes no rate: the new offering's line takes its rate as
// an ADD_OFFERING without one does. A rate sent with it is refused, not
// ignored, whatever the field is called.
func TestAnOfferingChangeRefusesARate(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	for field, want := range map[string]string{"rateId": "rateId is not allowed for OFFERING_CHANGE", "newRateId": "newRateId"} {
		item := map[string]any{"offeringId": "off_team", "newOfferingId": "off_business", "products": []any{}, field: "rate_business_quarterly_usd"}
		resp := change(env, env.A.SubmitterKey, map[string]any{"action": "OFFERING_CHANGE", "contractId": id,
			"payload": map[string]any{"offerings": []any{item}}})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		assert.Contains(t, resp.JSON(t)["errorMessage"], want, "%s", resp.Body)
	}
	assert.Equal(t, []string{"off_team"}, offeringsOf(t, env, id))
}
