package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The tenant's row serialises its creations, so the cap holds under
		// concurrent requests; the count is a statement of its own, whose
		// snapshot is taken once the lock is held. NO KEY UPDATE leaves the
		// key share locks of the tenant's other inserts free.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, in.TenantID); err != nil {
			return fmt.Errorf("lock the tenant: %w", err)
		}
		var held int
		if err := tx.GetContext(ctx, &held, `
			SELECT count(*) FROM webhook_subscriptions WHERE tenant_id = $1 AND deleted_at IS NULL`, in.TenantID); err != nil {
			return fmt.Errorf("count webhooks: %w", err)
		}
		if held >= MaxWebhooksPerTenant {
			return domain.Errorf(domain.KindConflict, "", "a tenant has at most %d webhook subscriptions; delete one to add another", MaxWebhooksPerTenant)
		}
		if err := tx.GetContext(ctx, &w, `
			INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, description, secret, status, after_seq, created_at, created_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7,
				coalesce((SELECT value FROM tenant_counters WHERE tenant_id = $2 AND name = $8), 0), $9, $10, $9)
			RETURNING `+webhookColumns,
			in.ID, in.TenantID, in.URL, pq.Array(in.Events), in.Description, in.Secret, WebhookActive, eventCounter, now, in.ActorID); err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		return nil
	})
	return w, err
}

// MaxWebhooksPerTenant bounds a tenant's subscriptions: each event is
// delivered to every one, on its own lanes, and their list is one page.
const MaxWebhooksPerTenant = 25

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
	id, ok := canonicalID(id)
	if !ok {
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
	id, ok := canonicalID(id)
	if !ok {
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
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $2, failure_reason = $3, updated_at = $4, next_attempt_at = NULL
		WHERE subscription_id = $1 AND status = $5`, subscriptionID, DeliveryCancelled, reason, now, DeliveryPending); err != nil {
		return fmt.Errorf("cancel pending deliveries: %w", err)
	}
	return nil
}
