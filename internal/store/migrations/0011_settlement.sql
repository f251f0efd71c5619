-- Settlement: what is still due on each invoice, the payment each collection
-- took, and credit notes applied to later invoices. The ledger balances per
-- invoice: total = collected payments + credits applied + amount_due.

-- amount_due is what is still to be collected; a credit (negative invoice)
-- owes nothing. paid_up_front marks an amendment invoice paid by the
-- crossgrade's own authorisation: billing runs never collect it.
ALTER TABLE invoices
    ADD COLUMN amount_due bigint NOT NULL DEFAULT 0 CHECK (amount_due >= 0),
    ADD COLUMN paid_up_front boolean NOT NULL DEFAULT false;

UPDATE invoices i SET paid_up_front = true FROM amendments a
WHERE a.id = i.amendment_id AND (a.quote -> 'crossgrade' ->> 'paymentAmount')::bigint > 0;
-- A crossgrade whose capture was recorded before this migration was paid.
UPDATE invoices i SET status = 'PAID' WHERE i.paid_up_front AND i.status = 'OPEN'
    AND EXISTS (SELECT 1 FROM amendment_events e WHERE e.amendment_id = i.amendment_id AND e.status = 'PAYMENT_CAPTURED');
UPDATE invoices SET amount_due = total WHERE status IN ('OPEN', 'UNPAID') AND total > 0;

-- The amount a collection took (NULL when it took nothing).
ALTER TABLE invoice_payment_attempts ADD COLUMN amount bigint CHECK (amount > 0);
UPDATE invoice_payment_attempts a SET amount = i.total FROM invoices i
WHERE i.id = a.invoice_id AND a.outcome = 'COLLECTED';
-- Crossgrade captures settle their invoice as attempt 0.
INSERT INTO invoice_payment_attempts (invoice_id, tenant_id, attempt, outcome, payment_id, amount, at)
SELECT i.id, i.tenant_id, 0, 'COLLECTED', NULL, i.total, i.created_at
FROM invoices i WHERE i.paid_up_front AND i.status = 'PAID' AND i.total > 0
ON CONFLICT DO NOTHING;

CREATE INDEX invoices_to_collect ON invoices (tenant_id, contract_id, period_start)
    WHERE status = 'OPEN' AND NOT paid_up_front;

-- A credit (a negative amendment invoice: downgrade, cancellation) becomes a
-- credit note, one per invoice, applied to the contract's next invoices
-- until remaining is 0.
CREATE TABLE credit_notes (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    contract_id uuid NOT NULL REFERENCES contracts (id),
    invoice_id  uuid NOT NULL UNIQUE REFERENCES invoices (id),
    currency    text NOT NULL,
    amount      bigint NOT NULL CHECK (amount > 0),
    remaining   bigint NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    created_at  timestamptz NOT NULL
);
CREATE INDEX credit_notes_available ON credit_notes (contract_id, created_at, id) WHERE remaining > 0;
CREATE INDEX credit_notes_by_tenant ON credit_notes (tenant_id, contract_id);

INSERT INTO credit_notes (id, tenant_id, contract_id, invoice_id, currency, amount, remaining, created_at)
SELECT gen_random_uuid(), tenant_id, contract_id, id, currency, -total, -total, created_at
FROM invoices WHERE total < 0;

-- Each application of a credit note to an invoice, once per pair: an
-- invoice takes credit only in the transaction that issues it.
CREATE TABLE credit_note_applications (
    credit_note_id uuid NOT NULL REFERENCES credit_notes (id),
    invoice_id     uuid NOT NULL REFERENCES invoices (id),
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    amount         bigint NOT NULL CHECK (amount > 0),
    applied_at     timestamptz NOT NULL,
    PRIMARY KEY (credit_note_id, invoice_id)
);
CREATE INDEX credit_note_applications_by_invoice ON credit_note_applications (invoice_id);
