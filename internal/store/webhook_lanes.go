package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// LaneBatch is what a lane has due: its subscription's endpoint and the
// deliveries to try, in event order.
type LaneBatch struct {
	URL        string
	Secret     string
	Deliveries []DueDelivery
}

// DueDelivery is a pending delivery whose attempt is due, with the event to
// send and how often it was tried before.
type DueDelivery struct {
	ID         string `db:"delivery_id"`
	ContractID string `db:"delivery_contract_id"`
	// Attempts counts earlier attempts; FirstAttemptAt is the first one's
	// time, which starts the retry window (nil before any).
	Attempts       int        `db:"attempts"`
	FirstAttemptAt *time.Time `db:"first_attempt_at"`
	Event
}

// DueWebhookDeliveries returns up to limit of the lane's deliveries that may
// be tried at now, in event order. A contract's deliveries come in its
// order and stop before the first that must wait (its retry not yet due):
// a delivery holds back the later ones of its own contract, and no other.
// A subscription no longer active has nothing due (its pending deliveries
// are being cancelled).
//
// The lane's statements name the pending status literally: the connection
// keeps them prepared, and Postgres's generic plan for a status given as a
// parameter cannot use the partial index of pending deliveries, so it read
// every delivery the subscription ever had, at each batch (a billing run's
// deliveries slowed as they grew: 20,000 meant 5,000 pages a batch).
func (s *Store) DueWebhookDeliveries(ctx context.Context, lane WebhookLane, now time.Time, limit int) (LaneBatch, error) {
	var batch LaneBatch
	err := s.db.GetContext(ctx, &batch, `SELECT url AS "url", secret AS "secret" FROM webhook_subscriptions
		WHERE tenant_id = $1 AND id = $2 AND status = $3 AND deleted_at IS NULL`, lane.TenantID, lane.SubscriptionID, WebhookActive)
	if errors.Is(err, sql.ErrNoRows) {
		return batch, nil
	}
	if err != nil {
		return batch, fmt.Errorf("load webhook %s: %w", lane.SubscriptionID, err)
	}
	if err := s.db.SelectContext(ctx, &batch.Deliveries, `
		WITH lane AS (
			SELECT id, contract_id, event_id, event_seq, created_at,
				bool_or(next_attempt_at > $4) OVER (PARTITION BY contract_id ORDER BY event_seq, created_at) AS held
			FROM webhook_deliveries
			WHERE tenant_id = $1 AND subscription_id = $2 AND lane = $3 AND status = '`+DeliveryPending+`'
		), due AS (
			SELECT * FROM lane WHERE NOT held ORDER BY event_seq, created_at LIMIT $5
		)
		SELECT due.id AS delivery_id, due.contract_id AS delivery_contract_id,
			coalesce(a.attempts, 0) AS attempts, a.first_attempt_at,
			e.seq, e.id, e.tenant_id, e.type, e.occurred_at, e.recorded_at, e.contract_id, e.amendment_id, e.data
		FROM due JOIN outbox_events e ON e.id = due.event_id
			LEFT JOIN LATERAL (SELECT max(attempt) AS attempts, min(at) AS first_attempt_at
				FROM webhook_attempts WHERE delivery_id = due.id) a ON true
		ORDER BY due.event_seq, due.created_at`,
		lane.TenantID, lane.SubscriptionID, lane.Lane, now, limit); err != nil {
		return batch, fmt.Errorf("list due deliveries of lane %d: %w", lane.Lane, err)
	}
	return batch, nil
}

// WebhookOutcome is an attempt at a delivery and what it settled: Status
// DeliveryPending with NextAttemptAt to try again, DeliveryDelivered, or
// DeliveryFailed with FailureReason (given up, or a 410 Gone answer, which
// disables the subscription too).
type WebhookOutcome struct {
	DeliveryID    string
	Attempt       WebhookAttempt
	Status        string
	NextAttemptAt time.Time
	FailureReason string
	Gone          bool
}

// LaneState is what a lane has left: whether any delivery is pending, and
// the earliest time one of them may be tried.
type LaneState struct {
	Pending       bool
	NextAttemptAt time.Time
}

// RecordWebhookOutcomes stores a batch's attempts, each numbered after its
// delivery's earlier ones, and settles or reschedules their deliveries, in
// one transaction of two statements (and one more for a 410 Gone), each
// finding its deliveries by id (joined to the batch alone, the generic plan
// could hash every delivery of the subscription at each batch). A
// delivery settled meanwhile (its subscription deleted) stays as it is. It
// returns what the lane has left.
func (s *Store) RecordWebhookOutcomes(ctx context.Context, lane WebhookLane, outcomes []WebhookOutcome) (LaneState, error) {
	n := len(outcomes)
	ids, ats, latencies := make([]string, n), make([]time.Time, n), make([]int64, n)
	codes, errs, bodies := make([]sql.NullInt64, n), make([]sql.NullString, n), make([]sql.NullString, n)
	statuses, nexts, reasons := make([]string, n), make([]time.Time, n), make([]sql.NullString, n)
	for i, o := range outcomes {
		ids[i], ats[i], latencies[i], statuses[i], nexts[i] = o.DeliveryID, o.Attempt.At, o.Attempt.LatencyMs, o.Status, o.NextAttemptAt
		if o.Attempt.StatusCode != nil {
			codes[i] = sql.NullInt64{Int64: int64(*o.Attempt.StatusCode), Valid: true}
		}
		errs[i] = nullString(o.Attempt.Error)
		bodies[i] = nullString(o.Attempt.ResponseBody)
		reasons[i] = sql.NullString{String: o.FailureReason, Valid: o.FailureReason != ""}
	}
	gone := slices.IndexFunc(outcomes, func(o WebhookOutcome) bool { return o.Gone })
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if n == 0 {
			return nil
		}
		if gone >= 0 {
			if err := lockSubscriptionOf(ctx, tx, lane.TenantID, outcomes[gone].DeliveryID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `
			WITH batch AS MATERIALIZED (
				SELECT id, tenant_id, subscription_id FROM webhook_deliveries WHERE id = ANY($3::uuid[])
			)
			INSERT INTO webhook_attempts (delivery_id, tenant_id, attempt, at, status_code, latency_ms, error, response_body)
			SELECT r.id, d.tenant_id, coalesce((SELECT max(attempt) FROM webhook_attempts a WHERE a.delivery_id = r.id), 0) + 1,
				r.at, r.status_code, r.latency_ms, r.error, r.response_body
			FROM unnest($3::uuid[], $4::timestamptz[], $5::int[], $6::bigint[], $7::text[], $8::text[])
				AS r (id, at, status_code, latency_ms, error, response_body)
			JOIN batch d ON d.id = r.id AND d.tenant_id = $1 AND d.subscription_id = $2`,
			lane.TenantID, lane.SubscriptionID, pq.Array(ids), pq.Array(ats), pq.Array(codes), pq.Array(latencies),
			pq.Array(errs), pq.Array(bodies)); err != nil {
			return fmt.Errorf("record delivery attempts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries d SET status = r.status, failure_reason = r.reason, updated_at = r.at,
				next_attempt_at = CASE WHEN r.status = '`+DeliveryPending+`' THEN r.next_attempt_at END
			FROM unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[]) AS r (id, status, next_attempt_at, reason, at)
			WHERE d.tenant_id = $1 AND d.subscription_id = $2 AND d.id = r.id AND d.id = ANY($3::uuid[])
				AND d.status = '`+DeliveryPending+`'`,
			lane.TenantID, lane.SubscriptionID, pq.Array(ids), pq.Array(statuses), pq.Array(nexts),
			pq.Array(reasons), pq.Array(ats)); err != nil {
			return fmt.Errorf("settle deliveries: %w", err)
		}
		if gone >= 0 {
			o := outcomes[gone]
			return disableWebhookOf(ctx, tx, lane.TenantID, o.DeliveryID, o.FailureReason, o.Attempt.At)
		}
		return nil
	})
	if err != nil {
		return LaneState{}, err
	}
	return s.laneState(ctx, lane)
}

// laneState finds the earliest time any contract in the lane has a delivery
// to try: its first pending delivery's next attempt.
func (s *Store) laneState(ctx context.Context, lane WebhookLane) (LaneState, error) {
	var next sql.NullTime
	if err := s.db.GetContext(ctx, &next, `SELECT min(next_attempt_at) FROM (
			SELECT DISTINCT ON (contract_id) next_attempt_at FROM webhook_deliveries
			WHERE tenant_id = $1 AND subscription_id = $2 AND lane = $3 AND status = '`+DeliveryPending+`'
			ORDER BY contract_id, event_seq, created_at) heads`,
		lane.TenantID, lane.SubscriptionID, lane.Lane); err != nil {
		return LaneState{}, fmt.Errorf("find lane %d's next attempt: %w", lane.Lane, err)
	}
	return LaneState{Pending: next.Valid, NextAttemptAt: next.Time}, nil
}

func nullString(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}
