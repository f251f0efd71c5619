package api_test

import (
	"net/http"
	"testing"

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

// setDefaultRenewal makes terms the default renewal of env's tenant A.
func setDefaultRenewal(t *testing.T, env *testkit.Env, terms domain.RenewalTerms) {
	t.Helper()
	cat := demo.Catalog()
	cat.Renewal = &terms
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
}

// A customer key creating a contract chooses its renewal mode alone, as
// it does changing one: the numbers it leaves out are the tenant's
// default renewal's, not the service's 12, 0 and 30, which it had to
// replace with the default's by hand (403 otherwise). A number it gives
// other than the default's is still refused, and it may not say its
// renewal is mode-only itself. A staff key's numbers left out are still
// the service's.
func TestCustomerKeyCreatesAContractGivingTheModeAlone(t *testing.T) {
	env := newAmendmentEnv(t)
	const account, path = "ACC-CUST-MODE", "/api/contract-actions"
	customer := env.NewCustomerKey(env.A, account)
	setDefaultRenewal(t, env, domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24, UpliftBasisPoints: 300, NoticeDays: 60})
	create := func(key string, renewal map[string]any) testkit.Response {
		return env.Do("POST", path, key, createBody(account, teamItem(map[string]any{"renewal": renewal})))
	}

	for _, c := range []struct {
		key     string
		renewal map[string]any
		want    map[string]any
	}{
		{customer, map[string]any{"mode": "EXPIRE"}, renewalRead("EXPIRE", 24, 300, 60)},
		{customer, map[string]any{"mode": "AUTO_RENEW", "noticeDays": 60}, renewalRead("AUTO_RENEW", 24, 300, 60)},
		{env.A.SubmitterKey, map[string]any{"mode": "EXPIRE"}, renewalRead("EXPIRE", 12, 0, 30)},
	} {
		resp := create(c.key, c.renewal)
		require.Equal(t, http.StatusOK, resp.Status, "%v: %s", c.renewal, resp.Body)
		assert.Equal(t, c.want, contractRead(env, resp.JSON(t)["contractId"].(string))()["renewal"], "%v", c.renewal)
	}

	msg := requireForbiddenTerm(t, path, create(customer, map[string]any{"mode": "EXPIRE", "termMonths": 12}),
		"actions[0].createContractWithPlan[0].renewal.termMonths")
	assert.Contains(t, msg, "cannot make it 12 where the tenant's default renewal has 24")
	assert.Contains(t, msg, "give the mode alone: termMonths, upliftBasisPoints and noticeDays left out are the default's")
	claimed := teamItem(map[string]any{"renewal": map[string]any{"mode": "EXPIRE", "upliftBasisPoints": 0}, "renewalAsked": map[string]any{}})
	resp := env.Do("POST", path, customer, createBody(account, claimed))
	assert.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	assert.Equal(t, 3, env.CountRows("contracts"), "nothing refused was created")
}

// The workflow plans a customer's contract again, without the request's
// body, on the catalog it stores it with: the numbers the key left out
// travel with the request (RenewalAsked), and are the tenant's default
// renewal's then. A request recorded before they did (its workflow's
// history from then) is checked as then: its numbers left out are the
// service's, so its mode alone is refused where the default's differ.
func TestCustomerContractsGivingTheModeAloneTakeTheDefaultTheyAreStoredWith(t *testing.T) {
	env := newAmendmentEnv(t)
	const account = "ACC-CUST-STORED"
	p, err := env.Store.Principal(t.Context(), env.NewCustomerKey(env.A, account))
	require.NoError(t, err)
	setDefaultRenewal(t, env, domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24, UpliftBasisPoints: 300, NoticeDays: 60})
	date := func(s string) domain.Date {
		d, err := domain.ParseCivilDate(s)
		require.NoError(t, err)
		return d
	}
	run := func(asked *domain.TermsAsked) (flow.ContractAction, error) {
		in := flow.CreateContractsInput{
			ActionID: uuid.NewString(), TenantID: p.TenantID, ActorID: p.ActorID, Source: string(p.Source),
			RequestHash: "checked-earlier", AccountNumber: account, ActionType: "create-contract-with-plan",
			Contracts: []domain.RequestedContract{{Field: "actions[0].createContractWithPlan[0]", RenewalAsked: asked, NewContract: domain.NewContract{
				PlanID: "off_team", EffectiveDate: date("2026-04-01"), ExpirationDate: date("2027-04-01"), Currency: []string{"USD"},
				Renewal: &domain.RenewalTerms{Mode: domain.Expire},
			}}},
		}
		wf, err := env.Temporal.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
			ID: flow.ContractActionWorkflowID(in.TenantID, in.ActionID), TaskQueue: env.TaskQueue,
		}, flow.ContractActionWorkflow, in)
		require.NoError(t, err)
		var out flow.ContractAction
		return out, wf.Get(t.Context(), &out)
	}

	out, err := run(&domain.TermsAsked{})
	require.NoError(t, err)
	require.Len(t, out.Contracts, 1)
	assert.Equal(t, renewalRead("EXPIRE", 24, 300, 60), contractRead(env, out.Contracts[0].ID)()["renewal"])

	_, err = run(nil)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, string(domain.KindForbidden), appErr.Type())
	assert.Contains(t, appErr.Message(), "renewal.upliftBasisPoints: a customer key cannot make it 0 where the tenant's default renewal has 300")
	assert.Equal(t, 1, env.CountRows("contracts"), "nothing refused was created")
}

// An evergreen contract's expirationDate ends its minimum term, past which
// it owes no early-termination fee: a customer key had created one ending
// a day after it started, so a day was all it was committed to. A
// customer's evergreen contract has the business's minimum term, the
// default's termMonths (the bound it already had from above), and the
// refusal says which date to send. A contract the customer makes expire or
// renew may still be shorter, and a staff key sets any dates.
func TestCustomerKeysEvergreenContractHasTheBusinesssMinimumTerm(t *testing.T) {
	env := newAmendmentEnv(t)
	const account, path = "ACC-CUST-EVERGREEN", "/api/contract-actions"
	const field = "actions[0].createContractWithPlan[0].expirationDate"
	customer := env.NewCustomerKey(env.A, account)
	setDefaultRenewal(t, env, domain.RenewalTerms{Mode: domain.Evergreen, TermMonths: 12, UpliftBasisPoints: 300, NoticeDays: 30})
	create := func(key, expiration string, renewal map[string]any) testkit.Response {
		item := map[string]any{"effectiveDate": "2026-04-01", "expirationDate": expiration}
		if renewal != nil {
			item["renewal"] = renewal
		}
		return env.Do("POST", path, key, createBody(account, teamItem(item)))
	}

	msg := requireForbiddenTerm(t, path, create(customer, "2026-04-02", nil), field)
	assert.Contains(t, msg, "cannot make it 2026-04-02 on an EVERGREEN contract where the tenant's default renewal has termMonths 12, so its minimum term from 2026-04-01 ends on 2027-04-01")
	assert.Contains(t, msg, "give expirationDate 2027-04-01")
	requireForbiddenTerm(t, path, create(customer, "2027-03-31", map[string]any{"mode": "EVERGREEN"}), field)
	assert.Zero(t, env.CountRows("contracts"), "nothing refused was created")

	for _, c := range []struct {
		key, expiration string
		renewal         map[string]any
		mode            string
	}{
		{customer, "2027-04-01", nil, "EVERGREEN"},
		{customer, "2027-04-01", map[string]any{"mode": "EVERGREEN"}, "EVERGREEN"},
		{customer, "2026-10-01", map[string]any{"mode": "EXPIRE"}, "EXPIRE"},
		{env.A.SubmitterKey, "2026-04-02", nil, "EVERGREEN"},
	} {
		resp := create(c.key, c.expiration, c.renewal)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		got := contractRead(env, resp.JSON(t)["contractId"].(string))()
		assert.Equal(t, c.expiration, got["expirationDate"])
		assert.Equal(t, c.mode, got["renewal"].(map[string]any)["mode"])
	}
}
