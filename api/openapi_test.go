package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// openAPI loads the document as the router serves it and validates it
// against OpenAPI 3.1, its examples against their schemas included.
func openAPI(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	rec := httptest.NewRecorder()
	api.NewRouter(api.Deps{Logger: quiet}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))

	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	require.NoError(t, err)
	require.True(t, doc.IsOpenAPI31OrLater(), "the document is OpenAPI %s", doc.OpenAPI)
	require.NoError(t, doc.Validate(context.Background(), openapi3.EnableExamplesValidation()))
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return doc, router
}

// quiet keeps the access log of routers built here out of test output.
var quiet = slog.New(slog.DiscardHandler)

var ginParam = regexp.MustCompile(`[:*](\w+)`)

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, _ := openAPI(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, route := range allRoutes() {
		key := route.Method + " " + ginParam.ReplaceAllString(route.Path, "{$1}")
		assert.True(t, documented[key], "%s is routed but not in api/openapi/openapi.yaml", key)
		delete(documented, key)
		if route.Method == http.MethodGet {
			// Every GET answers HEAD (the document says so once); the
			// probes' and pages' HEADs are documented for load balancers.
			delete(documented, "HEAD"+strings.TrimPrefix(key, "GET"))
		}
	}
	assert.Empty(t, documented, "operations in the document that no route serves")
}

// The document repeats some of the domain's lists as enums; these must not drift.
func TestOpenAPIEnumsMatchTheDomain(t *testing.T) {
	doc, _ := openAPI(t)
	enum := func(schema string) []string {
		var values []string
		for _, v := range doc.Components.Schemas[schema].Value.Enum {
			values = append(values, v.(string))
		}
		return values
	}
	actions := []string{string(domain.Crossgrade), string(domain.Renewal), string(domain.RenewalTermsChange)}
	for _, a := range domain.Actions {
		actions = append(actions, string(a))
	}
	assert.ElementsMatch(t, actions, enum("Action"))
	assert.ElementsMatch(t, domain.Statuses, enum("AmendmentStatus"))
	assert.ElementsMatch(t, store.EventTypes, enum("EventType"))
}

func TestDocsPageShipsWithTheService(t *testing.T) {
	router := api.NewRouter(api.Deps{Logger: quiet})
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	assert.Equal(t, http.StatusMovedPermanently, get("/docs").Code)
	page := get("/docs/")
	require.Equal(t, http.StatusOK, page.Code)
	assert.Contains(t, page.Header().Get("Content-Type"), "text/html")
	assert.Contains(t, page.Header().Get("Content-Security-Policy"), "default-src 'none'")
	for _, asset := range []string{"docs.js", "docs.css"} {
		assert.Contains(t, page.Body.String(), `"`+asset+`"`)
		assert.Equal(t, http.StatusOK, get("/docs/"+asset).Code, asset)
	}
	assert.NotContains(t, page.Body.String()+get("/docs/docs.js").Body.String(), "https://", "the page loads nothing from elsewhere")
}

// keyPresented accepts a request that carries a key where its security
// scheme says: whether the key is good is for the service to decide.
func keyPresented(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch scheme := in.SecurityScheme; scheme.Type {
	case "http":
		if strings.HasPrefix(h.Get("Authorization"), "Bearer ") {
			return nil
		}
	case "apiKey":
		if h.Get(scheme.Name) != "" {
			return nil
		}
	}
	return errors.New("no API key for " + in.SecuritySchemeName)
}

// validateRequest checks a request against the document; it reads the body.
func validateRequest(router routers.Router, req *http.Request) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil, err
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: keyPresented, MultiError: true},
	}
	return in, openapi3filter.ValidateRequest(context.Background(), in)
}

func TestOpenAPIValidatesExampleRequests(t *testing.T) {
	_, router := openAPI(t)
	const (
		bearer   = "Bearer ck_demo_example"
		customer = "/api/customers/0f8fad5b-d9cb-469f-a165-70867728950e/contracts/42/crossgrade"
		contract = "/api/v3/client/DEMO/contract/0f8fad5b-d9cb-469f-a165-70867728950e"
	)
	catalog, err := json.Marshal(demo.Catalog())
	require.NoError(t, err)
	tests := []struct {
		name, method, target, body string
		headers                    map[string]string
		valid                      bool
	}{
		// The service's own surface.
		{name: "health needs no key", method: "GET", target: "/healthz", valid: true},
		{name: "catalog replaced", method: "PUT", target: "/api/catalog", body: string(catalog), valid: true},
		{name: "contract created", method: "POST", target: "/api/contract-actions", valid: true,
			headers: map[string]string{"Idempotency-Key": "signup-42", "trace-id": "7f1c"},
			body: `{"accountNumber": "ACC-0000000001", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [
				{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": ["USD"],
				 "quantities": {"prod_seat": 5}, "paymentMethod": "pm_ok"}]}]}`},
		{name: "contracts listed", method: "GET", target: "/api/contracts?accountNumber=ACC-0000000001&status=active&pageSize=20", valid: true},
		{name: "amendment approved", method: "POST", target: "/api/amendments/5d6c1f0e-8a43-4c1e-9a57-0e4f3c2b1a90/approve",
			body: `{"comment": "agreed with sales"}`, valid: true},
		{name: "approval naming its quote version", method: "POST", target: "/api/amendments/5d6c1f0e-8a43-4c1e-9a57-0e4f3c2b1a90/approve",
			body: `{"comment": "agreed with sales", "quoteVersion": 2}`, valid: true},
		{name: "quote version 0", method: "POST", target: "/api/amendments/5d6c1f0e-8a43-4c1e-9a57-0e4f3c2b1a90/approve", body: `{"quoteVersion": 0}`},
		{name: "contract timeline", method: "GET", target: "/api/contracts/CT-0000000001/timeline", valid: true},
		{name: "contract segments", method: "GET", target: "/api/contracts/CT-0000000001/segments?pageSize=20", valid: true},
		{name: "contract schedule history", method: "GET", target: "/api/contracts/CT-0000000001/schedule-history?pageSize=20", valid: true},
		{name: "contract as of a date", method: "GET", target: "/api/contracts/CT-0000000001?asOf=2026-04-01", valid: true},
		{name: "contract as of a year out of bounds", method: "GET", target: "/api/contracts/CT-0000000001?asOf=3000-01-01"},
		{name: "crossgrade preview", method: "POST", target: customer + "?preview=true", body: `{"salesItemCode": "TEAM-M"}`, valid: true},
		{name: "billing run", method: "POST", target: "/api/billing/run", body: `{"asOf": "2026-03-01"}`, valid: true},
		{name: "no key", method: "GET", target: "/api/catalog", headers: map[string]string{"Authorization": ""}},
		{name: "contract action without account", method: "POST", target: "/api/contract-actions",
			body: `{"actions": [{"type": "create-contract-with-plan", "createContractWithPlan": []}]}`},
		{name: "page size out of range", method: "GET", target: "/api/contracts?pageSize=0"},
		{name: "an empty filter", method: "GET", target: "/api/contracts?accountNumber="},
		{name: "an empty page token and size: the first page", method: "GET", target: "/api/contracts?pageToken=&pageSize=", valid: true},
		{name: "amendments without a status", method: "GET", target: "/api/amendments"},

		// Self-service.
		{name: "quantity change", method: "POST", target: "/api/selfService/contract", valid: true,
			body: `{"action": "QUANTITY_CHANGE", "contractId": "CT-0000000001",
				"payload": {"offerings": [{"offeringId": "off_team", "products": [{"productId": "prod_seat", "quantity": 11}]}]}}`},
		{name: "cancellation preview", method: "POST", target: "/api/selfService/contract?preview=true", valid: true,
			body: `{"action": "CANCELLATION", "contractId": "CT-0000000001", "effectiveDate": "2026-04-01", "payload": null}`},
		{name: "unknown field", method: "POST", target: "/api/selfService/contract",
			body: `{"action": "CANCELLATION", "contractId": "CT-0000000001", "payload": null, "colour": "red"}`},
		{name: "unknown action", method: "POST", target: "/api/selfService/contract",
			body: `{"action": "UPGRADE", "contractId": "CT-0000000001", "payload": null}`},

		// Crossgrade.
		{name: "upgrade with a discount", method: "POST", target: customer, valid: true,
			body: `{"salesItemCode": "BUSINESS-M", "referrer": "spring-campaign", "discountCode": {"code": "WELCOME10"}}`},
		{name: "referrer too long", method: "POST", target: customer,
			body: `{"salesItemCode": "BUSINESS-M", "referrer": "` + strings.Repeat("r", 51) + `"}`},

		// DDCMS: the seed's clients send the key as apiKey.
		{name: "schedule cancelled", method: "POST", target: contract + "/cancelSchedule", valid: true,
			headers: map[string]string{"Authorization": "", "apiKey": "ck_demo_example"}},
		{name: "schedule restarted with a comment", method: "POST", target: contract + "/restartSchedule?comment=paid%20arrears", valid: true},
		{name: "comment too long", method: "POST", target: contract + "/restartSchedule?comment=" + strings.Repeat("c", 1001)},

		// Contract termination v5.
		{name: "termination created, trailing slash", method: "POST", target: "/api/v5/Contract/Termination/", valid: true,
			body: `{"penaltyServiceId": 1, "name": "Early Termination Fee"}`},
		{name: "termination replaced", method: "PUT", target: "/api/v5/Contract/Termination/3", valid: true,
			body: `{"identity": 3, "penaltyServiceId": 1, "name": "Early Termination Fee (2026)"}`},
		{name: "charges patched", method: "PATCH", target: "/api/v5/Contract/Termination/3", valid: true,
			body: `{"contractTerminationPeriodCharges": {"items": [
				{"patchType": "create", "patchClientId": 1, "startMonth": 1, "endMonth": 12, "amount": 5000, "currency": "USD"},
				{"patchType": "delete", "patchClientId": 2, "identity": 8}]}}`},
		{name: "page of details", method: "GET", target: "/api/v5/Contract/Termination/Paged/Detail?pageNumber=2&pageSize=10&excludeTotalCount=true", valid: true},
		{name: "created with an identity, which is ignored", method: "POST", target: "/api/v5/Contract/Termination", valid: true,
			body: `{"identity": 3, "penaltyServiceId": 1, "name": "Early Termination Fee"}`},
		{name: "unknown patch type", method: "PATCH", target: "/api/v5/Contract/Termination/3",
			body: `{"contractTerminations": {"items": [{"patchType": "upsert", "patchClientId": 1}]}}`},
		{name: "id not a number", method: "GET", target: "/api/v5/Contract/Termination/abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			req.Header.Set("Authorization", bearer)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			_, err := validateRequest(router, req)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err, "the document accepts a request the service refuses")
			}
		})
	}
}

// conformance drives the running service and checks every request and
// every answer against the document.
type conformance struct {
	t      *testing.T
	env    *testkit.Env
	router routers.Router
}

// do sends a request the document allows and checks the answer has the
// expected status and matches the document. key is sent as a bearer token
// unless empty; headers are name, value pairs.
func (c *conformance) do(method, path, key string, body any, status int, headers ...string) testkit.Response {
	c.t.Helper()
	return c.send(true, method, path, key, body, status, headers...)
}

// refused sends a request the document does not allow, and checks the
// service refuses it with an answer the document describes.
func (c *conformance) refused(method, path, key string, body any, status int, headers ...string) testkit.Response {
	c.t.Helper()
	return c.send(false, method, path, key, body, status, headers...)
}

func (c *conformance) send(valid bool, method, path, key string, body any, status int, headers ...string) testkit.Response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(c.t, err)
	}
	if key != "" {
		headers = append(headers, "Authorization", "Bearer "+key)
	}
	if raw != nil {
		headers = append(headers, "Content-Type", "application/json")
	}
	newRequest := func(url string) *http.Request {
		req, err := http.NewRequest(method, url, bytes.NewReader(raw))
		require.NoError(c.t, err)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return req
	}

	in, err := validateRequest(c.router, newRequest(path))
	if valid {
		require.NoError(c.t, err, "%s %s", method, path)
	} else {
		require.Error(c.t, err, "%s %s: the document accepts a request the service refuses", method, path)
		route, params, err := c.router.FindRoute(newRequest(path))
		require.NoError(c.t, err)
		in = &openapi3filter.RequestValidationInput{Request: newRequest(path), PathParams: params, Route: route}
	}

	resp, err := http.DefaultClient.Do(newRequest(c.env.HTTP.URL + path))
	require.NoError(c.t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.Equal(c.t, status, resp.StatusCode, "%s %s: %s", method, path, answer)

	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(answer)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	require.NoError(c.t, err, "%s %s answered %d: %s", method, path, resp.StatusCode, answer)
	return testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: answer}
}

func TestOpenAPIDescribesLiveAnswers(t *testing.T) {
	_, router := openAPI(t)
	env := newAmendmentEnv(t)
	c := &conformance{t: t, env: env, router: router}
	a := env.A

	c.do("GET", "/healthz", "", nil, http.StatusOK)
	c.do("GET", "/readyz", "", nil, http.StatusOK)
	c.do("GET", "/metrics", "", nil, http.StatusOK)
	c.do("GET", "/docs/docs.js", "", nil, http.StatusOK)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/docs/docs.js"} {
		c.do("HEAD", path, "", nil, http.StatusOK)
	}

	// Catalog and contracts.
	c.do("GET", "/api/catalog", a.SubmitterKey, nil, http.StatusOK)
	c.do("PUT", "/api/catalog", a.OperatorKey, demo.Catalog(), http.StatusOK)
	c.do("PUT", "/api/catalog", a.SubmitterKey, demo.Catalog(), http.StatusForbidden)
	c.do("PUT", "/api/catalog", a.OperatorKey, map[string]any{"products": []any{map[string]any{"name": "no id"}}}, http.StatusBadRequest)
	c.refused("GET", "/api/catalog", "", nil, http.StatusUnauthorized)
	created := c.do("POST", "/api/contract-actions", a.SubmitterKey, createBody("ACC-OPENAPI", teamItem(map[string]any{
		"effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "quantities": map[string]int{"prod_seat": 5}, "paymentMethod": "pm_ok",
	})), http.StatusOK, "Idempotency-Key", "openapi-1", "trace-id", "conformance").JSON(t)
	c.do("POST", "/api/contract-actions", a.SubmitterKey, createBody("ACC-OPENAPI", teamItem(nil)), http.StatusUnprocessableEntity,
		"Idempotency-Key", "openapi-1")
	c.do("POST", "/api/contract-actions", a.SubmitterKey, createBody("ACC-OPENAPI", teamItem(map[string]any{
		"effectiveDate": "2021-03-16", "expirationDate": "2021-03-17", "renewal": monthlyRenewal(),
	})), http.StatusUnprocessableEntity)
	c.refused("POST", "/api/contract-actions", a.SubmitterKey, `{"accountNumber": "ACC-OPENAPI", "colour": "red"}`, http.StatusBadRequest)
	id := created["contractId"].(string)
	ct := c.do("GET", "/api/contracts/"+id, a.SubmitterKey, nil, http.StatusOK).JSON(t)
	c.do("GET", "/api/contracts?accountNumber=ACC-OPENAPI&pageSize=1", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/contracts/CT-0000009999", a.SubmitterKey, nil, http.StatusNotFound)
	c.refused("GET", "/api/contracts?pageSize=501", a.SubmitterKey, nil, http.StatusBadRequest)
	c.refused("GET", "/api/contracts?accountNumber=", a.SubmitterKey, nil, http.StatusBadRequest)
	c.do("GET", "/api/contracts?pageToken=&pageSize=", a.SubmitterKey, nil, http.StatusOK)
	// A parameter no operation reads: the document, which cannot refuse it, says it is a 400.
	c.do("GET", "/api/catalog?stauts=active", a.SubmitterKey, nil, http.StatusBadRequest)

	// Self-service, amendments and approvals.
	c.do("POST", "/api/selfService/contract?preview=true", a.SubmitterKey, seats(id, 6), http.StatusOK)
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, seats(id, 7), http.StatusOK)
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, seats("CT-0000009999", 7), http.StatusNotFound)
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, seats(id, 99), http.StatusUnprocessableEntity)
	c.refused("POST", "/api/selfService/contract", a.SubmitterKey, `{"action": "UPGRADE", "contractId": "`+id+`"}`, http.StatusBadRequest)
	c.refused("POST", "/api/selfService/contract", "", seats(id, 7), http.StatusUnauthorized)
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, map[string]any{
		"action": "RATE_CHANGE", "contractId": id, "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	}, http.StatusOK)
	// A change now while another waits for its date is applied; the
	// timeline and a projection show the one that waits, and a change dated
	// after a scheduled cancellation is a conflict.
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, seats(id, 8), http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"/timeline", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"/segments?pageSize=1", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"/schedule-history?pageSize=1", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"?asOf=2026-04-01", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"?asOf=2026-03-14", a.SubmitterKey, nil, http.StatusBadRequest)
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, map[string]any{
		"action": "CANCELLATION", "contractId": id, "effectiveDate": "2026-05-01", "payload": nil,
	}, http.StatusOK)
	c.do("POST", "/api/selfService/contract?preview=true", a.SubmitterKey, seatsOn(id, 9, "2026-05-10"), http.StatusConflict)
	scheduled := c.do("GET", "/api/amendments?status=SCHEDULED", a.SubmitterKey, nil, http.StatusOK).JSON(t)["items"].([]any)
	require.Len(t, scheduled, 2)
	for _, am := range scheduled {
		scheduledID := am.(map[string]any)["id"].(string)
		c.do("POST", "/api/amendments/"+scheduledID+"/withdraw", a.SubmitterKey, nil, http.StatusOK)
		c.do("POST", "/api/amendments/"+scheduledID+"/withdraw", a.SubmitterKey, nil, http.StatusOK) // a retry
	}
	scheduledID := scheduled[0].(map[string]any)["id"].(string)
	c.do("GET", "/api/amendments/"+scheduledID, a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"/amendments", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/amendments?status=APPLIED&pageSize=1", a.OperatorKey, nil, http.StatusOK)

	c.do("PUT", "/api/approval-rules", a.OperatorKey, map[string]any{"rules": []any{
		map[string]any{"id": "big", "name": "Big increase", "when": "quote.recurringDelta > 100000", "expiresAfter": "3d"},
	}}, http.StatusOK)
	c.do("PUT", "/api/approval-rules", a.OperatorKey, map[string]any{"rules": []any{map[string]any{"id": "bad", "when": "1 +"}}}, http.StatusBadRequest)
	c.do("GET", "/api/approval-rules", a.OperatorKey, nil, http.StatusOK)
	held := seats(id, 9)
	held["requireApproval"] = true
	c.do("POST", "/api/selfService/contract", a.SubmitterKey, held, http.StatusAccepted)
	inbox := c.do("GET", "/api/approvals?pageSize=10", a.ApproverKey, nil, http.StatusOK).JSON(t)["items"].([]any)
	require.Len(t, inbox, 1)
	heldID := inbox[0].(map[string]any)["id"].(string)
	c.do("GET", "/api/approvals", a.SubmitterKey, nil, http.StatusForbidden)
	c.do("POST", "/api/amendments/"+heldID+"/approve", a.SubmitterKey, nil, http.StatusForbidden)
	c.do("POST", "/api/amendments/"+heldID+"/approve", a.ApproverKey, map[string]any{"comment": "agreed"}, http.StatusOK)
	c.do("POST", "/api/amendments/"+heldID+"/reject", a.ApproverKey, nil, http.StatusConflict)
	c.do("POST", "/api/amendments/"+heldID+"/withdraw", a.SubmitterKey, nil, http.StatusConflict)

	// Crossgrade: an upgrade is paid for and applied.
	c.do("POST", crossgradePath(ct), a.SubmitterKey, map[string]any{
		"salesItemCode": "BUSINESS-M", "referrer": "conformance", "discountCode": map[string]any{"code": "WELCOME10"},
	}, http.StatusOK)
	c.do("POST", crossgradePath(ct), a.SubmitterKey, map[string]any{"salesItemCode": "SPORTS-M"}, http.StatusBadRequest)
	c.do("POST", "/api/customers/"+a.ID+"/contracts/999999/crossgrade", a.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M"}, http.StatusNotFound)
	c.refused("POST", crossgradePath(ct), a.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M", "colour": "red"}, http.StatusBadRequest)

	// Billing.
	c.do("POST", "/api/billing/run", a.OperatorKey, map[string]any{"asOf": "2026-03-15"}, http.StatusOK)
	c.do("GET", "/api/contracts/"+id+"/invoices", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/accounts/ACC-OPENAPI/balance", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/accounts/ACC-OPENAPI/balance", env.B.SubmitterKey, nil, http.StatusNotFound)

	// DDCMS, with the key as the seed's clients send it.
	schedule := "/api/v3/client/" + a.Prefix + "/contract/" + id
	c.do("POST", schedule+"/cancelSchedule", "", nil, http.StatusOK, "apiKey", a.SubmitterKey)
	c.do("POST", schedule+"/cancelSchedule", "", nil, http.StatusBadRequest, "apiKey", a.SubmitterKey)
	c.do("POST", schedule+"/restartSchedule?comment=paid", "", nil, http.StatusOK, "apiKey", a.SubmitterKey)
	c.do("POST", "/api/v3/client/"+env.B.Prefix+"/contract/"+id+"/cancelSchedule", "", nil, http.StatusNotFound, "apiKey", a.SubmitterKey)
	c.do("POST", schedule+"/cancelSchedule", "", nil, http.StatusForbidden, "apiKey", a.ApproverKey)

	// Contract termination v5.
	const terminations = "/api/v5/Contract/Termination"
	write := c.do("POST", terminations, a.OperatorKey, map[string]any{"penaltyServiceId": 1, "name": "Early Termination Fee"}, http.StatusOK)
	var written v5WriteBody
	write.Decode(t, &written)
	require.Len(t, written.Results.Items, 1)
	tid := strconv.FormatInt(written.Results.Items[0].Identity, 10)
	c.do("PATCH", terminations+"/"+tid, a.OperatorKey, map[string]any{"contractTerminationPeriodCharges": map[string]any{"items": []any{
		map[string]any{"patchType": "create", "patchClientId": 1, "startMonth": 1, "endMonth": 12, "amount": 5000, "currency": "USD"},
	}}}, http.StatusOK)
	c.do("PUT", terminations+"/"+tid+"/", a.OperatorKey, map[string]any{"identity": written.Results.Items[0].Identity, "penaltyServiceId": 1, "name": "Renamed"}, http.StatusOK)
	c.do("GET", terminations+"/", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", terminations+"/Paged?pageSize=1", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", terminations+"/Paged/Detail/?excludeTotalCount=true", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", terminations+"/"+tid+"/Detail", a.SubmitterKey, nil, http.StatusOK)
	c.do("GET", terminations+"/999999", a.SubmitterKey, nil, http.StatusNotFound)
	c.do("POST", terminations, a.SubmitterKey, map[string]any{"penaltyServiceId": 1, "name": "X"}, http.StatusForbidden)
	c.refused("PATCH", terminations+"/"+tid, a.OperatorKey, map[string]any{"contractTerminations": map[string]any{"items": []any{
		map[string]any{"patchType": "upsert", "patchClientId": 1},
	}}}, http.StatusBadRequest)
	c.do("DELETE", terminations+"/"+tid, a.OperatorKey, nil, http.StatusOK)
}
