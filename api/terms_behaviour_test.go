package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// upliftsAboveThree holds every renewal whose uplift is above 3 %.
var upliftsAboveThree = map[string]any{"id": "uplift", "name": "Uplifts above 3 %", "when": `action == "RENEWAL" && quote.percentChange > 3.0`}

// renewingApril is a five-seat contract whose year ends on 2026-04-01 and
// renews with an uplift: its notice date (30 days before) has come.
func renewingApril(env *testkit.Env, upliftBP int) map[string]any {
	return fiveSeats(env, map[string]any{"effectiveDate": "2025-04-01", "expirationDate": "2026-04-01", "renewal": autoRenew(upliftBP)})
}

// renewalOf waits for the RENEWAL amendment the service opens on the
// contract and returns it once its status is one of statuses.
func renewalOf(t *testing.T, env *testkit.Env, contractID string, statuses ...string) map[string]any {
	t.Helper()
	var found map[string]any
	require.Eventually(t, func() bool {
		resp := env.Do("GET", "/api/contracts/"+contractID+"/amendments", env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		for _, it := range resp.JSON(t)["items"].([]any) {
			am := it.(map[string]any)
			if status, _ := am["status"].(string); am["action"] == "RENEWAL" && slices.Contains(statuses, status) {
				found = am
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "no RENEWAL of contract %s in %v", contractID, statuses)
	return found
}

// contractEvents are the feed's events of one type about one contract.
func contractEvents(t *testing.T, env *testkit.Env, typ, contractID string) []webhookEvent {
	t.Helper()
	return tenantContractEvents(t, env, env.A, typ, contractID)
}

// tenantContractEvents are contractEvents of tn's contract.
func tenantContractEvents(t *testing.T, env *testkit.Env, tn testkit.Tenant, typ, contractID string) []webhookEvent {
	t.Helper()
	var out []webhookEvent
	for _, e := range tenantEvents(t, env, tn, "pageSize=500&type="+typ).Items {
		if e.ContractID == contractID {
			out = append(out, e)
		}
	}
	return out
}

// phases lists a contract's timeline as "date action status" lines.
func phases(t *testing.T, env *testkit.Env, contractID string) []string {
	t.Helper()
	resp := env.Do("GET", "/api/contracts/"+contractID+"/timeline", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	out := []string{}
	for _, it := range resp.JSON(t)["phases"].([]any) {
		p := it.(map[string]any)
		out = append(out, p["effectiveDate"].(string)+" "+p["action"].(string)+" "+p["status"].(string))
	}
	return out
}

// unitPrices are the unit prices of the first line of lines, by product.
func unitPrices(t *testing.T, lines any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, p := range lines.([]any)[0].(map[string]any)["products"].([]any) {
		prod := p.(map[string]any)
		out[prod["productId"].(string)] = prod["unitPrice"]
	}
	return out
}

// termWorkflowID is the id of the workflow of the contract's term ending on end.
func termWorkflowID(t *testing.T, env *testkit.Env, contractID, end string) string {
	t.Helper()
	day, err := domain.ParseDate(end)
	require.NoError(t, err)
	return flow.ContractTermWorkflowID(env.A.ID, contractID, day)
}

// termWorkflowRunning says whether the workflow of the contract's term
// ending on end is still waiting for its end.
func termWorkflowRunning(t *testing.T, env *testkit.Env, contractID, end string) bool {
	t.Helper()
	desc, err := env.Temporal.DescribeWorkflowExecution(context.Background(), termWorkflowID(t, env, contractID, end), "")
	require.NoError(t, err)
	return desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// A renewal whose uplift a rule holds waits in REVIEW, announced with its
// quote; approved, it is scheduled for the term's end.
func TestRenewalHeldByARuleIsApprovedAndScheduled(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, upliftsAboveThree)
	ct := renewingApril(env, 500)
	id := ct["id"].(string)

	renewal := renewalOf(t, env, id, "REVIEW")
	renewalID := renewal["id"].(string)
	assert.Equal(t, "2026-04-01", renewal["effectiveDate"])
	assert.Equal(t, "uplift", renewal["matchedRule"].(map[string]any)["id"])
	assert.Equal(t, "SCHEDULER", renewal["source"])
	quote := renewal["quote"].(map[string]any)
	// 5 seats × 1575 + 1 TB × 525: every unit price up 5 %, nothing prorated.
	assert.EqualValues(t, 8000, quote["recurringBefore"])
	assert.EqualValues(t, 8400, quote["recurringAfter"])
	assert.EqualValues(t, 0, quote["prorationTotal"])
	assert.Equal(t, map[string]any{"prod_seat": 1575.0, "prod_storage": 525.0}, unitPrices(t, quote["linesAfter"]))
	assert.Equal(t, map[string]any{"termStart": "2026-04-01", "termEnd": "2027-04-01", "upliftBasisPoints": 500.0}, quote["renewal"])

	upcoming := contractEvents(t, env, "contract.renewal_upcoming", id)
	require.Len(t, upcoming, 1)
	assert.Equal(t, renewalID, upcoming[0].AmendmentID)
	var announced struct{ Quote domain.Quote }
	require.NoError(t, json.Unmarshal(upcoming[0].Data, &announced))
	assert.EqualValues(t, 8400, announced.Quote.RecurringAfter)
	require.NotNil(t, announced.Quote.Renewal)
	assert.Equal(t, "2027-04-01", announced.Quote.Renewal.TermEnd.String())

	assert.Equal(t, []string{"2026-04-01 RENEWAL REVIEW"}, phases(t, env, id))
	approved := approve(env, renewalID, map[string]any{"comment": "uplift agreed"})
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	assert.Equal(t, "SCHEDULED", approved.JSON(t)["status"])
	assert.Equal(t, []string{"2026-04-01 RENEWAL SCHEDULED"}, phases(t, env, id))
	got := contractRead(env, id)()
	assert.Equal(t, "active", got["status"])
	assert.EqualValues(t, 1, got["version"], "renewed on its date, not before")
	assert.Equal(t, "2026-04-01", got["expirationDate"])
	assert.True(t, termWorkflowRunning(t, env, id, "2026-04-01"))
}

// A renewal rejected, or whose review expires undecided, leaves the
// contract as it is until its end, when it expires: its term's workflow
// still waits for the end, and does not open the renewal again.
func TestRenewalRejectedOrExpiredLeavesTheContractToExpireAtItsEnd(t *testing.T) {
	env := newAmendmentEnv(t)
	// The renewal to reject has a review of its own that does not run out
	// meanwhile: a decision that reaches its workflow just as the review
	// escalates or expires could be refused with it.
	longReview := map[string]any{"id": "steep", "name": "Uplifts above 5.5 %", "when": `action == "RENEWAL" && quote.percentChange > 5.5`}
	shortReview := map[string]any{"id": "uplift", "name": "Uplifts above 3 %", "when": upliftsAboveThree["when"], "expiresAfter": "2s"}
	putRules(t, env, longReview, shortReview)
	rejectedID := renewingApril(env, 600)["id"].(string)
	expiredID := renewingApril(env, 500)["id"].(string)
	renewalID := renewalOf(t, env, rejectedID, "REVIEW")["id"].(string)
	rejected := env.Do("POST", "/api/amendments/"+renewalID+"/reject", env.A.ApproverKey, map[string]any{"comment": "too steep"})
	require.Equal(t, http.StatusOK, rejected.Status, "%s", rejected.Body)
	assert.Equal(t, "REJECTED", rejected.JSON(t)["status"])
	renewalOf(t, env, expiredID, "EXPIRED")

	for _, id := range []string{rejectedID, expiredID} {
		got := contractRead(env, id)()
		assert.Equal(t, "active", got["status"])
		assert.EqualValues(t, 1, got["version"])
		assert.Equal(t, "2026-04-01", got["expirationDate"])
		assert.Empty(t, phases(t, env, id))
		assert.True(t, termWorkflowRunning(t, env, id, "2026-04-01"))
	}
}

// The renewal's quote binds unless an earlier change re-bases it: seats
// added today are renewed too, at the uplifted price, and the renewal says
// it was re-priced.
func TestRenewalQuoteIsRebasedByAnEarlierChange(t *testing.T) {
	env := newAmendmentEnv(t)
	id := renewingApril(env, 500)["id"].(string)
	renewalID := renewalOf(t, env, id, "SCHEDULED")["id"].(string)
	now := change(env, env.A.SubmitterKey, seats(id, 10))
	require.Equal(t, http.StatusOK, now.Status, "%s", now.Body)
	assert.Equal(t, "APPLIED", now.JSON(t)["quote"].(map[string]any)["status"])

	am := amendment(t, env, renewalID)
	assert.Equal(t, "SCHEDULED", am["status"])
	assert.EqualValues(t, 2, am["quoteVersion"])
	quote := am["quote"].(map[string]any)
	// 10 seats × 1500 + 500, uplifted to 10 × 1575 + 525.
	assert.EqualValues(t, 15500, quote["recurringBefore"])
	assert.EqualValues(t, 16275, quote["recurringAfter"])
	assert.Equal(t, "2027-04-01", quote["renewal"].(map[string]any)["termEnd"])
	statuses, _ := historyOf(am)
	assert.Contains(t, statuses, "REPRICED")
	assert.Len(t, contractEvents(t, env, "amendment.repriced", id), 1)
}

// A held renewal undecided when the term ends (today) fails, and the
// contract expires as an EXPIRE contract would.
func TestRenewalUndecidedAtTheTermsEndExpiresTheContract(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, upliftsAboveThree)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2026-03-15", "renewal": autoRenew(500)})
	id := ct["id"].(string)
	got := eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["status"] == "expired" })
	assert.EqualValues(t, 1, got["version"])
	assert.Equal(t, "2026-03-15", got["expirationDate"])

	// Its review ends at the term's end, which has come: it expires
	// undecided, or the end of the term fails it first, whichever runs first.
	renewal := renewalOf(t, env, id, "EXPIRED", "FAILED")
	statuses, notes := historyOf(amendment(t, env, renewal["id"].(string)))
	assert.Equal(t, []string{"PENDING", "REVIEW"}, statuses[:2])
	assert.Equal(t, renewal["status"], statuses[len(statuses)-1])
	if renewal["status"] == "FAILED" {
		assert.Contains(t, notes["FAILED"], "expired at the end of its term on 2026-03-15")
	}
	assert.Len(t, contractEvents(t, env, "contract.renewal_upcoming", id), 1)
	assert.Len(t, contractEvents(t, env, "contract.expired", id), 1)
	assert.Empty(t, contractEvents(t, env, "contract.renewed", id))
	late := approve(env, renewal["id"].(string), nil)
	assert.Equal(t, http.StatusConflict, late.Status, "%s", late.Body)
}

// endOfTerm is a change of the contract taking effect at the end of its term.
func endOfTerm(body map[string]any) map[string]any {
	body["relativeEffectiveDate"] = "END_OF_TERM"
	return body
}

// A cancellation at the end of the term is effective on the expiration
// date, owes no early-termination fee and credits nothing; until then it
// can be withdrawn.
func TestEndOfTermCancellationChargesNoFeeAndCanBeWithdrawn(t *testing.T) {
	env := newAmendmentEnv(t)
	termination := createTermination(t, env, "Standard early exit")
	resp := patchTermination(env, termination, nil, chargeItem(1, 0, 12, 10000, "USD"), chargeItem(2, 13, 24, 25000, "USD"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	ct := fiveSeats(env, map[string]any{"contractTerminationId": termination})
	id := ct["id"].(string)
	// The day before the end still owes the 0-12 band's fee.
	dayBefore := cancel(id)
	dayBefore["effectiveDate"] = "2027-12-31"
	preview := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, dayBefore)
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	assert.EqualValues(t, 10000, preview.JSON(t)["quote"].(map[string]any)["terminationFee"].(map[string]any)["amount"])

	accepted := change(env, env.A.SubmitterKey, endOfTerm(cancel(id)))
	require.Equal(t, http.StatusOK, accepted.Status, "%s", accepted.Body)
	quote := accepted.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "SCHEDULED", quote["status"])
	assert.Equal(t, "2028-01-01", quote["effectiveDate"])
	assert.Nil(t, quote["terminationFee"])
	assert.Empty(t, quote["proration"])
	assert.EqualValues(t, 0, quote["prorationTotal"])
	assert.True(t, quote["cancelsContract"].(bool))
	assert.Equal(t, []string{"2028-01-01 CANCELLATION SCHEDULED"}, phases(t, env, id))

	withdrawn := withdraw(env, quote["id"].(string))
	require.Equal(t, http.StatusOK, withdrawn.Status, "%s", withdrawn.Body)
	assert.Equal(t, "WITHDRAWN", withdrawn.JSON(t)["status"])
	assert.Empty(t, phases(t, env, id))
	got := contractRead(env, id)()
	assert.Equal(t, "active", got["status"])
	assert.EqualValues(t, 1, got["version"])
}

// On an auto-renewing contract a cancellation at the end of the term comes
// before the renewal of that date: the open renewal fails.
func TestEndOfTermCancellationFailsTheOpenRenewal(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := renewingApril(env, 350)
	id := ct["id"].(string)
	renewalID := renewalOf(t, env, id, "SCHEDULED")["id"].(string)
	assert.Equal(t, []string{"2026-04-01 RENEWAL SCHEDULED"}, phases(t, env, id))

	accepted := change(env, env.A.SubmitterKey, endOfTerm(cancel(id)))
	require.Equal(t, http.StatusOK, accepted.Status, "%s", accepted.Body)
	quote := accepted.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "SCHEDULED", quote["status"])
	assert.Equal(t, "2026-04-01", quote["effectiveDate"])
	assert.EqualValues(t, 0, quote["prorationTotal"])

	failed := renewalOf(t, env, id, "FAILED")
	assert.Equal(t, renewalID, failed["id"])
	_, notes := historyOf(amendment(t, env, renewalID))
	assert.Contains(t, notes["FAILED"], "is cancelled by scheduled amendment "+quote["id"].(string))
	assert.Equal(t, []string{"2026-04-01 CANCELLATION SCHEDULED"}, phases(t, env, id))

	// Un-cancelled, the contract is active to its end again; the term's
	// workflow opens its renewal anew when the end comes, not before.
	withdrawn := withdraw(env, quote["id"].(string))
	require.Equal(t, http.StatusOK, withdrawn.Status, "%s", withdrawn.Body)
	assert.Empty(t, phases(t, env, id))
	assert.Equal(t, "active", contractRead(env, id)()["status"])
	assert.True(t, termWorkflowRunning(t, env, id, "2026-04-01"))
}

// seatsAtTheRenewal has a renewing contract's renewal open and answers a
// change to ten seats at the end of its term.
func seatsAtTheRenewal(t *testing.T, env *testkit.Env) (contractID string, quote map[string]any) {
	t.Helper()
	id := renewingApril(env, 500)["id"].(string)
	renewalOf(t, env, id, "SCHEDULED")
	resp := change(env, env.A.SubmitterKey, endOfTerm(seats(id, 10)))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return id, resp.JSON(t)["quote"].(map[string]any)
}

// A seat change at the end of the term applies to the renewed term: it
// follows the renewal of the same date on the timeline, and keeps that date
// as the timeline is re-priced. On a contract that expires then it is
// refused.
func TestEndOfTermQuantityChangeFollowsTheRenewal(t *testing.T) {
	env := newAmendmentEnv(t)
	id, quote := seatsAtTheRenewal(t, env)
	assert.Equal(t, "SCHEDULED", quote["status"])
	assert.Equal(t, "2026-04-01", quote["effectiveDate"])
	assert.EqualValues(t, 8400, quote["recurringBefore"], "after the renewal's uplift")
	assert.EqualValues(t, 0, quote["prorationTotal"])
	assert.Equal(t, []string{"2026-04-01 RENEWAL SCHEDULED", "2026-04-01 QUANTITY_CHANGE SCHEDULED"}, phases(t, env, id))
	am := amendment(t, env, quote["id"].(string))
	assert.Equal(t, "2026-04-01", am["quote"].(map[string]any)["effectiveDate"], "as re-priced on the timeline")

	expiring := fiveSeats(env, nil)
	refused := change(env, env.A.SubmitterKey, endOfTerm(seats(expiring["id"].(string), 10)))
	require.Equal(t, http.StatusUnprocessableEntity, refused.Status, "%s", refused.Body)
	body := refused.JSON(t)
	assert.Equal(t, "FAILED", body["status"])
	assert.Contains(t, body["errorMessage"], "expires at the end of its term (renewal mode EXPIRE): only a cancellation can take effect then")
}

// The uplift survives the next change: the seats added at the end of the
// term are priced at the renewed unit prices, not the catalog's.
func TestEndOfTermQuantityChangeIsPricedOnTheUpliftedPrices(t *testing.T) {
	env := newAmendmentEnv(t)
	_, quote := seatsAtTheRenewal(t, env)
	// 10 seats × 1575 + 1 TB × 525.
	assert.EqualValues(t, 16275, quote["recurringAfter"])
	assert.Equal(t, map[string]any{"prod_seat": 1575.0, "prod_storage": 525.0}, unitPrices(t, quote["linesAfter"]))
}

// termsChange asks for a contract's renewal terms to change.
func termsChange(contractID string, terms map[string]any) map[string]any {
	return map[string]any{"action": "RENEWAL_TERMS_CHANGE", "contractId": contractID, "renewal": terms, "payload": nil}
}

// Renewal terms change through the self-service surface like any change:
// applied, versioned, in the amendment history; bad terms are refused in
// the surface's own format.
func TestRenewalTermsChangeThroughSelfService(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	terms := map[string]any{"mode": "AUTO_RENEW", "termMonths": 24.0, "upliftBasisPoints": 200.0, "noticeDays": 60.0}
	resp := change(env, env.A.SubmitterKey, termsChange(id, terms))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "SUCCESS", body["status"])
	quote := body["quote"].(map[string]any)
	assert.Equal(t, "APPLIED", quote["status"])
	assert.Equal(t, "RENEWAL_TERMS_CHANGE", quote["action"])
	assert.Equal(t, terms, quote["renewalTerms"])
	assert.EqualValues(t, 8000, quote["recurringAfter"], "the lines stay")
	assert.EqualValues(t, 0, quote["prorationTotal"])
	got := contractRead(env, id)()
	assert.Equal(t, terms, got["renewal"])
	assert.EqualValues(t, 2, got["version"])
	assert.Equal(t, "2028-01-01", got["expirationDate"])
	history := env.Do("GET", "/api/contracts/"+id+"/amendments", env.A.SubmitterKey, nil).JSON(t)["items"].([]any)
	require.Len(t, history, 1)
	assert.Equal(t, "RENEWAL_TERMS_CHANGE", history[0].(map[string]any)["action"])
	assert.Equal(t, "APPLIED", history[0].(map[string]any)["status"])

	// Left out, the term's length is the default year.
	short := change(env, env.A.SubmitterKey, termsChange(id, map[string]any{"mode": "EVERGREEN"}))
	require.Equal(t, http.StatusOK, short.Status, "%s", short.Body)
	got = contractRead(env, id)()
	assert.Equal(t, map[string]any{"mode": "EVERGREEN", "termMonths": 12.0, "upliftBasisPoints": 0.0, "noticeDays": 30.0}, got["renewal"])
	assert.EqualValues(t, 3, got["version"])

	withPayload := termsChange(id, terms)
	withPayload["payload"] = map[string]any{"offerings": []any{}}
	onAnotherAction := seats(id, 6)
	onAnotherAction["renewal"] = terms
	// The surface's statuses: 400 for what is not a request of the action,
	// 422 for a number it cannot take.
	cases := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"unknown mode", termsChange(id, map[string]any{"mode": "FOREVER"}), 400, `renewal.mode "FOREVER" is not one of [AUTO_RENEW EXPIRE EVERGREEN]`},
		{"no terms", termsChange(id, nil), 400, "renewal is required for RENEWAL_TERMS_CHANGE"},
		{"payload given", withPayload, 400, "payload must be null for RENEWAL_TERMS_CHANGE"},
		{"terms on another action", onAnotherAction, 400, "renewal is only a field of RENEWAL_TERMS_CHANGE"},
		{"term too long", termsChange(id, map[string]any{"mode": "AUTO_RENEW", "termMonths": 121}), 422, "renewal.termMonths must be a whole number from 1 to 120"},
		{"uplift above 100 %", termsChange(id, map[string]any{"mode": "AUTO_RENEW", "upliftBasisPoints": 10001}), 422, "renewal.upliftBasisPoints must be a whole number from −10,000 to 10,000"},
		{"no months", termsChange(id, map[string]any{"mode": "AUTO_RENEW", "termMonths": 0}), 422, "renewal.termMonths must be a whole number from 1 to 120"},
		{"no notice", termsChange(id, map[string]any{"mode": "AUTO_RENEW", "noticeDays": 0}), 422, "renewal.noticeDays must be a whole number from 1 to 365"},
		{"notice too long", termsChange(id, map[string]any{"mode": "AUTO_RENEW", "noticeDays": 366}), 422, "renewal.noticeDays must be a whole number from 1 to 365"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := change(env, env.A.SubmitterKey, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			body := resp.JSON(t)
			assert.Equal(t, "FAILED", body["status"])
			assert.Contains(t, body["errorMessage"], tc.want)
		})
	}
	assert.EqualValues(t, 3, contractRead(env, id)()["version"], "nothing refused was applied")
}

// Approval rules see a renewal terms change's uplift, which no amount of its
// quote shows: quote.upliftBasisPoints once it applies, quote.upliftDelta
// against the terms the contract will have on the change's date. A cut in
// July below the business's June raise is held, though it is above today's
// uplift; a rise, and a change of no terms, are not.
func TestApprovalRulesSeeARenewalUpliftChange(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, map[string]any{"id": "uplift-cut", "name": "Renewal uplift cut", "when": `quote.upliftDelta < 0 || action == "RENEWAL_TERMS_CHANGE" && quote.upliftBasisPoints < 0`})
	id := fiveSeats(env, map[string]any{"renewal": autoRenew(350)})["id"].(string)
	dated := func(upliftBP int, date string) map[string]any {
		body := termsChange(id, autoRenew(upliftBP))
		body["effectiveDate"] = date
		return body
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status string
	}{
		{"a raise from June", dated(500, "2026-06-01"), "SCHEDULED"},
		{"a cut from July, below June's", dated(400, "2026-07-01"), "REVIEW"},
		{"a rise today", termsChange(id, autoRenew(400)), "SUCCESS"},
		{"seats today", seats(id, 6), "SUCCESS"},
	} {
		resp := change(env, env.A.SubmitterKey, c.body)
		require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.Status, "%s: %s", c.name, resp.Body)
		body := resp.JSON(t)
		status := body["status"]
		if status == "SUCCESS" && c.status == "SCHEDULED" {
			status = body["quote"].(map[string]any)["status"]
		}
		assert.Equal(t, c.status, status, c.name)
	}
	held := change(env, env.A.SubmitterKey, termsChange(id, autoRenew(-100)))
	require.Equal(t, http.StatusAccepted, held.Status, "a renewal discount is held: %s", held.Body)
	assert.Equal(t, "REVIEW", held.JSON(t)["status"])
}

// An evergreen contract runs on past the end of its minimum term: it does
// not expire, takes changes dated after it, and a cancellation then owes
// no early-termination fee.
func TestEvergreenContractRunsOnPastItsExpiration(t *testing.T) {
	env := newAmendmentEnv(t)
	termination := createTermination(t, env, "Standard early exit")
	resp := patchTermination(env, termination, nil, chargeItem(1, 0, 12, 10000, "USD"), chargeItem(2, 13, 24, 25000, "USD"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-01", "expirationDate": "2026-03-01",
		"renewal": map[string]any{"mode": "EVERGREEN"}, "contractTerminationId": termination})
	id := ct["id"].(string)
	// An expiring contract created alongside expires: by then the evergreen
	// one would have, had it been going to.
	expiring := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-01", "expirationDate": "2026-03-01"})
	eventually(t, contractRead(env, expiring["id"].(string)), func(c map[string]any) bool { return c["status"] == "expired" })
	got := contractRead(env, id)()
	assert.Equal(t, "active", got["status"])
	assert.Equal(t, "2026-03-01", got["expirationDate"], "the end of the minimum term stays")
	assert.Equal(t, "Active", got["paymentSchedule"].(map[string]any)["status"])
	assert.Empty(t, contractEvents(t, env, "contract.expired", id))

	later := change(env, env.A.SubmitterKey, seatsOn(id, 8, "2026-04-01"))
	require.Equal(t, http.StatusOK, later.Status, "%s", later.Body)
	assert.Equal(t, "SCHEDULED", later.JSON(t)["quote"].(map[string]any)["status"])

	preview := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, cancel(id))
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	assert.Nil(t, preview.JSON(t)["quote"].(map[string]any)["terminationFee"])
	dated := cancel(id)
	dated["effectiveDate"] = "2026-05-01"
	cancelled := change(env, env.A.SubmitterKey, dated)
	require.Equal(t, http.StatusOK, cancelled.Status, "%s", cancelled.Body)
	quote := cancelled.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "SCHEDULED", quote["status"])
	assert.Nil(t, quote["terminationFee"])
	assert.Equal(t, []string{"2026-04-01 QUANTITY_CHANGE SCHEDULED", "2026-05-01 CANCELLATION SCHEDULED"}, phases(t, env, id))
}
