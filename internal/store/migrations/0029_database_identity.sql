-- One row naming this database, made with its schema. `contractd dev` keeps
-- the name beside its embedded Temporal server's file and refuses to run
-- that file against another database (app.claimTemporalState): a database
-- dropped and made again, with the file kept, had workflows that skipped
-- its work (the webhook dispatcher, for one, carried on after the old
-- database's last event and delivered none of the new one's).
CREATE TABLE database_identity (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    id  uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO database_identity DEFAULT VALUES;
