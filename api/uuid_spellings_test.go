package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An id may come spelt as any form of uuid: upper case, braced, without
// hyphens, or as a URN (urn:uuid:…), which Go's parser takes and Postgres
// does not. Each names the contract (or customer) it spells, and an unknown
// one is not found, on every route that takes an id: none reaches Postgres
// as it came and fails there (a 500).
func TestIDsSpeltAsAnyFormOfUUIDAreFoundOrNotFound(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	for _, spelt := range []string{"urn:uuid:" + id, "{" + id + "}", strings.ToUpper(id), strings.ReplaceAll(id, "-", "")} {
		read := env.Do("GET", "/api/contracts/"+spelt, env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, read.Status, "%s: %s", spelt, read.Body)
		assert.Equal(t, id, read.JSON(t)["id"], spelt)
		changed := change(env, env.A.SubmitterKey, seats(spelt, 6))
		assert.Equal(t, http.StatusOK, changed.Status, "%s: %s", spelt, changed.Body)
	}
	upper := map[string]any{"customerId": strings.ToUpper(ct["customerId"].(string)), "ref": ct["ref"]}
	upgraded := crossgrade(env, upper, map[string]any{"salesItemCode": "BUSINESS-M"})
	assert.Equal(t, http.StatusOK, upgraded.Status, "a crossgrade with the customer id in upper case: %s", upgraded.Body)

	unknown := "urn:uuid:" + uuid.NewString()
	for _, r := range []struct{ method, path, key string }{
		{"GET", "/api/contracts/" + unknown, env.A.SubmitterKey},
		{"GET", "/api/contracts/" + unknown + "/amendments", env.A.SubmitterKey},
		{"GET", "/api/contracts/" + unknown + "/timeline", env.A.SubmitterKey},
		{"GET", "/api/contracts/" + unknown + "/invoices", env.A.SubmitterKey},
		{"GET", "/api/amendments/" + unknown, env.A.SubmitterKey},
		{"POST", "/api/amendments/" + unknown + "/withdraw", env.A.SubmitterKey},
		{"POST", "/api/amendments/" + unknown + "/approve", env.A.ApproverKey},
		{"POST", "/api/amendments/" + unknown + "/reject", env.A.ApproverKey},
		{"GET", "/api/test-clocks/" + unknown, env.A.OperatorKey},
		{"DELETE", "/api/test-clocks/" + unknown, env.A.OperatorKey},
		{"DELETE", "/api/webhooks/" + unknown, env.A.OperatorKey},
		{"POST", "/api/webhooks/" + unknown + "/rotate-secret", env.A.OperatorKey},
		{"GET", "/api/webhooks/" + unknown + "/deliveries", env.A.OperatorKey},
		{"POST", "/api/webhooks/" + unknown + "/deliveries/" + unknown + "/redeliver", env.A.OperatorKey},
	} {
		got := env.Do(r.method, r.path, r.key, nil)
		assert.Equal(t, http.StatusNotFound, got.Status, "%s %s: %s", r.method, r.path, got.Body)
	}
	got := change(env, env.A.SubmitterKey, seats(unknown, 6))
	assert.Equal(t, http.StatusNotFound, got.Status, "self-service: %s", got.Body)

	got = env.Do("GET", "/api/catalog", "", nil, "X-Key-Id", unknown, "X-Signature", "t=1,v1=00")
	assert.Equal(t, http.StatusUnauthorized, got.Status, "signing key: %s", got.Body)
	// Page tokens hold ids as the service writes them; one forged with
	// another spelling is not a token it issued.
	for _, r := range []struct{ path, key, token string }{
		{"/api/test-clocks", env.A.OperatorKey, unknown},
		{"/api/approvals", env.A.ApproverKey, `{"t":"2026-03-01T00:00:00Z","id":"` + unknown + `"}`},
	} {
		got := env.Do("GET", r.path+"?pageToken="+base64.RawURLEncoding.EncodeToString([]byte(r.token)), r.key, nil)
		assert.Equal(t, http.StatusBadRequest, got.Status, "%s: %s", r.path, got.Body)
	}
}

// The things a client names by id may be named by any spelling of it: a
// clock (in a path as a URN, in a contract action's body in upper case; a
// body's id is at most 36 characters) and a webhook, and
// what is stored and started for them uses the id as the service spells it.
func TestThingsNamedByAnotherSpellingOfTheirIDAreTheSame(t *testing.T) {
	env := newAmendmentEnv(t)
	sandbox := env.NewSandboxTenant("SBX")
	clockID := createTestClock(t, env, sandbox, "2027-01-10T09:00:00Z")
	urn := "urn:uuid:" + clockID
	made := env.Do("POST", "/api/contract-actions", sandbox.SubmitterKey, map[string]any{
		"accountNumber": "ACC-SPELT", "testClockId": strings.ToUpper(clockID),
		"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{map[string]any{
			"planId": "off_team", "effectiveDate": "2027-01-10", "expirationDate": "2028-01-10",
			"currency": []string{"USD"}, "quantities": map[string]int{"prod_seat": 5}}}}},
	})
	require.Equal(t, http.StatusOK, made.Status, "%s", made.Body)
	read := env.Do("GET", "/api/contracts/"+made.JSON(t)["contractId"].(string), sandbox.SubmitterKey, nil)
	assert.Equal(t, clockID, read.JSON(t)["testClockId"], "the contract lives on the clock as it is spelt")
	assert.Equal(t, clockID, readClock(t, env, sandbox, urn)["id"])
	advance(t, env, sandbox, urn, "2027-02-12T09:00:00Z")
	assert.Equal(t, "2027-02-12T09:00:00Z", awaitReady(t, env, sandbox, clockID)["frozenTime"])

	hook := env.Do("POST", "/api/webhooks", env.A.OperatorKey, map[string]any{"url": "https://example.com/hooks", "events": []string{"contract.created"}})
	require.Equal(t, http.StatusCreated, hook.Status, "%s", hook.Body)
	hookURN := "urn:uuid:" + strings.ToUpper(hook.JSON(t)["id"].(string))
	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/webhooks/"+hookURN+"/deliveries", env.A.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusOK, env.Do("POST", "/api/webhooks/"+hookURN+"/rotate-secret", env.A.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusNoContent, env.Do("DELETE", "/api/webhooks/"+hookURN, env.A.OperatorKey, nil).Status)

	deleted := env.Do("DELETE", "/api/test-clocks/"+urn, sandbox.OperatorKey, nil)
	require.Equal(t, http.StatusOK, deleted.Status, "%s", deleted.Body)
	assert.Equal(t, "deleted", readClock(t, env, sandbox, clockID)["status"])
}
