package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
)

// Every GET of the API answers HEAD as it answers GET, without the body:
// a HEAD on a contract, a list or the v5 surface was a 405 (only the
// probes, the API document and the pages named HEAD). A route without a
// GET still refuses it, and a signed HEAD is signed as a HEAD.
func TestEveryReadAnswersHEADAsGET(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	key := env.A.OperatorKey
	for _, path := range []string{
		"/api/contracts?pageSize=5",
		"/api/contracts/" + ct["id"].(string),
		"/api/contracts/" + ct["id"].(string) + "/timeline",
		"/api/catalog",
		"/api/amendments?status=APPLIED",
		terminationsPath,
		"/api/contracts/00000000-0000-4000-8000-000000000000", // none such: 404 both ways
		"/api/contracts?nosuch=1",                             // 400 both ways
	} {
		get, head := env.Do(http.MethodGet, path, key, nil), env.Do(http.MethodHead, path, key, nil)
		assert.Equal(t, get.Status, head.Status, "%s: %s", path, get.Body)
		assert.NotEmpty(t, get.Body, path)
		assert.Empty(t, head.Body, "%s: a HEAD has no body", path)
		for _, h := range []string{"Content-Type", "Content-Length"} {
			assert.Equal(t, get.Header.Get(h), head.Header.Get(h), "%s: %s", path, h)
		}
	}

	// A route with no GET has no HEAD either.
	refused := env.Do(http.MethodHead, "/api/contract-actions", key, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, refused.Status)
	assert.Equal(t, "POST", refused.Header.Get("Allow"))

	// A signature covers the method sent: a HEAD signed as one is taken, a
	// GET's signature on a HEAD is not.
	id, signer := signingKey(t, env, auth.RoleSubmitter)
	signed := func(as string) int {
		return env.Do(http.MethodHead, "/api/catalog", "", nil, "X-Key-Id", id,
			"X-Signature", signature(signer, as, "/api/catalog", time.Now(), "")).Status
	}
	require.Equal(t, http.StatusOK, signed(http.MethodHead))
	assert.Equal(t, http.StatusUnauthorized, signed(http.MethodGet))
}
