-- A contract's early-termination penalty (contract_termination_id) is held
-- by the database (issue 18). Before this migration only the API checked it,
-- before starting the workflow that writes the contract: a termination
-- deleted in between left a contract pointing at nothing.
--
-- The foreign key refuses the delete (RESTRICT), as the v5 surface's delete
-- does for a termination contracts use: it answers a conflict naming them
-- rather than cascading to contracts or clearing their penalty. Offerings
-- refer to terminations from the catalog document and are detached by the
-- service; period charges are deleted by it first.
--
-- A reference already dangling priced no fee (its charges were gone with
-- it), so clearing it changes no price; each one cleared is a row of
-- schema_repairs, as migration 0009 records its repairs.

WITH dangling AS (
    UPDATE contracts c SET contract_termination_id = NULL
    FROM (SELECT id, contract_termination_id FROM contracts ct
          WHERE contract_termination_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM contract_terminations t
                            WHERE t.tenant_id = ct.tenant_id AND t.id = ct.contract_termination_id)
          ) d
    WHERE c.id = d.id
    RETURNING c.number, d.contract_termination_id
)
INSERT INTO schema_repairs (migration, outcome, kind, subject, detail)
SELECT 14, 'REPAIRED', 'dangling contract termination', number,
    format('contract_termination_id %s named no termination of the tenant; cleared', contract_termination_id)
FROM dangling;

ALTER TABLE contracts ADD CONSTRAINT contracts_contract_termination_fk
    FOREIGN KEY (tenant_id, contract_termination_id) REFERENCES contract_terminations (tenant_id, id)
    ON DELETE RESTRICT;
