-- People by name: every key carries the display name its actor is shown
-- with beside its uuid wherever an answer names an actor. Keys issued before
-- names existed get the default a nameless key gets today (store.NewKey):
-- the customer's account for a customer key, its roles for any other.
ALTER TABLE api_keys ADD COLUMN display_name text;

UPDATE api_keys SET display_name = CASE
    WHEN source = 'CUSTOMER' THEN left('Customer ' || account_number, 100)
    ELSE left(array_to_string(roles, ', ') || ' key', 100)
END;

ALTER TABLE api_keys ALTER COLUMN display_name SET NOT NULL;

-- The same bound the CLI checks (auth.CheckDisplayName): 1 to 100
-- characters, not only blanks. Postgres text cannot hold a NUL at all.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_display_name_bounds
    CHECK (char_length(display_name) BETWEEN 1 AND 100 AND btrim(display_name) <> '');

-- Answers resolve the actors they show by (tenant, actor) in one lookup.
CREATE INDEX api_keys_tenant_actor ON api_keys (tenant_id, actor_id);
