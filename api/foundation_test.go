package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

func createBody(account string, items ...map[string]any) map[string]any {
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it
	}
	return map[string]any{
		"accountNumber": account,
		"actions":       []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": list}},
	}
}

func teamItem(overrides map[string]any) map[string]any {
	item := map[string]any{"planId": "off_team", "effectiveDate": "2026-02-01", "expirationDate": "2027-02-01", "currency": []string{"USD"}}
	for k, v := range overrides {
		item[k] = v
	}
	return item
}

func TestHealthAndReadinessNeedNoKey(t *testing.T) {
	env := testkit.New(t)
	assert.Equal(t, http.StatusOK, env.Do("GET", "/healthz", "", nil).Status)
	ready := env.Do("GET", "/readyz", "", nil)
	require.Equal(t, http.StatusOK, ready.Status, "%s", ready.Body)
	assert.Equal(t, "ready", ready.JSON(t)["status"])
	// A load balancer probing with HEAD gets the same answer without the
	// body; it was a 405.
	head := env.Do("HEAD", "/readyz", "", nil)
	assert.Equal(t, http.StatusOK, head.Status)
	assert.Equal(t, ready.Header.Get("Content-Type"), head.Header.Get("Content-Type"))
	assert.Empty(t, head.Body)
}

func TestAuthentication(t *testing.T) {
	env := testkit.New(t)
	missing := env.Do("GET", "/api/catalog", "", nil)
	assert.Equal(t, http.StatusUnauthorized, missing.Status)
	assert.Contains(t, missing.JSON(t)["message"], "API key is required")

	unknown := env.Do("GET", "/api/catalog", "ck_nope_123", nil)
	assert.Equal(t, http.StatusUnauthorized, unknown.Status)

	// The apiKey header works as well as a bearer token.
	viaHeader := env.Do("GET", "/api/catalog", "", nil, "apiKey", env.A.OperatorKey)
	assert.Equal(t, http.StatusOK, viaHeader.Status)

	// Wrong role: a submitter may not replace the catalog; an operator may not create contracts.
	assert.Equal(t, http.StatusForbidden, env.Do("PUT", "/api/catalog", env.A.SubmitterKey, demo.Catalog()).Status)
	forbidden := env.Do("POST", "/api/contract-actions", env.A.OperatorKey, createBody("ACC-1", teamItem(nil)))
	assert.Equal(t, http.StatusForbidden, forbidden.Status)
	assert.Contains(t, forbidden.JSON(t)["message"], "submitter")
	assert.Zero(t, env.CountRows("contracts"))
}

func TestCatalogRoundTrip(t *testing.T) {
	env := testkit.New(t)
	empty := env.Do("GET", "/api/catalog", env.B.OperatorKey, nil)
	require.Equal(t, http.StatusOK, empty.Status)
	assert.Empty(t, empty.JSON(t)["offerings"])

	put := env.Do("PUT", "/api/catalog", env.B.OperatorKey, demo.Catalog())
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	got := env.Do("GET", "/api/catalog", env.B.SubmitterKey, nil).JSON(t)
	offerings := got["offerings"].([]any)
	require.Len(t, offerings, len(demo.Catalog().Offerings))
	team := offerings[0].(map[string]any)
	assert.Equal(t, "off_team", team["id"])
	rate := team["rates"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 1500, rate["unitPrices"].(map[string]any)["prod_seat"])
	assert.Len(t, got["salesItems"], len(demo.Catalog().SalesItems))
}

func TestCatalogValidationReportsEveryProblemAndStoresNothing(t *testing.T) {
	env := testkit.New(t)
	bad := `{
	  "products": [{"id": "p1", "name": "One"}, {"id": "p1", "name": "Dup"}],
	  "offerings": [{"id": "o1", "name": "O", "products": [{"productId": "p1", "minQuantity": 5, "maxQuantity": 2}, {"productId": "ghost", "minQuantity": 0}],
	                 "rates": [{"id": "r1", "currency": "USD", "billingPeriod": "MONTHLY", "unitPrices": {"p1": -10}}]}],
	  "salesItems": [{"code": "S1", "offeringId": "nope", "rateId": "r1"}],
	  "crossgradePaths": [{"from": "S1", "to": "S9"}],
	  "discountCodes": [{"code": "D", "percentOff": 10, "appliesTo": ["S8"], "cycles": 1}],
	  "viewingCards": [], "penaltyServices": []
	}`
	resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, bad)
	require.Equal(t, http.StatusBadRequest, resp.Status)
	problems := strings.Join(toStrings(resp.JSON(t)["problems"]), "\n")
	for _, want := range []string{
		`products[1].id "p1" is a duplicate`,
		"minQuantity 5 is greater than maxQuantity 2",
		`"ghost" is not a catalog product`,
		`negative price for product "p1"`,
		`no unit price for product "ghost"`,
		`offeringId "nope" is not a catalog offering`,
		`crossgradePaths[0].to "S9" is not a sales item`,
		`appliesTo "S8" is not a sales item`,
	} {
		assert.Contains(t, problems, want)
	}
	// The earlier catalog is untouched.
	got := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	assert.Len(t, got["offerings"], len(demo.Catalog().Offerings))

	unknownField := env.Do("PUT", "/api/catalog", env.A.OperatorKey, `{"products": [], "colour": "red"}`)
	assert.Equal(t, http.StatusBadRequest, unknownField.Status)
	assert.Contains(t, unknownField.JSON(t)["message"], "colour")

	wrongType := env.Do("PUT", "/api/catalog", env.A.OperatorKey, `{"products": [{"id": 7}]}`)
	assert.Equal(t, http.StatusBadRequest, wrongType.Status)
	assert.Contains(t, wrongType.JSON(t)["message"], "products.id")
}

func TestCreateContractResponseShape(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey,
		createBody("ACC-0000000001", teamItem(map[string]any{"quantities": map[string]int{"prod_seat": 4}})), "trace-id", "trace-123")
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "trace-123", resp.Header.Get("trace-id"))
	body := resp.JSON(t)
	assert.Equal(t, "CA-0000000001", body["contractActionNumber"])
	for _, f := range []string{"id", "createdOn", "updatedOn", "createdBy", "updatedBy"} {
		assert.NotEmpty(t, body[f], f)
	}
	assert.Equal(t, env.A.SubmitterActor, body["createdBy"])
	info := body["contractInfo"].(map[string]any)
	assert.Equal(t, "ACC-0000000001", info["accountNumber"])
	assert.Equal(t, "CT-0000000001", info["contractNumber"])
	assert.Equal(t, "2026-02-01", info["effectiveDate"])
	assert.Equal(t, "2027-02-01", info["expirationDate"])
	assert.Equal(t, "active", info["status"])
	segs := info["contractSegments"].([]any)
	require.Len(t, segs, 1)
	seg := segs[0].(map[string]any)
	assert.Nil(t, seg["previousContractSegmentId"])
	assert.Equal(t, "off_team", seg["planId"])
	assert.EqualValues(t, 1, seg["billingCycleDay"])
	assert.Equal(t, "monthly", seg["billingCycleType"])
	assert.Equal(t, []any{"USD"}, seg["currency"])
	for _, f := range []string{"id", "createdOn", "updatedOn", "createdBy", "updatedBy", "status"} {
		assert.NotEmpty(t, seg[f], f)
	}

	// The contract reads back by uuid, CT- number and numeric ref.
	id := info["id"].(string)
	for _, key := range []string{id, "CT-0000000001", formatRef(info["ref"])} {
		got := env.Do("GET", "/api/contracts/"+key, env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, got.Status, key)
		c := got.JSON(t)
		assert.Equal(t, id, c["id"])
		assert.Equal(t, body["accountId"], c["customerId"])
		assert.EqualValues(t, 1, c["version"])
		assert.Equal(t, "Active", c["paymentSchedule"].(map[string]any)["status"])
		line := c["lines"].([]any)[0].(map[string]any)
		assert.Equal(t, "rate_team_monthly_usd", line["rateId"])
		assert.Equal(t, "TEAM-M", line["salesItemCode"])
		// 4 seats at 1500 + storage unlisted, so 1 (its minimum is 0) at 500.
		assert.EqualValues(t, 6500, line["recurringAmount"])
	}

	// A second action on the same account gets the next numbers.
	again := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-0000000001", teamItem(nil), teamItem(map[string]any{"planId": "off_business"})))
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	b := again.JSON(t)
	assert.Equal(t, "CA-0000000002", b["contractActionNumber"])
	assert.Equal(t, body["accountId"], b["accountId"])
	contracts := b["contracts"].([]any)
	require.Len(t, contracts, 2)
	assert.Equal(t, "CT-0000000002", contracts[0].(map[string]any)["contractNumber"])
	assert.Equal(t, "CT-0000000003", contracts[1].(map[string]any)["contractNumber"])
}

func TestCreateContractRefusalsWriteNothing(t *testing.T) {
	env := testkit.New(t)
	cases := []struct {
		name string
		body any
		want string
	}{
		{"unknown plan", createBody("A", teamItem(map[string]any{"planId": "off_ghost"})), "createContractWithPlan[0].planId"},
		{"unknown rate", createBody("A", teamItem(map[string]any{"rateId": "rate_ghost"})), "rateId"},
		{"expiration not after effective", createBody("A", teamItem(map[string]any{"expirationDate": "2026-02-01"})), "expirationDate"},
		{"currency without a rate", createBody("A", teamItem(map[string]any{"currency": []string{"JPY"}})), "currency"},
		{"quantity above maximum", createBody("A", teamItem(map[string]any{"quantities": map[string]int{"prod_seat": 51}})), "quantities"},
		{"quantity below minimum", createBody("A", teamItem(map[string]any{"planId": "off_business", "quantities": map[string]int{"prod_seat": 1}})), "quantities"},
		{"unknown product", createBody("A", teamItem(map[string]any{"quantities": map[string]int{"prod_ghost": 1}})), "quantities"},
		{"viewing card not issued", createBody("A", teamItem(map[string]any{"viewingCardNumber": "4012888888881881"})), "viewingCardNumber"},
		{"viewing card in another currency", createBody("A", teamItem(map[string]any{"viewingCardNumber": "5555555555554444"})), "is for EUR, not USD"},
		{"unknown action type", map[string]any{"accountNumber": "A", "actions": []any{map[string]any{"type": "delete-everything"}}}, "actions[0].type"},
		{"missing account", createBody("", teamItem(nil)), "accountNumber"},
		{"bad date", createBody("A", teamItem(map[string]any{"effectiveDate": "01/02/2026"})), "date"},
		{"unknown field", `{"accountNumber": "A", "actions": [], "extra": 1}`, "extra"},
		{"malformed json", `{"accountNumber": `, "malformed JSON"},
		{"wrong type", `{"accountNumber": 12, "actions": []}`, "accountNumber"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			assert.Contains(t, resp.JSON(t)["message"], tc.want)
		})
	}
	// A tenant without a catalog cannot create contracts either.
	assert.Equal(t, http.StatusBadRequest, env.Do("POST", "/api/contract-actions", env.B.SubmitterKey, createBody("A", teamItem(nil))).Status)

	for _, table := range []string{"contracts", "accounts", "contract_actions", "contract_segments"} {
		assert.Zero(t, env.CountRows(table), table)
	}
	count, err := env.Temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Query: "TenantId = '" + env.A.ID + "'",
	})
	require.NoError(t, err)
	assert.Zero(t, count.GetCount(), "a refused request must not start a workflow")
}

func TestTenantIsolation(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	c := env.CreateContract(nil)
	missing := env.Do("GET", "/api/contracts/CT-0000009999", env.B.SubmitterKey, nil)
	require.Equal(t, http.StatusNotFound, missing.Status)
	for _, key := range []string{c["id"].(string), c["number"].(string), formatRef(c["ref"])} {
		other := env.Do("GET", "/api/contracts/"+key, env.B.SubmitterKey, nil)
		assert.Equal(t, http.StatusNotFound, other.Status)
		// Same body shape as a missing contract, naming only what was asked for.
		assert.Equal(t, missing.JSON(t)["code"], other.JSON(t)["code"])
		assert.NotContains(t, string(other.Body), c["accountNumber"])
	}
	list := env.Do("GET", "/api/contracts", env.B.SubmitterKey, nil).JSON(t)
	assert.Empty(t, list["items"])
	list = env.Do("GET", "/api/contracts?accountNumber="+c["accountNumber"].(string), env.B.OperatorKey, nil).JSON(t)
	assert.Empty(t, list["items"])
}

func TestListContractsPagesAndFilters(t *testing.T) {
	// On the business date, inside teamItem's term: on the wall clock's, from
	// 2027-02-01 its contracts were expired as soon as they were made, and
	// the active ones listed were one, not four.
	env := newAmendmentEnv(t)
	for i := 0; i < 3; i++ {
		resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-LIST", teamItem(nil)))
		require.Equal(t, http.StatusOK, resp.Status)
	}
	env.CreateContract(nil) // another account

	first := env.Do("GET", "/api/contracts?accountNumber=ACC-LIST&pageSize=2", env.A.SubmitterKey, nil).JSON(t)
	require.Len(t, first["items"], 2)
	token, _ := first["nextPageToken"].(string)
	require.NotEmpty(t, token)
	second := env.Do("GET", "/api/contracts?accountNumber=ACC-LIST&pageSize=2&pageToken="+token, env.A.SubmitterKey, nil).JSON(t)
	require.Len(t, second["items"], 1)
	assert.Empty(t, second["nextPageToken"])
	seen := map[any]bool{}
	for _, it := range append(first["items"].([]any), second["items"].([]any)...) {
		seen[it.(map[string]any)["number"]] = true
	}
	assert.Len(t, seen, 3)

	all := env.Do("GET", "/api/contracts?status=active", env.A.SubmitterKey, nil).JSON(t)
	assert.Len(t, all["items"], 4)
	none := env.Do("GET", "/api/contracts?status=canceled", env.A.SubmitterKey, nil).JSON(t)
	assert.Empty(t, none["items"])
	// A status no contract can have is refused, not answered with nothing.
	for _, status := range []string{"ACTIVE", "bogus"} {
		resp := env.Do("GET", "/api/contracts?status="+status, env.A.SubmitterKey, nil)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		assert.Contains(t, string(resp.Body), "status must be one of [active canceled expired]")
	}

	assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/contracts?pageSize=0", env.A.SubmitterKey, nil).Status)
	assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/contracts?pageSize=501", env.A.SubmitterKey, nil).Status)
	assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/contracts?pageToken=bm9wZQ", env.A.SubmitterKey, nil).Status)
}

func TestContractActionIdempotencyKey(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	body := createBody("ACC-IDEM", teamItem(nil))
	first := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, body, "Idempotency-Key", "k-1")
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	retry := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, body, "Idempotency-Key", "k-1")
	require.Equal(t, http.StatusOK, retry.Status)
	assert.Equal(t, first.JSON(t)["id"], retry.JSON(t)["id"])
	assert.Equal(t, first.JSON(t)["contractActionNumber"], retry.JSON(t)["contractActionNumber"])
	assert.Equal(t, 1, env.CountRows("contracts"))

	other := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-OTHER", teamItem(nil)), "Idempotency-Key", "k-1")
	assert.Equal(t, http.StatusUnprocessableEntity, other.Status)
	assert.Equal(t, 1, env.CountRows("contracts"))

	// Keys are per tenant: tenant B may use the same key for its own request.
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.B.OperatorKey, demo.Catalog()).Status)
	assert.Equal(t, http.StatusOK, env.Do("POST", "/api/contract-actions", env.B.SubmitterKey, body, "Idempotency-Key", "k-1").Status)
	assert.Equal(t, 2, env.CountRows("contracts"))
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// formatRef renders a JSON number (decoded as float64) as the path segment a client would send.
func formatRef(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }
