-- Early-termination penalty definitions (the Contract/Termination v5 surface)
-- and their period charges: the fee a contract owes when cancelled with a
-- given number of whole months left in its term.

CREATE TABLE contract_terminations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    penalty_service_id bigint NOT NULL,
    name               text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    created_by         uuid NOT NULL,
    updated_by         uuid NOT NULL,
    -- The target of the period charges' foreign key, so a charge can only
    -- belong to a termination of its own tenant.
    UNIQUE (tenant_id, id)
);

-- Overlapping month ranges are refused by the service, which checks a
-- termination's whole set of charges while holding the termination's row lock.
CREATE TABLE contract_termination_period_charges (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id               uuid NOT NULL,
    contract_termination_id bigint NOT NULL,
    start_month             bigint NOT NULL CHECK (start_month >= 0),
    end_month               bigint NOT NULL,
    amount                  bigint NOT NULL CHECK (amount >= 0),
    currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    created_by              uuid NOT NULL,
    updated_by              uuid NOT NULL,
    CHECK (end_month >= start_month),
    FOREIGN KEY (tenant_id, contract_termination_id) REFERENCES contract_terminations (tenant_id, id)
);
CREATE INDEX contract_termination_period_charges_by_termination
    ON contract_termination_period_charges (tenant_id, contract_termination_id, start_month);

-- Deleting a termination first looks for the contracts that use it.
CREATE INDEX contracts_by_termination ON contracts (tenant_id, contract_termination_id)
    WHERE contract_termination_id IS NOT NULL;
