package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// A billing run over many contracts: every event of every contract reaches
// the receiver exactly once, each contract's in order, though the contracts
// share a subscription's few lanes and go out in parallel.
func TestWebhookManyContractsEventsArriveOnceInOrder(t *testing.T) {
	const contracts = 300
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-10"))
	rcv := newReceiver(t)
	hook := subscribe(t, env, rcv, store.EventTypes...)

	item := map[string]any{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01",
		"currency": []string{"USD"}, "quantities": map[string]int{"prod_seat": 2}}
	for range contracts / 100 {
		batch := make([]any, 100)
		for i := range batch {
			batch[i] = item
		}
		resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, map[string]any{
			"accountNumber": "ACC-" + uuid.NewString()[:8],
			"actions":       []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": batch}},
		})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	}
	totals := runBilling(t, env, "2026-03-01")
	require.Equal(t, 3*contracts, totals.Invoiced, "three months billed for each contract")

	feed := allEvents(t, env)
	require.Greater(t, len(feed), 3*contracts)
	got := rcv.waitForEvents(t, len(feed))
	calls, _, _ := rcv.log()
	assert.Len(t, got, len(feed), "every event")
	assert.Len(t, calls, len(feed), "each once")
	inOrder := byContract(feed)
	require.Len(t, inOrder, contracts)
	assert.Equal(t, inOrder, byContract(got), "in order per contract")
	assert.Empty(t, pendingOrFailed(t, env, hook["id"].(string)))
}

// allEvents reads the tenant's whole event feed, oldest first.
func allEvents(t *testing.T, env *testkit.Env) []webhookEvent {
	var out []webhookEvent
	for {
		after := int64(0)
		if len(out) > 0 {
			after = out[len(out)-1].Sequence
		}
		page := events(t, env, "pageSize=500&after="+strconv.FormatInt(after, 10))
		out = append(out, page.Items...)
		if !page.HasMore {
			return out
		}
	}
}

// pendingOrFailed lists the subscription's deliveries not delivered, once
// none is pending for long.
func pendingOrFailed(t *testing.T, env *testkit.Env, webhookID string) []string {
	var left []string
	require.Eventually(t, func() bool {
		left = nil
		token := ""
		for {
			resp := env.Do("GET", "/api/webhooks/"+webhookID+"/deliveries?pageSize=500&pageToken="+token, env.A.OperatorKey, nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			var page struct {
				deliveryList
				NextPageToken string `json:"nextPageToken"`
			}
			resp.Decode(t, &page)
			for _, d := range page.Items {
				if d.Status != "DELIVERED" {
					left = append(left, d.ID+" "+d.Status)
				}
			}
			if token = page.NextPageToken; token == "" {
				return len(left) == 0
			}
		}
	}, 30*time.Second, 200*time.Millisecond)
	return left
}
