package api_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A contract changed more times than a read shows segments: the change's
// answer and GET /api/contracts/{id} show its newest 20 and count them all,
// and its segments, listed a page at a time, are the whole chain. A page size
// or token the service did not issue is a 400; another tenant's contract a 404.
func TestAContractChangedManyTimesShowsItsNewestSegments(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	var answer map[string]any
	for i := range 21 {
		resp := change(env, env.A.SubmitterKey, seats(id, 6+i))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		answer = resp.JSON(t)["contract"].(map[string]any)
	}
	chain := allSegments(t, env, id, 500)
	require.Len(t, chain, 22, "the first segment and one a change")
	newest := segmentIDs(chain[2:])

	assert.EqualValues(t, 22, answer["contractSegmentCount"])
	assert.Equal(t, newest, segmentIDs(answer["contractSegments"].([]any)), "the change's answer")
	got := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 22, got["segmentCount"])
	assert.Equal(t, newest, segmentIDs(got["segments"].([]any)), "the contract read")
	assert.Equal(t, chain, allSegments(t, env, id, 5), "five a page: the same chain")
	assert.Equal(t, chain, allSegments(t, env, id, 11), "two full pages, the second the last")
	counted := map[any]any{}
	for _, item := range env.Do("GET", "/api/contracts?pageSize=500", env.A.SubmitterKey, nil).JSON(t)["items"].([]any) {
		counted[item.(map[string]any)["id"]] = item.(map[string]any)["segmentCount"]
	}
	assert.EqualValues(t, 22, counted[id], "a listed contract counts its segments too")
	for _, seg := range chain {
		assert.NotEmpty(t, seg.(map[string]any)["createdByName"], "each segment names who made it")
	}

	path := "/api/contracts/" + id + "/segments"
	// A position past the chain (past a 32-bit one too) is an empty last page.
	past := env.Do("GET", path+"?pageToken="+base64.RawURLEncoding.EncodeToString([]byte("3000000000")), env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, past.Status, "%s", past.Body)
	assert.JSONEq(t, `{"items": []}`, string(past.Body))
	for _, query := range []string{"?pageSize=0", "?pageSize=501", "?pageSize=x", "?pageToken=bm9wZQ", "?pageToken=%00", "?after=1"} {
		assert.Equal(t, http.StatusBadRequest, env.Do("GET", path+query, env.A.SubmitterKey, nil).Status, query)
	}
	assert.Equal(t, http.StatusNotFound, env.Do("GET", path, env.B.OperatorKey, nil).Status, "another tenant's")
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/contracts/CT-9999999999/segments", env.A.SubmitterKey, nil).Status)
}

// A contract action repeated with its Idempotency-Key answers with its
// contracts as they were created; one stored before segments were counted
// is counted by its segments, not shown with none.
func TestARepeatedContractActionStoredWithoutACountCountsItsSegment(t *testing.T) {
	env := newAmendmentEnv(t)
	body := createBody("ACC-0000000078", teamItem(nil))
	first := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, body, "Idempotency-Key", "counted-1")
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	assert.EqualValues(t, 1, first.JSON(t)["contractInfo"].(map[string]any)["contractSegmentCount"])
	stripped, err := env.Store.DB().Exec(`UPDATE contract_actions SET response = response #- '{contracts,0,segmentCount}'
		WHERE response #> '{contracts,0,segmentCount}' IS NOT NULL`)
	require.NoError(t, err)
	n, err := stripped.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the stored answer counted its contract's segment")

	again := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, body, "Idempotency-Key", "counted-1")
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	info := again.JSON(t)["contractInfo"].(map[string]any)
	assert.Equal(t, first.JSON(t)["contractId"], again.JSON(t)["contractId"], "the same contract")
	assert.EqualValues(t, 1, info["contractSegmentCount"])
}
