package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// The contract timeline (issue 19) as a user sees it through HTTP: many
// open amendments on one contract, each quoted against the contract as it
// will be on its date.

// scheduled submits a change on date and returns its quote, requiring that
// it was accepted (SCHEDULED, or REVIEW when a rule holds it).
func scheduled(t *testing.T, env *testkit.Env, body map[string]any, date string) map[string]any {
	t.Helper()
	body["effectiveDate"] = date
	resp := change(env, env.A.SubmitterKey, body)
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["quote"].(map[string]any)
}

// amendment reads an amendment as its submitter sees it.
func amendment(t *testing.T, env *testkit.Env, id string) map[string]any {
	t.Helper()
	resp := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)
}

// historyOf lists an amendment's history: its statuses, and the note of
// each event that has one.
func historyOf(am map[string]any) (statuses []string, notes map[string]string) {
	notes = map[string]string{}
	for _, h := range am["history"].([]any) {
		ev := h.(map[string]any)
		statuses = append(statuses, ev["status"].(string))
		if note, ok := ev["note"].(string); ok {
			notes[ev["status"].(string)] = note
		}
	}
	return statuses, notes
}

func approve(env *testkit.Env, id string, body any) testkit.Response {
	return env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, body)
}

func withdraw(env *testkit.Env, id string) testkit.Response {
	return env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil)
}

// A ramp: three seat counts booked at once for three later dates, each
// quoted after the one before, applied in order as their dates come. The
// clock is moved a day before each booking, to a few seconds before
// midnight, so that each date comes within seconds of real time.
func TestRampIsQuotedAndAppliedInOrder(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	ramp := []struct {
		seats int
		date  string
		at    time.Time // the business clock when it is booked
	}{
		{20, "2026-03-16", time.Date(2026, 3, 15, 23, 59, 54, 0, time.UTC)},
		{30, "2026-03-17", time.Date(2026, 3, 16, 23, 59, 52, 0, time.UTC)},
		{40, "2026-03-18", time.Date(2026, 3, 17, 23, 59, 50, 0, time.UTC)},
	}
	var ids []string
	var quotes []map[string]any
	for _, step := range ramp {
		env.Clock.Set(step.at)
		q := scheduled(t, env, seats(id, step.seats), step.date)
		require.Equal(t, "SCHEDULED", q["status"])
		ids, quotes = append(ids, q["id"].(string)), append(quotes, q)
	}
	// 5, 20, 30, 40 seats and 1 TB of storage.
	assert.EqualValues(t, 8000, quotes[0]["recurringBefore"])
	for i, want := range []int{30500, 45500, 60500} {
		assert.EqualValues(t, want, quotes[i]["recurringAfter"], "step %d", i)
		if i > 0 {
			assert.Equal(t, quotes[i-1]["recurringAfter"], quotes[i]["recurringBefore"], "step %d is quoted after step %d", i, i-1)
		}
	}

	for _, am := range ids {
		require.Eventually(t, func() bool { return amendment(t, env, am)["status"] == "APPLIED" }, 60*time.Second, 200*time.Millisecond)
	}
	got := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 4, got["version"])
	assert.EqualValues(t, 60500, got["lines"].([]any)[0].(map[string]any)["recurringAmount"])
	var dates []string
	for _, s := range got["segments"].([]any)[1:] {
		dates = append(dates, s.(map[string]any)["effectiveDate"].(string))
	}
	assert.Equal(t, []string{"2026-03-16", "2026-03-17", "2026-03-18"}, dates, "applied in order")
}

// A cancellation held in review blocks nothing: a seat is added meanwhile,
// and the approval prices the cancellation again, crediting that seat too.
func TestCancellationInReviewDoesNotBlockASeat(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	ct := fiveSeats(env, nil)
	id := held(t, env, cancel(ct["id"]))
	// 8000 a month credited for 17 of 31 days.
	assert.EqualValues(t, -4387, amendment(t, env, id)["quote"].(map[string]any)["prorationTotal"])

	added := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6))
	require.Equal(t, http.StatusOK, added.Status, "%s", added.Body)
	assert.Equal(t, "APPLIED", added.JSON(t)["quote"].(map[string]any)["status"])

	approved := approve(env, id, nil)
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	body := approved.JSON(t)
	assert.Equal(t, "APPLIED", body["status"])
	assert.EqualValues(t, 2, body["quoteVersion"], "approved as re-priced")
	// 9500 a month credited for 17 of 31 days: -5209.7.
	assert.EqualValues(t, -5210, body["quote"].(map[string]any)["prorationTotal"])
	assert.EqualValues(t, -5210, body["invoice"].(map[string]any)["total"])
	statuses, _ := historyOf(body)
	assert.Equal(t, []string{"PENDING", "REVIEW", "REPRICED", "APPROVED", "APPLIED"}, statuses)
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "canceled", got["status"])
	assert.EqualValues(t, 3, got["version"])
}

// An immediate change lands before a pending one, which is priced again:
// its history says how, its quote version moves on and the event feed has
// an amendment.repriced with the quote it replaced.
func TestImmediateChangeRepricesAPendingOne(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	pending := scheduled(t, env, seats(ct["id"].(string), 10), "2026-05-01")
	id := pending["id"].(string)
	assert.EqualValues(t, 8000, pending["recurringBefore"])

	now := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6))
	require.Equal(t, http.StatusOK, now.Status, "%s", now.Body)
	assert.Equal(t, "APPLIED", now.JSON(t)["quote"].(map[string]any)["status"])

	am := amendment(t, env, id)
	assert.Equal(t, "SCHEDULED", am["status"])
	assert.Equal(t, "2026-05-01", am["effectiveDate"])
	assert.EqualValues(t, 2, am["quoteVersion"])
	quote := am["quote"].(map[string]any)
	assert.EqualValues(t, 9500, quote["recurringBefore"], "priced after the sixth seat")
	assert.EqualValues(t, 15500, quote["recurringAfter"])
	statuses, notes := historyOf(am)
	assert.Equal(t, []string{"PENDING", "SCHEDULED", "REPRICED"}, statuses)
	assert.Contains(t, notes["REPRICED"], "quote version 2")

	feed := events(t, env, "type=amendment.repriced")
	require.Len(t, feed.Items, 1)
	assert.Equal(t, id, feed.Items[0].AmendmentID)
	var data struct {
		QuoteVersion int64 `json:"quoteVersion"`
		Quote        struct {
			RecurringBefore int64 `json:"recurringBefore"`
		} `json:"quote"`
		Before struct {
			RecurringBefore int64 `json:"recurringBefore"`
		} `json:"quoteBefore"`
	}
	require.NoError(t, json.Unmarshal(feed.Items[0].Data, &data))
	assert.EqualValues(t, 2, data.QuoteVersion)
	assert.EqualValues(t, 9500, data.Quote.RecurringBefore)
	assert.EqualValues(t, 8000, data.Before.RecurringBefore)
}

// Withdrawing the middle of three pending changes prices the last again
// after the first; the first is untouched.
func TestWithdrawingTheMiddleRebasesTheLast(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	first := scheduled(t, env, seats(id, 10), "2026-04-01")
	middle := scheduled(t, env, seats(id, 20), "2026-05-01")
	last := scheduled(t, env, seats(id, 30), "2026-06-01")
	assert.EqualValues(t, 30500, last["recurringBefore"])

	withdrawn := withdraw(env, middle["id"].(string))
	require.Equal(t, http.StatusOK, withdrawn.Status, "%s", withdrawn.Body)
	assert.Equal(t, "WITHDRAWN", withdrawn.JSON(t)["status"])

	am := amendment(t, env, last["id"].(string))
	assert.Equal(t, "SCHEDULED", am["status"])
	assert.EqualValues(t, 2, am["quoteVersion"])
	assert.EqualValues(t, 15500, am["quote"].(map[string]any)["recurringBefore"], "priced after the first")
	assert.EqualValues(t, 45500, am["quote"].(map[string]any)["recurringAfter"])
	assert.EqualValues(t, 1, amendment(t, env, first["id"].(string))["quoteVersion"])
}

// An earlier change that removes an offering leaves a later change of that
// offering nothing to change: it ends FAILED, saying why, with an
// amendment.failed event.
func TestEarlierRemovalFailsALaterChange(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	sports := change(env, env.A.SubmitterKey, map[string]any{"action": "ADD_OFFERING", "contractId": id,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_sports", "products": []any{}}}}})
	require.Equal(t, http.StatusOK, sports.Status, "%s", sports.Body)
	later := scheduled(t, env, seats(id, 10), "2026-05-01")

	removal := scheduled(t, env, map[string]any{"action": "REMOVE_OFFERING", "contractId": id,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team"}}}}, "2026-04-01")
	assert.Equal(t, "SCHEDULED", removal["status"])

	am := amendment(t, env, later["id"].(string))
	assert.Equal(t, "FAILED", am["status"])
	statuses, notes := historyOf(am)
	assert.Equal(t, []string{"PENDING", "SCHEDULED", "FAILED"}, statuses)
	assert.Contains(t, notes["FAILED"], "no longer holds after an earlier change")
	assert.Contains(t, notes["FAILED"], "off_team")
	feed := events(t, env, "type=amendment.failed")
	require.Len(t, feed.Items, 1)
	assert.Equal(t, later["id"], feed.Items[0].AmendmentID)
	// Withdrawing what failed is a conflict: it is no longer open.
	assert.Equal(t, http.StatusConflict, withdraw(env, later["id"].(string)).Status)
}

// An approver names the quote version they saw: a stale one is refused
// (409) and the amendment stays in review; one the amendment never had is
// refused as such (422), not as a re-pricing that did not happen; the
// current one approves it.
func TestApprovalNamesTheQuoteVersion(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	body := seats(ct["id"].(string), 10)
	body["requireApproval"] = true
	body["effectiveDate"] = "2026-05-01"
	id := held(t, env, body)
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6)).Status)
	require.EqualValues(t, 2, amendment(t, env, id)["quoteVersion"])

	stale := approve(env, id, map[string]any{"quoteVersion": 1})
	require.Equal(t, http.StatusConflict, stale.Status, "%s", stale.Body)
	assert.Contains(t, stale.JSON(t)["message"], "quote")
	assert.Equal(t, "REVIEW", amendment(t, env, id)["status"])

	bogus := approve(env, id, map[string]any{"quoteVersion": 7})
	require.Equal(t, http.StatusUnprocessableEntity, bogus.Status, "%s", bogus.Body)
	assert.Equal(t, "quoteVersion: amendment "+id+" has never had quote version 7; its quote is version 2", bogus.JSON(t)["message"])
	assert.Equal(t, "REVIEW", amendment(t, env, id)["status"])

	current := approve(env, id, map[string]any{"quoteVersion": 2})
	require.Equal(t, http.StatusOK, current.Status, "%s", current.Body)
	got := current.JSON(t)
	assert.Equal(t, "SCHEDULED", got["status"])
	assert.EqualValues(t, 9500, got["quote"].(map[string]any)["recurringBefore"])
}

// A change dated after a scheduled cancellation is a real conflict, and the
// answer names the cancellation; so is a second open cancellation. A change
// dated before it is accepted.
func TestChangesAfterAScheduledCancellationConflict(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	cancellation := scheduled(t, env, cancel(id), "2026-04-10")["id"].(string)

	after := seats(id, 6)
	after["effectiveDate"] = "2026-05-01"
	refused := change(env, env.A.SubmitterKey, after)
	require.Equal(t, http.StatusConflict, refused.Status, "%s", refused.Body)
	assert.Contains(t, refused.JSON(t)["errorMessage"], cancellation)

	for _, date := range []string{"2026-03-20", "2026-05-01"} {
		second := cancel(id)
		second["effectiveDate"] = date
		resp := change(env, env.A.SubmitterKey, second)
		assert.Equal(t, http.StatusConflict, resp.Status, "second cancellation on %s: %s", date, resp.Body)
	}

	before := scheduled(t, env, seats(id, 6), "2026-04-01")
	assert.Equal(t, "SCHEDULED", before["status"])
	assert.Equal(t, 2, env.CountRows("amendments"), "only the accepted ones are recorded")
}

// Changes on one date apply in the order they were accepted: a held change
// submitted first is accepted when it is approved, after one scheduled
// meanwhile, and applies after it.
func TestSameDateChangesApplyInAcceptanceOrder(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	env.Clock.Set(time.Date(2026, 3, 15, 23, 59, 50, 0, time.UTC))
	first := seats(id, 30)
	first["requireApproval"] = true
	first["effectiveDate"] = "2026-03-16"
	heldID := held(t, env, first)
	second := scheduled(t, env, seats(id, 20), "2026-03-16")
	approved := approve(env, heldID, nil)
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	assert.Equal(t, "SCHEDULED", approved.JSON(t)["status"])
	assert.EqualValues(t, 30500, approved.JSON(t)["quote"].(map[string]any)["recurringBefore"], "priced after the one accepted before it")

	for _, am := range []string{second["id"].(string), heldID} {
		require.Eventually(t, func() bool { return amendment(t, env, am)["status"] == "APPLIED" }, 60*time.Second, 200*time.Millisecond)
	}
	got := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 3, got["version"])
	assert.EqualValues(t, 30, got["lines"].([]any)[0].(map[string]any)["products"].([]any)[0].(map[string]any)["quantity"])
}

// A crossgrade joins the timeline: an upgrade now is allowed while a
// cancellation is pending, which is priced again after it.
func TestCrossgradeWhileAChangeIsPending(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	pending := scheduled(t, env, cancel(ct["id"]), "2026-05-01")
	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "APPLIED", resp.JSON(t)["amendment"].(map[string]any)["status"])
	am := amendment(t, env, pending["id"].(string))
	assert.Equal(t, "SCHEDULED", am["status"])
	assert.EqualValues(t, 2, am["quoteVersion"])
	assert.EqualValues(t, 15400, am["quote"].(map[string]any)["recurringBefore"], "cancels the upgraded contract")
}
