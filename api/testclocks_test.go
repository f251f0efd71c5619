package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// newClock creates a test clock of a sandbox tenant and returns its view.
func newClock(t *testing.T, env *testkit.Env, tn testkit.Tenant, name, frozen string) map[string]any {
	t.Helper()
	resp := env.Do("POST", "/api/test-clocks", tn.OperatorKey, map[string]any{"name": name, "frozenTime": frozen})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	return resp.JSON(t)
}

func TestClockCreationIsForSandboxOperators(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	valid := map[string]any{"name": "rehearsal", "frozenTime": "2026-01-01T09:00:00Z"}

	prod := env.Do("POST", "/api/test-clocks", env.A.OperatorKey, valid)
	assert.Equal(t, http.StatusForbidden, prod.Status, "a tenant that is not a sandbox: %s", prod.Body)
	assert.Contains(t, string(prod.Body), "sandbox")
	assert.Equal(t, http.StatusForbidden, env.Do("POST", "/api/test-clocks", sandbox.SubmitterKey, valid).Status, "a submitter")

	for name, body := range map[string]any{
		"no name":           map[string]any{"frozenTime": "2026-01-01T09:00:00Z"},
		"a blank name":      map[string]any{"name": "  ", "frozenTime": "2026-01-01T09:00:00Z"},
		"a name too long":   map[string]any{"name": strings.Repeat("é", 201), "frozenTime": "2026-01-01T09:00:00Z"},
		"a NUL in the name": map[string]any{"name": "a\x00b", "frozenTime": "2026-01-01T09:00:00Z"},
		"no frozenTime":     map[string]any{"name": "rehearsal"},
		"a date only":       map[string]any{"name": "rehearsal", "frozenTime": "2026-01-01"},
		"the year 3000":     map[string]any{"name": "rehearsal", "frozenTime": "3000-01-01T00:00:00Z"},
		"the zero time":     map[string]any{"name": "rehearsal", "frozenTime": "0001-01-01T00:00:00Z"},
		"a 24-hour offset":  map[string]any{"name": "rehearsal", "frozenTime": "2026-01-01T00:00:00+24:00"},
		"60 minutes offset": map[string]any{"name": "rehearsal", "frozenTime": "2026-01-01T00:00:00-00:60"},
		"an unknown field":  map[string]any{"name": "rehearsal", "frozenTime": "2026-01-01T09:00:00Z", "colour": "red"},
	} {
		resp := env.Do("POST", "/api/test-clocks", sandbox.OperatorKey, body)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", name, resp.Body)
	}

	clock := newClock(t, env, sandbox, "rehearsal", "2026-01-01T10:00:00+01:00")
	assert.Equal(t, "rehearsal", clock["name"])
	assert.Equal(t, "2026-01-01T09:00:00Z", clock["frozenTime"])
	assert.Equal(t, "ready", clock["status"])
	assert.EqualValues(t, 0, clock["contracts"])
	assert.NotContains(t, clock, "targetTime")
	assert.NotContains(t, clock, "deletedOn")

	id := clock["id"].(string)
	for _, key := range []string{sandbox.SubmitterKey, sandbox.ApproverKey, sandbox.OperatorKey} {
		got := env.Do("GET", "/api/test-clocks/"+id, key, nil)
		require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
		assert.Equal(t, clock, got.JSON(t))
	}
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/test-clocks/"+id, env.A.OperatorKey, nil).Status, "another tenant's clock")
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/test-clocks/"+uuid.NewString(), sandbox.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/test-clocks/not-a-uuid", sandbox.OperatorKey, nil).Status)
}

func TestClockListIsPaged(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	var ids []string
	for _, name := range []string{"one", "two", "three"} {
		ids = append(ids, newClock(t, env, sandbox, name, "2026-01-01T00:00:00Z")["id"].(string))
	}
	var seen []string
	next := ""
	for pages := 0; pages < 3; pages++ {
		resp := env.Do("GET", "/api/test-clocks?pageSize=2&pageToken="+next, sandbox.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		page := resp.JSON(t)
		for _, item := range page["items"].([]any) {
			seen = append(seen, item.(map[string]any)["id"].(string))
		}
		tok, more := page["nextPageToken"].(string)
		if !more {
			break
		}
		next = tok
	}
	assert.Equal(t, ids, seen, "every clock once, oldest first")

	empty := env.Do("GET", "/api/test-clocks", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, empty.Status)
	assert.JSONEq(t, `{"items": []}`, string(empty.Body), "another tenant sees none of them")
	for _, query := range []string{"pageSize=0", "pageSize=101", "pageToken=bm90LWEtdXVpZA"} {
		assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/test-clocks?"+query, sandbox.OperatorKey, nil).Status, query)
	}
}

func TestClockAdvanceRefusals(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	clock := newClock(t, env, sandbox, "rehearsal", "2026-01-01T09:00:00Z")
	advance := "/api/test-clocks/" + clock["id"].(string) + "/advance"

	for to, want := range map[string]int{
		"2025-12-31T09:00:00Z":        http.StatusUnprocessableEntity, // back in time
		"2036-02-01T09:00:00Z":        http.StatusUnprocessableEntity, // more than 10 years
		"2036-01-09T09:00:00Z":        http.StatusUnprocessableEntity, // 10 years and 8 days: within 3,660 days, not 10 years
		"2036-01-01T09:00:00.000001Z": http.StatusUnprocessableEntity,
		"3000-01-01T00:00:00Z":        http.StatusBadRequest,
		"soon":                        http.StatusBadRequest,
	} {
		resp := env.Do("POST", advance, sandbox.OperatorKey, map[string]any{"to": to})
		assert.Equal(t, want, resp.Status, "to %s: %s", to, resp.Body)
	}
	assert.Equal(t, http.StatusBadRequest, env.Do("POST", advance, sandbox.OperatorKey, map[string]any{}).Status, "no to")
	assert.Equal(t, http.StatusForbidden, env.Do("POST", advance, sandbox.SubmitterKey, map[string]any{"to": "2026-02-01T09:00:00Z"}).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("POST", "/api/test-clocks/"+uuid.NewString()+"/advance", sandbox.OperatorKey,
		map[string]any{"to": "2026-02-01T09:00:00Z"}).Status)

	back := env.Do("POST", advance, sandbox.OperatorKey, map[string]any{"to": "2026-01-01T08:59:59.5Z"})
	require.Equal(t, http.StatusUnprocessableEntity, back.Status, "%s", back.Body)
	assert.Contains(t, back.JSON(t)["message"], "2026-01-01T08:59:59.5Z is before its time, 2026-01-01T09:00:00Z", "the times as they are, not rounded to the second")

	same := env.Do("POST", advance, sandbox.OperatorKey, map[string]any{"to": "2026-01-01T10:00:00+01:00"})
	require.Equal(t, http.StatusOK, same.Status, "to the clock's own time: nothing to do: %s", same.Body)
	assert.Equal(t, "ready", same.JSON(t)["status"])
}

func TestClockDeletionIsRepeatable(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	clock := newClock(t, env, sandbox, "rehearsal", "2026-01-01T09:00:00Z")
	path := "/api/test-clocks/" + clock["id"].(string)

	assert.Equal(t, http.StatusForbidden, env.Do("DELETE", path, sandbox.ApproverKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("DELETE", path, env.A.OperatorKey, nil).Status, "another tenant's clock")
	for range 2 {
		resp := env.Do("DELETE", path, sandbox.OperatorKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		assert.Equal(t, "deleted", resp.JSON(t)["status"])
		assert.Contains(t, resp.JSON(t), "deletedOn")
	}
	assert.Equal(t, "deleted", env.Do("GET", path, sandbox.OperatorKey, nil).JSON(t)["status"], "a deleted clock is still read")
	assert.JSONEq(t, `{"items": []}`, string(env.Do("GET", "/api/test-clocks", sandbox.OperatorKey, nil).Body), "but not listed")
	assert.Equal(t, http.StatusConflict, env.Do("POST", path+"/advance", sandbox.OperatorKey, map[string]any{"to": "2026-02-01T09:00:00Z"}).Status)
}

func TestClockContractsNameALiveClockOfASandbox(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	// The clock stands years before the wall clock: a contract on it is
	// checked against its time, where one dated then would be too old.
	clock := newClock(t, env, sandbox, "rehearsal", "2019-01-01T09:00:00Z")
	clockID := clock["id"].(string)
	on := func(tn testkit.Tenant, clockID any) map[string]any {
		body := createBody("ACC-CLOCK", teamItem(map[string]any{
			"effectiveDate": "2019-01-01", "expirationDate": "2020-01-01", "quantities": map[string]int{"prod_seat": 2}, "paymentMethod": "pm_ok",
		}))
		body["testClockId"] = clockID
		return body
	}

	for name, tc := range map[string]struct {
		tn    testkit.Tenant
		clock any
		want  int
	}{
		"a tenant that is not a sandbox": {env.A, clockID, http.StatusBadRequest},
		"an unknown clock":               {sandbox, uuid.NewString(), http.StatusBadRequest},
		"not a uuid":                     {sandbox, "clock-1", http.StatusBadRequest},
		"not a string":                   {sandbox, 7, http.StatusBadRequest},
	} {
		resp := env.Do("POST", "/api/contract-actions", tc.tn.SubmitterKey, on(tc.tn, tc.clock))
		assert.Equal(t, tc.want, resp.Status, "%s: %s", name, resp.Body)
	}
	// A customer key of the sandbox, for this very account, puts no contract
	// on a clock, known or not, as it may not read one: refused in the
	// general format (a probe's filled the operator's clock).
	customer := env.NewCustomerKey(sandbox, "ACC-CLOCK")
	require.Equal(t, http.StatusForbidden, env.Do("GET", "/api/test-clocks/"+clockID, customer, nil).Status)
	for _, id := range []string{clockID, uuid.NewString()} {
		resp := env.Do("POST", "/api/contract-actions", customer, on(sandbox, id))
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		assert.Equal(t, map[string]any{"code": "Forbidden",
			"message": "testClockId: a customer key acts only on its own account's contracts, and puts none on the tenant's test clocks"}, resp.JSON(t))
	}
	assert.EqualValues(t, 0, env.Do("GET", "/api/test-clocks/"+clockID, sandbox.OperatorKey, nil).JSON(t)["contracts"])
	wall := env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, on(sandbox, ""))
	assert.Equal(t, http.StatusBadRequest, wall.Status, "the same dates on the wall clock are too far back: %s", wall.Body)

	created := env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, on(sandbox, clockID))
	require.Equal(t, http.StatusOK, created.Status, "%s", created.Body)
	info := created.JSON(t)["contractInfo"].(map[string]any)
	assert.Equal(t, clockID, info["testClockId"])
	ct := env.Do("GET", "/api/contracts/"+info["id"].(string), sandbox.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, ct.Status)
	assert.Equal(t, clockID, ct.JSON(t)["testClockId"])
	assert.EqualValues(t, 1, env.Do("GET", "/api/test-clocks/"+clockID, sandbox.OperatorKey, nil).JSON(t)["contracts"])

	require.Equal(t, http.StatusOK, env.Do("DELETE", "/api/test-clocks/"+clockID, sandbox.OperatorKey, nil).Status)
	deleted := env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, on(sandbox, clockID))
	assert.Equal(t, http.StatusUnprocessableEntity, deleted.Status, "a deleted clock: %s", deleted.Body)
}

// Contracts created on one clock at once stop at its limit: each creation
// counts the clock's contracts under the clock's lock, so none counts
// without the ones committed while it waited for that lock. The clock is
// filled to near its limit by one action first, so that the creations that
// race are few enough for a slow machine to answer them all in time.
func TestAClockCarriesNoMoreThanItsLimitWhenContractsArriveAtOnce(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	clockID := newClock(t, env, sandbox, "crowded", "2026-01-01T09:00:00Z")["id"].(string)
	plan := func() map[string]any {
		return teamItem(map[string]any{
			"effectiveDate": "2026-01-01", "expirationDate": "2026-03-01", "quantities": map[string]int{"prod_seat": 2}, "paymentMethod": "pm_ok",
		})
	}
	create := func(plans int) int {
		items := make([]map[string]any, plans)
		for i := range items {
			items[i] = plan()
		}
		body := createBody("ACC-CROWD", items...)
		body["testClockId"] = clockID
		return env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, body).Status
	}
	require.Equal(t, http.StatusOK, create(90))

	const sent = 20
	statuses := make(chan int, sent)
	var wg sync.WaitGroup
	for range sent {
		wg.Go(func() { statuses <- create(1) })
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 10, http.StatusUnprocessableEntity: sent - 10}, count)
	assert.EqualValues(t, 100, env.Do("GET", "/api/test-clocks/"+clockID, sandbox.OperatorKey, nil).JSON(t)["contracts"])
}

// TestClockAnswersMatchTheDocument sends the test clock requests the
// OpenAPI document describes, and checks each answer against it.
func TestClockAnswersMatchTheDocument(t *testing.T) {
	_, router := openAPI(t)
	env := newAmendmentEnv(t)
	c := &conformance{t: t, env: env, router: router}
	sandbox := env.NewSandboxTenant("SBX")
	body := map[string]any{"name": "rehearsal", "frozenTime": "2019-01-01T09:00:00Z"}

	c.do("POST", "/api/test-clocks", env.A.OperatorKey, body, http.StatusForbidden)
	c.refused("POST", "/api/test-clocks", sandbox.OperatorKey, map[string]any{"name": "rehearsal"}, http.StatusBadRequest)
	id := c.do("POST", "/api/test-clocks", sandbox.OperatorKey, body, http.StatusCreated).JSON(t)["id"].(string)
	c.do("GET", "/api/test-clocks?pageSize=1", sandbox.SubmitterKey, nil, http.StatusOK)
	c.do("GET", "/api/test-clocks/"+id, sandbox.ApproverKey, nil, http.StatusOK)
	c.do("GET", "/api/test-clocks/"+uuid.NewString(), sandbox.ApproverKey, nil, http.StatusNotFound)

	item := teamItem(map[string]any{"effectiveDate": "2019-01-01", "expirationDate": "2020-01-01", "paymentMethod": "pm_ok"})
	onClock := createBody("ACC-CLOCK", item)
	onClock["testClockId"] = id
	created := c.do("POST", "/api/contract-actions", sandbox.SubmitterKey, onClock, http.StatusOK).JSON(t)
	c.do("GET", "/api/contracts/"+created["contractId"].(string), sandbox.SubmitterKey, nil, http.StatusOK)
	onClock["testClockId"] = "clock-1"
	c.refused("POST", "/api/contract-actions", sandbox.SubmitterKey, onClock, http.StatusBadRequest)
	c.do("GET", "/api/events?after=0", sandbox.OperatorKey, nil, http.StatusOK)

	advance := "/api/test-clocks/" + id + "/advance"
	c.do("POST", advance, sandbox.OperatorKey, map[string]any{"to": "2019-01-01T09:00:00Z"}, http.StatusOK)
	c.do("POST", advance, sandbox.OperatorKey, map[string]any{"to": "2018-01-01T09:00:00Z"}, http.StatusUnprocessableEntity)
	c.do("DELETE", "/api/test-clocks/"+id, sandbox.OperatorKey, nil, http.StatusOK)
	c.do("POST", advance, sandbox.OperatorKey, map[string]any{"to": "2019-02-01T09:00:00Z"}, http.StatusConflict)
}

// withTemporalAt sends a request to an API on env's database whose
// Temporal is at hostPort (one nobody listens at, say), and returns the
// answer and its body.
func withTemporalAt(t *testing.T, env *testkit.Env, hostPort, method, path, key, body string) (*http.Response, []byte) {
	t.Helper()
	down, err := client.NewLazyClient(client.Options{HostPort: hostPort, Logger: tlog.NewStructuredLogger(quiet)})
	require.NoError(t, err)
	t.Cleanup(down.Close)
	broken := httptest.NewServer(api.NewRouter(api.Deps{
		Store: env.Store, Temporal: flow.NewClient(down, "contracts", flow.UpdateKey(strings.Repeat("k", 32))), Logger: quiet, Now: env.Clock.Now,
	}))
	t.Cleanup(broken.Close)
	req, err := http.NewRequestWithContext(t.Context(), method, broken.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp, answer
}

// An advance whose workflow could not be started is recorded: the clock is
// advancing, the answer is 503, and repeating the request starts it.
func TestClockAdvanceNotStartedIsRepeated(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	clock := newClock(t, env, sandbox, "rehearsal", "2026-01-01T09:00:00Z")
	advance := "/api/test-clocks/" + clock["id"].(string) + "/advance"
	to := map[string]any{"to": "2026-02-01T09:00:00Z"}

	resp, answer := withTemporalAt(t, env, "127.0.0.1:1", "POST", advance, sandbox.OperatorKey, `{"to": "2026-02-01T09:00:00Z"}`)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", answer)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, string(answer), "repeat this request")

	// Read from the store: a read through the API would start the advance
	// itself (getTestClock), and the repeat below find it over already.
	got, err := env.Store.TestClock(t.Context(), sandbox.ID, clock["id"].(string))
	require.NoError(t, err)
	assert.Equal(t, "advancing", got.Status, "the advance is recorded")
	assert.Equal(t, "2026-02-01T09:00:00Z", got.TargetTime.Format(time.RFC3339))

	again := env.Do("POST", advance, sandbox.OperatorKey, to)
	require.Equal(t, http.StatusAccepted, again.Status, "the same advance, repeated, starts it: %s", again.Body)
	assert.Equal(t, "2026-02-01T09:00:00Z", again.JSON(t)["targetTime"])
}
