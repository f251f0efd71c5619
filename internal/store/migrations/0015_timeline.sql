-- The contract timeline: a contract holds many open amendments, each priced
-- against the contract as it will be on its date (see internal/store/timeline.go).

ALTER TABLE amendments
    -- The request as the domain reads it, to price the amendment again when
    -- an earlier change moves the contract under it. NULL for amendments
    -- opened before this migration.
    ADD COLUMN change jsonb,
    -- Bumped whenever the quote is priced again; an approver may name the
    -- version they saw.
    ADD COLUMN quote_version bigint NOT NULL DEFAULT 1 CHECK (quote_version >= 1),
    -- The order the amendment was accepted in (entered PENDING or SCHEDULED)
    -- among its contract's; NULL while in REVIEW.
    ADD COLUMN timeline_seq bigint CHECK (timeline_seq > 0),
    -- Set when the timeline changed the amendment (a new quote, or FAILED)
    -- and its workflow has not yet read it.
    ADD COLUMN rebase_pending boolean NOT NULL DEFAULT false;

-- The last order given on the contract.
ALTER TABLE contracts ADD COLUMN timeline_seq bigint NOT NULL DEFAULT 0 CHECK (timeline_seq >= 0);

-- Until now a contract held at most one open amendment, so each open one
-- that is accepted takes the first place.
UPDATE amendments SET timeline_seq = 1 WHERE status IN ('PENDING', 'SCHEDULED');
UPDATE contracts c SET timeline_seq = 1
    WHERE EXISTS (SELECT 1 FROM amendments a WHERE a.contract_id = c.id AND a.timeline_seq = 1);

DROP INDEX amendments_one_open_per_contract;

-- One place per contract for each accepted amendment.
CREATE UNIQUE INDEX amendments_timeline_order ON amendments (contract_id, timeline_seq) WHERE timeline_seq IS NOT NULL;
-- An accepted open amendment always has its place; one in REVIEW has none yet.
ALTER TABLE amendments ADD CONSTRAINT amendments_accepted_have_order
    CHECK (status NOT IN ('PENDING', 'SCHEDULED') OR timeline_seq IS NOT NULL);
ALTER TABLE amendments ADD CONSTRAINT amendments_review_has_no_order
    CHECK (status <> 'REVIEW' OR timeline_seq IS NULL);
-- At most one open cancellation per contract.
CREATE UNIQUE INDEX amendments_one_open_cancellation ON amendments (contract_id)
    WHERE action = 'CANCELLATION' AND status IN ('PENDING', 'REVIEW', 'SCHEDULED');
-- A contract's open amendments in timeline order.
CREATE INDEX amendments_open_by_contract ON amendments (contract_id, effective_date, timeline_seq)
    WHERE status IN ('PENDING', 'REVIEW', 'SCHEDULED');
-- Amendments whose workflow has yet to learn of a re-pricing.
CREATE INDEX amendments_rebase_pending ON amendments (contract_id) WHERE rebase_pending;
