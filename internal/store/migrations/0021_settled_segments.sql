-- A segment is settled once its successor exists: the change that added the
-- successor closed it (expired or superseded) in the same statement, and
-- nothing changes it after that. The database refuses any UPDATE of it from
-- then on: a process may then keep a contract's settled segments decoded and
-- read only the ones that follow them (see store.segmentCache). The chain
-- itself is fixed already (contract_segments_chain_fixed, migration 0009).
-- A successor is added only by store's segmentClose and segmentRow (named
-- segmentInsert when this migration was written), whose UPDATE of the
-- predecessor comes first and takes its row lock, so no update of it can be
-- under way when the successor commits.
--
-- A later migration that must rewrite history disables this trigger for its
-- own statements, and the processes that hold segments restart after it.
CREATE FUNCTION contract_segments_settled() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM contract_segments WHERE previous_segment_id = OLD.id) THEN
        RAISE EXCEPTION 'segment %: a segment with a successor is settled and cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER contract_segments_settled BEFORE UPDATE ON contract_segments
    FOR EACH ROW EXECUTE FUNCTION contract_segments_settled();
