package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// signingKey is a key of source HMAC for tenant A: its id and the key itself.
func signingKey(t *testing.T, env *testkit.Env, roles ...auth.Role) (id, key string) {
	t.Helper()
	key, err := auth.NewKey(env.A.Prefix)
	require.NoError(t, err)
	id, err = env.Store.AddKey(t.Context(), env.A.ID, store.NewKey{Key: key, ActorID: "00000000-0000-4000-8000-00000000a11c", Roles: roles, Source: auth.SourceHMAC})
	require.NoError(t, err)
	return id, key
}

func signature(key, method, pathAndQuery string, at time.Time, body string) string {
	ts := at.Unix()
	return fmt.Sprintf("t=%d,v1=%s", ts, auth.SignRequest(auth.SigningSecret(key), method, pathAndQuery, ts, []byte(body)))
}

func TestKeySignedRequests(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id, key := signingKey(t, env, auth.RoleSubmitter)
	send := func(method, path, body, sig string) testkit.Response {
		return env.Do(method, path, "", body, "X-Key-Id", id, "X-Signature", sig)
	}

	got := send("GET", "/api/contracts?pageSize=5", "", signature(key, "GET", "/api/contracts?pageSize=5", time.Now(), ""))
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)

	// A signed change is recorded as coming from an HMAC key.
	raw, err := json.Marshal(seats(ct["number"].(string), 6))
	require.NoError(t, err)
	body := string(raw)
	sig := signature(key, "POST", "/api/selfService/contract", time.Now(), body)
	applied := send("POST", "/api/selfService/contract", body, sig)
	require.Equal(t, http.StatusOK, applied.Status, "%s", applied.Body)
	amendment := env.Do("GET", "/api/amendments/"+applied.JSON(t)["quote"].(map[string]any)["id"].(string), env.A.SubmitterKey, nil)
	assert.Equal(t, "HMAC", amendment.JSON(t)["source"])
	// Sent again as it was, within the window: refused, and nothing made
	// twice (a probe's one signed contract-actions request, sent three
	// times, made three contracts).
	amendments := env.CountRows("amendments")
	again := send("POST", "/api/selfService/contract", body, sig)
	assert.Equal(t, http.StatusUnauthorized, again.Status, "%s", again.Body)
	assert.Contains(t, string(again.Body), "received already")
	assert.Equal(t, amendments, env.CountRows("amendments"))

	refused := map[string]testkit.Response{
		"changed body":   send("POST", "/api/selfService/contract", body+" ", sig),
		"changed query":  send("POST", "/api/selfService/contract?preview=true", body, sig),
		"replayed later": send("POST", "/api/selfService/contract", body, signature(key, "POST", "/api/selfService/contract", time.Now().Add(-time.Hour), body)),
		"too old":        send("GET", "/api/catalog", "", signature(key, "GET", "/api/catalog", time.Now().Add(-6*time.Minute), "")),
		"too new":        send("GET", "/api/catalog", "", signature(key, "GET", "/api/catalog", time.Now().Add(6*time.Minute), "")),
		"other method":   send("DELETE", "/api/webhooks/x", "", signature(key, "GET", "/api/webhooks/x", time.Now(), "")),
		"malformed":      send("GET", "/api/catalog", "", "v1=abc"),
		"another key":    send("GET", "/api/catalog", "", signature(env.A.SubmitterKey, "GET", "/api/catalog", time.Now(), "")),
		"key in clear":   env.Do("GET", "/api/catalog", key, nil),
		"not a signer":   env.Do("GET", "/api/catalog", "", nil, "X-Key-Id", "not-a-uuid", "X-Signature", "t=1,v1=00"),
		"ddcms, changed": env.Do("POST", schedulePath(env.A.Prefix, ct["id"].(string), "cancelSchedule"), "", nil, "X-Key-Id", id, "X-Signature", sig),
		// Signed, and presenting a key as well: a proxy in front may read
		// the key, where the API read the signature.
		"and a key": env.Do("GET", "/api/catalog", env.B.SubmitterKey, nil, "X-Key-Id", id,
			"X-Signature", signature(key, "GET", "/api/catalog", time.Now(), "")),
	}
	for name, resp := range refused {
		assert.Equal(t, http.StatusUnauthorized, resp.Status, "%s: %s", name, resp.Body)
	}
	assert.Contains(t, string(refused["changed body"].Body), "does not match")
	assert.Contains(t, string(refused["too old"].Body), "5m0s")

	// Revoked: the next signed request is refused.
	require.NoError(t, env.Store.RevokeKey(t.Context(), env.A.ID, id, time.Now()))
	assert.Equal(t, http.StatusUnauthorized, send("GET", "/api/catalog", "", signature(key, "GET", "/api/catalog", time.Now(), "")).Status)
}
