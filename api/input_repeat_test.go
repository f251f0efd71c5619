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

	// Once each is as before. A parameter a route does not read is refused
	// on the general surface and ignored on a seed's, repeated or not
	// (input_query_test.go).
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/events?type=amendment.applied&after=0", env.A.OperatorKey, nil).Status)
}
