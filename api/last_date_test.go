package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// The service supports dates up to 2999-12-31: no clock, projection or
// billing run goes further. It makes no date past it either.

// A renewal whose new term would end after 2999-12-31 is not made: the
// contract expires at the end of its term and says why, as one whose
// renewal is refused over the tenant's amount limit does. A probe's contract
// renewed to 3009-12-01 and then took END_OF_TERM changes dated where no
// clock advance could take them.
func TestARenewalPastTheLastDateExpiresTheContract(t *testing.T) {
	env := testkit.New(t)
	sb, clockID, id := renewingPastTheLastDate(t, env)

	advance(t, env, sb, clockID, "2999-12-01T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	got := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	ct := got.JSON(t)
	assert.Equal(t, "expired", ct["status"])
	assert.Equal(t, "2999-12-01", ct["expirationDate"], "not renewed")
	assert.EqualValues(t, 1, ct["version"])

	expired := tenantContractEvents(t, env, sb, "contract.expired", id)
	require.Len(t, expired, 1)
	var data struct {
		ExpiredBecause string `json:"expiredBecause"`
	}
	require.NoError(t, json.Unmarshal(expired[0].Data, &data))
	assert.Equal(t, "its renewal was refused: contract "+ct["number"].(string)+
		" cannot renew for 120 months: its new term would end on 3009-12-01, after 2999-12-31, the last date the service supports", data.ExpiredBecause)
}

// An evergreen contract runs on past its expiration date; in December 2999
// its next bill cycle is in 3000, which no clock reaches: a change dated by
// it, and a downgrade waiting for the end of the period, are refused.
func TestNoChangeIsDatedPastTheLastDate(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, "2999-12-15T12:00:00Z")
	id := clockContract(t, env, sb, clockID, map[string]any{"planId": "off_business", "effectiveDate": "2999-11-01", "expirationDate": "2999-12-01",
		"renewal": map[string]any{"mode": "EVERGREEN"}})

	body := seats(id, 6)
	body["payload"].(map[string]any)["offerings"].([]any)[0].(map[string]any)["offeringId"] = "off_business"
	body["relativeEffectiveDate"] = "NEXT_BILL_CYCLE"
	resp := change(env, sb.SubmitterKey, body)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	assert.Equal(t, "effectiveDate: the change would take effect on 3000-01-01, after 2999-12-31, the last date the service supports", resp.JSON(t)["errorMessage"])

	ct := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)
	downgrade := env.Do("POST", crossgradePath(ct), sb.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M"})
	requireFault(t, downgrade, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	assert.Contains(t, downgrade.JSON(t)["detail"], "the crossgrade would take effect on 3000-01-01, after 2999-12-31")
	assert.Empty(t, idsOf(t, env.Do("GET", "/api/contracts/"+id+"/amendments", sb.SubmitterKey, nil)), "nothing recorded")
}

// Such a contract takes no change at the end of its term but a
// cancellation: any other change there applies to the renewed term, which
// will not start, and was accepted only to fail at the expiry. A
// cancellation comes before the renewal and ends the contract on that day.
func TestAChangeForARenewalPastTheLastDateIsRefused(t *testing.T) {
	env := testkit.New(t)
	sb, clockID, id := renewingPastTheLastDate(t, env)
	number := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)["number"].(string)

	eot := seats(id, 7)
	eot["relativeEffectiveDate"] = "END_OF_TERM"
	resp := change(env, sb.SubmitterKey, eot)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	assert.Equal(t, "relativeEffectiveDate: contract "+number+" cannot renew for 120 months: its new term would end on 3009-12-01, after 2999-12-31, "+
		"the last date the service supports, so it expires at the end of its term on 2999-12-01: only a cancellation can take effect then", resp.JSON(t)["errorMessage"])

	cancel := change(env, sb.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": id, "relativeEffectiveDate": "END_OF_TERM", "payload": nil})
	require.Equal(t, http.StatusOK, cancel.Status, "%s", cancel.Body)
	assert.Equal(t, "2999-12-01", cancel.JSON(t)["quote"].(map[string]any)["effectiveDate"])
	advance(t, env, sb, clockID, "2999-12-01T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	assert.Equal(t, "canceled", env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)["status"])
	for _, am := range env.Do("GET", "/api/contracts/"+id+"/amendments", sb.SubmitterKey, nil).JSON(t)["items"].([]any) {
		assert.NotEqual(t, "QUANTITY_CHANGE", am.(map[string]any)["action"], "the refused change left nothing")
	}
}

// renewingPastTheLastDate creates, on a sandbox tenant's clock standing at
// 2999-11-20, a contract whose term ends on 2999-12-01 and auto-renews for
// 120 months, past the last date. Its renewal's notice date, 2999-11-01,
// has passed: it opens (and is refused) at once.
func renewingPastTheLastDate(t *testing.T, env *testkit.Env) (sb testkit.Tenant, clockID, contractID string) {
	t.Helper()
	sb = env.NewSandboxTenant("SB")
	clockID = createTestClock(t, env, sb, "2999-11-20T12:00:00Z")
	contractID = clockContract(t, env, sb, clockID, map[string]any{"effectiveDate": "2999-11-01", "expirationDate": "2999-12-01",
		"renewal": map[string]any{"mode": "AUTO_RENEW", "termMonths": 120, "upliftBasisPoints": 0, "noticeDays": 30}})
	return sb, clockID, contractID
}
