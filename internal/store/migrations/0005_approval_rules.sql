-- Approval rules per tenant, and when a held amendment's review expires.

CREATE TABLE approval_rules (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
    rules      jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by uuid NOT NULL
);

ALTER TABLE amendments ADD COLUMN review_expires_at timestamptz;

-- The approvers' inbox: amendments in REVIEW, oldest first.
CREATE INDEX amendments_in_review ON amendments (tenant_id, created_at, id) WHERE status = 'REVIEW';

-- Approval and escalation happen at most once per amendment; a retried
-- activity must not record them twice.
CREATE UNIQUE INDEX amendment_events_once ON amendment_events (amendment_id, status) WHERE status IN ('APPROVED', 'ESCALATED');
