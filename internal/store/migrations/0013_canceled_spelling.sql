-- One spelling of cancellation: "canceled", as the contract-actions seed's
-- status enum writes it. Contract and segment statuses already use it; the
-- event types "contract.cancelled" and "schedule.cancelled" become
-- "contract.canceled" and "schedule.canceled" in the outbox and in
-- subscriptions (the API still accepts the old names as aliases). The
-- status updates normalise any row written with the other spelling.

UPDATE contracts SET status = 'canceled' WHERE status = 'cancelled';
UPDATE contract_segments SET status = 'canceled' WHERE status = 'cancelled';

UPDATE outbox_events SET type = 'contract.canceled' WHERE type = 'contract.cancelled';
UPDATE outbox_events SET type = 'schedule.canceled' WHERE type = 'schedule.cancelled';

UPDATE webhook_subscriptions
SET event_types = array_replace(array_replace(event_types, 'contract.cancelled', 'contract.canceled'),
                                'schedule.cancelled', 'schedule.canceled')
WHERE event_types && ARRAY['contract.cancelled', 'schedule.cancelled']::text[];

-- A webhook delivery's state too: CANCELLED becomes CANCELED.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check;
UPDATE webhook_deliveries SET status = 'CANCELED' WHERE status = 'CANCELLED';
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check
    CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELED'));
