package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// customerContract creates, with key, a five-seat contract for the account
// and returns it as GET /api/contracts/{id} shows it.
func customerContract(t *testing.T, env *testkit.Env, key, account string) map[string]any {
	t.Helper()
	item := teamItem(map[string]any{"effectiveDate": "2026-01-01", "expirationDate": "2027-01-01", "quantities": map[string]int{"prod_seat": 5}})
	resp := env.Do("POST", "/api/contract-actions", key, createBody(account, item))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	got := env.Do("GET", "/api/contracts/"+resp.JSON(t)["contractId"].(string), key, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	return got.JSON(t)
}

// idsOf lists the ids of a listing's items.
func idsOf(t *testing.T, resp testkit.Response) []string {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	resp.Decode(t, &page)
	ids := []string{}
	for _, it := range page.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestCustomerKeysAreBoundToOneAccountAsSubmitters(t *testing.T) {
	env := testkit.New(t)
	key := env.NewCustomerKey(env.A, "ACC-CUST-1")
	p, err := env.Store.Principal(t.Context(), key)
	require.NoError(t, err)
	assert.Equal(t, auth.SourceCustomer, p.Source)
	assert.Equal(t, "ACC-CUST-1", p.AccountNumber)
	assert.Equal(t, []auth.Role{auth.RoleSubmitter}, p.Roles)
	tenantKey, err := env.Store.Principal(t.Context(), env.A.SubmitterKey)
	require.NoError(t, err)
	assert.Empty(t, tenantKey.AccountNumber)

	// The database refuses what the CLI refuses, whoever writes the row.
	for name, nk := range map[string]store.NewKey{
		"customer without account":   {Roles: []auth.Role{auth.RoleSubmitter}, Source: auth.SourceCustomer},
		"customer with empty number": {Roles: []auth.Role{auth.RoleSubmitter}, Source: auth.SourceCustomer, AccountNumber: ""},
		"account on a user key":      {Roles: []auth.Role{auth.RoleSubmitter}, Source: auth.SourceUser, AccountNumber: "ACC-1"},
		"customer approver":          {Roles: []auth.Role{auth.RoleApprover}, Source: auth.SourceCustomer, AccountNumber: "ACC-1"},
		"customer operator":          {Roles: []auth.Role{auth.RoleSubmitter, auth.RoleOperator}, Source: auth.SourceCustomer, AccountNumber: "ACC-1"},
	} {
		k, err := auth.NewKey(env.A.Prefix)
		require.NoError(t, err)
		nk.Key, nk.ActorID = k, uuid.NewString()
		_, err = env.Store.AddKey(t.Context(), env.A.ID, nk)
		assert.Error(t, err, name)
	}
}

func TestCustomerKeyWorksOnItsOwnAccountAndIsRecorded(t *testing.T) {
	env := newAmendmentEnv(t)
	const account = "ACC-CUST-1"
	key := env.NewCustomerKey(env.A, account)
	p, err := env.Store.Principal(t.Context(), key)
	require.NoError(t, err)

	// Contracts only for its own account.
	contracts := env.CountRows("contracts")
	foreign := env.Do("POST", "/api/contract-actions", key, createBody("ACC-SOMEONE-ELSE", teamItem(nil)))
	assert.Equal(t, http.StatusForbidden, foreign.Status, "%s", foreign.Body)
	assert.Contains(t, requireSurfaceError(t, "/api/contract-actions", foreign), "only for its own account")
	assert.Equal(t, contracts, env.CountRows("contracts"))
	ct := customerContract(t, env, key, account)
	id, number := ct["id"].(string), ct["number"].(string)
	assert.Equal(t, account, ct["accountNumber"])
	created := ct["paymentSchedule"].(map[string]any)["history"].([]any)[0].(map[string]any)
	assert.Equal(t, "CUSTOMER", created["source"])

	// Another account's contract, made by the tenant's own key.
	theirs := fiveSeats(env, nil)
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(theirs["number"].(string), 6)).Status)

	assert.Equal(t, []string{id}, idsOf(t, env.Do("GET", "/api/contracts", key, nil)))
	assert.Empty(t, idsOf(t, env.Do("GET", "/api/contracts?accountNumber="+theirs["accountNumber"].(string), key, nil)))

	// A change, previewed and made, is recorded as the customer's.
	preview := env.Do("POST", "/api/selfService/contract?preview=true", key, seats(number, 7))
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	applied := change(env, key, seats(id, 7))
	require.Equal(t, http.StatusOK, applied.Status, "%s", applied.Body)
	amID := applied.JSON(t)["quote"].(map[string]any)["id"].(string)
	got := env.Do("GET", "/api/amendments/"+amID, key, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	am := got.JSON(t)
	assert.Equal(t, "CUSTOMER", am["source"])
	assert.Equal(t, p.ActorID, am["submittedBy"])
	assert.Equal(t, "CUSTOMER", am["history"].([]any)[0].(map[string]any)["source"])
	assert.Equal(t, []string{amID}, idsOf(t, env.Do("GET", "/api/contracts/"+id+"/amendments", key, nil)))
	assert.Equal(t, []string{amID}, idsOf(t, env.Do("GET", "/api/amendments?status=APPLIED", key, nil)))
	assert.Len(t, idsOf(t, env.Do("GET", "/api/amendments?status=APPLIED", env.A.SubmitterKey, nil)), 2)
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/contracts/"+id+"/invoices", key, nil).Status)

	// A change held for review, withdrawn by the customer.
	review := seats(number, 8)
	review["requireApproval"] = true
	held := change(env, key, review)
	require.Equal(t, http.StatusAccepted, held.Status, "%s", held.Body)
	heldID := held.JSON(t)["quote"].(map[string]any)["id"].(string)
	withdrawn := env.Do("POST", "/api/amendments/"+heldID+"/withdraw", key, nil)
	require.Equal(t, http.StatusOK, withdrawn.Status, "%s", withdrawn.Body)
	assert.Equal(t, "WITHDRAWN", withdrawn.JSON(t)["status"])

	// A change the business made on the customer's contract is the
	// business's to withdraw, not the customer's (a probe's customer key
	// withdrew a cancellation staff had scheduled).
	staffs := change(env, env.A.SubmitterKey, review)
	require.Equal(t, http.StatusAccepted, staffs.Status, "%s", staffs.Body)
	staffsID := staffs.JSON(t)["quote"].(map[string]any)["id"].(string)
	refused := env.Do("POST", "/api/amendments/"+staffsID+"/withdraw", key, nil)
	assert.Equal(t, http.StatusForbidden, refused.Status, "%s", refused.Body)
	assert.Equal(t, "REVIEW", env.Do("GET", "/api/amendments/"+staffsID, key, nil).JSON(t)["status"])
	byStaff := env.Do("POST", "/api/amendments/"+staffsID+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, byStaff.Status, "%s", byStaff.Body)

	// Its payment schedule is the business's: the customer neither cancels
	// nor restarts it, staff do both.
	cancel, restart := schedulePath(env.A.Prefix, id, "cancelSchedule"), schedulePath(env.A.Prefix, id, "restartSchedule")
	requireRefusedToCustomer(t, scheduleCall(env, cancel, key))
	require.Equal(t, http.StatusOK, scheduleCall(env, cancel, env.A.SubmitterKey).Status)
	requireRefusedToCustomer(t, scheduleCall(env, restart, key))
	require.Equal(t, http.StatusOK, scheduleCall(env, restart, env.A.SubmitterKey).Status)

	// Idempotency keys are the account's own: another account's crossgrade
	// with the same key is neither answered to the customer nor in its way.
	body := map[string]any{"salesItemCode": "BUSINESS-M"}
	require.Equal(t, http.StatusOK, crossgrade(env, theirs, body, "Idempotency-Key", "cg-1").Status)
	mine := env.Do("POST", crossgradePath(ct), key, body, "Idempotency-Key", "cg-1")
	require.Equal(t, http.StatusOK, mine.Status, "%s", mine.Body)
	cg := mine.JSON(t)["amendment"].(map[string]any)
	assert.Equal(t, id, cg["contractId"])
	assert.Equal(t, "CUSTOMER", cg["source"])
	assert.NotContains(t, string(mine.Body), theirs["id"].(string))

	// What is the tenant's as a whole, or its staff's, is not a customer's.
	assert.Equal(t, http.StatusForbidden, env.Do("GET", "/api/catalog", key, nil).Status)
	requireV5Error(t, env.Do("GET", terminationsPath, key, nil), http.StatusForbidden)
	assert.Equal(t, http.StatusForbidden, env.Do("GET", "/api/approvals", key, nil).Status)
}

// customerReachable are the routes a customer key may use: each names a
// contract or an amendment, so another account's must be a 404 there. Every
// other route is refused with 403, or lists only the customer's own account
// (customerLists): the tenant's as a whole, its staff's, and the DDCMS
// payment schedule, which is the business's.
var customerReachable = map[string]bool{
	"GET /api/contracts/:id":                                            true,
	"GET /api/contracts/:id/amendments":                                 true,
	"GET /api/contracts/:id/timeline":                                   true,
	"GET /api/contracts/:id/segments":                                   true,
	"GET /api/contracts/:id/schedule-history":                           true,
	"GET /api/contracts/:id/invoices":                                   true,
	"GET /api/accounts/:accountNumber/balance":                          true,
	"GET /api/amendments/:id":                                           true,
	"POST /api/amendments/:id/withdraw":                                 true,
	"POST /api/selfService/contract":                                    true,
	"POST /api/customers/:customerId/contracts/:contractRef/crossgrade": true,
}

var customerLists = map[string]bool{"GET /api/contracts": true, "GET /api/amendments": true}

// missingLike is a value of the same form as v that names nothing.
func missingLike(v string) string {
	switch {
	case uuid.Validate(v) == nil:
		return uuid.NewString()
	case strings.HasPrefix(v, "CT-"):
		return "CT-9999999999"
	case strings.HasPrefix(v, "ACC-"):
		return "ACC-NO-SUCH-ACCOUNT"
	case strings.Trim(v, "0123456789") == "":
		return "999999999"
	}
	return v // a tenant prefix, which names no object
}

// customerRequest is one request of the walk: with account Y's values, and
// with values of the same form that name nothing.
type customerRequest struct {
	path, missingPath string
	swaps             [][2]string // Y's value, its missing twin
}

// TestRoutesRefuseCustomerKeysAnotherAccountsObjects walks every route with
// a customer key of one account of tenant A and the objects of another
// account of A: each is refused exactly as a missing object would be, and
// nothing of the other account shows.
func TestRoutesRefuseCustomerKeysAnotherAccountsObjects(t *testing.T) {
	env := newAmendmentEnv(t)
	a := seedTenantA(t, env)
	const account = "ACC-CUST-X"
	key := env.NewCustomerKey(env.A, account)
	// Its own contract and change, so its lists are not empty by default.
	own := customerContract(t, env, key, account)
	ownChange := change(env, key, seats(own["id"].(string), 6))
	require.Equal(t, http.StatusOK, ownChange.Status, "%s", ownChange.Body)
	ownValues := map[string]bool{own["id"].(string): true, own["number"].(string): true, formatRef(own["ref"]): true}
	theirs := env.Do("GET", "/api/contracts/"+a.contractID, env.A.SubmitterKey, nil).JSON(t)
	theirNumber, theirAccount := theirs["number"].(string), theirs["accountNumber"].(string)
	a.bodies["POST /api/contract-actions"] = createBody(theirAccount, teamItem(nil))
	bodySwaps := [][2]string{{theirNumber, missingLike(theirNumber)}, {theirAccount, "ACC-NO-SUCH-ACCOUNT"}}

	for _, route := range allRoutes() {
		if publicPaths[route.Path] {
			continue
		}
		name := route.Method + " " + route.Path
		body := a.bodies[strings.TrimSuffix(name, "/")]
		sent, err := json.Marshal(body)
		require.NoError(t, err)
		var missingBody any
		if body != nil {
			swapped := string(sent)
			for _, s := range bodySwaps {
				swapped = strings.ReplaceAll(swapped, s[0], s[1])
			}
			missingBody = swapped
		}
		for _, req := range customerRequests(t, a, route.Path, ownValues) {
			what := name + " on " + req.path
			resp := env.Do(route.Method, req.path, key, body)
			asked := req.path + " " + string(sent)
			for _, secret := range a.secrets {
				if !strings.Contains(asked, secret) {
					assert.NotContains(t, string(resp.Body), secret, "%s leaks another account's data", what)
				}
			}
			switch {
			case customerLists[name]:
				continue
			case customerReachable[name]:
				assert.Equal(t, http.StatusNotFound, resp.Status, "%s: %s", what, resp.Body)
			default:
				assert.Equal(t, http.StatusForbidden, resp.Status, "%s: %s", what, resp.Body)
			}
			// Exactly as a missing object: same status, same body but for
			// the names the request used and the request's id.
			missing := env.Do(route.Method, req.missingPath, key, missingBody)
			assert.Equal(t, resp.Status, missing.Status, "%s: as missing: %s", what, missing.Body)
			assert.Equal(t, withoutRequestID(resp, nil), withoutRequestID(missing, append(req.swaps, bodySwaps...)), what)
		}
	}

	// Lists hold the customer's own account only.
	assert.Equal(t, []string{own["id"].(string)}, idsOf(t, env.Do("GET", "/api/contracts", key, nil)))
	assert.Empty(t, idsOf(t, env.Do("GET", "/api/contracts?accountNumber="+theirAccount, key, nil)))
	assert.Empty(t, idsOf(t, env.Do("GET", "/api/amendments?status=REVIEW", key, nil)))
	ownAmendment := ownChange.JSON(t)["quote"].(map[string]any)["id"].(string)
	assert.Equal(t, []string{ownAmendment}, idsOf(t, env.Do("GET", "/api/amendments?status=APPLIED", key, nil)))

	// Nothing the customer tried changed the other account's objects.
	am := env.Do("GET", "/api/amendments/"+a.amendmentID, env.A.ApproverKey, nil)
	require.Equal(t, http.StatusOK, am.Status, "%s", am.Body)
	assert.Equal(t, "REVIEW", am.JSON(t)["status"])
	assert.NotEqual(t, "Terminated", scheduleOf(t, env, a.contractID)["status"])
}

// customerRequests are a route's paths with each combination of tenant A's
// values, each with its twin path that names nothing; paths naming the
// customer's own objects are left out.
func customerRequests(t *testing.T, a tenantAObjects, route string, own map[string]bool) []customerRequest {
	t.Helper()
	pattern := strings.Split(route, "/")
	var reqs []customerRequest
paths:
	for _, path := range a.expand(t, route) {
		segments := strings.Split(path, "/")
		req := customerRequest{path: path}
		for i, p := range pattern {
			if !pathParam.MatchString(p) {
				continue
			}
			if own[segments[i]] {
				continue paths
			}
			twin := missingLike(segments[i])
			req.swaps = append(req.swaps, [2]string{segments[i], twin})
			segments[i] = twin
		}
		req.missingPath = strings.Join(segments, "/")
		reqs = append(reqs, req)
	}
	return reqs
}

// withoutRequestID is an answer's body with the request's own id (which v5
// bodies carry) blanked, and each swap's twin written back as the original.
func withoutRequestID(resp testkit.Response, swaps [][2]string) string {
	body := strings.ReplaceAll(string(resp.Body), resp.Header.Get("X-Request-Id"), "")
	for _, s := range swaps {
		if s[0] != s[1] {
			body = strings.ReplaceAll(body, s[1], s[0])
		}
	}
	return body
}
