-- A schedule is in arrears only while it owes: the dunning that ran out
-- left an invoice UNPAID, and once nothing is unpaid (a resumed attempt
-- paid, credit covered it) the service now takes the arrears off in the
-- transaction that paid (store's clearPaidArrears). Before this release
-- nothing did, so a schedule whose arrears were paid showed inArrears for
-- good; those are cleared here, each a row of schema_repairs, as migration
-- 0009 records its repairs.

WITH paid AS (
    UPDATE contracts c SET schedule_in_arrears = false
    WHERE c.schedule_in_arrears
        AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.contract_id = c.id AND i.status = 'UNPAID')
    RETURNING c.number
)
INSERT INTO schema_repairs (migration, outcome, kind, subject, detail)
SELECT 25, 'REPAIRED', 'arrears paid off', number, 'schedule in arrears with no unpaid invoice; arrears cleared'
FROM paid;
