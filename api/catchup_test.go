package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/testkit"
)

// A contract created back-dated with AUTO_RENEW terms renews at once for
// every term end up to today. A probe's request of 20 contracts from 5
// years back on 1-month terms was answered in 0.35 s and made the worker
// apply some 1,000 renewals over a minute; 500 such contracts (a
// request's limit, a customer key's too) would have made 30,000. These
// tests hold a contract to 12 such renewals and a request to 100, refused
// before anything is created.

func monthlyRenewal() map[string]any {
	return map[string]any{"mode": "AUTO_RENEW", "termMonths": 1, "noticeDays": 1}
}

// requireCatchUpRefused checks a refusal in the general format, 422, and
// that it names what it says.
func requireCatchUpRefused(t *testing.T, resp testkit.Response, says ...string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%.500s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "Unprocessable Entity", body["code"])
	for _, s := range says {
		assert.Contains(t, body["message"], s)
	}
}

// The probe's shape, today 2026-03-15: each contract would renew 60 times.
// It is refused whole, and nothing is created; so is a contract that takes
// 1-month terms from the tenant's catalog, from a customer key as from a
// submitter's. (A customer key sets no renewal numbers of its own, so the
// probe's terms are refused it first, 403: see customer_terms_test.go.)
func TestABackDatedContractThatWouldRenewTooOftenIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	const path = "/api/contract-actions"
	customer := env.NewCustomerKey(env.A, "ACC-PROBE")
	probe := teamItem(map[string]any{"effectiveDate": "2021-03-16", "expirationDate": "2021-03-17", "renewal": monthlyRenewal()})
	body := actionsOf("ACC-PROBE", repeatItem(probe, 20)...)
	requireCatchUpRefused(t, env.Do("POST", path, env.A.SubmitterKey, body),
		"actions[0].createContractWithPlan[0].expirationDate 2021-03-17, with effectiveDate 2021-03-16 and renewal.termMonths 1, "+
			"would renew the contract 60 times at once to reach today (2026-03-15), more than the 12 a new contract may",
		"a contract being imported should be given the term it is in now: its current term's start as effectiveDate and its end as expirationDate")
	requireForbiddenTerm(t, path, env.Do("POST", path, customer, body), "renewal.noticeDays")

	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 1, NoticeDays: 1}
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat).Status)
	for _, key := range []string{env.A.SubmitterKey, customer} {
		resp := env.Do("POST", path, key, createBody("ACC-PROBE", teamItem(map[string]any{"effectiveDate": "2021-03-16", "expirationDate": "2021-03-17"})))
		requireCatchUpRefused(t, resp, "renewal.termMonths 1 (the tenant's default renewal terms, from its catalog), would renew the contract 60 times")
	}

	assert.Zero(t, env.CountRows("contracts"), "no contract was created")
	assert.Zero(t, env.CountRows("contract_actions"), "no action was recorded")
	assert.Zero(t, env.CountRows("amendments"), "no renewal was opened")
}

// At the bound a back-dated contract still renews at once, term after term,
// as before; a day further back it would renew once more, and is refused.
func TestABackDatedContractRenewsAtOnceUpToTwelveTimes(t *testing.T) {
	env := newAmendmentEnv(t)
	item := func(eff, exp string) map[string]any {
		return teamItem(map[string]any{"effectiveDate": eff, "expirationDate": exp, "quantities": map[string]int{"prod_seat": 5}, "renewal": monthlyRenewal()})
	}
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-CATCHUP", item("2025-03-01", "2025-03-15")))
	requireCatchUpRefused(t, resp, "actions[0].createContractWithPlan[0].expirationDate", "would renew the contract 13 times")
	assert.Zero(t, env.CountRows("contracts"))

	// Term ends 2025-04-15 to 2026-03-15, today: twelve renewals.
	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-CATCHUP", item("2025-03-15", "2025-04-15")))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	id := resp.JSON(t)["contractId"].(string)
	var got map[string]any
	require.Eventually(t, func() bool { got = contractRead(env, id)(); return got["version"].(float64) == 13 },
		time.Minute, 100*time.Millisecond, "twelve renewals, one after the other")
	assert.Equal(t, "active", got["status"])
	assert.Equal(t, "2026-03-15", got["termStart"])
	assert.Equal(t, "2026-04-15", got["expirationDate"])
}

// The renewals the contracts of one request take are bounded in all: nine
// contracts at the bound take 108, over the 100 a request may.
func TestARequestsCatchUpRenewalsAreBoundedInAll(t *testing.T) {
	env := newAmendmentEnv(t)
	atTheBound := teamItem(map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2025-04-15", "renewal": monthlyRenewal()})
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, actionsOf("ACC-MANY", repeatItem(atTheBound, 9)...))
	requireCatchUpRefused(t, resp,
		"actions[].createContractWithPlan: the request's contracts would renew 108 times in all at once to reach today (2026-03-15), more than the 100 one request may",
		"send them in smaller requests")
	assert.Zero(t, env.CountRows("contracts"))
	assert.Zero(t, env.CountRows("contract_actions"))
}

// On a test clock, today is the clock's: a contract from a month before the
// wall clock's today ends its first term after it, but its clock stands
// two years later, so it would renew 22 times at once, and is refused.
func TestCatchUpIsCountedToTheTestClocksToday(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	clockID := createTestClock(t, env, sandbox, "2028-01-01T09:00:00Z")
	body := createBody("ACC-CLOCK", teamItem(map[string]any{"effectiveDate": "2026-03-01", "expirationDate": "2026-04-01", "renewal": monthlyRenewal()}))
	body["testClockId"] = clockID
	resp := env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, body)
	requireCatchUpRefused(t, resp, "would renew the contract 22 times at once to reach today (2028-01-01)")
	assert.Zero(t, env.CountRows("contracts"))

	delete(body, "testClockId")
	resp = env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, body)
	require.Equal(t, http.StatusOK, resp.Status, "on the wall clock its first term has not ended: %s", resp.Body)
}
