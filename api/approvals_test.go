package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

func putRules(t *testing.T, env *testkit.Env, rules ...map[string]any) {
	t.Helper()
	list := make([]any, len(rules))
	for i, r := range rules {
		list[i] = r
	}
	resp := env.Do("PUT", "/api/approval-rules", env.A.OperatorKey, map[string]any{"rules": list})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

var cancellationsNeedApproval = map[string]any{"id": "cancel", "name": "Cancellations", "when": `action == "CANCELLATION"`}

// held submits a cancellation that the rule above holds for review.
func held(t *testing.T, env *testkit.Env, body map[string]any) string {
	t.Helper()
	resp := change(env, env.A.SubmitterKey, body)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	b := resp.JSON(t)
	assert.Equal(t, "REVIEW", b["status"])
	return b["quote"].(map[string]any)["id"].(string)
}

func cancel(contractID any) map[string]any {
	return map[string]any{"action": "CANCELLATION", "contractId": contractID, "payload": nil}
}

func TestApprovalRulesAreValidated(t *testing.T) {
	env := newAmendmentEnv(t)
	bad := env.Do("PUT", "/api/approval-rules", env.A.OperatorKey, map[string]any{"rules": []any{
		map[string]any{"id": "ok", "name": "fine", "when": `quote.recurringDelta > 10000`},
		map[string]any{"id": "broken", "name": "syntax", "when": `action == `},
		map[string]any{"id": "number", "name": "not a boolean", "when": `quote.recurringDelta * 2`},
		// A typo held every change, the service's renewals too; a pattern
		// like this one took a worker to gigabytes.
		map[string]any{"id": "typo", "name": "no such key", "when": `quote.recurringdelta > 10000`},
		map[string]any{"id": "regex", "name": "too large", "when": `actor.matches("(.?){1000}(.?){1000}")`},
		// The facts' maps hold any type, so only evaluating shows this one.
		map[string]any{"id": "mismatch", "name": "number to string", "when": `contract.recurringAmount > "a"`},
	}})
	require.Equal(t, http.StatusBadRequest, bad.Status)
	problems := strings.Join(toStrings(bad.JSON(t)["problems"]), "\n")
	assert.Contains(t, problems, "rules[1] (broken): ERROR: when:1:")
	assert.Contains(t, problems, "rules[2] (number): when must yield a boolean")
	assert.Contains(t, problems, `rules[3] (typo): quote has no "recurringdelta"`)
	assert.Contains(t, problems, "rules[4] (regex): matches() pattern is too large")
	assert.Contains(t, problems, "rules[5] (mismatch): fails on a sample change: no such overload")
	assert.Empty(t, env.Do("GET", "/api/approval-rules", env.A.OperatorKey, nil).JSON(t)["rules"], "nothing stored")

	assert.Equal(t, http.StatusForbidden, env.Do("PUT", "/api/approval-rules", env.A.ApproverKey, map[string]any{"rules": []any{}}).Status)
	putRules(t, env, cancellationsNeedApproval)
	got := env.Do("GET", "/api/approval-rules", env.A.OperatorKey, nil).JSON(t)
	assert.Len(t, got["rules"], 1)
	// Another tenant's rules are its own.
	assert.Empty(t, env.Do("GET", "/api/approval-rules", env.B.OperatorKey, nil).JSON(t)["rules"])
}

func TestHeldChangeIsApprovedAndApplied(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, map[string]any{"id": "big", "name": "Big increases", "when": `quote.percentChange > 50.0`}, cancellationsNeedApproval)
	ct := fiveSeats(env, nil)
	// A small change passes the rules and applies at once.
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6)).Status)

	id := held(t, env, seats(ct["id"].(string), 20))
	am := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "REVIEW", am["status"])
	assert.Equal(t, "big", am["matchedRule"].(map[string]any)["id"])
	assert.EqualValues(t, 2, env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)["version"], "held, not applied")

	inbox := env.Do("GET", "/api/approvals", env.A.ApproverKey, nil)
	require.Equal(t, http.StatusOK, inbox.Status)
	items := inbox.JSON(t)["items"].([]any)
	require.Len(t, items, 1)
	item := items[0].(map[string]any)
	assert.Equal(t, id, item["id"])
	assert.Equal(t, ct["number"], item["contractNumber"])
	assert.Equal(t, "QUANTITY_CHANGE", item["action"])
	assert.Equal(t, env.A.SubmitterActor, item["submittedBy"])
	assert.Equal(t, "Big increases", item["matchedRule"].(map[string]any)["name"])
	assert.NotZero(t, item["quote"].(map[string]any)["recurringDelta"])

	// Four eyes, roles, tenants.
	own := env.Do("POST", "/api/amendments/"+id+"/approve", env.A.SubmitterKey, nil)
	assert.Equal(t, http.StatusForbidden, own.Status, "a submitter key has no approver role")
	assert.Equal(t, http.StatusNotFound, env.Do("POST", "/api/amendments/"+id+"/approve", env.B.ApproverKey, nil).Status)

	approved := env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, map[string]any{"comment": "agreed with sales"})
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	body := approved.JSON(t)
	assert.Equal(t, "APPLIED", body["status"])
	assert.NotNil(t, body["invoice"])
	var events []string
	for _, h := range body["history"].([]any) {
		ev := h.(map[string]any)
		events = append(events, ev["status"].(string))
		if ev["status"] == "APPROVED" {
			assert.Equal(t, "agreed with sales", ev["note"])
		}
	}
	// The approval accepts it onto the contract's timeline, where it is due at once.
	assert.Equal(t, []string{"PENDING", "REVIEW", "APPROVED", "APPLIED"}, events)
	assert.EqualValues(t, 3, env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)["version"])

	// Deciding what is decided already is a conflict (unless it is the same
	// decision retried, see TestRetriedDecisionAnswersWithTheOutcome).
	assert.Equal(t, http.StatusConflict, env.Do("POST", "/api/amendments/"+id+"/approve", env.NewTenantKey(env.A, "approver"), nil).Status)
	assert.Equal(t, http.StatusConflict, env.Do("POST", "/api/amendments/"+id+"/reject", env.A.ApproverKey, nil).Status)
	assert.Empty(t, env.Do("GET", "/api/approvals", env.A.ApproverKey, nil).JSON(t)["items"])
}

// A contract at no price that starts paying is the largest rise there is:
// rules on percentChange see it as unbounded, not as no change at all.
func TestRiseFromNothingIsHeldByAPercentRule(t *testing.T) {
	env := newAmendmentEnv(t)
	editCatalog(t, env, func(cat map[string]any) {
		team := offering(cat, "off_team")
		team["rates"] = append(team["rates"].([]any), map[string]any{
			"id": "rate_team_free_usd", "currency": "USD", "billingPeriod": "MONTHLY",
			"unitPrices": map[string]any{"prod_seat": 0, "prod_storage": 0},
		})
	})
	putRules(t, env, map[string]any{"id": "big", "name": "Big increases", "when": `quote.percentChange > 50.0`})
	ct := fiveSeats(env, map[string]any{"rateId": "rate_team_free_usd"})

	resp := change(env, env.A.SubmitterKey, map[string]any{
		"action": "RATE_CHANGE", "contractId": ct["id"],
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_monthly_usd"}}},
	})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "REVIEW", body["status"])
	quote := body["quote"].(map[string]any)
	assert.EqualValues(t, 0, quote["recurringBefore"])
	assert.EqualValues(t, 8000, quote["recurringAfter"])
	am := env.Do("GET", "/api/amendments/"+quote["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "big", am["matchedRule"].(map[string]any)["id"])
}

func TestFourEyesRefusesTheSubmittersOwnDecision(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	// One actor holding both roles: may approve others' changes, never their own.
	both := env.NewTenantKey(env.A, "submitter", "approver")
	ct := fiveSeats(env, nil)
	resp := change(env, both, cancel(ct["id"]))
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	id := resp.JSON(t)["quote"].(map[string]any)["id"].(string)
	own := env.Do("POST", "/api/amendments/"+id+"/approve", both, nil)
	assert.Equal(t, http.StatusForbidden, own.Status)
	assert.Contains(t, own.JSON(t)["message"], "four-eyes")
	assert.Equal(t, "REVIEW", env.Do("GET", "/api/amendments/"+id, both, nil).JSON(t)["status"])
}

func TestHeldChangeIsRejected(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	ct := fiveSeats(env, nil)
	id := held(t, env, cancel(ct["id"]))
	rejected := env.Do("POST", "/api/amendments/"+id+"/reject", env.A.ApproverKey, map[string]any{"comment": "customer retained"})
	require.Equal(t, http.StatusOK, rejected.Status, "%s", rejected.Body)
	assert.Equal(t, "REJECTED", rejected.JSON(t)["status"])
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "active", got["status"])
	assert.EqualValues(t, 1, got["version"])
	// A decided amendment no longer holds the contract.
	assert.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6)).Status)
}

func TestRequireApprovalHoldsWithoutRules(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	body := seats(ct["id"].(string), 6)
	body["requireApproval"] = true
	id := held(t, env, body)
	am := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "requireApproval", am["matchedRule"].(map[string]any)["id"])
	// A REVIEW amendment can be withdrawn by its tenant's submitter.
	withdrawn := env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, withdrawn.Status, "%s", withdrawn.Body)
	assert.Equal(t, "WITHDRAWN", withdrawn.JSON(t)["status"])
	assert.Equal(t, http.StatusConflict, env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, nil).Status)
}

func TestInboxPagesOldestFirst(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	var ids []string
	for i := 0; i < 3; i++ {
		ct := fiveSeats(env, nil)
		ids = append(ids, held(t, env, cancel(ct["id"])))
	}
	first := env.Do("GET", "/api/approvals?pageSize=2", env.A.ApproverKey, nil).JSON(t)
	require.Len(t, first["items"], 2)
	second := env.Do("GET", "/api/approvals?pageSize=2&pageToken="+first["nextPageToken"].(string), env.A.ApproverKey, nil).JSON(t)
	require.Len(t, second["items"], 1)
	var got []string
	for _, it := range append(first["items"].([]any), second["items"].([]any)...) {
		got = append(got, it.(map[string]any)["id"].(string))
	}
	assert.Equal(t, ids, got)
	assert.Empty(t, env.Do("GET", "/api/approvals", env.B.ApproverKey, nil).JSON(t)["items"])
	assert.Equal(t, http.StatusForbidden, env.Do("GET", "/api/approvals", env.A.SubmitterKey, nil).Status)
	assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/approvals?pageToken=nope", env.A.ApproverKey, nil).Status)
}

func TestDecisionSentWhileWorkerIsDownAppliesWhenItReturns(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	ct := fiveSeats(env, nil)
	id := held(t, env, cancel(ct["id"]))
	env.StopWorker()
	answer := make(chan testkit.Response, 1)
	go func() { answer <- env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, nil) }()
	time.Sleep(2 * time.Second)
	select {
	case r := <-answer:
		t.Fatalf("answered without a worker: %d %s", r.Status, r.Body)
	default:
	}
	env.StartWorker()
	select {
	case r := <-answer:
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, "APPLIED", r.JSON(t)["status"])
	case <-time.After(30 * time.Second):
		t.Fatal("no answer after the worker returned")
	}
	assert.Equal(t, "canceled", env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)["status"])
}

func TestListAmendmentsByStatus(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6)).Status)
	future := seats(ct["id"].(string), 7)
	future["effectiveDate"] = "2026-05-01"
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, future).Status)

	applied := env.Do("GET", "/api/amendments?status=APPLIED", env.A.OperatorKey, nil).JSON(t)["items"].([]any)
	require.Len(t, applied, 1)
	assert.Equal(t, "APPLIED", applied[0].(map[string]any)["status"])
	scheduled := env.Do("GET", "/api/amendments?status=SCHEDULED", env.A.SubmitterKey, nil).JSON(t)["items"].([]any)
	require.Len(t, scheduled, 1)
	assert.Equal(t, "2026-05-01", scheduled[0].(map[string]any)["quote"].(map[string]any)["effectiveDate"])
	assert.Empty(t, env.Do("GET", "/api/amendments?status=SCHEDULED", env.B.OperatorKey, nil).JSON(t)["items"])
	assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/amendments?status=DONE", env.A.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/amendments", env.A.OperatorKey, nil).Status)
}

// A client whose answer was lost retries; the retry must not turn a decision
// it already made into a conflict. Someone else's decision still is one.
func TestRetriedDecisionAnswersWithTheOutcome(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	id := held(t, env, cancel(fiveSeats(env, nil)["id"]))
	path := "/api/amendments/" + id + "/approve"

	first := env.Do("POST", path, env.A.ApproverKey, map[string]any{"comment": "ok"})
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	retry := env.Do("POST", path, env.A.ApproverKey, map[string]any{"comment": "ok"})
	require.Equal(t, http.StatusOK, retry.Status, "%s", retry.Body)
	assert.Equal(t, "APPLIED", retry.JSON(t)["status"])
	assert.Equal(t, first.JSON(t)["history"], retry.JSON(t)["history"], "the retry changed nothing")

	otherApprover := env.NewTenantKey(env.A, "approver")
	assert.Equal(t, http.StatusConflict, env.Do("POST", path, otherApprover, nil).Status)
	assert.Equal(t, http.StatusConflict, env.Do("POST", "/api/amendments/"+id+"/reject", env.A.ApproverKey, nil).Status)

	// The same holds for a withdrawal. A month after the business date, not
	// the wall clock's: from December 2027 a month after that was past the
	// contract's expiration, and the change was refused.
	future := seats(fiveSeats(env, nil)["id"].(string), 8)
	future["effectiveDate"] = today.AddDate(0, 1, 0).Format(time.DateOnly)
	scheduled := change(env, env.A.SubmitterKey, future)
	require.Equal(t, http.StatusOK, scheduled.Status, "%s", scheduled.Body)
	withdraw := "/api/amendments/" + scheduled.JSON(t)["quote"].(map[string]any)["id"].(string) + "/withdraw"
	require.Equal(t, http.StatusOK, env.Do("POST", withdraw, env.A.SubmitterKey, nil).Status)
	again := env.Do("POST", withdraw, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, "WITHDRAWN", again.JSON(t)["status"])
}

// Removing a contract's last offering cancels it (the seed says so), so a
// rule on cancelsContract holds it as it holds a CANCELLATION: a probe
// cancelled a contract at once this way while the README's rule, on the
// action alone, held its CANCELLATION for review.
func TestARuleOnCancellationsHoldsTheRemovalOfTheLastOffering(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, map[string]any{"id": "cancel", "name": "Cancellations", "when": `cancelsContract`})
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)

	removal := held(t, env, map[string]any{"action": "REMOVE_OFFERING", "contractId": id,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team"}}}})
	am := env.Do("GET", "/api/amendments/"+removal, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "cancel", am["matchedRule"].(map[string]any)["id"])
	assert.Equal(t, true, am["quote"].(map[string]any)["cancelsContract"])
	contract := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "active", contract["status"], "held, not applied")

	rejected := env.Do("POST", "/api/amendments/"+removal+"/reject", env.A.ApproverKey, map[string]any{"comment": "no"})
	require.Equal(t, http.StatusOK, rejected.Status, "%s", rejected.Body)
	held(t, env, cancel(id))
	// A change that leaves an offering is not a cancellation.
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(id, 6)).Status)
}
