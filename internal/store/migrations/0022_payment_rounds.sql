-- A payment step is recorded once per authorisation, not once per
-- amendment: an amendment whose up-front payment was priced again while it
-- waited its turn is authorised again, after its first authorisation was
-- voided. Each payment step's note names the provider's reference (and the
-- amount), which a retried step repeats and another authorisation's does
-- not. A decision and an escalation still happen once.
DROP INDEX amendment_events_once;
CREATE UNIQUE INDEX amendment_events_once ON amendment_events (amendment_id, status)
    WHERE status IN ('APPROVED', 'ESCALATED');
CREATE UNIQUE INDEX amendment_payment_events_once ON amendment_events (amendment_id, status, note)
    WHERE status IN ('PAYMENT_AUTHORISED', 'PAYMENT_CAPTURED', 'PAYMENT_VOIDED');
