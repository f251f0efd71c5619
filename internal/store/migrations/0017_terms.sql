-- Contract terms: what happens when a contract's term ends (see
-- internal/domain/terms.go and the README's "Contract terms").

ALTER TABLE contracts
    -- AUTO_RENEW opens a RENEWAL amendment noticeDays before the term ends;
    -- EXPIRE ends the contract on its expiration date; EVERGREEN rolls on
    -- past it until cancelled. Contracts stored before terms existed had
    -- no way to set them: they take the tenant default there was, EXPIRE.
    ADD COLUMN renewal_mode text NOT NULL DEFAULT 'EXPIRE'
        CHECK (renewal_mode IN ('AUTO_RENEW', 'EXPIRE', 'EVERGREEN')),
    ADD COLUMN renewal_term_months int NOT NULL DEFAULT 12 CHECK (renewal_term_months BETWEEN 1 AND 120),
    -- Basis points added to every unit price on renewal (350 = 3.5 %).
    ADD COLUMN renewal_uplift_bp int NOT NULL DEFAULT 0 CHECK (renewal_uplift_bp BETWEEN -10000 AND 10000),
    ADD COLUMN renewal_notice_days int NOT NULL DEFAULT 30 CHECK (renewal_notice_days BETWEEN 0 AND 365),
    -- The first day of the current term: NULL during the first term (it
    -- starts on effective_date), the renewal's date after one.
    ADD COLUMN term_start date,
    -- The term end a ContractTermWorkflow was started for, so that the
    -- daily sweep starts each term's workflow once.
    ADD COLUMN term_watched date,
    ADD CONSTRAINT contracts_term_inside CHECK (term_start IS NULL OR (term_start > effective_date AND term_start < expiration_date));

-- One renewal per term end, unless it failed (a renewal that failed
-- because the contract was to be cancelled may be opened again once the
-- cancellation is withdrawn).
CREATE UNIQUE INDEX amendments_one_renewal_per_term ON amendments (contract_id, effective_date)
    WHERE action = 'RENEWAL' AND status <> 'FAILED';

-- When the current term's workflow is due to start: the renewal's notice
-- date for AUTO_RENEW, the end itself otherwise.
ALTER TABLE contracts ADD COLUMN term_notice_date date GENERATED ALWAYS AS
    (expiration_date - CASE WHEN renewal_mode = 'AUTO_RENEW' THEN renewal_notice_days ELSE 0 END) STORED;

-- The daily sweep's lookup: the terms not yet watched, by the day they are
-- due, so that a sweep reads the due ones only, however many contracts
-- there are.
CREATE INDEX contracts_terms_to_watch ON contracts (term_notice_date)
    WHERE status = 'active' AND renewal_mode <> 'EVERGREEN' AND term_watched IS DISTINCT FROM expiration_date;
