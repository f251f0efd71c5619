package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// WebhookDelivery is one event sent (or to send) to one subscription, with
// every attempt, oldest first.
type WebhookDelivery struct {
	ID            string           `db:"id"`
	EventID       string           `db:"event_id"`
	EventType     string           `db:"event_type"`
	EventSequence int64            `db:"event_seq"`
	ContractID    string           `db:"contract_id"`
	Status        string           `db:"status"`
	FailureReason *string          `db:"failure_reason"`
	RedeliveryOf  *string          `db:"redelivery_of"`
	CreatedOn     time.Time        `db:"created_at"`
	UpdatedOn     time.Time        `db:"updated_at"`
	Attempts      []WebhookAttempt `db:"-"`
	// Lane is loaded by Redeliver only, which wakes it.
	Lane int `db:"lane"`
	// Position orders deliveries for paging.
	Position int64 `db:"seq"`
}

const deliveryColumns = `d.id, d.event_id, e.type AS event_type, d.event_seq, d.contract_id, d.status, d.failure_reason,
	d.redelivery_of, d.created_at, d.updated_at, d.seq`

// WebhookDeliveries lists a subscription's deliveries, newest first, before
// position `before` (0: from the newest). It returns the page and whether
// more follow.
func (s *Store) WebhookDeliveries(ctx context.Context, tenantID, subscriptionID string, before int64, pageSize int) ([]WebhookDelivery, bool, error) {
	subscriptionID = asStored(subscriptionID)
	if err := s.webhookExists(ctx, tenantID, subscriptionID); err != nil {
		return nil, false, err
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	var out []WebhookDelivery
	if err := s.db.SelectContext(ctx, &out, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
		WHERE d.tenant_id = $1 AND d.subscription_id = $2 AND d.seq < $3 ORDER BY d.seq DESC LIMIT $4`,
		tenantID, subscriptionID, before, pageSize+1); err != nil {
		return nil, false, fmt.Errorf("list deliveries: %w", err)
	}
	out, more := page(out, pageSize)
	return out, more, s.loadAttempts(ctx, tenantID, out)
}

func (s *Store) loadAttempts(ctx context.Context, tenantID string, deliveries []WebhookDelivery) error {
	if len(deliveries) == 0 {
		return nil
	}
	ids := make([]string, len(deliveries))
	for i, d := range deliveries {
		ids[i] = d.ID
	}
	var rows []struct {
		DeliveryID string `db:"delivery_id"`
		WebhookAttempt
	}
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT delivery_id, attempt, at, status_code, latency_ms, error, response_body FROM webhook_attempts
		WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY delivery_id, attempt`, tenantID, pq.Array(ids)); err != nil {
		return fmt.Errorf("load delivery attempts: %w", err)
	}
	byDelivery := map[string][]WebhookAttempt{}
	for _, r := range rows {
		byDelivery[r.DeliveryID] = append(byDelivery[r.DeliveryID], r.WebhookAttempt)
	}
	for i := range deliveries {
		deliveries[i].Attempts = byDelivery[deliveries[i].ID]
		if deliveries[i].Attempts == nil {
			deliveries[i].Attempts = []WebhookAttempt{}
		}
	}
	return nil
}

func (s *Store) webhookExists(ctx context.Context, tenantID, id string) error {
	id, ok := canonicalID(id)
	if !ok {
		return ErrNotFound
	}
	var exists bool
	if err := s.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM webhook_subscriptions
		WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL)`, tenantID, id); err != nil {
		return fmt.Errorf("look up webhook: %w", err)
	}
	if !exists {
		return ErrNotFound
	}
	return nil
}

// Redeliver queues one of a subscription's deliveries to be sent again, as a
// new delivery of the same event in the same lane, due at once, and returns
// it along with its lane. A disabled subscription sends nothing, and an
// event with a delivery still pending is not queued again (see
// refuseWhilePending).
func (s *Store) Redeliver(ctx context.Context, tenantID, subscriptionID, deliveryID string, now time.Time) (WebhookDelivery, WebhookLane, error) {
	var d WebhookDelivery
	q := WebhookLane{TenantID: tenantID, SubscriptionID: subscriptionID}
	subscriptionID, okSubscription := canonicalID(subscriptionID)
	deliveryID, okDelivery := canonicalID(deliveryID)
	if !okSubscription || !okDelivery {
		return d, q, ErrNotFound
	}
	q.SubscriptionID = subscriptionID
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		err := tx.GetContext(ctx, &status, `SELECT status FROM webhook_subscriptions
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR SHARE`, tenantID, subscriptionID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("look up webhook: %w", err)
		}
		if status != WebhookActive {
			return domain.Errorf(domain.KindConflict, "", "webhook %s is %s; it sends nothing", subscriptionID, status)
		}
		if err := refuseWhilePending(ctx, tx, tenantID, subscriptionID, deliveryID); err != nil {
			return err
		}
		id := uuid.NewString()
		res, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_seq, contract_id, lane, status, next_attempt_at, redelivery_of, created_at, updated_at)
			SELECT $4, tenant_id, subscription_id, event_id, event_seq, contract_id, lane, $5, $6, id, $6, $6 FROM webhook_deliveries
			WHERE tenant_id = $1 AND subscription_id = $2 AND id = $3`,
			tenantID, subscriptionID, deliveryID, id, DeliveryPending, now)
		if err := affectedOne(res, err, "queue redelivery"); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &d, `SELECT `+deliveryColumns+`, d.lane
			FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.id = $1`, id); err != nil {
			return fmt.Errorf("load redelivery: %w", err)
		}
		d.Attempts = []WebhookAttempt{}
		return nil
	})
	q.Lane = d.Lane
	return d, q, err
}

// refuseWhilePending refuses a redelivery of an event that a delivery to
// the subscription is still to send: the original, or an earlier
// redelivery. Every redelivery of the event, whichever of its deliveries it
// names, first locks the event's original delivery, so concurrent ones
// queue; the pending ones are read after the lock, in a statement of their
// own, so that each sees the redelivery the one before it committed. The
// status is written out, not a parameter, so that the kept prepared
// statement's plan can use the queue's index.
func refuseWhilePending(ctx context.Context, tx *sqlx.Tx, tenantID, subscriptionID, deliveryID string) error {
	var original struct {
		ContractID string `db:"contract_id"`
		EventSeq   int64  `db:"event_seq"`
	}
	err := tx.GetContext(ctx, &original, `SELECT o.contract_id, o.event_seq FROM webhook_deliveries d
		JOIN webhook_deliveries o ON o.subscription_id = d.subscription_id AND o.event_id = d.event_id AND o.redelivery_of IS NULL
		WHERE d.tenant_id = $1 AND d.subscription_id = $2 AND d.id = $3
		FOR NO KEY UPDATE OF o`, tenantID, subscriptionID, deliveryID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("lock the event's delivery: %w", err)
	}
	var pending []string
	if err := tx.SelectContext(ctx, &pending, `SELECT id FROM webhook_deliveries
		WHERE tenant_id = $1 AND subscription_id = $2 AND contract_id = $3 AND event_seq = $4 AND status = 'PENDING'
		ORDER BY created_at, id LIMIT 1`, tenantID, subscriptionID, original.ContractID, original.EventSeq); err != nil {
		return fmt.Errorf("look up pending deliveries: %w", err)
	}
	if len(pending) > 0 {
		return domain.Errorf(domain.KindConflict, "", "delivery %s of this event is still to be sent; redeliver once it is delivered or has failed", pending[0])
	}
	return nil
}
