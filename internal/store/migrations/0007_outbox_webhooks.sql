-- Domain events (the transactional outbox) and the webhooks that deliver them:
-- subscriptions, one delivery per event and subscription, and every attempt.

-- Each state change appends its event in the transaction that makes the
-- change. seq numbers a tenant's events in commit order (insertOutboxEvent
-- takes it from tenant_counters, whose row lock is held until commit), so a
-- reader paging by seq never skips an event that commits late.
-- contract_id and amendment_id have no foreign keys on purpose: checking one
-- would lock the contract row after the counter, and a transaction that locked
-- the contract first and then waits for the counter would deadlock with it.
CREATE TABLE outbox_events (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    seq          bigint NOT NULL,
    id           uuid NOT NULL UNIQUE,
    type         text NOT NULL,
    contract_id  uuid NOT NULL,
    amendment_id uuid,
    data         jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX outbox_events_by_type ON outbox_events (tenant_id, type, seq);

-- The signing secret is stored as issued: an HMAC needs it, so unlike an API
-- key it cannot be hashed. Whoever reads this table can sign as us.
CREATE TABLE webhook_subscriptions (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    url             text NOT NULL,
    event_types     text[] NOT NULL,
    description     text NOT NULL,
    secret          text NOT NULL,
    status          text NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
    disabled_reason text,
    -- Events up to this sequence happened before the subscription existed.
    after_seq       bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      uuid NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz
);
CREATE INDEX webhook_subscriptions_by_tenant ON webhook_subscriptions (tenant_id, created_at) WHERE deleted_at IS NULL;

-- The last event a tenant's dispatcher fanned out to deliveries, where a
-- restarted dispatcher resumes.
CREATE TABLE webhook_cursors (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    seq       bigint NOT NULL
);

-- One event to one subscription. The pending deliveries of one subscription
-- about one contract form a queue, delivered in event order.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    -- Listing order only.
    seq             bigserial NOT NULL UNIQUE,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    event_id        uuid NOT NULL REFERENCES outbox_events (id),
    event_seq       bigint NOT NULL,
    contract_id     uuid NOT NULL,
    status          text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELLED')),
    failure_reason  text,
    -- Set on a delivery an operator asked to be sent again.
    redelivery_of   uuid REFERENCES webhook_deliveries (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
-- An event reaches a subscription once however often it is fanned out.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (subscription_id, event_id) WHERE redelivery_of IS NULL;
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (tenant_id, subscription_id, contract_id, event_seq, created_at)
    WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (tenant_id, event_seq) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (tenant_id, subscription_id, seq);

CREATE TABLE webhook_attempts (
    delivery_id   uuid NOT NULL REFERENCES webhook_deliveries (id),
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    attempt       int NOT NULL CHECK (attempt > 0),
    at            timestamptz NOT NULL,
    -- NULL when no answer came (refused connection, timeout, refused address).
    status_code   int,
    latency_ms    bigint NOT NULL,
    error         text,
    -- At most 1 KiB of what the receiver answered.
    response_body text CHECK (octet_length(response_body) <= 1024),
    PRIMARY KEY (delivery_id, attempt)
);
