package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/invariants"
)

// Thirty clients change one contract at once, in every way the timeline
// knows: immediate and scheduled seat changes, changes held for review, an
// added offering, scheduled rate changes and withdrawals of changes booked
// before. None gets a 5xx; every change a client could not
// have known to conflict is accepted; every amendment ends in one state its
// workflow agrees with; the scheduled ones are each quoted after the one
// before; and the integrity invariants hold.
// Long: one scenario, its setup, burst and checks read together.
func TestThirtyConcurrentChangesOnOneContract(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	var booked []string
	for i := range 5 {
		booked = append(booked, scheduled(t, env, seats(id, 11+i), fmt.Sprintf("2026-06-%02d", 1+i))["id"].(string))
	}

	const n = 30
	kinds := []string{"withdraw", "immediate", "scheduled", "add offering", "rate change", "review"}
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i / len(kinds)
			var body map[string]any
			switch kinds[i%len(kinds)] {
			case "withdraw":
				r := withdraw(env, booked[k])
				statuses[i], bodies[i] = r.Status, string(r.Body)
				return
			case "immediate":
				body = seats(id, 6+k)
			case "scheduled":
				body = seats(id, 16+k)
				body["effectiveDate"] = fmt.Sprintf("2026-04-%02d", 2+k)
			case "add offering":
				body = map[string]any{"action": "ADD_OFFERING", "contractId": id,
					"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_sports", "products": []any{}}}}}
			case "rate change":
				body = map[string]any{"action": "RATE_CHANGE", "contractId": id, "effectiveDate": fmt.Sprintf("2026-04-%02d", 10+k),
					"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_monthly_usd",
						"products": []any{map[string]any{"productId": "prod_storage", "quantity": 2 + k}}}}}}
			case "review":
				body = seats(id, 21+k)
				body["effectiveDate"] = "2026-04-15"
				body["requireApproval"] = true
			}
			r := change(env, env.A.SubmitterKey, body)
			statuses[i], bodies[i] = r.Status, string(r.Body)
		}()
	}
	wg.Wait()

	got := map[string]map[int]int{}
	for i, s := range statuses {
		kind := kinds[i%len(kinds)]
		assert.Less(t, s, 500, "%s %d: %s", kind, i, bodies[i])
		if got[kind] == nil {
			got[kind] = map[int]int{}
		}
		got[kind][s]++
	}
	// None of these could conflict with another: all are accepted.
	assert.Equal(t, map[int]int{http.StatusOK: 5}, got["withdraw"])
	assert.Equal(t, map[int]int{http.StatusOK: 5}, got["immediate"])
	assert.Equal(t, map[int]int{http.StatusOK: 5}, got["scheduled"])
	assert.Equal(t, map[int]int{http.StatusAccepted: 5}, got["review"])
	assert.Equal(t, map[int]int{http.StatusOK: 5}, got["rate change"])
	// The offering can be added once; the others find it there.
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnprocessableEntity: 4}, got["add offering"])

	// Every amendment settles: nothing is left PENDING.
	require.Eventually(t, func() bool {
		return countWhere(t, env, `contract_id = $1 AND status = 'PENDING'`, id) == 0
	}, 30*time.Second, 200*time.Millisecond)
	assert.Equal(t, 5, countWhere(t, env, `contract_id = $1 AND status = 'WITHDRAWN'`, id))
	assert.Equal(t, 5, countWhere(t, env, `contract_id = $1 AND status = 'REVIEW'`, id))

	// The scheduled ones form one chain from the contract as it is.
	var chain []struct {
		ID     string `db:"id"`
		Before int64  `db:"before"`
		After  int64  `db:"after"`
	}
	require.NoError(t, env.Store.DB().Select(&chain, `SELECT id, (quote ->> 'recurringBefore')::bigint AS before, (quote ->> 'recurringAfter')::bigint AS after
		FROM amendments WHERE contract_id = $1 AND status = 'SCHEDULED' ORDER BY effective_date, timeline_seq`, id))
	now := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	previous := int64(now["recurringAmount"].(float64))
	for _, link := range chain {
		assert.Equal(t, previous, link.Before, "amendment %s is quoted after the one before it", link.ID)
		previous = link.After
	}
	invariants.Require(t, env.Store.DB(), env.Temporal, 10*time.Second)
}

// countWhere counts the amendments matching where.
func countWhere(t *testing.T, env *testkit.Env, where string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, env.Store.DB().Get(&n, `SELECT count(*) FROM amendments WHERE `+where, args...))
	return n
}
