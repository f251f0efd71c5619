package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A query parameter the API reads is given once. A probe's
// /api/events?type=amendment.applied&type=contract.created answered only
// the first type's events, as if the second had not been sent; every
// handler reads the first value, so ?preview=false&preview=true made the
// change. Each is refused before any handler reads it, in the surface's
// format, and nothing is changed.
func TestInputARepeatedQueryParameterIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	for _, c := range []struct{ method, path, key, name string }{
		{"GET", "/api/events?type=amendment.applied&type=contract.created", env.A.OperatorKey, "type"},
		{"GET", "/api/events?after=0&after=5", env.A.OperatorKey, "after"},
		{"GET", "/api/events?pageSize=1&pageSize=500", env.A.OperatorKey, "pageSize"},
		{"GET", "/api/contracts?status=active&status=expired", env.A.SubmitterKey, "status"},
		{"GET", "/api/contracts/" + id + "?asOf=2026-04-01&asOf=2027-04-01", env.A.SubmitterKey, "asOf"},
	} {
		resp := env.Do(c.method, c.path, c.key, nil)
		requireRefused(t, c.path, resp, "query parameter "+c.name+" is given 2 times; give it once")
	}
	path := "/api/selfService/contract?preview=false&preview=true"
	requireRefused(t, path, env.Do("POST", path, env.A.SubmitterKey, seats(id, 6)), "query parameter preview is given 2 times")
	path = schedulePath(env.A.Prefix, id, "restartSchedule") + "?comment=a&comment=b"
	resp := env.Do("POST", path, env.A.SubmitterKey, nil)
	assert.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	assert.Equal(t, "query parameter comment is given 2 times; give it once", string(resp.Body))
	assert.Zero(t, env.CountRows("amendments"), "no amendment was opened")
	assert.EqualValues(t, 1, contractRead(env, id)()["version"], "the contract is as it was")

	// Once each, and a parameter the API does not read, repeated, are as before.
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/events?type=amendment.applied&after=0", env.A.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/events?utm=a&utm=b", env.A.OperatorKey, nil).Status)
}

// A parameter is refused given twice only on a route that reads it: any
// route refused ?status=a&status=b, GET /api/catalog and a DDCMS
// cancelSchedule (whose seed takes no comment) among them, because some
// other route reads that parameter. Elsewhere it is ignored, repeated or
// not, as a parameter no route reads is.
func TestInputARepeatedQueryParameterARouteDoesNotReadIsIgnored(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	for _, c := range []struct{ path, key string }{
		{"/api/catalog?type=a&type=b&status=active&status=expired", env.A.OperatorKey},
		{"/api/contracts/" + id + "?status=active&status=expired&preview=true&preview=false", env.A.SubmitterKey},
		{"/api/events?asOf=2026-04-01&asOf=2027-04-01&pageToken=a&pageToken=b", env.A.OperatorKey},
		{"/api/contracts/" + id + "/invoices?pageSize=1&pageSize=2", env.A.SubmitterKey},
		{"/api/v5/Contract/Termination?pageSize=1&pageSize=2", env.A.OperatorKey},
	} {
		resp := env.Do("GET", c.path, c.key, nil)
		assert.Equal(t, http.StatusOK, resp.Status, "%s: %s", c.path, resp.Body)
	}
	path := schedulePath(env.A.Prefix, id, "cancelSchedule") + "?comment=a&comment=b"
	resp := env.Do("POST", path, env.A.SubmitterKey, nil)
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "Terminated", scheduleOf(t, env, id)["status"])
}
