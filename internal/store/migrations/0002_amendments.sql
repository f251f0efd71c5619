-- Amendments (one durable workflow each), their status history, and invoices.

CREATE TABLE amendments (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    contract_id     uuid NOT NULL REFERENCES contracts (id),
    action          text NOT NULL,
    status          text NOT NULL,
    effective_date  date NOT NULL,
    base_version    bigint NOT NULL,
    quote           jsonb NOT NULL,
    request         jsonb NOT NULL,
    request_hash    text NOT NULL,
    idempotency_key text,
    workflow_id     text NOT NULL,
    matched_rule    jsonb,
    source          text NOT NULL,
    submitted_by    uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
-- At most one open amendment per contract, enforced by the database.
CREATE UNIQUE INDEX amendments_one_open_per_contract ON amendments (contract_id)
    WHERE status IN ('PENDING', 'REVIEW', 'SCHEDULED');
CREATE INDEX amendments_by_contract ON amendments (tenant_id, contract_id, created_at, id);
CREATE INDEX amendments_by_status ON amendments (tenant_id, status, created_at, id);

CREATE TABLE amendment_events (
    id           bigserial PRIMARY KEY,
    amendment_id uuid NOT NULL REFERENCES amendments (id),
    status       text NOT NULL,
    actor_id     text NOT NULL,
    source       text NOT NULL,
    note         text,
    at           timestamptz NOT NULL
);
CREATE INDEX amendment_events_by_amendment ON amendment_events (amendment_id, id);

-- Invoices: recurring ones (one per contract per billing period) and those an
-- amendment raises for its prorated amount (one per amendment).
CREATE TABLE invoices (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    contract_id  uuid NOT NULL REFERENCES contracts (id),
    amendment_id uuid UNIQUE REFERENCES amendments (id),
    kind         text NOT NULL CHECK (kind IN ('RECURRING', 'AMENDMENT')),
    period_start date NOT NULL,
    period_end   date NOT NULL,
    currency     text NOT NULL,
    lines        jsonb NOT NULL,
    total        bigint NOT NULL,
    status       text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX invoices_one_recurring_per_period ON invoices (contract_id, period_start) WHERE kind = 'RECURRING';
CREATE INDEX invoices_by_contract ON invoices (tenant_id, contract_id, created_at);
