package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/flow"
)

// WebhookQueue is one subscription's deliveries about one contract: they are
// delivered one at a time, in event order.
type WebhookQueue struct {
	TenantID       string `db:"tenant_id"`
	SubscriptionID string `db:"subscription_id"`
	ContractID     string `db:"contract_id"`
}

// WebhookLane is one lane of a subscription: the deliveries of the
// contracts whose ids hash to it (flow.WebhookLaneOf).
type WebhookLane struct {
	TenantID       string `db:"tenant_id"`
	SubscriptionID string `db:"subscription_id"`
	Lane           int    `db:"lane"`
}

// WebhookFanOut is what fanning out a batch of events did: the last event it
// covered and the lanes (with byQueue, the queues) that have deliveries of
// those events pending.
type WebhookFanOut struct {
	Upto   int64
	Queues []WebhookQueue
	Lanes  []WebhookLane
}

// pendingUnits lists, into out, the lanes (byQueue: the queues) with
// pending deliveries among those matching where.
func pendingUnits(ctx context.Context, q sqlx.QueryerContext, out *WebhookFanOut, byQueue bool, where string, args ...any) error {
	if byQueue {
		return sqlx.SelectContext(ctx, q, &out.Queues, `SELECT DISTINCT tenant_id, subscription_id, contract_id FROM webhook_deliveries
			WHERE `+where+` ORDER BY subscription_id, contract_id`, args...)
	}
	return sqlx.SelectContext(ctx, q, &out.Lanes, `SELECT DISTINCT tenant_id, subscription_id, lane FROM webhook_deliveries
		WHERE `+where+` ORDER BY subscription_id, lane`, args...)
}

// FanOutWebhookEvents turns up to limit of the tenant's events after `after`
// into deliveries, one per matching active subscription, each in its
// contract's lane, and records how far it got. Running it again over the
// same events creates nothing new but reports the same pending lanes (with
// byQueue, for a dispatcher from before lanes, queues), so a retried step
// wakes them all. The subscriptions are share-locked, so one being deleted
// or disabled meanwhile either gets no delivery or has it cancelled.
func (s *Store) FanOutWebhookEvents(ctx context.Context, tenantID string, after int64, limit int, now time.Time, byQueue bool) (WebhookFanOut, error) {
	out := WebhookFanOut{Upto: after}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var upto sql.NullInt64
		if err := tx.GetContext(ctx, &upto, `SELECT max(seq) FROM (
			SELECT seq FROM outbox_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) batch`, tenantID, after, limit); err != nil {
			return fmt.Errorf("find events to fan out: %w", err)
		}
		if !upto.Valid {
			return nil
		}
		out.Upto = upto.Int64
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_seq, contract_id, lane, status, next_attempt_at, created_at, updated_at)
			SELECT gen_random_uuid(), e.tenant_id, s.id, e.id, e.seq, e.contract_id, webhook_lane(e.contract_id, $7), $4, $5, $5, $5
			FROM outbox_events e JOIN webhook_subscriptions s
				ON s.tenant_id = e.tenant_id AND e.type = ANY (s.event_types) AND e.seq > s.after_seq
			WHERE e.tenant_id = $1 AND e.seq > $2 AND e.seq <= $3 AND s.status = $6 AND s.deleted_at IS NULL
			ORDER BY e.seq, s.id
			FOR SHARE OF s
			ON CONFLICT (subscription_id, event_id) WHERE redelivery_of IS NULL DO NOTHING`,
			tenantID, after, out.Upto, DeliveryPending, now, WebhookActive, flow.WebhookLanes); err != nil {
			return fmt.Errorf("create deliveries: %w", err)
		}
		if err := pendingUnits(ctx, tx, &out, byQueue, `tenant_id = $1 AND event_seq > $2 AND event_seq <= $3 AND status = $4`,
			tenantID, after, out.Upto, DeliveryPending); err != nil {
			return fmt.Errorf("list lanes to wake: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_cursors (tenant_id, seq) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO UPDATE SET seq = greatest(webhook_cursors.seq, EXCLUDED.seq)`, tenantID, out.Upto); err != nil {
			return fmt.Errorf("advance webhook cursor: %w", err)
		}
		return nil
	})
	return out, err
}

// ResumeWebhookDispatch tells a starting dispatcher where to begin: after the
// last event fanned out, or, if none ever was, after the oldest active
// subscription's start (or the tenant's latest event). It also lists every
// lane (byQueue: queue) with pending deliveries, which may have lost their
// wake-up when the previous dispatcher stopped.
func (s *Store) ResumeWebhookDispatch(ctx context.Context, tenantID string, byQueue bool) (WebhookFanOut, error) {
	var out WebhookFanOut
	if err := s.db.GetContext(ctx, &out.Upto, `SELECT coalesce(
			(SELECT seq FROM webhook_cursors WHERE tenant_id = $1),
			(SELECT min(after_seq) FROM webhook_subscriptions WHERE tenant_id = $1 AND status = $2 AND deleted_at IS NULL),
			(SELECT value FROM tenant_counters WHERE tenant_id = $1 AND name = $3),
			0)`, tenantID, WebhookActive, eventCounter); err != nil {
		return out, fmt.Errorf("read webhook cursor: %w", err)
	}
	if err := pendingUnits(ctx, s.db, &out, byQueue, `tenant_id = $1 AND status = $2`, tenantID, DeliveryPending); err != nil {
		return out, fmt.Errorf("list pending lanes: %w", err)
	}
	return out, nil
}

// NextWebhookDelivery returns the queue's first pending delivery, or "" when
// it has none.
func (s *Store) NextWebhookDelivery(ctx context.Context, q WebhookQueue) (string, error) {
	var id string
	err := s.db.GetContext(ctx, &id, `SELECT id FROM webhook_deliveries
		WHERE tenant_id = $1 AND subscription_id = $2 AND contract_id = $3 AND status = $4
		ORDER BY event_seq, created_at LIMIT 1`, q.TenantID, q.SubscriptionID, q.ContractID, DeliveryPending)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find next delivery: %w", err)
	}
	return id, nil
}

// WebhookJob is what sending a delivery takes.
type WebhookJob struct {
	Status string
	URL    string
	Secret string
	Event  Event
}

// WebhookJob loads a delivery with its subscription and event.
func (s *Store) WebhookJob(ctx context.Context, tenantID, deliveryID string) (WebhookJob, error) {
	var row struct {
		Status string `db:"delivery_status"`
		URL    string `db:"url"`
		Secret string `db:"secret"`
		Event
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT d.status AS delivery_status, s.url, s.secret,
			e.seq, e.id, e.tenant_id, e.type, e.occurred_at, e.recorded_at, e.contract_id, e.amendment_id, e.data
		FROM webhook_deliveries d
			JOIN webhook_subscriptions s ON s.id = d.subscription_id
			JOIN outbox_events e ON e.id = d.event_id
		WHERE d.tenant_id = $1 AND d.id = $2`, tenantID, deliveryID)
	if errors.Is(err, sql.ErrNoRows) {
		return WebhookJob{}, ErrNotFound
	}
	if err != nil {
		return WebhookJob{}, fmt.Errorf("load delivery %s: %w", deliveryID, err)
	}
	return WebhookJob{Status: row.Status, URL: row.URL, Secret: row.Secret, Event: row.Event}, nil
}

// WebhookAttempt is one try at sending a delivery.
type WebhookAttempt struct {
	Attempt      int       `db:"attempt"`
	At           time.Time `db:"at"`
	StatusCode   *int      `db:"status_code"`
	LatencyMs    int64     `db:"latency_ms"`
	Error        *string   `db:"error"`
	ResponseBody *string   `db:"response_body"`
}

// AttemptOutcome is what an attempt means for its delivery.
type AttemptOutcome int

const (
	// AttemptFailed leaves the delivery pending, to be retried.
	AttemptFailed AttemptOutcome = iota
	// AttemptDelivered: the receiver accepted the event.
	AttemptDelivered
	// AttemptGone: the receiver answered 410 Gone and wants no more events,
	// so the subscription is disabled.
	AttemptGone
)

// RecordWebhookAttempt stores an attempt, numbered after the delivery's
// earlier ones, and settles the delivery as the outcome says.
func (s *Store) RecordWebhookAttempt(ctx context.Context, tenantID, deliveryID string, a WebhookAttempt, outcome AttemptOutcome) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if outcome == AttemptGone {
			if err := lockSubscriptionOf(ctx, tx, tenantID, deliveryID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_attempts (delivery_id, tenant_id, attempt, at, status_code, latency_ms, error, response_body)
			SELECT $1, $2, coalesce(max(attempt), 0) + 1, $3, $4, $5, $6, $7 FROM webhook_attempts WHERE delivery_id = $1`,
			deliveryID, tenantID, a.At, a.StatusCode, a.LatencyMs, a.Error, a.ResponseBody); err != nil {
			return fmt.Errorf("record delivery attempt: %w", err)
		}
		switch outcome {
		case AttemptDelivered:
			return settleDelivery(ctx, tx, tenantID, deliveryID, DeliveryDelivered, nil, a.At)
		case AttemptGone:
			reason := "the receiver answered 410 Gone"
			if err := settleDelivery(ctx, tx, tenantID, deliveryID, DeliveryFailed, &reason, a.At); err != nil {
				return err
			}
			return disableWebhookOf(ctx, tx, tenantID, deliveryID, reason, a.At)
		}
		return nil
	})
}

// FailWebhookDelivery gives a pending delivery up.
func (s *Store) FailWebhookDelivery(ctx context.Context, tenantID, deliveryID, reason string, now time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return settleDelivery(ctx, tx, tenantID, deliveryID, DeliveryFailed, &reason, now)
	})
}

func settleDelivery(ctx context.Context, tx *sqlx.Tx, tenantID, deliveryID, status string, reason *string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $3, failure_reason = $4, updated_at = $5, next_attempt_at = NULL
		WHERE tenant_id = $1 AND id = $2 AND status = $6`, tenantID, deliveryID, status, reason, now, DeliveryPending); err != nil {
		return fmt.Errorf("settle delivery %s: %w", deliveryID, err)
	}
	return nil
}

// lockSubscriptionOf locks the subscription a delivery belongs to, first,
// in a transaction that records a 410 Gone: disabling the subscription
// cancels its pending deliveries, which another lane (or queue) may hold
// while it records its own Gone and waits for the subscription. Taken
// before any delivery, the subscription's lock puts the two in turn.
func lockSubscriptionOf(ctx context.Context, tx *sqlx.Tx, tenantID, deliveryID string) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM webhook_subscriptions s JOIN webhook_deliveries d ON d.subscription_id = s.id
		WHERE d.tenant_id = $1 AND d.id = $2 FOR NO KEY UPDATE OF s`, tenantID, deliveryID); err != nil {
		return fmt.Errorf("lock the webhook of delivery %s: %w", deliveryID, err)
	}
	return nil
}

// disableWebhookOf disables the subscription a delivery belongs to and
// cancels its other pending deliveries (see lockSubscriptionOf).
func disableWebhookOf(ctx context.Context, tx *sqlx.Tx, tenantID, deliveryID, reason string, now time.Time) error {
	var subscriptionID string
	if err := tx.GetContext(ctx, &subscriptionID, `
		UPDATE webhook_subscriptions s SET status = $3, disabled_reason = $4, updated_at = $5
		FROM webhook_deliveries d WHERE d.tenant_id = $1 AND d.id = $2 AND s.id = d.subscription_id
		RETURNING s.id`, tenantID, deliveryID, WebhookDisabled, reason, now); err != nil {
		return fmt.Errorf("disable webhook: %w", err)
	}
	return cancelPendingDeliveries(ctx, tx, subscriptionID, reason, now)
}
