package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/testkit"
)

// requireSurfaceError checks that an error answer is in the format of the
// surface that path belongs to, and returns its message.
func requireSurfaceError(t *testing.T, path string, resp testkit.Response) string {
	t.Helper()
	if strings.HasPrefix(path, "/api/v3/client/") {
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), "%s: DDCMS answers in plain text", path)
		return string(resp.Body)
	}
	var body map[string]any
	require.NoError(t, json.Unmarshal(resp.Body, &body), "%s: %s", path, resp.Body)
	var message any
	switch {
	case strings.HasPrefix(path, "/api/selfService/"):
		assert.Equal(t, "FAILED", body["status"], "%s: %s", path, resp.Body)
		message = body["errorMessage"]
	case strings.HasPrefix(path, "/api/customers/"):
		assert.NotEmpty(t, body["fault"], "%s: %s", path, resp.Body)
		// The seed fixes each fault's message; the specifics are in its detail.
		message = fmt.Sprint(body["message"], ": ", body["detail"])
	case strings.HasPrefix(path, "/api/v5/"):
		assert.NotEmpty(t, body["trackingId"], "%s: %s", path, resp.Body)
		message = body["message"]
	default:
		assert.Equal(t, http.StatusText(resp.Status), body["code"], "%s: %s", path, resp.Body)
		message = body["message"]
	}
	require.IsType(t, "", message, "%s: %s", path, resp.Body)
	return message.(string)
}

func TestLimitBodySizeOnEveryRouteThatTakesABody(t *testing.T) {
	env := testkit.New(t)
	key := env.NewTenantKey(env.A, auth.AllRoles...)
	huge := `{"padding": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
	for _, route := range wellFormedRoutes(env) {
		if route.Method == http.MethodGet || route.Method == http.MethodHead || route.Method == http.MethodDelete {
			continue
		}
		resp := env.Do(route.Method, route.path, key, huge)
		if assert.Equal(t, http.StatusRequestEntityTooLarge, resp.Status, "%s %s: %s", route.Method, route.Path, resp.Body) {
			assert.Contains(t, requireSurfaceError(t, route.path, resp), "1 MiB")
		}
	}
}

// routeTo is a route of the router and a path to it.
type routeTo struct {
	gin.RouteInfo
	path string
}

// wellFormedRoutes is every route the router has, each with its path
// parameters filled with well-formed values (tenant A's prefix for a
// DDCMS client's), so a request gets as far as its route would let it.
func wellFormedRoutes(env *testkit.Env) []routeTo {
	params := map[string]string{
		"id": uuid.NewString(), "contractId": uuid.NewString(), "customerId": uuid.NewString(),
		"contractRef": "1", "deliveryId": uuid.NewString(), "clientPrefix": env.A.Prefix, "accountNumber": "ACC-1",
	}
	var out []routeTo
	for _, route := range allRoutes() {
		path := pathParam.ReplaceAllStringFunc(route.Path, func(param string) string { return params[param[1:]] })
		out = append(out, routeTo{route, path})
	}
	return out
}

// sendChunked posts body without declaring its length (a reader of unknown
// size goes chunked), so only reading it can find it too large.
func sendChunked(t *testing.T, env *testkit.Env, path, key, body string) testkit.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.HTTP.URL+path, io.MultiReader(strings.NewReader(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

func TestLimitBodySizeWhenTheLengthIsNotDeclared(t *testing.T) {
	env := newAmendmentEnv(t)
	key := env.NewTenantKey(env.A, auth.AllRoles...)
	huge := `{"padding": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
	for _, path := range []string{"/api/contract-actions", "/api/selfService/contract", terminationsPath, crossgradePath(fiveSeats(env, nil))} {
		resp := sendChunked(t, env, path, key, huge)
		if assert.Equal(t, http.StatusRequestEntityTooLarge, resp.Status, "%s: %s", path, resp.Body) {
			assert.Contains(t, requireSurfaceError(t, path, resp), "1 MiB")
		}
	}
}

// TestLimitUnknownFieldsAndWrongTypes sends, to every surface whose seed
// defines its body, a field the seed does not have and a field of the wrong
// type: both are refused with 400 naming the field, in the surface's format.
func TestLimitUnknownFieldsAndWrongTypes(t *testing.T) {
	env := newAmendmentEnv(t)
	key := env.NewTenantKey(env.A, auth.AllRoles...)
	ct := fiveSeats(env, nil)
	termination := requireWrite(t, env.Do("POST", terminationsPath, env.A.OperatorKey,
		map[string]any{"penaltyServiceId": 1, "name": "Fee"}), "create").Results.Items[0].Identity
	cases := []struct {
		method, path, body, field string
	}{
		{"POST", "/api/contract-actions", `{"accountNumber": "ACC-1", "actions": [], "priority": 1}`, "priority"},
		{"POST", "/api/contract-actions", `{"accountNumber": 42, "actions": []}`, "accountNumber"},
		{"POST", "/api/contract-actions", `{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "billingCycleDay": "first"}]}]}`, "billingCycleDay"},
		{"POST", "/api/selfService/contract", `{"action": "CANCELLATION", "contractId": "` + ct["number"].(string) + `", "payload": null, "reason": "x"}`, "reason"},
		{"POST", "/api/selfService/contract", `{"action": 7, "contractId": "CT-1", "payload": null}`, "action"},
		{"POST", "/api/selfService/contract", `{"action": "QUANTITY_CHANGE", "contractId": "CT-1", "payload": {"offerings": [{"offeringId": "off_team", "products": [{"productId": "prod_seat", "quantity": "ten"}]}]}}`, "quantity"},
		{"POST", crossgradePath(ct), `{"salesItemCode": "BUSINESS-M", "campaign": "x"}`, "campaign"},
		{"POST", crossgradePath(ct), `{"salesItemCode": ["BUSINESS-M"]}`, "salesItemCode"},
		{"POST", crossgradePath(ct), `{"salesItemCode": "BUSINESS-M", "discountCode": {"code": 10}}`, "code"},
		{"POST", terminationsPath, `{"penaltyServiceId": 1, "name": "Fee", "owner": "x"}`, "owner"},
		{"POST", terminationsPath, `{"penaltyServiceId": "one", "name": "Fee"}`, "penaltyServiceId"},
		{"PUT", terminationPath(termination, ""), `{"penaltyServiceId": 1, "name": true}`, "name"},
		{"PATCH", terminationPath(termination, ""), `{"details": {}, "contractTerminationPeriodCharges": {"items": [{"patchType": "create", "patchClientId": 1, "startMonth": 0, "endMonth": 12, "amount": "lots", "currency": "USD"}]}}`, "amount"},
		{"PUT", "/api/catalog", `{"products": [{"id": "p", "name": "P", "colour": "red"}]}`, "colour"},
		{"PUT", "/api/approval-rules", `{"rules": [{"id": "r", "name": "R", "when": "true", "priority": 1}]}`, "priority"},
	}
	for _, tc := range cases {
		resp := env.Do(tc.method, tc.path, key, tc.body)
		if assert.Equal(t, http.StatusBadRequest, resp.Status, "%s %s %s: %s", tc.method, tc.path, tc.body, resp.Body) {
			assert.Contains(t, requireSurfaceError(t, tc.path, resp), tc.field, "%s %s", tc.method, tc.body)
		}
	}
}
