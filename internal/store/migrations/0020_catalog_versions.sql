-- Every catalog document gets a number no other document of this database
-- gets, on insert and on every update, whoever writes it: a process may then
-- keep a tenant's decoded catalog and tell from the number alone that it is
-- still the stored one (see store.catalogCache). A sequence rather than a
-- counter per row, so that a catalog deleted and inserted again cannot take
-- a number it had before.
CREATE SEQUENCE catalog_versions;

ALTER TABLE catalogs ADD COLUMN version bigint NOT NULL DEFAULT nextval('catalog_versions');

CREATE FUNCTION catalogs_next_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.version := nextval('catalog_versions');
    RETURN NEW;
END
$$;

CREATE TRIGGER catalogs_version BEFORE UPDATE ON catalogs
    FOR EACH ROW EXECUTE FUNCTION catalogs_next_version();
