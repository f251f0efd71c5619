package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// addKey issues a new key to tenant tn the way `contractd tenant key create` does.
func addKey(t *testing.T, env *testkit.Env, tn testkit.Tenant, roles ...auth.Role) (key, id, actor string) {
	t.Helper()
	return addNamedKey(t, env, tn, "", roles...)
}

// addNamedKey is addKey with `--display-name name` (none when empty).
func addNamedKey(t *testing.T, env *testkit.Env, tn testkit.Tenant, name string, roles ...auth.Role) (key, id, actor string) {
	t.Helper()
	key, err := auth.NewKey(tn.Prefix)
	require.NoError(t, err)
	actor = uuid.NewString()
	id, err = env.Store.AddKey(context.Background(), tn.ID, store.NewKey{Key: key, ActorID: actor, Roles: roles, DisplayName: name})
	require.NoError(t, err)
	return key, id, actor
}

func TestKeyRotationAndRevocation(t *testing.T) {
	env := testkit.New(t)
	ctx := context.Background()
	key, id, actor := addKey(t, env, env.A, auth.RoleOperator, auth.RoleApprover)
	p, err := env.Store.Principal(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, id, p.KeyID)
	assert.Equal(t, actor, p.ActorID)
	assert.ElementsMatch(t, []auth.Role{auth.RoleOperator, auth.RoleApprover}, p.Roles)
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", key, nil).Status)
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/approvals", key, nil).Status)

	// Another tenant cannot revoke it, by id or by key.
	for _, name := range []string{id, key} {
		assert.ErrorIs(t, env.Store.RevokeKey(ctx, env.B.ID, name, time.Now()), store.ErrNotFound)
	}
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", key, nil).Status)

	// Revoked by id: refused on the very next request, on every surface.
	require.NoError(t, env.Store.RevokeKey(ctx, env.A.ID, id, time.Now()))
	revoked := env.Do("GET", "/api/catalog", key, nil)
	assert.Equal(t, http.StatusUnauthorized, revoked.Status)
	assert.Equal(t, "the API key is not valid", requireSurfaceError(t, "/api/catalog", revoked))
	assert.Equal(t, http.StatusUnauthorized, env.Do("GET", terminationsPath, key, nil).Status)
	assert.ErrorIs(t, env.Store.RevokeKey(ctx, env.A.ID, id, time.Now()), store.ErrNotFound, "revoked twice")

	// Revoked by the key itself; the tenant's other keys keep working.
	submitter, _, _ := addKey(t, env, env.A, auth.RoleSubmitter)
	ddcms := schedulePath(env.A.Prefix, uuid.NewString(), "cancelSchedule")
	require.Equal(t, http.StatusNotFound, scheduleCall(env, ddcms, submitter).Status)
	require.NoError(t, env.Store.RevokeKey(ctx, env.A.ID, submitter, time.Now()))
	requirePlain(t, scheduleCall(env, ddcms, submitter), http.StatusUnauthorized, "the API key is not valid")
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Status)
}

// A request presenting two different keys is refused: it was read by its
// first Authorization header, where a proxy in front may read another. The
// same key in both of the seeds' headers is one key.
func TestARequestWithTwoDifferentKeysIsRefused(t *testing.T) {
	env := testkit.New(t)
	send := func(headers ...string) int {
		req, err := http.NewRequest("GET", env.HTTP.URL+"/api/catalog", nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Add(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	a, b := env.A.SubmitterKey, env.B.SubmitterKey
	assert.Equal(t, http.StatusUnauthorized, send("Authorization", "Bearer "+a, "Authorization", "Bearer "+b))
	assert.Equal(t, http.StatusUnauthorized, send("Authorization", "Bearer "+a, "apiKey", b))
	assert.Equal(t, http.StatusUnauthorized, send("apiKey", a, "apiKey", b))
	assert.Equal(t, http.StatusOK, send("Authorization", "Bearer "+a, "apiKey", a))
	assert.Equal(t, http.StatusOK, send("Authorization", "Bearer "+a, "Authorization", "Bearer "+a))
	assert.Equal(t, http.StatusOK, send("Authorization", "Basic eDp5", "apiKey", b), "only a Bearer one is a key")
}
