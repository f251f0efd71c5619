package api_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
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
}

func TestRateLimitIsOffUnlessConfigured(t *testing.T) {
	env := testkit.New(t)
	for range 30 {
		require.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Status)
	}
}
