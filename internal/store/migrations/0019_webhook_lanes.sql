-- Webhook lanes: a subscription's deliveries are worked by a fixed number of
-- lane workflows, a contract's always by the same lane (so they stay in
-- order), and a failed delivery waits for its next attempt in Postgres
-- rather than in a workflow of its own (see activities/webhook_lanes.go).

-- The lane of a contract's deliveries: the first four bytes of the MD5 of
-- its id, modulo the number of lanes; flow.WebhookLaneOf computes the same.
CREATE FUNCTION webhook_lane(contract uuid, lanes int) RETURNS int
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ((('x' || substr(md5(contract::text), 1, 8))::bit(32)::bigint) % lanes)::int $$;

ALTER TABLE webhook_deliveries
    ADD COLUMN lane int,
    -- When a pending delivery may be tried (again); NULL once it is settled.
    ADD COLUMN next_attempt_at timestamptz;

-- Existing deliveries take the lane their contract's next ones will (16 is
-- flow.WebhookLanes); pending ones are due at once, as their delivery
-- workflows would try them.
UPDATE webhook_deliveries SET lane = webhook_lane(contract_id, 16),
    next_attempt_at = CASE WHEN status = 'PENDING' THEN updated_at END;

ALTER TABLE webhook_deliveries
    ALTER COLUMN lane SET NOT NULL,
    ADD CONSTRAINT webhook_deliveries_lane_check CHECK (lane >= 0),
    -- A delivery is waiting for an attempt exactly while it is pending.
    ADD CONSTRAINT webhook_deliveries_next_attempt_check CHECK ((status = 'PENDING') = (next_attempt_at IS NOT NULL));

-- A lane's pending deliveries, each contract's in event order: what a lane
-- takes its batches from.
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (tenant_id, subscription_id, lane, contract_id, event_seq, created_at)
    WHERE status = 'PENDING';
