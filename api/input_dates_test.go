package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A date is YYYY-MM-DD. A probe's billing run with asOf
// "2026-12-06T00:00:00Z" was taken, truncated to its day, where "2026-12-6"
// was refused ("want YYYY-MM-DD"); a new contract's dates and the contract
// projection's asOf took a date-time the same way. Each is refused in the
// words of a malformed date. The self-service effectiveDate, which its seed
// types as a date-time, still takes one.
func TestInputADateIsYYYYMMDD(t *testing.T) {
	env := newAmendmentEnv(t) // today 2026-03-15
	for _, asOf := range []string{"2026-03-01T00:00:00Z", "2026-3-1", "2026-03-01T10:00:00+02:00", "2026-03-01 "} {
		resp := env.Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": asOf})
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", asOf, resp.Body)
		assert.Contains(t, string(resp.Body), `asOf \"`+asOf+`\" is not a date (want YYYY-MM-DD)`)
	}
	for _, field := range []string{"effectiveDate", "expirationDate"} {
		item := map[string]any{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": []string{"USD"},
			"quantities": map[string]int{"prod_seat": 5}}
		item[field] = item[field].(string) + "T00:00:00Z"
		resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, map[string]any{
			"accountNumber": "ACC-dates", "actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{item}}},
		})
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", field, resp.Body)
		assert.Contains(t, string(resp.Body), field+` \"`+item[field].(string)+`\" is not a date (want YYYY-MM-DD)`)
	}
	assert.Zero(t, env.CountRows("contracts"), "nothing was created")

	id := fiveSeats(env, nil)["id"].(string)
	for _, asOf := range []string{"2026-04-01T00:00:00Z", "2026-4-1"} {
		path := "/api/contracts/" + id + "?asOf=" + asOf
		requireRefused(t, path, env.Do("GET", path, env.A.SubmitterKey, nil), `query parameter asOf \"`+asOf+`\" is not a date (want YYYY-MM-DD)`)
	}
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/contracts/"+id+"?asOf=2026-04-01", env.A.SubmitterKey, nil).Status)

	dated := seats(id, 6)
	dated["effectiveDate"] = "2026-04-01T00:00:00Z"
	resp := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, dated)
	require.Equal(t, http.StatusOK, resp.Status, "the self-service seed's date-time: %s", resp.Body)
	assert.Equal(t, "2026-04-01", resp.JSON(t)["quote"].(map[string]any)["effectiveDate"])
}

// The self-service effectiveDate's refusal names the field and both forms
// it takes: it said "want YYYY-MM-DD" alone, and a client whose date-time
// was malformed was told to send a form its seed does not type.
func TestInputASelfServiceEffectiveDateRefusalNamesBothForms(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	for _, date := range []string{"2026-4-1", "2026-04-01T00:00:00", "2026-04-01T00:00:00+24:00"} {
		dated := seats(id, 6)
		dated["effectiveDate"] = date
		resp := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, dated)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", date, resp.Body)
		assert.Contains(t, string(resp.Body), `effectiveDate \"`+date+`\" is not a date (want YYYY-MM-DD or an RFC 3339 date-time`, date)
	}
}
