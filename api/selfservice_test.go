package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/contractd/contractd/internal/testkit"
)

// Tests run on a fixed business date: 2026-03-15, in a 31-day March.
var today = testkit.BusinessDate

// newAmendmentEnv is an environment on the business date, where the
// contracts CreateContract makes are active whatever the wall clock's date.
func newAmendmentEnv(t *testing.T) *testkit.Env {
	return testkit.NewOnBusinessDate(t)
}

// fiveSeats is a monthly Team contract from 2026-01-01: 5 seats × 1500 + 1 TB × 500 = 8000 a month.
func fiveSeats(env *testkit.Env, extra map[string]any) map[string]any {
	item := map[string]any{"quantities": map[string]int{"prod_seat": 5}}
	for k, v := range extra {
		item[k] = v
	}
	return env.CreateContract(item)
}

func change(env *testkit.Env, key string, body any, headers ...string) testkit.Response {
	return env.Do("POST", "/api/selfService/contract", key, body, headers...)
}

func seats(contractID string, n int) map[string]any {
	return map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": contractID,
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_seat", "quantity": n}},
		}}},
	}
}

func TestImmediateQuantityChangeAppliesWithProration(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := change(env, env.A.SubmitterKey, seats(ct["number"].(string), 10))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.Equal(t, "SUCCESS", body["status"])
	assert.Equal(t, "QUANTITY_CHANGE", body["action"])

	quote := body["quote"].(map[string]any)
	assert.Equal(t, "APPLIED", quote["status"])
	assert.Equal(t, "2026-03-15", quote["effectiveDate"])
	assert.EqualValues(t, 8000, quote["recurringBefore"])
	assert.EqualValues(t, 15500, quote["recurringAfter"])
	// 7500 more a month for 17 of March's 31 days: 4112.9 rounds to 4113.
	assert.EqualValues(t, 4113, quote["prorationTotal"])
	proration := quote["proration"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 17, proration["days"])
	assert.EqualValues(t, 31, proration["periodDays"])

	invoice := body["invoice"].(map[string]any)
	assert.EqualValues(t, 4113, invoice["total"])
	assert.Equal(t, "OPEN", invoice["status"])

	contract := body["contract"].(map[string]any)
	assert.EqualValues(t, 2, contract["version"])
	line := contract["lines"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 15500, line["recurringAmount"])
	assert.EqualValues(t, 10, line["products"].([]any)[0].(map[string]any)["quantity"])
	// Unlisted products keep their quantity.
	assert.EqualValues(t, 1, line["products"].([]any)[1].(map[string]any)["quantity"])
	segments := contract["contractSegments"].([]any)
	require.Len(t, segments, 2)
	assert.Equal(t, segments[0].(map[string]any)["id"], segments[1].(map[string]any)["previousContractSegmentId"])
	assert.Equal(t, "2026-03-15", segments[1].(map[string]any)["effectiveDate"])

	// The amendment reads back with its history, actor and invoice.
	am := env.Do("GET", "/api/amendments/"+quote["id"].(string), env.A.ApproverKey, nil)
	require.Equal(t, http.StatusOK, am.Status)
	amb := am.JSON(t)
	assert.Equal(t, "APPLIED", amb["status"])
	history := amb["history"].([]any)
	require.Len(t, history, 2)
	assert.Equal(t, "PENDING", history[0].(map[string]any)["status"])
	assert.Equal(t, "APPLIED", history[1].(map[string]any)["status"])
	assert.Equal(t, env.A.SubmitterActor, history[1].(map[string]any)["actorId"])
	assert.Equal(t, "USER", history[1].(map[string]any)["source"])
	assert.NotNil(t, amb["invoice"])

	list := env.Do("GET", "/api/contracts/"+ct["id"].(string)+"/amendments", env.A.SubmitterKey, nil).JSON(t)
	assert.Len(t, list["items"], 1)
	// Another tenant sees neither the amendment nor the contract's list.
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/amendments/"+quote["id"].(string), env.B.SubmitterKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/contracts/"+ct["id"].(string)+"/amendments", env.B.SubmitterKey, nil).Status)
}

func TestEveryActionApplies(t *testing.T) {
	env := newAmendmentEnv(t)
	offerings := func(items ...map[string]any) map[string]any {
		list := make([]any, len(items))
		for i, it := range items {
			list[i] = it
		}
		return map[string]any{"offerings": list}
	}
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	step := func(action string, payload any, check func(contract map[string]any)) {
		t.Helper()
		resp := change(env, env.A.SubmitterKey, map[string]any{"action": action, "contractId": id, "payload": payload})
		require.Equal(t, http.StatusOK, resp.Status, "%s: %s", action, resp.Body)
		check(resp.JSON(t)["contract"].(map[string]any))
	}
	lineOf := func(contract map[string]any, offering string) map[string]any {
		for _, l := range contract["lines"].([]any) {
			if l.(map[string]any)["offeringId"] == offering {
				return l.(map[string]any)
			}
		}
		return nil
	}
	step("ADD_OFFERING", offerings(map[string]any{"offeringId": "off_sports", "products": []any{}}), func(c map[string]any) {
		require.NotNil(t, lineOf(c, "off_sports"))
		assert.EqualValues(t, 1999, lineOf(c, "off_sports")["recurringAmount"])
	})
	step("RATE_CHANGE", offerings(map[string]any{"offeringId": "off_sports", "rateId": "rate_sports_monthly_usd",
		"products": []any{map[string]any{"productId": "prod_sports", "quantity": 1}}}), func(c map[string]any) {
		assert.EqualValues(t, 3, c["version"])
	})
	step("OFFERING_CHANGE", offerings(map[string]any{"offeringId": "off_team", "newOfferingId": "off_business",
		"products": []any{map[string]any{"productId": "prod_seat", "quantity": 8}}}), func(c map[string]any) {
		assert.Nil(t, lineOf(c, "off_team"))
		biz := lineOf(c, "off_business")
		require.NotNil(t, biz)
		// 8 seats × 3000 + storage at its minimum 1 × 400.
		assert.EqualValues(t, 24400, biz["recurringAmount"])
	})
	step("REMOVE_OFFERING", offerings(map[string]any{"offeringId": "off_sports"}), func(c map[string]any) {
		assert.Len(t, c["lines"], 1)
		assert.Equal(t, "active", c["status"])
	})
	// Removing the last offering cancels the contract.
	step("REMOVE_OFFERING", offerings(map[string]any{"offeringId": "off_business"}), func(c map[string]any) {
		assert.Empty(t, c["lines"])
		assert.Equal(t, "canceled", c["status"])
		assert.EqualValues(t, 6, c["version"])
	})
	// A cancelled contract takes no more changes.
	refused := change(env, env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": id, "payload": nil})
	assert.Equal(t, http.StatusUnprocessableEntity, refused.Status)
	assert.Equal(t, "FAILED", refused.JSON(t)["status"])
}

func TestCancellationCreditsTheUnusedPeriod(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := change(env, env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": ct["id"], "payload": nil})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	// 8000 a month credited for 17 of 31 days: -4387.1 rounds to -4387.
	assert.EqualValues(t, -4387, body["quote"].(map[string]any)["prorationTotal"])
	assert.Equal(t, "CREDIT", body["invoice"].(map[string]any)["status"])
	assert.Equal(t, "canceled", body["contract"].(map[string]any)["status"])
}

func TestRefusals(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	num := ct["number"].(string)
	protected := fiveSeats(env, map[string]any{"protected": true})
	other := env.NewTenant("TC")
	cases := []struct {
		name   string
		key    string
		body   any
		status int
		want   string
	}{
		{"malformed", env.A.SubmitterKey, `{"action":`, 400, "malformed JSON"},
		{"unknown action", env.A.SubmitterKey, map[string]any{"action": "UPGRADE", "contractId": num, "payload": nil}, 400, "action"},
		{"cancellation with payload", env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": num, "payload": map[string]any{}}, 400, "payload must be null"},
		{"missing products", env.A.SubmitterKey, map[string]any{"action": "QUANTITY_CHANGE", "contractId": num, "payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team"}}}}, 400, "products is required"},
		{"fractional quantity", env.A.SubmitterKey, `{"action":"QUANTITY_CHANGE","contractId":"` + num + `","payload":{"offerings":[{"offeringId":"off_team","products":[{"productId":"prod_seat","quantity":1.5}]}]}}`, 422, "quantity"},
		{"bad relative date", env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": num, "payload": nil, "relativeEffectiveDate": "TOMORROW"}, 400, "relativeEffectiveDate"},
		{"unknown contract", env.A.SubmitterKey, seats("CT-0000000999", 6), 404, "does not exist"},
		{"another tenant's contract", other.SubmitterKey, seats(num, 6), 404, "does not exist"},
		{"protected", env.A.SubmitterKey, seats(protected["id"].(string), 6), 403, "protected"},
		{"above maximum", env.A.SubmitterKey, seats(num, 51), 422, "above its maximum"},
		{"offering not on contract", env.A.SubmitterKey, map[string]any{"action": "REMOVE_OFFERING", "contractId": num, "payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_sports"}}}}, 422, "not on contract"},
		{"rate of another offering", env.A.SubmitterKey, map[string]any{"action": "RATE_CHANGE", "contractId": num, "payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_sports_monthly_usd"}}}}, 422, "not a rate"},
		{"rate in another currency", env.A.SubmitterKey, map[string]any{"action": "RATE_CHANGE", "contractId": num, "payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_monthly_eur"}}}}, 422, "EUR"},
		{"billing period change mid-period", env.A.SubmitterKey, map[string]any{"action": "RATE_CHANGE", "contractId": num, "payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}}}, 422, "NEXT_BILL_CYCLE"},
		{"past date", env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": num, "payload": nil, "effectiveDate": "2026-03-14"}, 422, "in the past"},
		{"after expiration", env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": num, "payload": nil, "effectiveDate": "2029-01-01"}, 422, "expires"},
		{"no key", "", seats(num, 6), 401, "API key"},
		{"wrong role", env.A.ApproverKey, seats(num, 6), 403, "submitter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := change(env, tc.key, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			body := resp.JSON(t)
			assert.Equal(t, "FAILED", body["status"])
			assert.Contains(t, body["errorMessage"], tc.want)
		})
	}
	assert.Zero(t, env.CountRows("amendments"))
	got := env.Do("GET", "/api/contracts/"+num, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1, got["version"])
}

func TestPreviewStoresNothing(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, seats(ct["id"].(string), 10))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	quote := body["quote"].(map[string]any)
	assert.Equal(t, "PREVIEW", quote["status"])
	assert.EqualValues(t, 4113, quote["prorationTotal"])
	assert.EqualValues(t, 4113, body["invoice"].(map[string]any)["total"])
	assert.Zero(t, env.CountRows("amendments"))
	assert.Zero(t, env.CountRows("invoices"))
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1, got["version"])
	count, err := env.Temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Query: "ContractId = '" + ct["id"].(string) + "'",
	})
	require.NoError(t, err)
	assert.Zero(t, count.GetCount())
}

func TestScheduledChangeWaitsAndCanBeWithdrawn(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	body := map[string]any{
		"action": "RATE_CHANGE", "contractId": ct["id"], "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	}
	resp := change(env, env.A.SubmitterKey, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "SCHEDULED", quote["status"])
	assert.Equal(t, "2026-04-01", quote["effectiveDate"])
	assert.Empty(t, quote["proration"], "a change on the next bill cycle prorates nothing")
	assert.Equal(t, "ANNUAL", quote["billingPeriod"])
	id := quote["id"].(string)
	assert.EqualValues(t, 1, amendment(t, env, id)["quoteVersion"], "priced once")

	// A scheduled change blocks nothing: an immediate one applies before it.
	second := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6))
	require.Equal(t, http.StatusOK, second.Status, "%s", second.Body)
	assert.Equal(t, "APPLIED", second.JSON(t)["quote"].(map[string]any)["status"])

	// Only the submitter role withdraws, and only the owning tenant sees it.
	assert.Equal(t, http.StatusForbidden, env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.ApproverKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("POST", "/api/amendments/"+id+"/withdraw", env.B.SubmitterKey, nil).Status)
	withdrawn := env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, withdrawn.Status, "%s", withdrawn.Body)
	assert.Equal(t, "WITHDRAWN", withdrawn.JSON(t)["status"])
	// A retried withdrawal answers with the outcome; nothing changes.
	again := env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, again.Status)
	assert.Equal(t, withdrawn.JSON(t)["history"], again.JSON(t)["history"])

	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, got["version"], "the seat change only")
	assert.Equal(t, "MONTHLY", got["billingPeriod"])
}

func TestIdempotencyKeyReturnsTheFirstAnswer(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	first := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 7), "Idempotency-Key", "seat-7")
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	retry := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 7), "Idempotency-Key", "seat-7")
	require.Equal(t, http.StatusOK, retry.Status, "%s", retry.Body)
	assert.Equal(t, first.JSON(t)["quote"].(map[string]any)["id"], retry.JSON(t)["quote"].(map[string]any)["id"])
	assert.EqualValues(t, 2, retry.JSON(t)["contract"].(map[string]any)["version"])

	other := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 8), "Idempotency-Key", "seat-7")
	assert.Equal(t, http.StatusUnprocessableEntity, other.Status)
	assert.Equal(t, 1, env.CountRows("amendments"))

	// A preview makes nothing, so its key repeats nothing: it is a quote on
	// the contract as it is now (a probe's preview with the key of a change
	// made was answered with that change, APPLIED).
	preview := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, seats(ct["id"].(string), 7), "Idempotency-Key", "seat-7")
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	assert.Equal(t, "PREVIEW", preview.JSON(t)["quote"].(map[string]any)["status"])
	assert.Equal(t, 1, env.CountRows("amendments"))
	preview = env.Do("POST", crossgradePath(ct)+"?preview=true", env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"}, "Idempotency-Key", "seat-7")
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	assert.Equal(t, "PREVIEW", preview.JSON(t)["quote"].(map[string]any)["status"])
	assert.Equal(t, 1, env.CountRows("amendments"))
}

// Parallel changes to one contract are serialised, none lost and none
// refused: each is accepted in its turn and quoted against the ones
// accepted before it on the same date.
func TestParallelChangesToOneContractAreAllAccepted(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := seats(ct["id"].(string), 6+i)
			body["effectiveDate"] = "2026-05-01"
			statuses[i] = change(env, env.A.SubmitterKey, body).Status
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		assert.Equal(t, http.StatusOK, s, "change %d", i)
	}
	var quotes []struct {
		Before int64 `db:"before"`
		After  int64 `db:"after"`
	}
	require.NoError(t, env.Store.DB().Select(&quotes, `SELECT (quote ->> 'recurringBefore')::bigint AS before, (quote ->> 'recurringAfter')::bigint AS after
		FROM amendments WHERE contract_id = $1 AND status = 'SCHEDULED' ORDER BY timeline_seq`, ct["id"]))
	require.Len(t, quotes, n)
	assert.EqualValues(t, 8000, quotes[0].Before)
	for i := 1; i < n; i++ {
		assert.Equal(t, quotes[i-1].After, quotes[i].Before, "change %d is quoted after change %d", i, i-1)
	}
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1, got["version"])
}

func TestScheduledChangeSurvivesWorkerRestart(t *testing.T) {
	env := testkit.New(t)
	// Three seconds before midnight: tomorrow's change is due almost at once.
	env.Clock.Set(time.Date(2026, 3, 15, 23, 59, 57, 0, time.UTC))
	ct := fiveSeats(env, nil)
	body := seats(ct["id"].(string), 9)
	body["effectiveDate"] = "2026-03-16"
	resp := change(env, env.A.SubmitterKey, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	id := resp.JSON(t)["quote"].(map[string]any)["id"].(string)
	assert.Equal(t, "SCHEDULED", resp.JSON(t)["quote"].(map[string]any)["status"])

	env.StopWorker()
	time.Sleep(4 * time.Second) // the effective date passes while no worker runs
	am := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "SCHEDULED", am["status"])

	env.StartWorker()
	require.Eventually(t, func() bool {
		return env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil).JSON(t)["status"] == "APPLIED"
	}, 30*time.Second, 200*time.Millisecond)
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, got["version"])
	history := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil).JSON(t)["history"].([]any)
	last := history[len(history)-1].(map[string]any)
	assert.Equal(t, "system", last["actorId"])
	assert.Equal(t, "SCHEDULER", last["source"])
}
