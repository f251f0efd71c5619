package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/testkit"
)

// renewalRead is renewal terms as a contract read shows them.
func renewalRead(mode string, termMonths, upliftBP, noticeDays float64) map[string]any {
	return map[string]any{"mode": mode, "termMonths": termMonths, "upliftBasisPoints": upliftBP, "noticeDays": noticeDays}
}

// requireForbiddenTerm checks a customer key's refusal: 403 in the surface's
// format, naming field and saying the business sets it.
func requireForbiddenTerm(t *testing.T, path string, resp testkit.Response, field string) string {
	t.Helper()
	require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
	msg := requireSurfaceError(t, path, resp)
	assert.Contains(t, msg, field)
	assert.Contains(t, msg, "set by the business")
	return msg
}

// A probe's customer key made its own contract renew for free: a
// RENEWAL_TERMS_CHANGE to a -100 % uplift, applied at once, which no rule on
// the quote's amounts could hold (the lines do not change). A customer key
// may not change the uplift, the notice, the term's length, nor move the
// contract to EVERGREEN: refused, previewed or not, and nothing changes. A
// staff key still sets any terms.
func TestCustomerKeyCannotChangeTheBusinesssRenewalTerms(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"renewal": autoRenew(350)})
	id := ct["id"].(string)
	customer := env.NewCustomerKey(env.A, ct["accountNumber"].(string))
	probe := termsChange(id, map[string]any{"mode": "AUTO_RENEW", "termMonths": 120, "upliftBasisPoints": -10000, "noticeDays": 365})
	for _, path := range []string{"/api/selfService/contract?preview=true", "/api/selfService/contract"} {
		resp := env.Do("POST", path, customer, probe)
		msg := requireForbiddenTerm(t, path, resp, "renewal.upliftBasisPoints")
		assert.Contains(t, msg, "on 2026-03-15, has 350")
		assert.Equal(t, "RENEWAL_TERMS_CHANGE", resp.JSON(t)["action"])
	}
	for field, value := range map[string]any{"upliftBasisPoints": 0, "noticeDays": 365, "termMonths": 120, "mode": "EVERGREEN"} {
		terms := autoRenew(350)
		terms[field] = value
		requireForbiddenTerm(t, "/api/selfService/contract", change(env, customer, termsChange(id, terms)), "renewal."+field)
	}
	got := contractRead(env, id)()
	assert.EqualValues(t, 1, got["version"], "nothing applied")
	assert.Equal(t, renewalRead("AUTO_RENEW", 12, 350, 30), got["renewal"])
	assert.Empty(t, idsOf(t, env.Do("GET", "/api/contracts/"+id+"/amendments", env.A.SubmitterKey, nil)), "nothing recorded")

	staff := change(env, env.A.SubmitterKey, probe)
	require.Equal(t, http.StatusOK, staff.Status, "%s", staff.Body)
	assert.Equal(t, renewalRead("AUTO_RENEW", 120, -10000, 365), contractRead(env, id)()["renewal"])
}

// A customer key still decides whether its contract renews: it opts out
// (and back in) on the terms the contract will have on the change's date,
// after the changes scheduled before it. Here the business raises the
// uplift from June: an opt-out for July must keep the raised uplift, not
// today's, which would undo the business's change.
func TestCustomerKeyOptsOutOfRenewalOnTheTermsTheContractWillHave(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"renewal": autoRenew(350)})
	id := ct["id"].(string)
	customer := env.NewCustomerKey(env.A, ct["accountNumber"].(string))
	raise := termsChange(id, autoRenew(500))
	raise["effectiveDate"] = "2026-06-01"
	resp := change(env, env.A.SubmitterKey, raise)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	terms := func(mode string, upliftBP int, date string) map[string]any {
		body := termsChange(id, map[string]any{"mode": mode, "termMonths": 12, "upliftBasisPoints": upliftBP, "noticeDays": 30})
		if date != "" {
			body["effectiveDate"] = date
		}
		return body
	}

	msg := requireForbiddenTerm(t, "/api/selfService/contract", change(env, customer, terms("EXPIRE", 350, "2026-07-01")), "renewal.upliftBasisPoints")
	assert.Contains(t, msg, "on 2026-07-01, has 500")
	july := change(env, customer, terms("EXPIRE", 500, "2026-07-01"))
	require.Equal(t, http.StatusOK, july.Status, "%s", july.Body)
	assert.Equal(t, "SCHEDULED", july.JSON(t)["quote"].(map[string]any)["status"])

	now := change(env, customer, terms("EXPIRE", 350, ""))
	require.Equal(t, http.StatusOK, now.Status, "%s", now.Body)
	assert.Equal(t, "APPLIED", now.JSON(t)["quote"].(map[string]any)["status"])
	assert.Equal(t, renewalRead("EXPIRE", 12, 350, 30), contractRead(env, id)()["renewal"])
	back := change(env, customer, terms("AUTO_RENEW", 350, ""))
	require.Equal(t, http.StatusOK, back.Status, "opting back in: %s", back.Body)
	assert.Equal(t, renewalRead("AUTO_RENEW", 12, 350, 30), contractRead(env, id)()["renewal"])
}

// A customer key creates contracts on the business's terms: its renewal
// terms, if it gives any, are the tenant's default but for the mode, so no
// renewal discount (a negative uplift, or none where the business set one)
// and no EVERGREEN; and its early-termination terms are its offering's.
// Refused, nothing is created. A staff key still gives any terms.
func TestCustomerKeyCreatesContractsOnTheBusinesssTerms(t *testing.T) {
	env := newAmendmentEnv(t)
	const account = "ACC-CUST-TERMS"
	customer := env.NewCustomerKey(env.A, account)
	create := func(key string, extra map[string]any) testkit.Response {
		extra["quantities"] = map[string]int{"prod_seat": 5}
		return env.Do("POST", "/api/contract-actions", key, createBody(account, teamItem(extra)))
	}
	renewal := func(terms map[string]any) map[string]any { return map[string]any{"renewal": terms} }
	const path = "/api/contract-actions"
	field := "actions[0].createContractWithPlan[0]."

	requireForbiddenTerm(t, path, create(customer, renewal(map[string]any{"mode": "AUTO_RENEW", "upliftBasisPoints": -10000})), field+"renewal.upliftBasisPoints")
	requireForbiddenTerm(t, path, create(customer, renewal(map[string]any{"mode": "EVERGREEN"})), field+"renewal.mode")
	termination := createTermination(t, env, "Mild exit")
	requireForbiddenTerm(t, path, create(customer, map[string]any{"contractTerminationId": termination}), field+"contractTerminationId")

	// The tenant renews at +2 % for two years: a customer choosing the mode
	// alone would otherwise get the defaults' 0 uplift.
	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24, UpliftBasisPoints: 200, NoticeDays: 60}
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	msg := requireForbiddenTerm(t, path, create(customer, renewal(map[string]any{"mode": "EXPIRE"})), field+"renewal.upliftBasisPoints")
	assert.Contains(t, msg, "the tenant's default renewal has 200")
	assert.Zero(t, env.CountRows("contracts"), "nothing refused was created")

	for _, c := range []struct {
		key   string
		extra map[string]any
		want  map[string]any
	}{
		{customer, map[string]any{}, renewalRead("AUTO_RENEW", 24, 200, 60)},
		{customer, renewal(map[string]any{"mode": "EXPIRE", "termMonths": 24, "upliftBasisPoints": 200, "noticeDays": 60}), renewalRead("EXPIRE", 24, 200, 60)},
		{env.A.SubmitterKey, renewal(map[string]any{"mode": "EVERGREEN", "upliftBasisPoints": -10000}), renewalRead("EVERGREEN", 12, -10000, 30)},
	} {
		resp := create(c.key, c.extra)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		assert.Equal(t, c.want, contractRead(env, resp.JSON(t)["contractId"].(string))()["renewal"])
	}
}
