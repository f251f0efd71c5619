package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An amendment is announced as a read shows it afterwards, whatever it was
// opened as: applied at once (with an invoice and without), held for review,
// scheduled. Opening takes the amendment from what its insert returned
// rather than reading it back, so the two must not drift apart; and one
// applied at once without an invoice is announced by the statement that
// writes its contract, so each applied one is announced once.
func TestAnOpenedAmendmentIsAnnouncedAsItReadsBack(t *testing.T) {
	env := newAmendmentEnv(t)
	first, second := fiveSeats(env, nil)["id"].(string), fiveSeats(env, nil)["id"].(string)

	more := change(env, env.A.SubmitterKey, seats(first, 7))
	require.Equal(t, http.StatusOK, more.Status, "%s", more.Body)
	require.NotNil(t, more.JSON(t)["invoice"], "an increase mid-period raises an invoice")
	terms := change(env, env.A.SubmitterKey, termsChange(first, map[string]any{"mode": "EVERGREEN"}))
	require.Equal(t, http.StatusOK, terms.Status, "%s", terms.Body)
	require.Nil(t, terms.JSON(t)["invoice"], "new renewal terms alone raise no invoice")
	later := seats(first, 9)
	later["effectiveDate"] = "2026-05-01"
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, later).Status)
	review := seats(second, 8)
	review["requireApproval"] = true
	held(t, env, review)

	seen := map[string]int{}
	for _, ev := range events(t, env, "pageSize=500").Items {
		if !strings.HasPrefix(ev.Type, "amendment.") {
			continue
		}
		seen[ev.Type]++
		var announced map[string]any
		require.NoError(t, json.Unmarshal(ev.Data, &announced))
		read := env.Do("GET", "/api/amendments/"+ev.AmendmentID, env.A.OperatorKey, nil)
		require.Equal(t, http.StatusOK, read.Status, "%s", read.Body)
		assert.Equal(t, announced, withoutNames(map[string]any(read.JSON(t))), ev.Type)
	}
	assert.Equal(t, map[string]int{"amendment.applied": 2, "amendment.scheduled": 1, "amendment.review_required": 1}, seen)
}

// withoutNames is a read of an amendment without the actors' names, which
// only a read adds.
func withoutNames(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if k != "submittedByName" && k != "actorName" {
				out[k] = withoutNames(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = withoutNames(x)
		}
		return out
	default:
		return v
	}
}
