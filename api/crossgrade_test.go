package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

func crossgradePath(ct map[string]any) string {
	return fmt.Sprintf("/api/customers/%s/contracts/%s/crossgrade", ct["customerId"], formatRef(ct["ref"]))
}

func crossgrade(env *testkit.Env, ct map[string]any, body map[string]any, headers ...string) testkit.Response {
	return env.Do("POST", crossgradePath(ct), env.A.SubmitterKey, body, headers...)
}

func requireFault(t *testing.T, resp testkit.Response, status, code int, fault string) {
	t.Helper()
	require.Equal(t, status, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	assert.EqualValues(t, code, body["faultCode"], "%s", resp.Body)
	assert.Equal(t, fault, body["fault"])
	assert.NotEmpty(t, body["message"])
}

// ledger counts the sandbox ledger's entries for an amendment's payment.
func ledger(t *testing.T, env *testkit.Env, amendmentID string) map[string]int {
	var rows []struct {
		Operation string `db:"operation"`
		Approved  bool   `db:"approved"`
	}
	require.NoError(t, env.Store.DB().Select(&rows, `SELECT operation, approved FROM sandbox_ledger WHERE idempotency_key LIKE $1`, "amendment/"+amendmentID+"/%"))
	out := map[string]int{}
	for _, r := range rows {
		if r.Approved {
			out[r.Operation]++
		}
	}
	return out
}

func TestCrossgradeUpgradeIsPaidAndApplied(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "referrer": "spring-campaign", "discountCode": map[string]any{"code": "WELCOME10"}},
		"X-Tenant-Id", env.B.ID, "X-User-Id", "mallory", "X-Source", "HMAC")
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.JSON(t)
	am := body["amendment"].(map[string]any)
	assert.Equal(t, "APPLIED", am["status"])
	// Identity comes from the key, never from headers the client sent.
	assert.Equal(t, env.A.SubmitterActor, am["submittedBy"])
	assert.Equal(t, "USER", am["source"])

	quote := am["quote"].(map[string]any)
	cg := quote["crossgrade"].(map[string]any)
	assert.Equal(t, "TEAM-M", cg["fromSalesItem"])
	assert.Equal(t, "BUSINESS-M", cg["toSalesItem"])
	assert.Equal(t, true, cg["upgrade"])
	// 8000 -> 15400 less 10% (13860) a month: for 17 of 31 days, 7601 instead of 4387.
	assert.EqualValues(t, -1540, cg["discount"].(map[string]any)["perPeriod"])
	assert.EqualValues(t, 7601-4387, cg["paymentAmount"])

	contract := body["contract"].(map[string]any)
	assert.EqualValues(t, 2, contract["version"])
	assert.Equal(t, "BUSINESS-M", contract["lines"].([]any)[0].(map[string]any)["salesItemCode"])
	assert.Equal(t, "WELCOME10", contract["discount"].(map[string]any)["code"])
	assert.Equal(t, "spring-campaign", contract["referrer"])

	assert.Equal(t, map[string]int{"AUTHORISE": 1, "CAPTURE": 1}, ledger(t, env, am["id"].(string)))
	var events []string
	for _, h := range env.Do("GET", "/api/amendments/"+am["id"].(string), env.A.SubmitterKey, nil).JSON(t)["history"].([]any) {
		events = append(events, h.(map[string]any)["status"].(string))
	}
	assert.Equal(t, []string{"PENDING", "PAYMENT_AUTHORISED", "APPLIED", "PAYMENT_CAPTURED"}, events)
}

func TestCrossgradeDowngrades(t *testing.T) {
	env := newAmendmentEnv(t)
	business := fiveSeats(env, map[string]any{"planId": "off_business"})

	scheduled := crossgrade(env, business, map[string]any{"salesItemCode": "TEAM-M"})
	require.Equal(t, http.StatusAccepted, scheduled.Status, "%s", scheduled.Body)
	am := scheduled.JSON(t)["amendment"].(map[string]any)
	assert.Equal(t, "SCHEDULED", am["status"])
	assert.Equal(t, "2026-04-01", am["effectiveDate"], "a downgrade waits for the next contract charge")
	assert.Empty(t, ledger(t, env, am["id"].(string)), "a downgrade is not paid for")

	now := fiveSeats(env, map[string]any{"planId": "off_business"})
	immediate := crossgrade(env, now, map[string]any{"salesItemCode": "TEAM-M", "downgradeImmediately": true})
	require.Equal(t, http.StatusOK, immediate.Status, "%s", immediate.Body)
	body := immediate.JSON(t)
	assert.Equal(t, "APPLIED", body["amendment"].(map[string]any)["status"])
	invoice := body["amendment"].(map[string]any)["invoice"].(map[string]any)
	assert.Less(t, invoice["total"].(float64), 0.0, "an immediate downgrade credits the rest of the period")
	assert.Equal(t, "CREDIT", invoice["status"])
}

// A crossgrade is priced against the contract as it will be on its date,
// so a refusal that holds only because of a change on its way says which.
func TestACrossgradeRefusedOnTheTimelineNamesTheChangeAheadOfIt(t *testing.T) {
	env := newAmendmentEnv(t)
	business := fiveSeats(env, map[string]any{"planId": "off_business"})
	first := crossgrade(env, business, map[string]any{"salesItemCode": "TEAM-M"})
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	firstID := first.JSON(t)["amendment"].(map[string]any)["id"].(string)

	second := crossgrade(env, business, map[string]any{"salesItemCode": "TEAM-M"})
	requireFault(t, second, 400, 90018, "InvalidCrossgradePathFault")
	assert.Contains(t, second.JSON(t)["detail"], "after the amendments ahead of this change on its timeline: "+firstID, "%s", second.Body)
}

func TestCrossgradeFaults(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	other := env.CreateContract(nil)
	fiveSeats(env, map[string]any{"viewingCardNumber": "79927398713"}) // holds the card the "card in use" case asks for
	cancelled := fiveSeats(env, nil)
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, cancel(cancelled["id"])).Status)
	// A downgrade waits for the next period, after this contract's scheduled cancellation.
	ending := fiveSeats(env, map[string]any{"planId": "off_business"})
	endsOn := cancel(ending["id"])
	endsOn["effectiveDate"] = "2026-03-20"
	scheduledCancellation := change(env, env.A.SubmitterKey, endsOn)
	require.Equal(t, http.StatusOK, scheduledCancellation.Status, "%s", scheduledCancellation.Body)
	declined := fiveSeats(env, map[string]any{"paymentMethod": "pm_declined"})
	unavailable := fiveSeats(env, map[string]any{"paymentMethod": "pm_unavailable"})

	path := func(customer, ref string) string {
		return "/api/customers/" + customer + "/contracts/" + ref + "/crossgrade"
	}
	up := map[string]any{"salesItemCode": "BUSINESS-M"}
	cases := []struct {
		name   string
		path   string
		key    string
		body   any
		status int
		code   int
		fault  string
	}{
		{"malformed customer id", path("nope", formatRef(ct["ref"])), env.A.SubmitterKey, up, 404, 90041, "NoContractFoundFault"},
		{"another customer's contract", path(other["customerId"].(string), formatRef(ct["ref"])), env.A.SubmitterKey, up, 404, 90041, "NoContractFoundFault"},
		{"unknown contract", path(ct["customerId"].(string), "999999"), env.A.SubmitterKey, up, 404, 90041, "NoContractFoundFault"},
		{"another tenant", crossgradePath(ct), env.B.SubmitterKey, up, 404, 90041, "NoContractFoundFault"},
		{"cancelled contract", crossgradePath(cancelled), env.A.SubmitterKey, up, 400, 90029, "InvalidStateForCrossgradeFault"},
		{"after a scheduled cancellation", crossgradePath(ending), env.A.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M"}, 400, 90029, "InvalidStateForCrossgradeFault"},
		{"no path", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-Q"}, 400, 90018, "InvalidCrossgradePathFault"},
		{"unknown item", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "GOLD"}, 400, 90018, "InvalidCrossgradePathFault"},
		{"unknown discount", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "FREE"}}, 404, 90022, "InvalidDiscountCodeFault"},
		{"discount for another item", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "4111111111111111", "discountCode": map[string]any{"code": "WELCOME10"}}, 404, 90022, "InvalidDiscountCodeFault"},
		{"card required", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M"}, 400, 90079, "VCNRequiredFault"},
		{"card fails Luhn", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "4111111111111112"}, 400, 90031, "InvalidVCNFault"},
		{"card not digits", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "41111111111A"}, 400, 90031, "InvalidVCNFault"},
		{"card not issued", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "4012888888881881"}, 400, 90031, "InvalidVCNFault"},
		{"card in another currency", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "5555555555554444"}, 400, 90077, "VCNCurrencyMismatchFault"},
		{"card in use", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "79927398713"}, 400, 90078, "VCNInUseFault"},
		{"payment declined", crossgradePath(declined), env.A.SubmitterKey, up, 400, 90045, "PaymentAuthorisationFault"},
		{"payment system down", crossgradePath(unavailable), env.A.SubmitterKey, up, 500, 90050, "PaymentSystemFault"},
		{"referrer too long", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M", "referrer": string(make([]byte, 51))}, 400, 90063, "UnableToCrossgradeFault"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireFault(t, env.Do("POST", tc.path, tc.key, tc.body), tc.status, tc.code, tc.fault)
		})
	}
	// The conflict names the cancellation it conflicts with.
	conflict := crossgrade(env, ending, map[string]any{"salesItemCode": "TEAM-M"}).JSON(t)
	assert.Contains(t, conflict["detail"], scheduledCancellation.JSON(t)["quote"].(map[string]any)["id"], "%v", conflict)
	for _, c := range []map[string]any{ct, declined, unavailable, ending} {
		got := env.Do("GET", "/api/contracts/"+c["id"].(string), env.A.SubmitterKey, nil).JSON(t)
		assert.EqualValues(t, 1, got["version"], "a refused crossgrade changes nothing")
	}
	// The declined and unavailable attempts were recorded as failed amendments, with nothing captured.
	var failed int
	require.NoError(t, env.Store.DB().Get(&failed, `SELECT count(*) FROM amendments WHERE status = 'FAILED'`))
	assert.Equal(t, 2, failed)
	var captured int
	require.NoError(t, env.Store.DB().Get(&captured, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	assert.Zero(t, captured)
}

func TestCrossgradeFlakyPaymentSucceedsThroughRetries(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"paymentMethod": "pm_flaky"})
	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	am := resp.JSON(t)["amendment"].(map[string]any)
	assert.Equal(t, "APPLIED", am["status"])
	assert.Equal(t, map[string]int{"AUTHORISE": 1, "CAPTURE": 1}, ledger(t, env, am["id"].(string)))
}

// A crossgrade held for review takes a viewing card that another contract
// claims before the approval: the approval prices it again against the
// contract as it is, finds the card in use and fails it before any payment
// is asked for, leaving the contract as it was.
func TestCrossgradeThatNoLongerHoldsFailsAtApproval(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, map[string]any{"id": "cg", "name": "Crossgrades", "when": `action == "CROSSGRADE"`})
	ct := fiveSeats(env, nil)
	resp := crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M", "viewingCardNumber": "4111111111111111"})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	id := resp.JSON(t)["amendment"].(map[string]any)["id"].(string)
	assert.Equal(t, "REVIEW", resp.JSON(t)["amendment"].(map[string]any)["status"])
	assert.Empty(t, ledger(t, env, id), "payment is authorised only after approval")

	fiveSeats(env, map[string]any{"viewingCardNumber": "4111111111111111"})
	approved := env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, nil)
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	assert.Equal(t, "FAILED", approved.JSON(t)["status"])
	assert.Empty(t, ledger(t, env, id), "nothing authorised")
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1, got["version"])
	assert.Nil(t, got["viewingCardNumber"])
}

// The worker stops after the change is applied and while the capture is
// still failing (pm_flaky fails each call twice); a new worker captures it,
// exactly once.
func TestCrossgradeCaptureSurvivesWorkerRestart(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, map[string]any{"paymentMethod": "pm_flaky"})
	answer := make(chan testkit.Response, 1)
	go func() { answer <- crossgrade(env, ct, map[string]any{"salesItemCode": "BUSINESS-M"}) }()

	var id string
	require.Eventually(t, func() bool {
		err := env.Store.DB().Get(&id, `SELECT id FROM amendments WHERE contract_id = $1 AND status = 'APPLIED'`, ct["id"])
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the upgrade is applied")
	require.Zero(t, ledger(t, env, id)["CAPTURE"], "captured before the worker stopped; the test lost its window")
	env.StopWorker()
	time.Sleep(2 * time.Second)
	env.StartWorker()

	select {
	case resp := <-answer:
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	case <-time.After(60 * time.Second):
		t.Fatal("no answer after the worker came back")
	}
	assert.Equal(t, map[string]int{"AUTHORISE": 1, "CAPTURE": 1}, ledger(t, env, id))
}

// The crossgrade's contract is in its path, so an Idempotency-Key identifies
// the path and the body together: reused on another contract it is refused,
// repeated on the same one it answers with the first amendment.
func TestCrossgradeIdempotencyKeyCoversThePath(t *testing.T) {
	env := newAmendmentEnv(t)
	first, other := fiveSeats(env, nil), fiveSeats(env, nil)
	body := map[string]any{"salesItemCode": "BUSINESS-M"}

	done := crossgrade(env, first, body, "Idempotency-Key", "upgrade-1")
	require.Equal(t, http.StatusOK, done.Status, "%s", done.Body)
	again := crossgrade(env, first, body, "Idempotency-Key", "upgrade-1")
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	id := done.JSON(t)["amendment"].(map[string]any)["id"]
	assert.Equal(t, id, again.JSON(t)["amendment"].(map[string]any)["id"])

	elsewhere := crossgrade(env, other, body, "Idempotency-Key", "upgrade-1")
	// The crossgrade surface's fault for it: 400 UnableToCrossgradeFault.
	requireFault(t, elsewhere, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	assert.Contains(t, elsewhere.JSON(t)["detail"], "Idempotency-Key")
	assert.Equal(t, "TEAM-M", env.Do("GET", "/api/contracts/"+other["id"].(string), env.A.SubmitterKey, nil).JSON(t)["lines"].([]any)[0].(map[string]any)["salesItemCode"])
}

// A header or query value beyond its input limits is refused before the
// handler, as the table's UnableToCrossgradeFault naming it, like a body
// field beyond its limit (it was SystemFailureFault, which tells a client
// to try the same request again).
func TestCrossgradeHeaderAndQueryRefusalsAreUnableToCrossgrade(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	up := map[string]any{"salesItemCode": "BUSINESS-M"}
	for _, tc := range []struct {
		name, path, names string
		headers           []string
	}{
		{"a tab in the Idempotency-Key", crossgradePath(ct), "Idempotency-Key", []string{"Idempotency-Key", "key\tone"}},
		{"a trace-id too long", crossgradePath(ct), "trace-id", []string{"trace-id", strings.Repeat("t", 200)}},
		{"preview spelt 1", crossgradePath(ct) + "?preview=1", "preview", nil},
	} {
		resp := env.Do("POST", tc.path, env.A.SubmitterKey, up, tc.headers...)
		requireFault(t, resp, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
		assert.Contains(t, resp.JSON(t)["detail"], tc.names, tc.name)
	}
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1, got["version"], "a refused crossgrade changes nothing")
}
