-- Tenants, their API keys (hashed), catalogs, accounts and contracts.

CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    prefix     text NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    key_hash   text NOT NULL UNIQUE,
    actor_id   uuid NOT NULL,
    roles      text[] NOT NULL,
    source     text NOT NULL DEFAULT 'USER',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE catalogs (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
    document   jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by uuid NOT NULL
);

-- Per-tenant sequential numbers (CA-…, CT-…), allocated inside the writing transaction.
CREATE TABLE tenant_counters (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name      text NOT NULL,
    value     bigint NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE accounts (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    number     text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (tenant_id, number)
);

CREATE TABLE contract_actions (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    number          text NOT NULL,
    account_id      uuid NOT NULL REFERENCES accounts (id),
    action_type     text NOT NULL,
    idempotency_key text,
    request_hash    text NOT NULL,
    response        jsonb NOT NULL,
    trace_id        text,
    source          text NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      uuid NOT NULL,
    UNIQUE (tenant_id, number),
    UNIQUE (tenant_id, idempotency_key)
);

-- The crossgrade surface addresses contracts by a numeric id.
CREATE SEQUENCE contract_ref_seq;

CREATE TABLE contracts (
    id                      uuid PRIMARY KEY,
    tenant_id               uuid NOT NULL REFERENCES tenants (id),
    account_id              uuid NOT NULL REFERENCES accounts (id),
    contract_action_id      uuid NOT NULL REFERENCES contract_actions (id),
    number                  text NOT NULL,
    ref                     bigint NOT NULL UNIQUE DEFAULT nextval('contract_ref_seq'),
    status                  text NOT NULL,
    effective_date          date NOT NULL,
    expiration_date         date NOT NULL,
    currency                text NOT NULL,
    billing_period          text NOT NULL,
    billing_cycle_day       int NOT NULL CHECK (billing_cycle_day BETWEEN 1 AND 31),
    payment_method          text NOT NULL,
    viewing_card_number     text,
    protected               boolean NOT NULL DEFAULT false,
    contract_termination_id bigint,
    lines                   jsonb NOT NULL,
    schedule_status         text NOT NULL,
    version                 bigint NOT NULL,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    created_by              uuid NOT NULL,
    updated_by              uuid NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX contracts_by_tenant ON contracts (tenant_id, ref);
CREATE INDEX contracts_by_account ON contracts (tenant_id, account_id, ref);
CREATE INDEX contracts_by_status ON contracts (tenant_id, status, ref);

CREATE TABLE contract_segments (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    contract_id         uuid NOT NULL REFERENCES contracts (id),
    previous_segment_id uuid REFERENCES contract_segments (id),
    effective_date      date NOT NULL,
    expiration_date     date NOT NULL,
    currency            text NOT NULL,
    plan_id             text NOT NULL,
    billing_cycle_day   int NOT NULL,
    billing_cycle_type  text NOT NULL,
    status              text NOT NULL,
    lines               jsonb NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    created_by          uuid NOT NULL,
    updated_by          uuid NOT NULL
);
CREATE INDEX contract_segments_by_contract ON contract_segments (contract_id, created_at);

CREATE TABLE schedule_events (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    contract_id uuid NOT NULL REFERENCES contracts (id),
    status      text NOT NULL,
    comment     text,
    actor_id    uuid NOT NULL,
    source      text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX schedule_events_by_contract ON schedule_events (contract_id, id);
