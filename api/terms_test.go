package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// autoRenew is renewal terms that renew for a year with an uplift.
func autoRenew(upliftBP int) map[string]any {
	return map[string]any{"mode": "AUTO_RENEW", "termMonths": 12, "upliftBasisPoints": upliftBP, "noticeDays": 30}
}

// eventually polls read until done holds of its result, for what a
// workflow does after the request that started it has been answered.
func eventually(t *testing.T, read func() map[string]any, done func(map[string]any) bool) map[string]any {
	t.Helper()
	var got map[string]any
	require.Eventually(t, func() bool { got = read(); return done(got) }, 20*time.Second, 50*time.Millisecond)
	return got
}

func contractRead(env *testkit.Env, id string) func() map[string]any {
	return func() map[string]any {
		resp := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil)
		require.Equal(env.T, http.StatusOK, resp.Status)
		return resp.JSON(env.T)
	}
}

func timelineRead(env *testkit.Env, id string) func() map[string]any {
	return func() map[string]any {
		resp := env.Do("GET", "/api/contracts/"+id+"/timeline", env.A.SubmitterKey, nil)
		require.Equal(env.T, http.StatusOK, resp.Status)
		return resp.JSON(env.T)
	}
}

// A contract created back-dated whose term ends today renews at once: a
// new term of twelve months, prices uplifted per unit, version 2.
func TestTermEndingTodayAutoRenews(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2026-03-15", "renewal": autoRenew(350)})
	id := ct["id"].(string)
	assert.Equal(t, "AUTO_RENEW", ct["renewal"].(map[string]any)["mode"])
	got := eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["version"].(float64) == 2 })
	assert.Equal(t, "active", got["status"])
	assert.Equal(t, "2027-03-15", got["expirationDate"])
	assert.Equal(t, "2026-03-15", got["termStart"])
	// 5 seats × 1500 → 1553 (1552.5 rounds up) and 1 TB × 500 → 518 (517.5).
	assert.EqualValues(t, 5*1553+518, got["recurringAmount"])
}

// EXPIRE: a term that ended yesterday ends the contract and says so in
// the event feed.
func TestTermEndedYesterdayExpires(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-14", "expirationDate": "2026-03-14"})
	id := ct["id"].(string)
	assert.Equal(t, "EXPIRE", ct["renewal"].(map[string]any)["mode"])
	eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["status"] == "expired" })
	events := env.Do("GET", "/api/events?type=contract.expired", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, events.Status)
	assert.Contains(t, string(events.Body), id)
}

// In its notice window an auto-renewing contract holds its renewal; a
// quantity change at the end of the term comes after it, priced on the
// uplifted prices, and an immediate change re-prices both without moving
// either date.
func TestEndOfTermChangeFollowsTheRenewal(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-04-01", "expirationDate": "2026-04-01", "renewal": autoRenew(350)})
	id := ct["id"].(string)
	eventually(t, timelineRead(env, id), func(tl map[string]any) bool { return len(tl["phases"].([]any)) == 1 })
	eot := seats(id, 7)
	eot["relativeEffectiveDate"] = "END_OF_TERM"
	resp := change(env, env.A.SubmitterKey, eot)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "2026-04-01", quote["effectiveDate"])
	assert.EqualValues(t, 7*1553+518, quote["recurringAfter"], "priced on the renewed prices")
	assert.EqualValues(t, 0, quote["prorationTotal"])

	now := change(env, env.A.SubmitterKey, seats(id, 6))
	require.Equal(t, http.StatusOK, now.Status, "%s", now.Body)
	tl := env.Do("GET", "/api/contracts/"+id+"/timeline", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, tl.Status)
	phases := tl.JSON(t)["phases"].([]any)
	require.Len(t, phases, 2)
	want := []struct {
		action    string
		recurring float64
	}{{"RENEWAL", 6*1553 + 518}, {"QUANTITY_CHANGE", 7*1553 + 518}}
	for i, w := range want {
		p := phases[i].(map[string]any)
		assert.Equal(t, w.action, p["action"], "phase %d", i)
		assert.Equal(t, "2026-04-01", p["effectiveDate"], "phase %d keeps its date", i)
		assert.Equal(t, "SCHEDULED", p["status"], "phase %d", i)
		assert.EqualValues(t, w.recurring, p["after"].(map[string]any)["recurringAmount"], "phase %d", i)
	}
}

// A contract created back-dated while no worker runs, its term ended
// yesterday: the request is answered once the worker is back, and the term
// is carried out then, once: one expiry, and a later sweep finds nothing
// left to do.
func TestTermEndedWhileTheWorkerWasDownIsCarriedOutOnce(t *testing.T) {
	env := newAmendmentEnv(t)
	env.StopWorker()
	answer := make(chan testkit.Response, 1)
	body := createBody("ACC-DOWN", teamItem(map[string]any{"effectiveDate": "2025-03-14", "expirationDate": "2026-03-14", "quantities": map[string]int{"prod_seat": 5}}))
	go func() { answer <- env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, body) }()
	time.Sleep(2 * time.Second)
	select {
	case r := <-answer:
		t.Fatalf("answered without a worker: %d %s", r.Status, r.Body)
	default:
	}
	assert.Zero(t, env.CountRows("contracts"), "nothing created without a worker")
	env.StartWorker()
	var created testkit.Response
	select {
	case created = <-answer:
	case <-time.After(30 * time.Second):
		t.Fatal("no answer after the worker returned")
	}
	require.Equal(t, http.StatusOK, created.Status, "%s", created.Body)
	id := created.JSON(t)["contractId"].(string)

	got := eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["status"] == "expired" })
	assert.Equal(t, "2026-03-14", got["expirationDate"])
	assert.Equal(t, "Active", got["paymentSchedule"].(map[string]any)["status"], "the schedule stays, for the term's periods still to collect")
	ctx := context.Background()
	var ended flow.TermEnded
	require.NoError(t, env.Temporal.GetWorkflow(ctx, termWorkflowID(t, env, id, "2026-03-14"), "").Get(ctx, &ended))
	assert.Equal(t, "EXPIRED", ended.Outcome)

	sweep, err := env.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-" + id, TaskQueue: env.TaskQueue},
		flow.TermsSweepWorkflow, flow.TermsSweepInput{AsOf: domain.DateOf(today)})
	require.NoError(t, err)
	var started int
	require.NoError(t, sweep.Get(ctx, &started))
	assert.Zero(t, started)
	assert.Len(t, contractEvents(t, env, "contract.expired", id), 1)
	assert.Empty(t, contractEvents(t, env, "schedule.canceled", id))
}

// The tenant's default renewal terms live in its catalog: contracts created
// without terms take them; terms a request gives win; bad defaults are
// refused and change nothing.
func TestTermsTenantDefaultComesFromTheCatalog(t *testing.T) {
	env := newAmendmentEnv(t)
	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24, UpliftBasisPoints: 200, NoticeDays: 60}
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	want := map[string]any{"mode": "AUTO_RENEW", "termMonths": 24.0, "upliftBasisPoints": 200.0, "noticeDays": 60.0}
	assert.Equal(t, want, env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)["renewal"])
	assert.Equal(t, want, fiveSeats(env, nil)["renewal"])
	own := fiveSeats(env, map[string]any{"renewal": map[string]any{"mode": "EVERGREEN"}})
	assert.Equal(t, map[string]any{"mode": "EVERGREEN", "termMonths": 12.0, "upliftBasisPoints": 0.0, "noticeDays": 30.0}, own["renewal"])

	for _, bad := range []domain.RenewalTerms{
		{Mode: "FOREVER", TermMonths: 12, NoticeDays: 30}, {Mode: domain.AutoRenew, TermMonths: 121, NoticeDays: 30},
		{Mode: domain.AutoRenew, TermMonths: 12, UpliftBasisPoints: -10001, NoticeDays: 30},
	} {
		cat.Renewal = &bad
		resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%+v: %s", bad, resp.Body)
		assert.Contains(t, string(resp.Body), "renewal.", "%+v", bad)
	}
	assert.Equal(t, want, env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)["renewal"], "the default is kept")
	// A tenant without one creates contracts that expire.
	assert.Nil(t, env.Do("GET", "/api/catalog", env.B.OperatorKey, nil).JSON(t)["renewal"])
}

// A change at the end of a term that does not renew never applies to it:
// the renewal is held and lapses at the end, the contract expires, and the
// change, due the same day, waits for the term's end and fails with it.
func TestEndOfTermChangeFailsWhenTheContractExpires(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, map[string]any{"id": "renewals", "name": "Renewals", "when": `action == "RENEWAL"`})
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2026-03-15", "renewal": autoRenew(350)})
	id := ct["id"].(string)
	eot := seats(id, 7)
	eot["relativeEffectiveDate"] = "END_OF_TERM"
	// Due today, it is answered once the term's end is carried out (409,
	// failed with it), or refused (422) when the end came first.
	resp := change(env, env.A.SubmitterKey, eot)
	require.Contains(t, []int{http.StatusConflict, http.StatusUnprocessableEntity}, resp.Status, "%s", resp.Body)
	assert.Equal(t, "expired", resp.JSON(t)["contract"].(map[string]any)["status"])

	got := contractRead(env, id)()
	assert.EqualValues(t, 1, got["version"], "nothing applied to the term that did not start")
	list := env.Do("GET", "/api/contracts/"+id+"/amendments", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, list.Status)
	for _, it := range list.JSON(t)["items"].([]any) {
		am := amendment(t, env, it.(map[string]any)["id"].(string))
		if am["action"] == "QUANTITY_CHANGE" {
			assert.Equal(t, "FAILED", am["status"])
			_, notes := historyOf(am)
			assert.Contains(t, notes["FAILED"], "expired at the end of its term on 2026-03-15")
		}
	}
}

// Past its minimum term an evergreen contract runs until it is cancelled:
// its renewal mode cannot change any more.
func TestEvergreenPastItsMinimumTermKeepsItsMode(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-01-01", "expirationDate": "2026-01-01", "renewal": map[string]any{"mode": "EVERGREEN"}})
	body := map[string]any{"action": "RENEWAL_TERMS_CHANGE", "contractId": ct["id"], "payload": nil, "renewal": map[string]any{"mode": "EXPIRE"}}
	resp := change(env, env.A.SubmitterKey, body)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	assert.Contains(t, resp.JSON(t)["errorMessage"], "evergreen past its minimum term")
	assert.Equal(t, "active", contractRead(env, ct["id"].(string))()["status"])
}

// An auto-renewing contract whose renewal is refused (its uplifted prices
// beyond the tenant's limits) expires at its term's end and says why, in
// contract.expired, where it used to expire as if it did not auto-renew.
func TestARefusedRenewalExpiresTheContractSayingWhy(t *testing.T) {
	env := newAmendmentEnv(t)
	// Eight seats at 1500 and a TB at 500 bill 12,500 a month; doubled, 25,000.
	editCatalog(t, env, setLimits(1000, 20_000))
	ct := fiveSeats(env, map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2026-03-15", "renewal": autoRenew(10_000),
		"quantities": map[string]int{"prod_seat": 8}})
	id := ct["id"].(string)
	eventually(t, contractRead(env, id), func(c map[string]any) bool { return c["status"] == "expired" })

	expired := contractEvents(t, env, "contract.expired", id)
	require.Len(t, expired, 1)
	var data struct {
		ID             string `json:"id"`
		Status         string `json:"status"`
		ExpiredBecause string `json:"expiredBecause"`
	}
	require.NoError(t, json.Unmarshal(expired[0].Data, &data))
	assert.Equal(t, id, data.ID, "the contract, as before")
	assert.Equal(t, "expired", data.Status)
	assert.Contains(t, data.ExpiredBecause, "its renewal was refused: ")
	assert.Contains(t, data.ExpiredBecause, "beyond the limit of 20000", "%s", data.ExpiredBecause)
}

// A number a client gives in renewal terms is kept or refused, never
// replaced: a probe sent noticeDays 0 and termMonths 0, which the limits
// accepted ("0 to 365", "0 to 120") and the defaults then turned into 30
// and 12. Left out, they still take the defaults; a catalog read shows its
// terms filled in, so one read and put back is accepted.
func TestRenewalTermsKeepOrRefuseTheNumbersGiven(t *testing.T) {
	env := newAmendmentEnv(t)
	create := func(terms map[string]any) testkit.Response {
		return env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, map[string]any{
			"accountNumber": "ACC-zero", "actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{map[string]any{
				"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": []string{"USD"},
				"quantities": map[string]int{"prod_seat": 5}, "renewal": terms,
			}}}},
		})
	}
	for field, want := range map[string]string{"noticeDays": "from 1 to 365", "termMonths": "from 1 to 120"} {
		resp := create(map[string]any{"mode": "AUTO_RENEW", field: 0})
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s 0: %s", field, resp.Body)
		assert.Contains(t, string(resp.Body), "renewal."+field+" must be a whole number "+want)
	}
	given := map[string]any{"mode": "AUTO_RENEW", "termMonths": 1.0, "upliftBasisPoints": 0.0, "noticeDays": 1.0}
	resp := create(given)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, given, contractRead(env, resp.JSON(t)["contractId"].(string))()["renewal"], "the smallest numbers are kept")
	resp = create(map[string]any{"mode": "AUTO_RENEW"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, map[string]any{"mode": "AUTO_RENEW", "termMonths": 12.0, "upliftBasisPoints": 0.0, "noticeDays": 30.0},
		contractRead(env, resp.JSON(t)["contractId"].(string))()["renewal"], "left out, the defaults")

	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, NoticeDays: 0, TermMonths: 12}
	refused := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	assert.Equal(t, http.StatusBadRequest, refused.Status, "%s", refused.Body)
	assert.Contains(t, string(refused.Body), "renewal.noticeDays must be a whole number from 1 to 365")
	var asMap map[string]any
	raw, err := json.Marshal(demo.Catalog())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &asMap))
	asMap["renewal"] = map[string]any{"mode": "AUTO_RENEW"}
	put := env.Do("PUT", "/api/catalog", env.A.OperatorKey, asMap)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	filled := map[string]any{"mode": "AUTO_RENEW", "termMonths": 12.0, "upliftBasisPoints": 0.0, "noticeDays": 30.0}
	assert.Equal(t, filled, put.JSON(t)["renewal"])
	read := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil)
	assert.Equal(t, filled, read.JSON(t)["renewal"])
	back := env.Do("PUT", "/api/catalog", env.A.OperatorKey, json.RawMessage(read.Body))
	assert.Equal(t, http.StatusOK, back.Status, "a catalog read is put back as it is: %s", back.Body)
}
