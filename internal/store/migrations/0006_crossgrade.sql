-- Crossgrades: a discount and a referrer on the contract, one active contract
-- per viewing card, and payment events recorded once per amendment.

ALTER TABLE contracts ADD COLUMN discount jsonb;
ALTER TABLE contracts ADD COLUMN referrer text;

CREATE UNIQUE INDEX contracts_active_viewing_card ON contracts (tenant_id, viewing_card_number)
    WHERE status = 'active' AND viewing_card_number IS NOT NULL;

DROP INDEX amendment_events_once;
CREATE UNIQUE INDEX amendment_events_once ON amendment_events (amendment_id, status)
    WHERE status IN ('APPROVED', 'ESCALATED', 'PAYMENT_AUTHORISED', 'PAYMENT_CAPTURED', 'PAYMENT_VOIDED');
