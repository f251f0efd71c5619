-- Payment schedules: cancel/restart bookkeeping, recurring collection, dunning,
-- and the sandbox payment provider's ledger.

-- A restarted schedule bills periods starting on or after schedule_resumes_on:
-- periods missed while it was Terminated are never back-billed. A schedule
-- whose dunning ran out is in arrears, whatever its status.
ALTER TABLE contracts
    ADD COLUMN schedule_resumes_on date,
    ADD COLUMN schedule_in_arrears boolean NOT NULL DEFAULT false;

-- change_id is the request that made a status change, so a retried change
-- finds its own event instead of failing on the status it already set.
ALTER TABLE schedule_events ADD COLUMN change_id uuid UNIQUE;

-- The billing run that issued a recurring invoice, so a run whose step is
-- retried still counts the invoices it issued before.
ALTER TABLE invoices ADD COLUMN billing_run text;

-- Every collection attempt on a recurring invoice: attempt 0 is the billing
-- run's, 1.. are dunning retries.
CREATE TABLE invoice_payment_attempts (
    invoice_id uuid NOT NULL REFERENCES invoices (id),
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    attempt    int NOT NULL CHECK (attempt >= 0),
    outcome    text NOT NULL CHECK (outcome IN ('COLLECTED', 'DECLINED', 'FAILED')),
    reason     text,
    payment_id text,
    at         timestamptz NOT NULL,
    PRIMARY KEY (invoice_id, attempt)
);
CREATE INDEX invoices_open_recurring ON invoices (tenant_id, contract_id, period_start)
    WHERE kind = 'RECURRING' AND status = 'OPEN';

-- The sandbox provider's side of every payment. It stands in for an external
-- system, so it is keyed by idempotency key, not by tenant.
CREATE TABLE sandbox_ledger (
    id              uuid PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    operation       text NOT NULL CHECK (operation IN ('AUTHORISE', 'CAPTURE', 'VOID', 'REFUND')),
    -- The authorisation a capture or void settles, or the capture a refund returns.
    parent_id       uuid REFERENCES sandbox_ledger (id),
    payment_method  text NOT NULL,
    amount          bigint NOT NULL,
    currency        text NOT NULL,
    approved        boolean NOT NULL,
    decline_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- An authorisation is settled once: captured or voided, never both, never twice.
CREATE UNIQUE INDEX sandbox_ledger_one_settlement ON sandbox_ledger (parent_id)
    WHERE operation IN ('CAPTURE', 'VOID');
CREATE INDEX sandbox_ledger_by_parent ON sandbox_ledger (parent_id);

-- Simulated outages already served per idempotency key (pm_flaky).
CREATE TABLE sandbox_outages (
    idempotency_key text PRIMARY KEY,
    failures        int NOT NULL
);
