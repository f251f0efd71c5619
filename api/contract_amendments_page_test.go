package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A contract's amendments come a page at a time, newest first, every one
// once: a probe's contract of 99 changes answered 67 MB in one list.
func TestAContractsAmendmentsArePaged(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	var made []string
	for n := 6; n <= 10; n++ {
		resp := change(env, env.A.SubmitterKey, seats(id, n))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		made = append([]string{resp.JSON(t)["quote"].(map[string]any)["id"].(string)}, made...)
	}

	var got []string
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 3, "five amendments in pages of two")
		resp := env.Do("GET", "/api/contracts/"+id+"/amendments?pageSize=2&pageToken="+url.QueryEscape(token), env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		page := resp.JSON(t)
		items := page["items"].([]any)
		assert.LessOrEqual(t, len(items), 2)
		for _, raw := range items {
			got = append(got, raw.(map[string]any)["id"].(string))
		}
		next, more := page["nextPageToken"].(string)
		if !more {
			break
		}
		token = next
	}
	assert.Equal(t, made, got, "newest first, each once")

	for _, bad := range []string{"pageSize=0", "pageSize=501", "pageToken=not-a-token"} {
		resp := env.Do("GET", "/api/contracts/"+id+"/amendments?"+bad, env.A.SubmitterKey, nil)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", bad, resp.Body)
	}
}
