-- Test clocks: a sandbox tenant's contracts may live on a clock of their own
-- that moves only when an operator advances it (see
-- internal/store/test_clocks.go and the README's "Rehearse with a test
-- clock").

-- A sandbox tenant may create test clocks; a production tenant never can,
-- and a tenant with clocks cannot stop being a sandbox (the foreign key
-- below).
ALTER TABLE tenants ADD COLUMN sandbox boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT tenants_id_sandbox UNIQUE (id, sandbox);

CREATE TABLE test_clocks (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    sandbox     boolean NOT NULL DEFAULT true CHECK (sandbox),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The clock's time: what "now" is for every contract on it.
    frozen_time timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('ready', 'advancing', 'deleted')),
    -- Where the advance under way is going.
    target_time timestamptz,
    -- The last days whose daily sweeps ran on this clock: the terms sweep
    -- (00:05) and the billing run (00:30), as the wall clock's Schedules
    -- run them.
    terms_swept_through date NOT NULL,
    billed_through      date NOT NULL,
    -- Advances started, which names each advance's workflow.
    advances    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    created_by  uuid NOT NULL,
    deleted_at  timestamptz,
    CONSTRAINT test_clocks_target CHECK ((status = 'advancing') = (target_time IS NOT NULL)),
    CONSTRAINT test_clocks_forward CHECK (target_time IS NULL OR target_time >= frozen_time),
    CONSTRAINT test_clocks_deleted CHECK ((status = 'deleted') = (deleted_at IS NOT NULL)),
    CONSTRAINT test_clocks_sandbox_tenant FOREIGN KEY (tenant_id, sandbox) REFERENCES tenants (id, sandbox),
    CONSTRAINT test_clocks_id_tenant UNIQUE (id, tenant_id)
);
CREATE INDEX test_clocks_by_tenant ON test_clocks (tenant_id, created_at, id);

-- A contract lives on a clock of its own tenant.
ALTER TABLE contracts ADD COLUMN test_clock_id uuid,
    ADD CONSTRAINT contracts_test_clock FOREIGN KEY (test_clock_id, tenant_id) REFERENCES test_clocks (id, tenant_id);
CREATE INDEX contracts_on_test_clock ON contracts (test_clock_id, ref) WHERE test_clock_id IS NOT NULL;

-- What each running workflow of a clocked contract waits for: the moment
-- on its clock it is due to go on (due_at), or NULL while it is busy (just
-- started, or woken and not yet waiting again). An advance moves the clock
-- to the earliest due moment, wakes what was due, and goes on only once no
-- workflow of the clock is busy: so everything happens in order of its due
-- time, including what earlier steps caused. A row whose workflow has
-- closed is removed when the advance finds it so.
CREATE TABLE test_clock_waits (
    workflow_id text PRIMARY KEY,
    clock_id    uuid NOT NULL REFERENCES test_clocks (id),
    due_at      timestamptz
);
CREATE INDEX test_clock_waits_by_clock ON test_clock_waits (clock_id, due_at);

-- An event's occurred_at is its business time (a test clock's time for a
-- contract on one); recorded_at is when it was written, on the wall clock.
ALTER TABLE outbox_events ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
