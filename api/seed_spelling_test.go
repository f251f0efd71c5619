package api_test

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One spelling of cancellation. contract-actions.txt: "status enum<string>
// Available options: active, expired, canceled". Events are named to match;
// their former names, spelt "cancelled", stay aliases for subscribers.
func TestSeedCanceledSpelling(t *testing.T) {
	env := newAmendmentEnv(t)
	rcv := newReceiver(t)

	// A subscription made with a former name gets the current one.
	hook := subscribe(t, env, rcv, "contract.cancelled", "schedule.cancelled")
	assert.Equal(t, []any{"contract.canceled", "schedule.canceled"}, hook["events"])

	ct := fiveSeats(env, nil)
	resp := change(env, env.A.SubmitterKey, cancel(ct["id"]))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "canceled", resp.JSON(t)["contract"].(map[string]any)["status"])

	current := events(t, env, "type=contract.canceled")
	require.Len(t, current.Items, 1)
	assert.Equal(t, "contract.canceled", current.Items[0].Type)
	assert.Equal(t, current, events(t, env, "type=contract.cancelled"), "the former name filters the same events")
	delivered := rcv.waitForEvents(t, 1)
	assert.Equal(t, "contract.canceled", delivered[0].Type)

	// Rows written under the former names are renamed by migration 0013.
	db := env.Store.DB()
	_, err := db.Exec(`INSERT INTO outbox_events (tenant_id, seq, id, type, contract_id, data, occurred_at)
		VALUES ($1, 1000000, $2, 'schedule.cancelled', $3, '{}', $4)`, env.A.ID, uuid.NewString(), ct["id"], time.Now())
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE webhook_subscriptions SET event_types = ARRAY['contract.cancelled', 'amendment.applied']`)
	require.NoError(t, err)
	migration, err := os.ReadFile("../internal/store/migrations/0013_canceled_spelling.sql")
	require.NoError(t, err)
	_, err = db.Exec(string(migration))
	require.NoError(t, err)
	assert.Len(t, events(t, env, "type=schedule.canceled").Items, 1)
	var types pq.StringArray
	require.NoError(t, db.QueryRow(`SELECT event_types FROM webhook_subscriptions`).Scan(&types))
	assert.Equal(t, pq.StringArray{"contract.canceled", "amendment.applied"}, types)
}
