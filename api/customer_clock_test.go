package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A customer key is not shown the test clock staff put its account's
// contract on: test clocks are the tenant's rehearsal tool, which a
// customer key may neither read nor put a contract on, and their ids are
// the tenant's. A probe's customer key read testClockId on its contract.
// No answer that shows the contract to it names the clock; staff keys
// still see testClockId.
func TestACustomerKeyIsNotShownItsContractsTestClock(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	id := clockContract(t, env, sb, clockID, nil)
	staff := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)
	customer := env.NewCustomerKey(sb, staff["accountNumber"].(string))

	shown := func(what string, resp testkit.Response, statuses ...int) map[string]any {
		t.Helper()
		require.Contains(t, statuses, resp.Status, "%s: %s", what, resp.Body)
		assert.NotContains(t, string(resp.Body), clockID, what)
		return resp.JSON(t)
	}
	ct := shown("read", env.Do("GET", "/api/contracts/"+id, customer, nil), http.StatusOK)
	assert.Equal(t, id, ct["id"])
	assert.NotContains(t, ct, "testClockId")
	assert.Len(t, shown("list", env.Do("GET", "/api/contracts", customer, nil), http.StatusOK)["items"], 1)
	shown("projection", env.Do("GET", "/api/contracts/"+id+"?asOf=2027-02-01", customer, nil), http.StatusOK)
	shown("self-service preview", env.Do("POST", "/api/selfService/contract?preview=true", customer, seats(id, 6)), http.StatusOK)
	assert.NotNil(t, shown("self-service change", change(env, customer, seats(id, 6)), http.StatusOK)["contract"])
	past := seats(id, 7)
	past["effectiveDate"] = "2027-01-09"
	assert.NotNil(t, shown("self-service refusal", change(env, customer, past), http.StatusUnprocessableEntity)["contract"])
	upgrade := map[string]any{"salesItemCode": "BUSINESS-M"}
	shown("crossgrade preview", env.Do("POST", crossgradePath(ct)+"?preview=true", customer, upgrade), http.StatusOK)
	shown("crossgrade", env.Do("POST", crossgradePath(ct), customer, upgrade), http.StatusOK, http.StatusAccepted)

	for _, path := range []string{"/api/contracts/" + id, "/api/contracts/" + id + "?asOf=2027-02-01"} {
		assert.Equal(t, clockID, env.Do("GET", path, sb.SubmitterKey, nil).JSON(t)["testClockId"], "staff see it: %s", path)
	}
	list := env.Do("GET", "/api/contracts", sb.SubmitterKey, nil).JSON(t)["items"].([]any)
	assert.Equal(t, clockID, list[0].(map[string]any)["testClockId"])
}
