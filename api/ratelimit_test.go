package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

func TestRateLimitAnswers429PerKeyInEachSurfacesFormat(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	// One request every five seconds with a burst of one: the second request
	// is refused however slowly the test runs.
	limited := httptest.NewServer(api.NewRouter(api.Deps{
		Store: env.Store, Temporal: flow.NewClient(env.Temporal, env.TaskQueue, nil), Logger: quiet, Now: env.Clock.Now, RateLimit: 0.2,
	}))
	t.Cleanup(limited.Close)
	// The same service and tenants, reached through the limited router.
	lim := *env
	lim.HTTP = limited

	requests := []struct{ method, path string }{
		{"GET", "/api/catalog"},
		{"POST", "/api/selfService/contract"},
		{"POST", crossgradePath(ct)},
		{"POST", schedulePath(env.A.Prefix, ct["id"].(string), "cancelSchedule")},
		{"GET", terminationsPath},
	}
	for _, r := range requests {
		key := env.NewTenantKey(env.A, auth.AllRoles...)
		first := lim.Do(r.method, r.path, key, "{}")
		require.NotEqual(t, http.StatusTooManyRequests, first.Status, "%s %s: %s", r.method, r.path, first.Body)
		second := lim.Do(r.method, r.path, key, "{}")
		require.Equal(t, http.StatusTooManyRequests, second.Status, "%s %s: %s", r.method, r.path, second.Body)
		retry, err := strconv.Atoi(second.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After: %q", second.Header.Get("Retry-After"))
		assert.InDelta(t, 5, retry, 1)
		assert.Contains(t, requireSurfaceError(t, r.path, second), "too many requests")
	}

	// Each key has its own bucket: a fresh key of the same tenant goes through.
	fresh := lim.Do("GET", "/api/catalog", env.A.OperatorKey, nil)
	assert.Equal(t, http.StatusOK, fresh.Status, "%s", fresh.Body)
	metrics := string(lim.Do("GET", "/metrics", "", nil).Body)
	assert.Contains(t, metrics, `contractd_http_rate_limited_total{budget="api_key"} 5`)
	assert.Contains(t, metrics, `contractd_http_rate_limited_total{budget="auth_failures"} 0`)
}

func TestRateLimitIsOffUnlessConfigured(t *testing.T) {
	env := testkit.New(t)
	for range 30 {
		require.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Status)
	}
}

// A key is charged by the size of what it sends: a request of a MiB takes
// the tokens of seventeen small ones, declared length or not, so the largest
// bodies cannot come as often as small ones.
func TestRateLimitChargesLargeBodiesMore(t *testing.T) {
	env := testkit.New(t)
	// Ten requests a second, bursts of twenty.
	limited := httptest.NewServer(api.NewRouter(api.Deps{
		Store: env.Store, Temporal: flow.NewClient(env.Temporal, env.TaskQueue, nil), Logger: quiet, Now: env.Clock.Now, RateLimit: 10,
	}))
	t.Cleanup(limited.Close)
	big := strings.Repeat("a", 1_000_000) // 16 tokens; not JSON, so refused at once
	send := func(key, body string, chunked bool) *http.Response {
		req, err := http.NewRequest("POST", limited.URL+"/api/selfService/contract", strings.NewReader(body))
		require.NoError(t, err)
		if chunked {
			req.ContentLength = -1 // no declared length: the size is counted as read
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := limited.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		return resp
	}
	for _, chunked := range []bool{false, true} {
		key := env.NewTenantKey(env.A, auth.AllRoles...)
		first := send(key, big, chunked)
		require.Equal(t, http.StatusBadRequest, first.StatusCode, "the first large body is read (and refused as not JSON)")
		second := send(key, big, chunked)
		require.Equal(t, http.StatusTooManyRequests, second.StatusCode, "chunked %v: a second large body at once is over the budget", chunked)
		retry, err := strconv.Atoi(second.Header.Get("Retry-After"))
		require.NoError(t, err)
		// Twelve tokens more at ten a second, less what came back while the
		// first body was sent and checked.
		assert.Contains(t, []int{1, 2}, retry)
		third := send(key, "{}", chunked)
		assert.NotEqual(t, http.StatusTooManyRequests, third.StatusCode, "a small request fits what the large one left")
	}
}
