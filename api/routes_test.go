package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

// publicPaths need no key, so tenant isolation does not apply to them.
var publicPaths = map[string]bool{
	"/healthz":      true,
	"/readyz":       true,
	"/metrics":      true,
	"/openapi.json": true,
	"/docs/*file":   true,
	"/ui/*file":     true,
}

// tenantCollections address the caller's own tenant as a whole rather than
// one object, so tenant B may get a 2xx there: about its own (empty) data,
// never tenant A's. Every other route names an object and must refuse B.
var tenantCollections = map[string]bool{
	"GET /api/catalog":                               true,
	"PUT /api/catalog":                               true,
	"POST /api/contract-actions":                     true,
	"GET /api/contracts":                             true,
	"GET /api/amendments":                            true,
	"GET /api/approvals":                             true,
	"GET /api/approval-rules":                        true,
	"PUT /api/approval-rules":                        true,
	"POST /api/billing/run":                          true,
	"GET /api/events":                                true,
	"GET /api/webhooks":                              true,
	"POST /api/webhooks":                             true,
	"GET /api/test-clocks":                           true,
	"POST /api/test-clocks":                          true,
	"GET /api/v5/Contract/Termination":               true,
	"GET /api/v5/Contract/Termination/":              true,
	"GET /api/v5/Contract/Termination/Paged":         true,
	"GET /api/v5/Contract/Termination/Paged/":        true,
	"GET /api/v5/Contract/Termination/Paged/Detail":  true,
	"GET /api/v5/Contract/Termination/Paged/Detail/": true,
	"POST /api/v5/Contract/Termination":              true,
	"POST /api/v5/Contract/Termination/":             true,
}

// tenantAObjects is one of everything tenant A owns that a route can name.
type tenantAObjects struct {
	contractID, amendmentID, hookID string
	// params holds, per path parameter name, every value of A's worth trying.
	params map[string][]string
	// bodies are requests that would succeed if the objects were the caller's,
	// so a refusal shows isolation rather than validation; the v5 surface's
	// paths with a trailing slash share their body.
	bodies map[string]any
	// secrets must never reach tenant B unless B's own request named them.
	secrets []string
}

func seedTenantA(t *testing.T, env *testkit.Env) tenantAObjects {
	t.Helper()
	// B gets A's catalog, so B's requests are valid but for whose objects they name.
	_, err := env.Store.PutCatalog(t.Context(), env.B.ID, uuid.NewString(), demo.Catalog(), env.Clock.Now())
	require.NoError(t, err)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(receiver.Close)
	hook := env.Do("POST", "/api/webhooks", env.A.OperatorKey, map[string]any{"url": receiver.URL + "/tenant-a-hooks", "events": []string{"contract.created"}})
	require.Equal(t, http.StatusCreated, hook.Status, "%s", hook.Body)
	hookID := hook.JSON(t)["id"].(string)

	ct := fiveSeats(env, nil)
	contractID, number, ref := ct["id"].(string), ct["number"].(string), formatRef(ct["ref"])
	review := seats(number, 6)
	review["requireApproval"] = true
	amendmentID := held(t, env, review)

	termination := requireWrite(t, env.Do("POST", terminationsPath, env.A.OperatorKey,
		map[string]any{"penaltyServiceId": 1, "name": "Tenant A private exit fee"}), "create").Results.Items[0].Identity

	var deliveryID string
	require.Eventually(t, func() bool {
		if list := deliveries(t, env, hookID); len(list.Items) > 0 {
			deliveryID = list.Items[0].ID
		}
		return deliveryID != ""
	}, 30*time.Second, 50*time.Millisecond, "tenant A's webhook got no delivery")
	terminationID := formatRef(float64(termination))
	return tenantAObjects{
		contractID: contractID, amendmentID: amendmentID, hookID: hookID,
		params: map[string][]string{
			"id":            {contractID, number, ref, amendmentID, hookID, terminationID},
			"contractId":    {contractID},
			"clientPrefix":  {env.A.Prefix, env.B.Prefix},
			"customerId":    {ct["customerId"].(string)},
			"contractRef":   {ref},
			"deliveryId":    {deliveryID},
			"accountNumber": {ct["accountNumber"].(string)},
		},
		bodies: map[string]any{
			"POST /api/selfService/contract":                                    seats(number, 7),
			"POST /api/amendments/:id/approve":                                  map[string]any{"comment": "ok"},
			"POST /api/amendments/:id/reject":                                   map[string]any{"comment": "no"},
			"POST /api/customers/:customerId/contracts/:contractRef/crossgrade": map[string]any{"salesItemCode": "BUSINESS-M"},
			"PUT /api/v5/Contract/Termination/:id":                              map[string]any{"penaltyServiceId": 1, "name": "Renamed"},
			"PATCH /api/v5/Contract/Termination/:id": map[string]any{"details": map[string]any{}, "contractTerminationPeriodCharges": map[string]any{"items": []any{
				map[string]any{"patchType": "create", "patchClientId": 1, "startMonth": 0, "endMonth": 12, "amount": 100, "currency": "USD"},
			}}},
		},
		secrets: []string{contractID, number, ct["accountNumber"].(string), ct["customerId"].(string),
			amendmentID, hookID, receiver.URL, deliveryID, "Tenant A private exit fee"},
	}
}

var pathParam = regexp.MustCompile(`[:*]\w+`)

// expand substitutes every combination of A's values for a route's parameters.
func (a tenantAObjects) expand(t *testing.T, path string) []string {
	t.Helper()
	paths := []string{path}
	for _, param := range pathParam.FindAllString(path, -1) {
		values, ok := a.params[param[1:]]
		require.True(t, ok, "route %s: add tenant A values for %s to the walker's table", path, param)
		var next []string
		for _, p := range paths {
			for _, v := range values {
				next = append(next, strings.Replace(p, param, v, 1))
			}
		}
		paths = next
	}
	return paths
}

// TestRoutesRefuseAnotherTenantsObjects walks every route the router has, so
// a route added later is covered (or must be classified above), and sends it
// tenant A's objects with each of tenant B's keys.
func TestRoutesRefuseAnotherTenantsObjects(t *testing.T) {
	env := newAmendmentEnv(t)
	a := seedTenantA(t, env)
	routes := allRoutes()
	require.NotEmpty(t, routes)
	for _, route := range routes {
		if publicPaths[route.Path] {
			continue
		}
		name := route.Method + " " + route.Path
		// A route only B's role checks refused would prove nothing about isolation.
		reached := false
		for _, path := range a.expand(t, route.Path) {
			for role, key := range map[string]string{"submitter": env.B.SubmitterKey, "approver": env.B.ApproverKey, "operator": env.B.OperatorKey} {
				body := a.bodies[strings.TrimSuffix(name, "/")]
				resp := env.Do(route.Method, path, key, body)
				reached = reached || (resp.Status != http.StatusUnauthorized && resp.Status != http.StatusForbidden)
				what := name + " as " + role + " on " + path
				if !tenantCollections[name] {
					assert.False(t, resp.Status < 300, "%s: %d %s", what, resp.Status, resp.Body)
				}
				sent, err := json.Marshal(body)
				require.NoError(t, err)
				asked := path + " " + string(sent)
				for _, secret := range a.secrets {
					if !strings.Contains(asked, secret) {
						assert.NotContains(t, string(resp.Body), secret, "%s leaks tenant A's data", what)
					}
				}
			}
		}
		assert.True(t, reached, "%s: every key of tenant B was refused before the handler", name)
	}

	// Nothing B tried changed A's objects.
	am := env.Do("GET", "/api/amendments/"+a.amendmentID, env.A.ApproverKey, nil)
	require.Equal(t, http.StatusOK, am.Status, "%s", am.Body)
	assert.Equal(t, "REVIEW", am.JSON(t)["status"])
	hooks := env.Do("GET", "/api/webhooks", env.A.OperatorKey, nil)
	assert.Contains(t, string(hooks.Body), a.hookID, "tenant A's webhook survives")
	schedule := scheduleOf(t, env, a.contractID)
	assert.NotEqual(t, "Terminated", schedule["status"], "%v", schedule)
}

// allRoutes is every route of the service, as its router has them.
func allRoutes() gin.RoutesInfo {
	return api.NewRouter(api.Deps{Logger: quiet}).(interface{ Routes() gin.RoutesInfo }).Routes()
}
