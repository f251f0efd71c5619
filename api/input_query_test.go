package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/testkit"
)

// onGeneralSurface reports whether path is the service's own, not a seed's.
func onGeneralSurface(path string) bool {
	for _, seed := range []string{"/api/v3/", "/api/v5/", "/api/selfService/", "/api/customers/"} {
		if strings.HasPrefix(path, seed) {
			return false
		}
	}
	return strings.HasPrefix(path, "/api/")
}

// requireRefusedSaying requires a 400 in the surface's format whose
// message, as its client reads it, holds message.
func requireRefusedSaying(t *testing.T, path string, resp testkit.Response, message string) {
	t.Helper()
	if assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", path, resp.Body) {
		assert.Contains(t, requireSurfaceError(t, path, resp), message, "%s", path)
	}
}

// Every route of the general surface refuses a query parameter it does not
// read, before its handler, naming it and the route: one whose line of the
// route table declares nothing it reads (reads) answers 500 instead, and
// one that declares would have ignored it. The walk covers a route added
// later.
func TestInputEveryGeneralRouteRefusesAQueryParameterItDoesNotRead(t *testing.T) {
	env := testkit.New(t)
	key := env.NewTenantKey(env.A, auth.AllRoles...)
	walked := 0
	for _, route := range wellFormedRoutes(env) {
		if !onGeneralSurface(route.Path) {
			continue
		}
		walked++
		path := route.path + "?stauts=active"
		resp := env.Do(route.Method, path, key, nil)
		requireRefusedSaying(t, route.Method+" "+path, resp, `unknown query parameter "stauts": `+route.Method+" "+route.Path+" reads ")
	}
	assert.Greater(t, walked, 30, "the walk found the general surface's routes")
}

// A misspelt filter listed everything: GET /api/amendments?state=REVIEW
// answered every amendment, GET /api/contracts?acountNumber=X every
// contract, and an empty filter (?status=) was read as none. Each is now a
// 400 in the general format, before the handler reads or changes anything,
// naming what it refuses; an empty page token or size is still the first
// page at the default size, which a generated client sends for its first
// page.
func TestInputAMisspeltOrEmptyFilterIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	sub, op, all := env.A.SubmitterKey, env.A.OperatorKey, env.NewTenantKey(env.A, auth.AllRoles...)
	for _, c := range []struct{ path, key, message string }{
		{"/api/amendments?state=REVIEW", sub, `unknown query parameter "state": GET /api/amendments reads status, pageSize, pageToken`},
		{"/api/contracts?acountNumber=" + ct["accountNumber"].(string), sub,
			`unknown query parameter "acountNumber": GET /api/contracts reads status, pageSize, pageToken, accountNumber`},
		{"/api/contracts?status=active&Status=active&b=1", sub, `unknown query parameters "Status", "b": GET /api/contracts reads`},
		{"/api/contracts?a=1&b=1&c=1&d=1&e=1&f=1&g=1", sub, `unknown query parameters "a", "b", "c", "d", "e", and 2 more: GET /api/contracts reads`},
		{"/api/catalog?utm=a&utm=b", sub, `unknown query parameter "utm": GET /api/catalog reads no query parameters`},
		{"/api/contracts/" + id + "/timeline?asof=2026-04-01", sub, `unknown query parameter "asof": GET /api/contracts/:id/timeline reads no query parameters`},
		{"/api/events?types=contract.created", op, `unknown query parameter "types": GET /api/events reads type, after, pageSize`},
		{"/api/contracts?status=", sub, "query parameter status is empty: give a value or leave it out"},
		{"/api/contracts?accountNumber=&pageSize=5", sub, "query parameter accountNumber is empty: give a value or leave it out"},
		{"/api/amendments?status=", sub, "query parameter status is empty: give a value or leave it out"},
		{"/api/events?type=", op, "query parameter type is empty: give a value or leave it out"},
		{"/api/events?after=", op, "query parameter after is empty: give a value or leave it out"},
		// A date was refused empty already, as any malformed date is.
		{"/api/contracts/" + id + "?asOf=", sub, `query parameter asOf "" is not a date`},
	} {
		requireRefusedSaying(t, c.path, env.Do("GET", c.path, c.key, nil), c.message)
	}

	// A change is refused as a read is, and nothing is made.
	path := "/api/contract-actions?dryRun=true"
	resp := env.Do("POST", path, sub, createBody("ACC-DRYRUN", teamItem(nil)))
	requireRefusedSaying(t, path, resp, `unknown query parameter "dryRun": POST /api/contract-actions reads no query parameters`)
	assert.Equal(t, 1, env.CountRows("contracts"), "no contract was created")

	// An empty page token or size is left out: the first page, the default size.
	for _, path := range []string{"/api/contracts?pageToken=&pageSize=", "/api/contracts/" + id + "/amendments?pageToken=", "/api/approvals?pageSize=&pageToken="} {
		resp := env.Do("GET", path, all, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s: %s", path, resp.Body)
	}
	page := env.Do("GET", "/api/contracts?pageToken=&pageSize=", sub, nil).JSON(t)
	assert.Len(t, page["items"], 1)
}

// The seeds' surfaces are as their documents have them: a parameter their
// route does not read is ignored, repeated or not, though its values are
// held to their bounds.
func TestInputAQueryParameterASeedsRouteDoesNotReadIsIgnored(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	for _, path := range []string{terminationsPath + "?pageSize=1&pageSize=2", terminationsPath + "/Paged?pageNumber=1&utm=a&utm=b"} {
		resp := env.Do("GET", path, env.A.OperatorKey, nil)
		assert.Equal(t, http.StatusOK, resp.Status, "%s: %s", path, resp.Body)
	}
	bounded := terminationsPath + "?asOf=nope"
	requireRefusedSaying(t, bounded, env.Do("GET", bounded, env.A.OperatorKey, nil), `asOf "nope" is not a date`)
	resp := env.Do("POST", "/api/selfService/contract?preview=true&utm=a", env.A.SubmitterKey, seats(id, 6))
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp = env.Do("POST", crossgradePath(ct)+"?preview=true&utm=a", env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"})
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Zero(t, env.CountRows("amendments"), "both were previews")
	path := schedulePath(env.A.Prefix, id, "cancelSchedule") + "?comment=a&comment=b"
	resp = env.Do("POST", path, env.A.SubmitterKey, nil)
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "Terminated", scheduleOf(t, env, id)["status"])
}
