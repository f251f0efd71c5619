package api_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// These tests hold the service to the input limits (api/limits.go): each
// hostile value from issue 17 is a prompt 400 in the surface's own format,
// and leaves nothing behind.

// requireRefused checks a 400 in the path's surface format naming field.
func requireRefused(t *testing.T, path string, resp testkit.Response, field string) {
	t.Helper()
	if assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", path, resp.Body) {
		requireSurfaceError(t, path, resp)
		assert.Contains(t, string(resp.Body), field, "%s", path)
	}
}

func TestInputNULInAnApproversCommentLeavesTheAmendmentDecidable(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	body := cancel(ct["number"])
	body["requireApproval"] = true
	id := held(t, env, body)
	path := "/api/amendments/" + id + "/approve"

	resp := env.Do("POST", path, env.A.ApproverKey, `{"comment":"ok\u0000"}`)
	requireRefused(t, path, resp, "comment")
	am := env.Do("GET", "/api/amendments/"+id, env.A.ApproverKey, nil).JSON(t)
	assert.Equal(t, "REVIEW", am["status"], "the amendment is still in review")

	resp = env.Do("POST", path, env.A.ApproverKey, `{"comment":"ok"}`)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "APPLIED", resp.JSON(t)["status"], "and can still be decided")
}

func TestInputOversizedIdempotencyKeyAndDuplicatedKeysAreRefusedBeforeAnyWorkflow(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	longKey := strings.Repeat("k", 4000) // over Postgres's index row limit
	resp := change(env, env.A.SubmitterKey, seats(ct["number"].(string), 6), "Idempotency-Key", longKey)
	requireRefused(t, "/api/selfService/contract", resp, "Idempotency-Key")
	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-1", teamItem(nil)), "Idempotency-Key", longKey)
	requireRefused(t, "/api/contract-actions", resp, "Idempotency-Key")
	resp = env.Do("POST", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"}, "Idempotency-Key", longKey)
	requireRefused(t, crossgradePath(ct), resp, "Idempotency-Key")

	// The first value holds a NUL, which the raw body (stored with the
	// amendment) would keep even though the decoder takes the last one.
	dup := `{"action": "CANCELLATION\u0000", "action": "CANCELLATION", "contractId": "` + ct["number"].(string) + `", "payload": null}`
	requireRefused(t, "/api/selfService/contract", change(env, env.A.SubmitterKey, dup), "action")
	dup = `{"action": "CANCELLATION", "action": "CANCELLATION", "contractId": "` + ct["number"].(string) + `", "payload": null}`
	requireRefused(t, "/api/selfService/contract", change(env, env.A.SubmitterKey, dup), "appears twice")

	assert.Zero(t, env.CountRows("amendments"), "no amendment was opened")
	assert.Equal(t, 1, env.CountRows("contracts"), "no contract was created")
	// The contract is open to changes at once.
	resp = change(env, env.A.SubmitterKey, seats(ct["number"].(string), 6))
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// forgedToken is a page token of the right shape with an id that is not one.
func forgedToken() string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-03-01T00:00:00Z","id":"x"}`))
}

func TestInputNULsAndForgedPageTokensAre400AtOnce(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	op := env.A.OperatorKey
	termination := requireWrite(t, env.Do("POST", terminationsPath, op, map[string]any{"penaltyServiceId": 1, "name": "Fee"}), "create").Results.Items[0].Identity
	started := time.Now()
	cases := []struct {
		method, path, key string
		body              any
		field             string
	}{
		{"GET", "/api/contracts/%00", op, nil, "id"},
		{"GET", "/api/contracts?accountNumber=%00", op, nil, "accountNumber"},
		{"GET", "/api/contracts?status=%C3%28", op, nil, "status"}, // invalid UTF-8
		{"GET", "/api/amendments/%00", op, nil, "id"},
		{"GET", "/api/amendments?status=REVIEW&pageToken=" + forgedToken(), env.A.ApproverKey, nil, "pageToken"},
		{"GET", "/api/approvals?pageToken=" + forgedToken(), env.A.ApproverKey, nil, "pageToken"},
		{"POST", schedulePath(env.A.Prefix, ct["id"].(string), "restartSchedule") + "?comment=%00", env.A.SubmitterKey, nil, "comment"},
		{"POST", terminationsPath, op, `{"penaltyServiceId": 1, "name": "Fee\u0000"}`, "name"},
		{"PUT", terminationPath(termination, ""), op, `{"penaltyServiceId": 1, "name": "x\u0000"}`, "name"},
		{"POST", "/api/webhooks", op, `{"url": "https://example.com/h", "events": ["amendment.applied"], "description": "\u0000"}`, "description"},
		{"PUT", "/api/approval-rules", op, `{"rules": [{"id": "r\u0000", "name": "R", "when": "true"}]}`, "rules[].id"},
		{"PUT", "/api/catalog", op, `{"products": [{"id": "p", "name": "\u0000"}]}`, "products[].name"},
		{"POST", crossgradePath(ct), env.A.SubmitterKey, `{"salesItemCode": "BUSINESS-M", "referrer": "\u0000"}`, "referrer"},
		{"POST", "/api/contract-actions", env.A.SubmitterKey, `{"accountNumber": "ACC\u0000", "actions": []}`, "accountNumber"},
	}
	for _, tc := range cases {
		resp := env.Do(tc.method, tc.path, tc.key, tc.body)
		requireRefused(t, tc.path, resp, tc.field)
	}
	// Each refusal came at once, not after a workflow's retries.
	assert.Less(t, time.Since(started), 10*time.Second)
	assert.Equal(t, "Fee", env.Do("GET", terminationPath(termination, ""), op, nil).JSON(t)["instance"].(map[string]any)["name"])
	assert.Zero(t, env.CountRows("webhook_subscriptions"))
}

func TestInputEmptyCatalogOrOneDroppingItemsInUseIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	op := env.A.OperatorKey
	for _, doc := range []string{`null`, `{}`, `{"products": [], "offerings": []}`} {
		resp := env.Do("PUT", "/api/catalog", op, doc)
		requireRefused(t, "/api/catalog", resp, "")
	}
	// The demo catalog without off_team, which the contract is on.
	cat := env.Do("GET", "/api/catalog", op, nil).JSON(t)
	var offerings, items []any
	for _, o := range cat["offerings"].([]any) {
		if o.(map[string]any)["id"] != "off_team" {
			offerings = append(offerings, o)
		}
	}
	for _, si := range cat["salesItems"].([]any) {
		if si.(map[string]any)["offeringId"] != "off_team" {
			items = append(items, si)
		}
	}
	cat["offerings"], cat["salesItems"], cat["crossgradePaths"], cat["discountCodes"] = offerings, items, []any{}, []any{}
	resp := env.Do("PUT", "/api/catalog", op, cat)
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
	msg := requireSurfaceError(t, "/api/catalog", resp)
	assert.Contains(t, msg, `offering "off_team"`)
	assert.Contains(t, msg, ct["number"].(string), "the contract using it is named")

	// Nothing changed: the contract can still be changed.
	resp = change(env, env.A.SubmitterKey, seats(ct["number"].(string), 6))
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

func TestInputContractDatesAreBounded(t *testing.T) {
	env := newAmendmentEnv(t) // today is 2026-03-15
	sub := env.A.SubmitterKey
	cases := []struct {
		effective, expiration, field, says string
	}{
		{"2000-01-01", "9999-12-31", "expirationDate", "2999"},
		{"2000-01-01", "2001-01-01", "effectiveDate", "5 year(s) ago"},
		{"2021-03-14", "2022-01-01", "effectiveDate", "5 year(s) ago"},
		{"0001-01-01", "2027-01-01", "effectiveDate", "zero date"},
		{"2026-03-01", "0001-01-01", "expirationDate", "zero date"},
		{"2028-01-01", "2029-01-01", "effectiveDate", "ahead"},
		{"2026-03-01", "2036-03-02", "expirationDate", "10 years"},
	}
	for _, tc := range cases {
		resp := env.Do("POST", "/api/contract-actions", sub, createBody("ACC-1", teamItem(map[string]any{
			"effectiveDate": tc.effective, "expirationDate": tc.expiration})))
		requireRefused(t, "/api/contract-actions", resp, tc.field)
		assert.Contains(t, string(resp.Body), tc.says, "%s to %s", tc.effective, tc.expiration)
	}
	assert.Zero(t, env.CountRows("contracts"))
	resp := env.Do("POST", "/api/contract-actions", sub, createBody("ACC-1", teamItem(map[string]any{
		"effectiveDate": "2021-03-15", "expirationDate": "2031-03-15"})))
	assert.Equal(t, http.StatusOK, resp.Status, "the longest term from the earliest start: %s", resp.Body)
}

func TestInputBillingABacklogTakesSeveralRuns(t *testing.T) {
	env := newAmendmentEnv(t) // today is 2026-03-15
	ct := env.CreateContract(map[string]any{"effectiveDate": "2025-03-15", "expirationDate": "2027-03-15"})
	// 13 monthly periods have started, 2025-03-15 to 2026-03-15.
	first := runBilling(t, env, "2026-03-15")
	assert.Equal(t, 12, first.Invoiced, "one run bills at most 12 periods of a contract")
	env.Clock.Set(today.AddDate(0, 0, 1))
	second := runBilling(t, env, "2026-03-16")
	assert.Equal(t, 1, second.Invoiced, "the next run bills the rest")
	assert.Len(t, invoicesOf(t, env, ct["id"].(string)).Items, 13)
}

func TestInputTextsAndDurationsAreBounded(t *testing.T) {
	env := newAmendmentEnv(t)
	op := env.A.OperatorKey
	resp := env.Do("POST", terminationsPath, op, map[string]any{"penaltyServiceId": 1, "name": strings.Repeat("n", 100_000)})
	requireRefused(t, terminationsPath, resp, "name")
	assert.Zero(t, env.CountRows("contract_terminations"))

	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-1", teamItem(map[string]any{"paymentMethod": "any string at all"})))
	requireRefused(t, "/api/contract-actions", resp, "paymentMethod")
	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-1", teamItem(map[string]any{"paymentMethod": strings.Repeat("p", 65)})))
	requireRefused(t, "/api/contract-actions", resp, "paymentMethod")

	for _, expiry := range []string{"1ns", "100000d", "9999999999999999999d", "-1h"} {
		resp := env.Do("PUT", "/api/approval-rules", op, map[string]any{"rules": []any{
			map[string]any{"id": "r", "name": "R", "when": "true", "expiresAfter": expiry}}})
		requireRefused(t, "/api/approval-rules", resp, "expiresAfter")
	}
	resp = env.Do("GET", "/api/approval-rules", op, nil)
	assert.Empty(t, resp.JSON(t)["rules"])
}

// A body nested far deeper than any request type (the probe's: 100,000
// objects in 600 KB, under the body size limit) is a prompt 400 on each
// surface it reaches, in that surface's format, and changes nothing; before
// the bound, checking it held the process until it ran out of memory.
func TestInputDeeplyNestedBodiesAre400AtOnce(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	const depth = 100_000
	deepObject := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	deepList := `{"comment":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "}"
	for path, body := range map[string]string{
		"/api/selfService/contract": deepObject,
		crossgradePath(ct):          deepObject,
		"/api/contract-actions":     deepObject,
	} {
		requireRefused(t, path, env.Do("POST", path, env.A.SubmitterKey, body), "more than 32 levels deep")
	}
	body := cancel(ct["number"])
	body["requireApproval"] = true
	path := "/api/amendments/" + held(t, env, body) + "/approve"
	requireRefused(t, path, env.Do("POST", path, env.A.ApproverKey, deepList), "more than 32 levels deep")

	assert.Equal(t, 1, env.CountRows("amendments"), "only the held amendment was opened")
	assert.Equal(t, 1, env.CountRows("contracts"), "no contract was created")
}

// preview is true or false: spelt otherwise (preview=1, yes, TRUE) it was
// taken as false and the change made, where the client asked for a quote.
// Now it is a 400 in the surface's format, and nothing is made.
func TestInputAPreviewFlagSpeltOtherwiseIsRefusedAndChangesNothing(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	for _, v := range []string{"1", "yes", "TRUE", "maybe", ""} {
		path := "/api/selfService/contract?preview=" + v
		requireRefused(t, path, env.Do("POST", path, env.A.SubmitterKey, seats(ct["number"].(string), 6)), "preview must be true or false")
		path = crossgradePath(ct) + "?preview=" + v
		requireRefused(t, path, env.Do("POST", path, env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"}), "preview must be true or false")
	}
	assert.Zero(t, env.CountRows("amendments"), "no amendment was opened")

	resp := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, seats(ct["number"].(string), 6))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "PREVIEW", resp.JSON(t)["quote"].(map[string]any)["status"])
	assert.Zero(t, env.CountRows("amendments"), "a preview makes nothing")
}

// A catalog may not lower its ceilings below what an active contract holds:
// that contract's amounts would be beyond them, so it could not be billed
// (every run left it out as refused) nor changed but below them (hostile
// probe). The refusal names the contract; a ceiling at what is held is
// taken.
// putCatalogLimits puts the tenant's catalog back with the limits given.
func putCatalogLimits(t *testing.T, env *testkit.Env, limits map[string]any) testkit.Response {
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	cat["limits"] = limits
	return env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
}

func TestInputCatalogLimitsBelowWhatContractsHoldAreRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 25}}) // 25 × 1,500 + 500 a month
	number := ct["number"].(string)
	withLimits := func(limits map[string]any) testkit.Response { return putCatalogLimits(t, env, limits) }
	for _, tc := range []struct {
		limits map[string]any
		says   string
	}{
		{map[string]any{"maxQuantity": 10}, "limits.maxQuantity 10 is below the quantity 25 contract " + number + " is billed at"},
		{map[string]any{"maxAmount": 30000}, "limits.maxAmount 30000 is below the amount 38000 contract " + number + " is billed at"},
	} {
		resp := withLimits(tc.limits)
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		assert.Contains(t, requireSurfaceError(t, "/api/catalog", resp), tc.says)
	}
	resp := withLimits(map[string]any{"maxQuantity": 25, "maxAmount": 38000})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	env.Clock.Set(env.Clock.Now().AddDate(0, 1, 0))
	totals := runBilling(t, env, env.Clock.Now().Format(time.DateOnly))
	assert.Positive(t, totals.Invoiced, "the contract is still billed")
}

// A catalog may not change the billing period or the currency of a rate a
// contract is on, as it may not drop it (hostile probe: the Team monthly
// rate made ANNUAL was taken, and the contracts on it were then changed at
// their monthly prices per year; made EUR, every change to them failed
// 422). The refusal is a dropped rate's: 409 naming the rate, the field and
// the contracts, nothing stored. Its prices may still change, as each
// contract keeps its own.
func TestInputCatalogKeepsTheTermsOfARateInUse(t *testing.T) {
	env := newAmendmentEnv(t)
	number := fiveSeats(env, nil)["number"].(string)
	teamMonthly := func(cat map[string]any) map[string]any {
		for _, r := range offering(cat, "off_team")["rates"].([]any) {
			if rate := r.(map[string]any); rate["id"] == "rate_team_monthly_usd" {
				return rate
			}
		}
		panic("no rate_team_monthly_usd")
	}
	put := func(edit func(cat map[string]any)) testkit.Response {
		cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
		edit(cat)
		return env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	}
	dropped := func(cat map[string]any) {
		teamMonthly(cat)["id"] = "rate_team_monthly_usd_2"
		for _, si := range cat["salesItems"].([]any) {
			if item := si.(map[string]any); item["rateId"] == "rate_team_monthly_usd" {
				item["rateId"] = "rate_team_monthly_usd_2"
			}
		}
	}
	for _, tc := range []struct {
		edit func(cat map[string]any)
		says string
	}{
		{func(cat map[string]any) { teamMonthly(cat)["billingPeriod"] = "ANNUAL" },
			`rate "rate_team_monthly_usd" of offering "off_team": its billingPeriod cannot change from MONTHLY to ANNUAL while it is used by 1 contract(s): ` + number},
		{func(cat map[string]any) { teamMonthly(cat)["currency"] = "EUR" },
			`rate "rate_team_monthly_usd" of offering "off_team": its currency cannot change from USD to EUR while it is used by 1 contract(s): ` + number},
		{dropped, `rate "rate_team_monthly_usd" of offering "off_team" is used by 1 contract(s): ` + number},
	} {
		resp := put(tc.edit)
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		assert.Contains(t, requireSurfaceError(t, "/api/catalog", resp), tc.says)
	}
	rate := teamMonthly(env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t))
	assert.Equal(t, "MONTHLY", rate["billingPeriod"], "nothing stored")
	assert.Equal(t, "USD", rate["currency"], "nothing stored")

	resp := put(func(cat map[string]any) { teamMonthly(cat)["unitPrices"].(map[string]any)["prod_seat"] = 1700 })
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// A query string that does not parse is refused whole, in the surface's
// format. Go's parser drops a pair with a bad %-escape or a ";" and keeps the
// rest, so a hostile probe's "?preview=true%zz" made the change it asked a
// quote for (and a crossgrade captured its payment), and a list filter
// spelt so listed everything.
func TestInputAMalformedQueryStringIsRefusedAndChangesNothing(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	for _, query := range []string{"?preview=true%zz", "?preview=true;x", "?preview=true&x=%"} {
		path := "/api/selfService/contract" + query
		requireRefused(t, path, env.Do("POST", path, env.A.SubmitterKey, seats(id, 6)), "query string is malformed")
		path = crossgradePath(ct) + query
		resp := env.Do("POST", path, env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"})
		requireFault(t, resp, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	}
	path := "/api/contracts?status=canceled%zz"
	requireRefused(t, path, env.Do("GET", path, env.A.SubmitterKey, nil), "query string is malformed")
	path = schedulePath(env.A.Prefix, id, "restartSchedule") + "?comment=50%"
	requireRefused(t, path, env.Do("POST", path, env.A.SubmitterKey, nil), "query string is malformed")

	assert.Zero(t, env.CountRows("amendments"), "no amendment was opened")
	got := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1, got["version"], "the contract is as it was")
}

// Every path segment and query value is held to no control characters,
// as the input limits say: an account number of a newline was looked up (a
// 404 naming it), and a DDCMS comment kept a newline and a terminal escape.
func TestInputControlCharactersInPathsAndQueriesAreRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/accounts/%0a/balance"},
		{"GET", "/api/accounts/" + strings.Repeat("x", 65) + "/balance"},
		{"POST", schedulePath(env.A.Prefix, ct["id"].(string), "restartSchedule") + "?comment=a%0Ab%1B%5B31m"},
		{"POST", schedulePath(env.A.Prefix, ct["id"].(string), "cancelSchedule") + "?x=a%0Ab"},
	} {
		requireRefused(t, tc.path, env.Do(tc.method, tc.path, env.A.SubmitterKey, nil), "")
	}
	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "Active", got["paymentSchedule"].(map[string]any)["status"], "the schedule was not cancelled")
	assert.Len(t, got["paymentSchedule"].(map[string]any)["history"], 1, "nor restarted")

	// A comment's lines are its own: tabs and line breaks are kept.
	resp := env.Do("POST", schedulePath(env.A.Prefix, ct["id"].(string), "cancelSchedule"), env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	path := schedulePath(env.A.Prefix, ct["id"].(string), "restartSchedule") + "?comment=" + url.QueryEscape("moved abroad\n\tsee ticket 12\r\n")
	resp = env.Do("POST", path, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	history := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)["paymentSchedule"].(map[string]any)["history"].([]any)
	assert.Equal(t, "moved abroad\n\tsee ticket 12\r\n", history[len(history)-1].(map[string]any)["comment"])
}

// A trace-id beyond its limits is refused, and neither echoed in the
// answer's headers nor kept: a probe's 200,000-character one came back whole
// in the response and filled the access log.
func TestInputARefusedTraceIDIsNotEchoed(t *testing.T) {
	env := newAmendmentEnv(t)
	for _, trace := range []string{strings.Repeat("a", 200_000), "a\xffb", "a\tb"} {
		resp := env.Do("GET", "/api/approvals", env.A.ApproverKey, nil, "trace-id", trace)
		requireRefused(t, "/api/approvals", resp, "trace-id")
		assert.Empty(t, resp.Header.Get("trace-id"), "%q", trace[:min(len(trace), 8)])
	}
	resp := env.Do("GET", "/api/approvals", env.A.ApproverKey, nil, "trace-id", "trace-ok")
	assert.Equal(t, "trace-ok", resp.Header.Get("trace-id"), "a good one is echoed")
}

// A path a surface serves, asked with a method it does not take or one
// below it that does not exist, is answered in that surface's format (with
// Allow for the methods it takes): it was always the service's own JSON.
func TestInputWrongMethodsAndPathsAnswerInTheSurfacesFormat(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"DELETE", schedulePath(env.A.Prefix, ct["id"].(string), "cancelSchedule"), http.StatusMethodNotAllowed},
		{"GET", "/api/selfService/contract", http.StatusMethodNotAllowed},
		{"GET", "/api/selfService/nothing", http.StatusNotFound},
		{"DELETE", "/api/v5/Contract/Termination", http.StatusMethodNotAllowed},
		{"GET", "/api/contracts/" + ct["id"].(string) + "/nothing", http.StatusNotFound},
		{"PATCH", "/api/catalog", http.StatusMethodNotAllowed},
		{"GET", crossgradePath(ct), http.StatusMethodNotAllowed},
		{"GET", "/api/customers/nothing", http.StatusNotFound},
	} {
		resp := env.Do(tc.method, tc.path, env.A.OperatorKey, nil)
		if assert.Equal(t, tc.status, resp.Status, "%s %s: %s", tc.method, tc.path, resp.Body) {
			requireSurfaceError(t, tc.path, resp)
		}
		if strings.HasPrefix(tc.path, "/api/customers/") {
			// Not the seed's SystemFailureFault, which tells a client to try again.
			assert.EqualValues(t, 90000+tc.status, resp.JSON(t)["faultCode"], "%s %s: %s", tc.method, tc.path, resp.Body)
		}
		if tc.status == http.StatusMethodNotAllowed {
			assert.NotEmpty(t, resp.Header.Get("Allow"), "%s %s", tc.method, tc.path)
		}
	}
}
