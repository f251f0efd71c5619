-- A schedule event's place in its contract's history, from 1, as a
-- segment has (0009). A read of a contract shows its newest events and
-- counts them all, and the history is listed a page at a time; before this,
-- the count was a count(*) over the contract's events at every read and a
-- page numbered every event before it (row_number with OFFSET), both
-- growing with the history. With it, the newest event's position is the
-- count and a page starts at an index seek.
--
-- Every event of a contract is written under the contract's lock (its
-- creation, a schedule change, its test clock's deletion), one past the
-- newest; the unique key refuses a second event at one place should that
-- ever not hold, rather than fork the history.
--
-- The migration holds the table while it rewrites every row (one
-- transaction): a million events (189 MB, one a contract) took 15.9 s on
-- a 2-core machine, and contract reads and schedule changes wait that long. A process from before it inserts
-- events without a position, which NOT NULL refuses: stop the old api and
-- worker before migrating, as for 0009.

-- Events are listed and found by position from here on; ids follow the
-- same order. Dropped first, so the rewrite below does not maintain it.
DROP INDEX schedule_events_by_contract;

ALTER TABLE schedule_events ADD COLUMN position bigint;

UPDATE schedule_events e SET position = o.position
FROM (SELECT id, row_number() OVER (PARTITION BY contract_id ORDER BY id) AS position FROM schedule_events) o
WHERE e.id = o.id;

ALTER TABLE schedule_events ALTER COLUMN position SET NOT NULL,
    ADD CONSTRAINT schedule_events_position_from_one CHECK (position >= 1),
    ADD CONSTRAINT schedule_events_one_per_position UNIQUE (contract_id, position);
