-- Credit goes first to what its contract owes (settlement.go's
-- creditOutstanding). Before this release a credit note waited for the
-- contract's next invoice while the invoices issued before it stayed owed,
-- and a cancelled contract's recurring invoices were no longer collected;
-- now they are collected, so the credit a contract already holds is set
-- against them here first, oldest invoice and oldest note first, as the
-- service does with every new note. An invoice covered in full is PAID (a
-- dunning still running for it finds nothing to collect and ends). Each
-- application is a row of schema_repairs, as migration 0009 records its
-- repairs; no event announces it (the outbox tells what the service did).

CREATE OR REPLACE FUNCTION pg_temp.credit_against_owed() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    inv record;
    note record;
    due bigint;
    take bigint;
BEGIN
    FOR inv IN
        SELECT i.id, i.tenant_id, i.contract_id, i.currency, i.amount_due FROM invoices i
        WHERE i.status IN ('OPEN', 'UNPAID') AND i.amount_due > 0 AND NOT i.paid_up_front
            AND EXISTS (SELECT 1 FROM credit_notes n
                        WHERE n.contract_id = i.contract_id AND n.currency = i.currency AND n.remaining > 0)
        ORDER BY i.contract_id, i.period_start, i.created_at, i.id
        FOR UPDATE
    LOOP
        due := inv.amount_due;
        FOR note IN
            SELECT n.id, n.remaining FROM credit_notes n
            WHERE n.contract_id = inv.contract_id AND n.currency = inv.currency AND n.remaining > 0
            ORDER BY n.created_at, n.id
            FOR UPDATE
        LOOP
            EXIT WHEN due = 0;
            take := least(note.remaining, due);
            INSERT INTO credit_note_applications (credit_note_id, invoice_id, tenant_id, amount, applied_at)
            VALUES (note.id, inv.id, inv.tenant_id, take, now())
            ON CONFLICT (credit_note_id, invoice_id) DO UPDATE
                SET amount = credit_note_applications.amount + excluded.amount, applied_at = excluded.applied_at;
            UPDATE credit_notes SET remaining = remaining - take WHERE id = note.id;
            due := due - take;
            INSERT INTO schema_repairs (migration, outcome, kind, subject, detail)
            VALUES (24, 'REPAIRED', 'credit set against an owed invoice', inv.id::text,
                format('credit note %s applied %s of the %s due', note.id, take, inv.amount_due));
        END LOOP;
        IF due < inv.amount_due THEN
            UPDATE invoices SET amount_due = due, status = CASE WHEN due = 0 THEN 'PAID' ELSE status END
            WHERE id = inv.id;
        END IF;
    END LOOP;
END $$;

SELECT pg_temp.credit_against_owed();
