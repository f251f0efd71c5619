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

// Webhook subscription statuses.
const (
	WebhookActive = "ACTIVE"
	// WebhookDisabled subscriptions get no deliveries: their receiver
	// answered 410 Gone.
	WebhookDisabled = "DISABLED"
)

// Delivery statuses.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	// DeliveryFailed deliveries were given up: retried for the whole retry
	// window, or answered 410 Gone.
	DeliveryFailed = "FAILED"
	// DeliveryCancelled deliveries were pending when their subscription was
	// deleted or disabled.
	DeliveryCancelled = "CANCELED"
)

// Webhook is a tenant's subscription to events. Its signing secret is shown
// only when it is issued, so it is not part of this.
type Webhook struct {
	ID             string         `db:"id"`
	URL            string         `db:"url"`
	Events         pq.StringArray `db:"event_types"`
	Description    string         `db:"description"`
	Status         string         `db:"status"`
	DisabledReason *string        `db:"disabled_reason"`
	CreatedOn      time.Time      `db:"created_at"`
	CreatedBy      string         `db:"created_by"`
	UpdatedOn      time.Time      `db:"updated_at"`
}

const webhookColumns = `id, url, event_types, description, status, disabled_reason, created_at, created_by, updated_at`

// NewWebhook is a subscription to store.
type NewWebhook struct {
	ID          string
	TenantID    string
	URL         string
	Events      []string
	Description string
	Secret      string
	ActorID     string
}

// CreateWebhook stores a subscription. It receives the events that commit
// after it: those numbered up to the tenant's current event count happened
// before it existed.
func (s *Store) CreateWebhook(ctx context.Context, in NewWebhook, now time.Time) (Webhook, error) {
	var w Webhook
	err := s.db.GetContext(ctx, &w, `
		INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, description, secret, status, after_seq, created_at, created_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7,
			coalesce((SELECT value FROM tenant_counters WHERE tenant_id = $2 AND name = $8), 0), $9, $10, $9)
		RETURNING `+webhookColumns,
		in.ID, in.TenantID, in.URL, pq.Array(in.Events), in.Description, in.Secret, WebhookActive, eventCounter, now, in.ActorID)
	if err != nil {
		return w, fmt.Errorf("insert webhook: %w", err)
	}
	return w, nil
}

// Webhooks lists the tenant's subscriptions, oldest first.
func (s *Store) Webhooks(ctx context.Context, tenantID string) ([]Webhook, error) {
	var out []Webhook
	if err := s.db.SelectContext(ctx, &out, `SELECT `+webhookColumns+` FROM webhook_subscriptions
		WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, tenantID); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// DeleteWebhook removes a subscription and cancels its pending deliveries.
// Its deliveries are kept, so it is only marked deleted.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string, now time.Time) error {
	if _, err := uuid.Parse(id); err != nil {
		return ErrNotFound
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_subscriptions SET deleted_at = $3, updated_at = $3
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, id, now)
		if err := affectedOne(res, err, "delete webhook"); err != nil {
			return err
		}
		return cancelPendingDeliveries(ctx, tx, id, "the subscription was deleted", now)
	})
}

// RotateWebhookSecret replaces a subscription's signing secret; every
// delivery from now on, retries included, is signed with the new one.
func (s *Store) RotateWebhookSecret(ctx context.Context, tenantID, id, secret string, now time.Time) (Webhook, error) {
	var w Webhook
	if _, err := uuid.Parse(id); err != nil {
		return w, ErrNotFound
	}
	err := s.db.GetContext(ctx, &w, `UPDATE webhook_subscriptions SET secret = $3, updated_at = $4
		WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING `+webhookColumns, tenantID, id, secret, now)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	if err != nil {
		return w, fmt.Errorf("rotate webhook secret: %w", err)
	}
	return w, nil
}

func cancelPendingDeliveries(ctx context.Context, tx *sqlx.Tx, subscriptionID, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $2, failure_reason = $3, updated_at = $4
		WHERE subscription_id = $1 AND status = $5`, subscriptionID, DeliveryCancelled, reason, now, DeliveryPending); err != nil {
		return fmt.Errorf("cancel pending deliveries: %w", err)
	}
	return nil
}

// WebhookQueue is one subscription's deliveries about one contract: they are
// delivered one at a time, in event order.
type WebhookQueue struct {
	TenantID       string `db:"tenant_id"`
	SubscriptionID string `db:"subscription_id"`
	ContractID     string `db:"contract_id"`
}

// WebhookFanOut is what fanning out a batch of events did: the last event it
// covered and the queues that have deliveries of those events pending.
type WebhookFanOut struct {
	Upto   int64
	Queues []WebhookQueue
}

// FanOutWebhookEvents turns up to limit of the tenant's events after `after`
// into deliveries, one per matching active subscription, and records how far
// it got. Running it again over the same events creates nothing new but
// reports the same pending queues, so a retried step wakes them all. The
// subscriptions are share-locked, so one being deleted or disabled meanwhile
// either gets no delivery or has it cancelled.
func (s *Store) FanOutWebhookEvents(ctx context.Context, tenantID string, after int64, limit int, now time.Time) (WebhookFanOut, error) {
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
			INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_seq, contract_id, status, created_at, updated_at)
			SELECT gen_random_uuid(), e.tenant_id, s.id, e.id, e.seq, e.contract_id, $4, $5, $5
			FROM outbox_events e JOIN webhook_subscriptions s
				ON s.tenant_id = e.tenant_id AND e.type = ANY (s.event_types) AND e.seq > s.after_seq
			WHERE e.tenant_id = $1 AND e.seq > $2 AND e.seq <= $3 AND s.status = $6 AND s.deleted_at IS NULL
			ORDER BY e.seq, s.id
			FOR SHARE OF s
			ON CONFLICT (subscription_id, event_id) WHERE redelivery_of IS NULL DO NOTHING`,
			tenantID, after, out.Upto, DeliveryPending, now, WebhookActive); err != nil {
			return fmt.Errorf("create deliveries: %w", err)
		}
		if err := tx.SelectContext(ctx, &out.Queues, `
			SELECT DISTINCT tenant_id, subscription_id, contract_id FROM webhook_deliveries
			WHERE tenant_id = $1 AND event_seq > $2 AND event_seq <= $3 AND status = $4
			ORDER BY subscription_id, contract_id`, tenantID, after, out.Upto, DeliveryPending); err != nil {
			return fmt.Errorf("list queues to wake: %w", err)
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
// queue with pending deliveries, which may have lost their wake-up when the
// previous dispatcher stopped.
func (s *Store) ResumeWebhookDispatch(ctx context.Context, tenantID string) (WebhookFanOut, error) {
	var out WebhookFanOut
	if err := s.db.GetContext(ctx, &out.Upto, `SELECT coalesce(
			(SELECT seq FROM webhook_cursors WHERE tenant_id = $1),
			(SELECT min(after_seq) FROM webhook_subscriptions WHERE tenant_id = $1 AND status = $2 AND deleted_at IS NULL),
			(SELECT value FROM tenant_counters WHERE tenant_id = $1 AND name = $3),
			0)`, tenantID, WebhookActive, eventCounter); err != nil {
		return out, fmt.Errorf("read webhook cursor: %w", err)
	}
	if err := s.db.SelectContext(ctx, &out.Queues, `
		SELECT DISTINCT tenant_id, subscription_id, contract_id FROM webhook_deliveries
		WHERE tenant_id = $1 AND status = $2 ORDER BY subscription_id, contract_id`, tenantID, DeliveryPending); err != nil {
		return out, fmt.Errorf("list pending queues: %w", err)
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
			e.seq, e.id, e.tenant_id, e.type, e.occurred_at, e.contract_id, e.amendment_id, e.data
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
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $3, failure_reason = $4, updated_at = $5
		WHERE tenant_id = $1 AND id = $2 AND status = $6`, tenantID, deliveryID, status, reason, now, DeliveryPending); err != nil {
		return fmt.Errorf("settle delivery %s: %w", deliveryID, err)
	}
	return nil
}

// disableWebhookOf disables the subscription a delivery belongs to and
// cancels its other pending deliveries.
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
	// Position orders deliveries for paging.
	Position int64 `db:"seq"`
}

const deliveryColumns = `d.id, d.event_id, e.type AS event_type, d.event_seq, d.contract_id, d.status, d.failure_reason,
	d.redelivery_of, d.created_at, d.updated_at, d.seq`

// WebhookDeliveries lists a subscription's deliveries, newest first, before
// position `before` (0: from the newest). It returns the page and whether
// more follow.
func (s *Store) WebhookDeliveries(ctx context.Context, tenantID, subscriptionID string, before int64, pageSize int) ([]WebhookDelivery, bool, error) {
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
	if _, err := uuid.Parse(id); err != nil {
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
// new delivery of the same event, and returns it along with its queue. A
// disabled subscription sends nothing.
func (s *Store) Redeliver(ctx context.Context, tenantID, subscriptionID, deliveryID string, now time.Time) (WebhookDelivery, WebhookQueue, error) {
	var d WebhookDelivery
	q := WebhookQueue{TenantID: tenantID, SubscriptionID: subscriptionID}
	if uuid.Validate(subscriptionID) != nil || uuid.Validate(deliveryID) != nil {
		return d, q, ErrNotFound
	}
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
		id := uuid.NewString()
		res, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_seq, contract_id, status, redelivery_of, created_at, updated_at)
			SELECT $4, tenant_id, subscription_id, event_id, event_seq, contract_id, $5, id, $6, $6 FROM webhook_deliveries
			WHERE tenant_id = $1 AND subscription_id = $2 AND id = $3`,
			tenantID, subscriptionID, deliveryID, id, DeliveryPending, now)
		if err := affectedOne(res, err, "queue redelivery"); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &d, `SELECT `+deliveryColumns+`
			FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.id = $1`, id); err != nil {
			return fmt.Errorf("load redelivery: %w", err)
		}
		d.Attempts = []WebhookAttempt{}
		return nil
	})
	q.ContractID = d.ContractID
	return d, q, err
}
