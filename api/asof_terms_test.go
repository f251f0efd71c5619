package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract as it will be on a date carries out its term's end. A probe
// found a contract to EXPIRE on 2028-01-01 shown "active" on that date and
// on every one after it.
func TestContractAsOfCarriesOutTheTermsEnd(t *testing.T) {
	env := newAmendmentEnv(t)
	status := func(id, on string) string {
		t.Helper()
		resp := env.Do("GET", "/api/contracts/"+id+"?asOf="+on, env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		body := resp.JSON(t)
		assert.Equal(t, on, body["asOf"])
		return body["status"].(string)
	}
	expiring := fiveSeats(env, map[string]any{"renewal": map[string]any{"mode": "EXPIRE"}})["id"].(string) // ends 2028-01-01
	assert.Equal(t, "active", status(expiring, "2027-12-31"), "the term's last day")
	for _, on := range []string{"2028-01-01", "2030-01-01", "2999-12-31"} {
		assert.Equal(t, "expired", status(expiring, on), "EXPIRE on %s", on)
	}
	assert.Equal(t, "active", contractRead(env, expiring)()["status"], "a projection changes nothing")

	evergreen := fiveSeats(env, map[string]any{"renewal": map[string]any{"mode": "EVERGREEN"}})["id"].(string)
	assert.Equal(t, "active", status(evergreen, "2030-01-01"), "EVERGREEN runs on")
	renewing := fiveSeats(env, map[string]any{"renewal": autoRenew(0)})["id"].(string)
	assert.Equal(t, "active", status(renewing, "2030-01-01"), "AUTO_RENEW renews")

	// Switched to EXPIRE on the timeline, an auto-renewing contract is shown
	// expired from its end.
	switched := fiveSeats(env, map[string]any{"renewal": autoRenew(0)})["id"].(string)
	toExpire := termsChange(switched, map[string]any{"mode": "EXPIRE"})
	toExpire["effectiveDate"] = "2027-06-01"
	resp := change(env, env.A.SubmitterKey, toExpire)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "active", status(switched, "2027-12-31"))
	assert.Equal(t, "expired", status(switched, "2028-01-01"))
}
