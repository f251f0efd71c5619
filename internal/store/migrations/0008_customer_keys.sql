-- Customer keys: a key of source CUSTOMER acts for one account of its tenant
-- (by the account number contracts are created with), every other key for
-- the whole tenant. There is no foreign key to accounts: a customer's key may
-- exist before its account's first contract does, and creating that contract
-- is one of the things the key may do.
ALTER TABLE api_keys ADD COLUMN account_number text;

-- The binding and the source cannot disagree: a customer key without an
-- account would see the whole tenant.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_customer_account
    CHECK ((source = 'CUSTOMER') = (account_number IS NOT NULL) AND account_number <> '');

-- A customer may submit changes to its own contracts, never decide them or
-- administer the tenant.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_customer_submitter_only
    CHECK (source <> 'CUSTOMER' OR roles = ARRAY['submitter']);
