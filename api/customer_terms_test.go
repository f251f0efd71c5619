package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
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

	// The tenant renews at +2 % for two years: a customer may not give
	// its contract the service's 0 uplift instead.
	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24, UpliftBasisPoints: 200, NoticeDays: 60}
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	msg := requireForbiddenTerm(t, path, create(customer, renewal(map[string]any{"mode": "EXPIRE", "upliftBasisPoints": 0})), field+"renewal.upliftBasisPoints")
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

// A protected contract refuses every change through the API, the
// business's own: created protected by a customer key, its contract was
// beyond the business's price changes, cancellation and payment schedule.
// A customer key may not set the flag (nothing is created); false, or left
// out, is its ordinary contract; a staff key still protects a contract.
func TestCustomerKeyCannotCreateAProtectedContract(t *testing.T) {
	env := newAmendmentEnv(t)
	const account, path = "ACC-CUST-PROTECTED", "/api/contract-actions"
	customer := env.NewCustomerKey(env.A, account)
	create := func(key string, protected bool) testkit.Response {
		return env.Do("POST", path, key, createBody(account, teamItem(map[string]any{"protected": protected})))
	}

	msg := requireForbiddenTerm(t, path, create(customer, true), "actions[0].createContractWithPlan[0].protected")
	assert.Contains(t, msg, "the business's own included")
	assert.Zero(t, env.CountRows("contracts"), "nothing refused was created")
	assert.Zero(t, env.CountRows("contract_actions"))

	for key, protected := range map[string]bool{customer: false, env.A.SubmitterKey: true} {
		resp := create(key, protected)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		assert.Equal(t, protected, contractRead(env, resp.JSON(t)["contractId"].(string))()["protected"])
	}
}

// A contract's first term runs at the catalog's prices, with no renewal
// uplift: a probe's customer key created one for ten years, as a 120-month
// termMonths would have held its prices. A customer key's first term is no
// longer than the tenant's default termMonths, counted as a renewal counts
// a term (month ends clamp); shorter is its own choice. Refused, nothing is
// created. A staff key still sets any term.
func TestCustomerKeyCreatesNoTermLongerThanTheBusinesss(t *testing.T) {
	env := newAmendmentEnv(t)
	const account, path = "ACC-CUST-TERM", "/api/contract-actions"
	const field = "actions[0].createContractWithPlan[0].expirationDate"
	customer := env.NewCustomerKey(env.A, account)
	create := func(key, effective, expiration string) testkit.Response {
		return env.Do("POST", path, key, createBody(account, teamItem(map[string]any{"effectiveDate": effective, "expirationDate": expiration})))
	}

	// The tenant set no renewal terms: its contracts have the service's, 12 months.
	msg := requireForbiddenTerm(t, path, create(customer, "2026-04-01", "2036-04-01"), field)
	assert.Contains(t, msg, "termMonths 12, so a term from 2026-04-01 ends on 2027-04-01 at the latest")
	requireForbiddenTerm(t, path, create(customer, "2026-04-01", "2027-04-02"), field)

	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 6, UpliftBasisPoints: 200, NoticeDays: 30}
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	msg = requireForbiddenTerm(t, path, create(customer, "2026-08-31", "2027-03-01"), field)
	assert.Contains(t, msg, "ends on 2027-02-28 at the latest")
	requireForbiddenTerm(t, path, create(customer, "2026-04-01", "2027-04-01"), field)
	assert.Zero(t, env.CountRows("contracts"), "nothing refused was created")
	assert.Zero(t, env.CountRows("contract_actions"))

	for _, c := range []struct{ key, effective, expiration string }{
		{customer, "2026-08-31", "2027-02-28"},
		{customer, "2026-04-01", "2026-07-01"},
		{env.A.SubmitterKey, "2026-04-01", "2036-04-01"},
	} {
		resp := create(c.key, c.effective, c.expiration)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		assert.Equal(t, c.expiration, contractRead(env, resp.JSON(t)["contractId"].(string))()["expirationDate"])
	}
}

// The workflow that creates a customer's contracts holds them to the
// business's terms again, on the catalog it stores them with: the tenant's
// default may have changed since the API checked them. Here a two-year term
// the API would have passed under 24-month defaults reaches the workflow
// once the tenant's are the service's 12 months: refused, nothing created.
func TestCustomerContractsAreCheckedAgainWhenCreated(t *testing.T) {
	env := newAmendmentEnv(t)
	const account = "ACC-CUST-LATE"
	p, err := env.Store.Principal(t.Context(), env.NewCustomerKey(env.A, account))
	require.NoError(t, err)
	date := func(s string) domain.Date {
		d, err := domain.ParseCivilDate(s)
		require.NoError(t, err)
		return d
	}
	in := flow.CreateContractsInput{
		ActionID: uuid.NewString(), TenantID: p.TenantID, ActorID: p.ActorID, Source: string(p.Source),
		RequestHash: "checked-earlier", AccountNumber: account, ActionType: "create-contract-with-plan",
		Contracts: []domain.RequestedContract{{Field: "actions[0].createContractWithPlan[0]", NewContract: domain.NewContract{
			PlanID: "off_team", EffectiveDate: date("2026-04-01"), ExpirationDate: date("2028-04-01"), Currency: []string{"USD"},
		}}},
	}
	run, err := env.Temporal.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID: flow.ContractActionWorkflowID(in.TenantID, in.ActionID), TaskQueue: env.TaskQueue,
	}, flow.ContractActionWorkflow, in)
	require.NoError(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, run.Get(t.Context(), nil), &appErr)
	assert.Equal(t, string(domain.KindForbidden), appErr.Type())
	assert.Contains(t, appErr.Message(), "expirationDate: a customer key cannot make it 2028-04-01")
	assert.Zero(t, env.CountRows("contracts"), "nothing refused was created")
}

// A customer key's terms change is mode-only: the numbers are the
// contract's on the change's date however often it is planned again. A
// customer opts out (EXPIRE) from tomorrow on the numbers the contract has
// when it asks; the business then raises the uplift today. The opt-out,
// re-based after the raise, keeps it: it had put the uplift the contract
// had when asked back on its date. The clock is moved to 20 seconds before
// midnight, so that tomorrow comes within seconds of real time.
func TestCustomerKeysOptOutKeepsAnUpliftTheBusinessRaisesBeforeIt(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"renewal": autoRenew(350)})
	id := ct["id"].(string)
	customer := env.NewCustomerKey(env.A, ct["accountNumber"].(string))
	env.Clock.Set(time.Date(2026, 3, 15, 23, 59, 40, 0, time.UTC))

	optOut := termsChange(id, map[string]any{"mode": "EXPIRE", "termMonths": 12, "upliftBasisPoints": 350, "noticeDays": 30})
	optOut["effectiveDate"] = "2026-03-16"
	resp := change(env, customer, optOut)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	customers := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, "SCHEDULED", customers["status"])
	raise := change(env, env.A.SubmitterKey, termsChange(id, autoRenew(500)))
	require.Equal(t, http.StatusOK, raise.Status, "%s", raise.Body)
	require.Equal(t, "APPLIED", raise.JSON(t)["quote"].(map[string]any)["status"])
	assert.Equal(t, renewalRead("AUTO_RENEW", 12, 500, 30), contractRead(env, id)()["renewal"])

	require.Eventually(t, func() bool { return amendment(t, env, customers["id"].(string))["status"] == "APPLIED" }, 60*time.Second, 200*time.Millisecond)
	assert.Equal(t, renewalRead("EXPIRE", 12, 500, 30), contractRead(env, id)()["renewal"], "the customer's mode, the business's uplift")
}

// A customer key gives the mode alone: the numbers it leaves out are the
// contract's, not the defaults (12, 0 and 30), which its change would have
// had to repeat. A request may not say it is mode-only itself.
func TestCustomerKeyChangesTheModeAlone(t *testing.T) {
	env := newAmendmentEnv(t)
	terms := map[string]any{"mode": "AUTO_RENEW", "termMonths": 24, "upliftBasisPoints": 350, "noticeDays": 60}
	ct := fiveSeats(env, map[string]any{"renewal": terms})
	id := ct["id"].(string)
	customer := env.NewCustomerKey(env.A, ct["accountNumber"].(string))

	preview := env.Do("POST", "/api/selfService/contract?preview=true", customer, termsChange(id, map[string]any{"mode": "EXPIRE"}))
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	optOut := change(env, customer, termsChange(id, map[string]any{"mode": "EXPIRE"}))
	require.Equal(t, http.StatusOK, optOut.Status, "%s", optOut.Body)
	assert.Equal(t, "APPLIED", optOut.JSON(t)["quote"].(map[string]any)["status"])
	assert.Equal(t, renewalRead("EXPIRE", 24, 350, 60), contractRead(env, id)()["renewal"])

	msg := requireForbiddenTerm(t, "/api/selfService/contract", change(env, customer, termsChange(id, map[string]any{"mode": "AUTO_RENEW", "upliftBasisPoints": 0})), "renewal.upliftBasisPoints")
	assert.Contains(t, msg, "has 350")
	back := change(env, customer, termsChange(id, map[string]any{"mode": "AUTO_RENEW", "noticeDays": 60}))
	require.Equal(t, http.StatusOK, back.Status, "%s", back.Body)
	assert.Equal(t, renewalRead("AUTO_RENEW", 24, 350, 60), contractRead(env, id)()["renewal"])

	claimed := termsChange(id, map[string]any{"mode": "EXPIRE", "upliftBasisPoints": 0})
	claimed["modeOnly"] = true
	resp := change(env, env.A.SubmitterKey, claimed)
	assert.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	assert.Equal(t, renewalRead("AUTO_RENEW", 24, 350, 60), contractRead(env, id)()["renewal"])
}
