-- Every catalog document gets a version no other document gets, on insert
-- and on every update, whoever writes it: a process may then keep a
-- tenant's decoded catalog and tell from the version alone that it is still
-- the stored one (see store.catalogCache). A random uuid rather than a
-- counter or a sequence: neither a catalog deleted and inserted again, nor a
-- database restored to an earlier point or failed over to a replica that
-- lagged, can hand out a version a process already holds for another
-- document.
ALTER TABLE catalogs ADD COLUMN version uuid NOT NULL DEFAULT gen_random_uuid();

CREATE FUNCTION catalogs_new_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.version := gen_random_uuid();
    RETURN NEW;
END
$$;

-- On insert too, so that a copied row (INSERT ... SELECT *) cannot keep the
-- version of the document it came from.
CREATE TRIGGER catalogs_version BEFORE INSERT OR UPDATE ON catalogs
    FOR EACH ROW EXECUTE FUNCTION catalogs_new_version();
