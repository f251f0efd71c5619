-- Discount code redemptions: one row per applied crossgrade that used a code,
-- written in the transaction that applies it. The per-code counter row is
-- what concurrent redemptions of one code lock, so a total limit holds.

CREATE TABLE discount_redemptions (
    amendment_id uuid PRIMARY KEY REFERENCES amendments (id),
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    contract_id  uuid NOT NULL REFERENCES contracts (id),
    code         text NOT NULL,
    redeemed_at  timestamptz NOT NULL
);
CREATE INDEX discount_redemptions_by_contract ON discount_redemptions (contract_id, code);

CREATE TABLE discount_code_usage (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    code        text NOT NULL,
    redemptions bigint NOT NULL CHECK (redemptions >= 0),
    PRIMARY KEY (tenant_id, code)
);

-- Crossgrades applied before redemptions were recorded count too.
INSERT INTO discount_redemptions (amendment_id, tenant_id, contract_id, code, redeemed_at)
SELECT id, tenant_id, contract_id, quote -> 'crossgrade' -> 'discount' ->> 'code', updated_at
FROM amendments
WHERE status = 'APPLIED' AND quote -> 'crossgrade' -> 'discount' ->> 'code' IS NOT NULL;

INSERT INTO discount_code_usage (tenant_id, code, redemptions)
SELECT tenant_id, code, count(*) FROM discount_redemptions GROUP BY tenant_id, code;
