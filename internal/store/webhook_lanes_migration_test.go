package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Deliveries written before lanes take their contract's lane; a pending one
// is due at once (a lane delivers it as its per-contract workflow would
// have), a settled one waits for nothing.
func TestWebhookLanesMigrationPlacesExistingDeliveries(t *testing.T) {
	ctx := context.Background()
	st, s := storeBefore(t, 19)
	db := st.DB()
	hook, contract := uuid.NewString(), uuid.NewString()
	s.exec(`INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, description, secret, status, after_seq, created_at, created_by, updated_at)
		VALUES ($1, $2, 'https://example.com', '{invoice.created}', '', 'whsec_x', 'ACTIVE', 0, $3, $4, $3)`, hook, s.tenantID, s.at, uuid.NewString())
	deliveries := map[string]string{}
	for seq, status := range []string{"DELIVERED", "PENDING"} {
		event, delivery := uuid.NewString(), uuid.NewString()
		s.exec(`INSERT INTO outbox_events (tenant_id, seq, id, type, contract_id, data, occurred_at) VALUES ($1, $2, $3, 'invoice.created', $4, '{}', $5)`,
			s.tenantID, seq+1, event, contract, s.at)
		s.exec(`INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_seq, contract_id, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, delivery, s.tenantID, hook, event, seq+1, contract, status, s.at)
		deliveries[status] = delivery
	}

	_, err := st.Migrate(ctx)
	require.NoError(t, err)

	var rows []struct {
		Status string `db:"status"`
		Lane   int    `db:"lane"`
		Due    bool   `db:"due"`
	}
	require.NoError(t, db.Select(&rows, `SELECT status, lane, next_attempt_at IS NOT NULL AS due FROM webhook_deliveries ORDER BY event_seq`))
	require.Len(t, rows, 2)
	for _, r := range rows {
		assert.Equal(t, flow.WebhookLaneOf(contract), r.Lane)
		assert.Equal(t, r.Status == store.DeliveryPending, r.Due, r.Status)
	}
	due, err := st.DueWebhookDeliveries(ctx, store.WebhookLane{TenantID: s.tenantID, SubscriptionID: hook, Lane: flow.WebhookLaneOf(contract)}, s.at, 10)
	require.NoError(t, err)
	require.Len(t, due.Deliveries, 1)
	assert.Equal(t, deliveries["PENDING"], due.Deliveries[0].ID)
}
