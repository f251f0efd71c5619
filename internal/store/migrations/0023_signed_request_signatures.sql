-- A signed change (not a read) is accepted once: each signature a signing key sends is
-- kept until its timestamp leaves the window the API accepts it in, and a
-- request that repeats one is refused. Without this, a captured request
-- could be sent again for five minutes (a probe made three contracts with
-- one signed contract-actions request). Rows of a key past their expiry are
-- deleted when the key next signs.
CREATE TABLE signed_request_signatures (
    key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    signature text NOT NULL CHECK (length(signature) = 64),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (key_id, signature)
);
