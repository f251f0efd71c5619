-- Integrity held by the database (issue 17): one current segment per
-- contract, a linear segment chain, non-negative money where it must be.
--
-- Before this migration, concurrent immediate changes could fork a
-- contract's chain (the current segment was picked by creation time, which
-- is taken before the contract's lock is held), and unchecked arithmetic
-- could store negative amounts. So the migration first repairs what it can,
-- reports the rest, and only then adds the constraints, so that it applies
-- on an existing database. Every repair and finding is a row of
-- schema_repairs and a NOTICE in the migrating process's output.

CREATE TABLE schema_repairs (
    id        bigserial PRIMARY KEY,
    migration int NOT NULL,
    -- REPAIRED: the row was changed; REPORTED: found, left as it was.
    outcome   text NOT NULL CHECK (outcome IN ('REPAIRED', 'REPORTED')),
    kind      text NOT NULL,
    subject   text NOT NULL,
    detail    text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION pg_temp.log_repair(outcome text, kind text, subject text, detail text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schema_repairs (migration, outcome, kind, subject, detail) VALUES (9, outcome, kind, subject, detail);
    RAISE NOTICE 'migration 0009 % %: % (%)', outcome, kind, subject, detail;
END $$;

-- A segment's place in its contract's chain: the first is 1, each next one
-- more. It orders segments as they were applied, whatever their clocks said.
ALTER TABLE contract_segments ADD COLUMN position int;

-- 1. Chains. A contract whose segments already form one chain keeps its
-- order; a forked one is relinked in creation order. Either way every
-- segment gets its position and its predecessor in that order.
CREATE TEMP TABLE segment_order ON COMMIT DROP AS
WITH RECURSIVE walk AS (
    SELECT id, contract_id, 1 AS depth FROM contract_segments WHERE previous_segment_id IS NULL
    UNION ALL
    SELECT s.id, s.contract_id, w.depth + 1
    FROM contract_segments s JOIN walk w ON s.previous_segment_id = w.id AND s.contract_id = w.contract_id
),
-- Linear: the walk from a single root meets every segment, one per depth.
shape AS (
    SELECT s.contract_id,
        count(*) = count(w.id) AND count(DISTINCT w.depth) = count(*)
            AND count(*) FILTER (WHERE s.previous_segment_id IS NULL) = 1 AS linear
    FROM contract_segments s LEFT JOIN walk w ON w.id = s.id
    GROUP BY s.contract_id
),
ordered AS (
    SELECT s.id, s.contract_id, sh.linear,
        row_number() OVER (PARTITION BY s.contract_id
            ORDER BY CASE WHEN sh.linear THEN w.depth END, s.created_at, s.id) AS position
    FROM contract_segments s
    JOIN shape sh ON sh.contract_id = s.contract_id
    LEFT JOIN walk w ON w.id = s.id
)
SELECT o.id, o.contract_id, o.linear, o.position::int AS position,
    lag(o.id) OVER (PARTITION BY o.contract_id ORDER BY o.position) AS previous_id,
    lead(o.id) OVER (PARTITION BY o.contract_id ORDER BY o.position) AS next_id
FROM ordered o;

SELECT pg_temp.log_repair('REPAIRED', 'FORKED_CHAIN', c.number,
    format('%s segments relinked in creation order; %s had another predecessor', count(*), count(*) FILTER (
        WHERE o.previous_id IS DISTINCT FROM s.previous_segment_id)))
FROM segment_order o
JOIN contract_segments s ON s.id = o.id
JOIN contracts c ON c.id = o.contract_id
WHERE NOT o.linear
GROUP BY c.number;

UPDATE contract_segments s SET position = o.position, previous_segment_id = o.previous_id
FROM segment_order o WHERE o.id = s.id;

-- Every segment but the tip is closed, ending where its successor starts.
SELECT pg_temp.log_repair('REPAIRED', 'SUPERSEDED_SEGMENT_OPEN', s.id::text,
    format('contract %s: %s segment at position %s closed', c.number, s.status, o.position))
FROM segment_order o
JOIN contract_segments s ON s.id = o.id
JOIN contracts c ON c.id = o.contract_id
WHERE o.next_id IS NOT NULL AND s.status <> 'expired';

UPDATE contract_segments s SET status = 'expired', expiration_date = n.effective_date
FROM segment_order o JOIN contract_segments n ON n.id = o.next_id
WHERE o.id = s.id AND s.status <> 'expired';

-- The tip is current: it takes its contract's status if it was closed.
SELECT pg_temp.log_repair('REPAIRED', 'CURRENT_SEGMENT_CLOSED', s.id::text,
    format('contract %s: tip reopened as %s', c.number, c.status))
FROM segment_order o
JOIN contract_segments s ON s.id = o.id
JOIN contracts c ON c.id = o.contract_id
WHERE o.next_id IS NULL AND s.status = 'expired';

UPDATE contract_segments s SET status = c.status
FROM segment_order o JOIN contracts c ON c.id = o.contract_id
WHERE o.id = s.id AND o.next_id IS NULL AND s.status = 'expired';

-- A tip whose lines differ from its contract's is reported, not rewritten:
-- the contract row is what pricing and billing read, and which one is right
-- is a person's call.
SELECT pg_temp.log_repair('REPORTED', 'CURRENT_SEGMENT_LINES', c.number,
    format('tip segment %s lines differ from the contract''s', s.id))
FROM segment_order o
JOIN contract_segments s ON s.id = o.id
JOIN contracts c ON c.id = o.contract_id
WHERE o.next_id IS NULL AND s.lines <> c.lines;

-- A contract's version counts its segments; a difference is reported.
SELECT pg_temp.log_repair('REPORTED', 'VERSION_SEGMENTS', c.number,
    format('version %s, %s segments', c.version, (SELECT count(*) FROM contract_segments s WHERE s.contract_id = c.id)))
FROM contracts c
WHERE c.version <> (SELECT count(*) FROM contract_segments s WHERE s.contract_id = c.id);

-- The chain, held: position 1 is the one root, every other segment follows
-- one of its own contract's, no segment has two successors, and a chain
-- once written does not change (so no later update can close a cycle).
ALTER TABLE contract_segments ALTER COLUMN position SET NOT NULL;
ALTER TABLE contract_segments
    ADD CONSTRAINT contract_segments_root_first CHECK (position >= 1 AND (position = 1) = (previous_segment_id IS NULL)),
    ADD CONSTRAINT contract_segments_one_per_position UNIQUE (contract_id, position),
    ADD CONSTRAINT contract_segments_one_successor UNIQUE (previous_segment_id),
    ADD CONSTRAINT contract_segments_contract_id_id UNIQUE (contract_id, id),
    ADD CONSTRAINT contract_segments_previous_same_contract
        FOREIGN KEY (contract_id, previous_segment_id) REFERENCES contract_segments (contract_id, id);
-- One current segment per contract: every other one has ended (expired), or
-- never took effect because a change on the same day replaced it (superseded).
CREATE UNIQUE INDEX contract_segments_one_current ON contract_segments (contract_id) WHERE status NOT IN ('expired', 'superseded');
-- Segments are now listed and found by position; the old index ordered them by creation time.
DROP INDEX contract_segments_by_contract;

CREATE FUNCTION contract_segments_chain_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.previous_segment_id IS DISTINCT FROM OLD.previous_segment_id OR NEW.position <> OLD.position
        OR NEW.contract_id <> OLD.contract_id THEN
        RAISE EXCEPTION 'segment %: a contract''s segment chain cannot be rewritten', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER contract_segments_chain_fixed BEFORE UPDATE OF previous_segment_id, position, contract_id
    ON contract_segments FOR EACH ROW EXECUTE FUNCTION contract_segments_chain_fixed();

-- 2. Money. Amounts that must not be negative are refused from now on.
-- Rows already stored negative (or beyond 10^15 minor units, the mark of an
-- overflow) are reported, not guessed at: a constraint they break is added
-- NOT VALID, which holds every new and updated row, and validated only when
-- no stored row breaks it.
CREATE FUNCTION pg_temp.lines_negative(lines jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_path_exists(lines, '$[*] ? (@.recurringAmount < 0 || exists(@.products[*] ? (@.quantity < 0)))')
$$;
CREATE FUNCTION pg_temp.lines_beyond(lines jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_path_exists(lines, '$[*] ? (@.recurringAmount > 1000000000000000 || @.recurringAmount < -1000000000000000)')
$$;

SELECT pg_temp.log_repair('REPORTED', 'NEGATIVE_AMOUNT', 'contract ' || number, 'a line''s recurring amount or quantity is negative')
FROM contracts WHERE pg_temp.lines_negative(lines);
SELECT pg_temp.log_repair('REPORTED', 'NEGATIVE_AMOUNT', 'segment ' || id, 'a line''s recurring amount or quantity is negative')
FROM contract_segments WHERE pg_temp.lines_negative(lines);
SELECT pg_temp.log_repair('REPORTED', 'NEGATIVE_AMOUNT', 'invoice ' || id, format('recurring invoice total %s', total))
FROM invoices WHERE kind = 'RECURRING' AND total < 0;
SELECT pg_temp.log_repair('REPORTED', 'NEGATIVE_AMOUNT', 'payment ' || id, format('%s of %s', operation, amount))
FROM sandbox_ledger WHERE amount < 0;
SELECT pg_temp.log_repair('REPORTED', 'AMOUNT_OUT_OF_RANGE', 'contract ' || number, 'a line''s recurring amount is beyond 10^15 either way')
FROM contracts WHERE pg_temp.lines_beyond(lines);
SELECT pg_temp.log_repair('REPORTED', 'AMOUNT_OUT_OF_RANGE', 'invoice ' || id, format('total %s', total))
FROM invoices WHERE abs(total::numeric) > 1000000000000000;

-- The line checks spell the path inline: a CHECK cannot call a temporary function.
ALTER TABLE contracts ADD CONSTRAINT contracts_lines_not_negative
    CHECK (NOT jsonb_path_exists(lines, '$[*] ? (@.recurringAmount < 0 || exists(@.products[*] ? (@.quantity < 0)))')) NOT VALID;
ALTER TABLE contract_segments ADD CONSTRAINT contract_segments_lines_not_negative
    CHECK (NOT jsonb_path_exists(lines, '$[*] ? (@.recurringAmount < 0 || exists(@.products[*] ? (@.quantity < 0)))')) NOT VALID;
ALTER TABLE invoices ADD CONSTRAINT invoices_recurring_not_negative CHECK (kind <> 'RECURRING' OR total >= 0) NOT VALID;
ALTER TABLE sandbox_ledger ADD CONSTRAINT sandbox_ledger_amount_not_negative CHECK (amount >= 0) NOT VALID;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM contracts WHERE pg_temp.lines_negative(lines)) THEN
        ALTER TABLE contracts VALIDATE CONSTRAINT contracts_lines_not_negative;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM contract_segments WHERE pg_temp.lines_negative(lines)) THEN
        ALTER TABLE contract_segments VALIDATE CONSTRAINT contract_segments_lines_not_negative;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM invoices WHERE kind = 'RECURRING' AND total < 0) THEN
        ALTER TABLE invoices VALIDATE CONSTRAINT invoices_recurring_not_negative;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM sandbox_ledger WHERE amount < 0) THEN
        ALTER TABLE sandbox_ledger VALIDATE CONSTRAINT sandbox_ledger_amount_not_negative;
    END IF;
END $$;

-- 3. One open amendment per contract is already held by
-- amendments_one_open_per_contract (0002).
