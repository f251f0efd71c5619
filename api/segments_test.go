package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// Finding 4 of issue 17: concurrent immediate changes to one contract each
// apply, one after another, and leave one linear chain of segments with one
// current segment, whatever order their clocks were read in.
func TestConcurrentImmediateChangesKeepOneLinearChain(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	const n = 30
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = change(env, env.A.SubmitterKey, seats(ct["id"].(string), 6+i)).Status
		}()
	}
	wg.Wait()
	applied := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			applied++
		}
	}
	require.Positive(t, applied)

	id := ct["id"].(string)
	got := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 1+applied, got["version"])
	assert.EqualValues(t, 1+applied, got["segmentCount"])
	segments := allSegments(t, env, id, 7)
	require.Len(t, segments, 1+applied)
	current := 0
	for i, s := range segments {
		seg := s.(map[string]any)
		if seg["status"] != "expired" && seg["status"] != "superseded" {
			current++ // superseded: replaced by a change the same day (all of these are)
		}
		if i == 0 {
			assert.Nil(t, seg["previousContractSegmentId"], "the first segment follows nothing")
			continue
		}
		// Listed in chain order: each segment follows the one before it.
		assert.Equal(t, segments[i-1].(map[string]any)["id"], seg["previousContractSegmentId"], "segment %d", i)
	}
	assert.Equal(t, 1, current, "current segments")
	last := segments[len(segments)-1].(map[string]any)
	assert.Equal(t, "active", last["status"])
	assert.Equal(t, got["lines"], last["lines"], "the current segment holds the contract's lines")
	// The contract shows the chain's newest segments, as its pages list them.
	shown := min(len(segments), 20)
	assert.Equal(t, segmentIDs(segments[len(segments)-shown:]), segmentIDs(got["segments"].([]any)))
	// testkit's cleanup then checks every invariant, the database's view of the chain included.
}

// allSegments reads a contract's chain through GET /api/contracts/{id}/segments,
// pageSize segments a page.
func allSegments(t *testing.T, env *testkit.Env, id string, pageSize int) []any {
	t.Helper()
	return allItems(t, env, "/api/contracts/"+id+"/segments", pageSize)
}

// allItems reads every item of one of a contract's lists (segments,
// schedule history) at path, pageSize items a page.
func allItems(t *testing.T, env *testkit.Env, path string, pageSize int) []any {
	t.Helper()
	var all []any
	for token := ""; ; {
		page := env.Do("GET", fmt.Sprintf("%s?pageSize=%d&pageToken=%s", path, pageSize, token), env.A.SubmitterKey, nil).JSON(t)
		items := page["items"].([]any)
		all = append(all, items...)
		next, more := page["nextPageToken"].(string)
		if !more {
			require.NotEmpty(t, items, "a last page holds the last item")
			return all
		}
		require.Len(t, items, pageSize, "a page followed by another is full")
		token = next
	}
}

func segmentIDs(segments []any) []any {
	ids := make([]any, len(segments))
	for i, s := range segments {
		ids[i] = s.(map[string]any)["id"]
	}
	return ids
}
