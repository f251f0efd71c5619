package api_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A contract whose payment schedule was cancelled and restarted more times
// than a read shows: GET /api/contracts/{id}, the contract list and a
// change's answer show its newest 20 schedule events and count them all,
// and its schedule history, listed a page at a time, is every event from
// the contract's creation on. A page size or token the service did not
// issue is a 400; another tenant's contract a 404.
func TestAScheduleStoppedAndStartedManyTimesShowsItsNewestEvents(t *testing.T) {
	env := newAmendmentEnv(t)
	// Another contract's events come first: an event's id is not its place.
	other := fiveSeats(env, nil)["id"].(string)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, other, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	id := fiveSeats(env, nil)["id"].(string)
	for i := range 22 {
		path, said := schedulePath(env.A.Prefix, id, "cancelSchedule"), scheduleCancelled
		if i%2 == 1 {
			path, said = schedulePath(env.A.Prefix, id, "restartSchedule"), scheduleRestarted
		}
		requirePlain(t, scheduleCall(env, path, env.A.SubmitterKey), http.StatusOK, said)
	}
	path := "/api/contracts/" + id + "/schedule-history"
	history := allItems(t, env, path, 500)
	require.Len(t, history, 23, "the creation's event and one a cancel or restart")
	for i, e := range history {
		want := "Terminated"
		if i%2 == 0 {
			want = "Active"
		}
		assert.Equal(t, want, e.(map[string]any)["status"], "event %d, oldest first", i)
		assert.NotEmpty(t, e.(map[string]any)["actorName"], "each event names who made it")
	}
	newest := history[3:]

	got := scheduleOf(t, env, id)
	assert.EqualValues(t, 23, got["historyCount"])
	assert.Equal(t, newest, got["history"], "the contract read")
	answer := change(env, env.A.SubmitterKey, seats(id, 6))
	require.Equal(t, http.StatusOK, answer.Status, "%s", answer.Body)
	shown := answer.JSON(t)["contract"].(map[string]any)["paymentSchedule"].(map[string]any)
	assert.EqualValues(t, 23, shown["historyCount"])
	assert.Equal(t, timesOf(newest), timesOf(shown["history"].([]any)), "the change's answer")
	assert.Equal(t, history, allItems(t, env, path, 5), "five a page: the same history")
	assert.Equal(t, history, allItems(t, env, path, 23), "one full page, the last")
	first := env.Do("GET", path+"?pageSize=5", env.A.SubmitterKey, nil).JSON(t)
	token, err := base64.RawURLEncoding.DecodeString(first["nextPageToken"].(string))
	require.NoError(t, err)
	assert.Equal(t, "5", string(token), "a token names a place in the history, not an event's id, which counts every tenant's events")
	counted := map[any]any{}
	for _, item := range env.Do("GET", "/api/contracts?pageSize=500", env.A.SubmitterKey, nil).JSON(t)["items"].([]any) {
		counted[item.(map[string]any)["id"]] = item.(map[string]any)["paymentSchedule"].(map[string]any)["historyCount"]
	}
	assert.EqualValues(t, 23, counted[id], "a listed contract counts its events too")
	assert.EqualValues(t, 2, counted[other], "each its own")

	past := env.Do("GET", path+"?pageToken="+base64.RawURLEncoding.EncodeToString([]byte("9000000000000000000")), env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, past.Status, "%s", past.Body)
	assert.JSONEq(t, `{"items": []}`, string(past.Body), "a position past the last is an empty last page")
	for _, query := range []string{"?pageSize=0", "?pageSize=501", "?pageSize=x", "?pageToken=bm9wZQ", "?pageToken=%00", "?after=1"} {
		assert.Equal(t, http.StatusBadRequest, env.Do("GET", path+query, env.A.SubmitterKey, nil).Status, query)
	}
	assert.Equal(t, http.StatusNotFound, env.Do("GET", path, env.B.OperatorKey, nil).Status, "another tenant's")
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/contracts/CT-9999999999/schedule-history", env.A.SubmitterKey, nil).Status)
}

// timesOf is when each of events was made.
func timesOf(events []any) []any {
	at := make([]any, len(events))
	for i, e := range events {
		at[i] = e.(map[string]any)["at"]
	}
	return at
}
