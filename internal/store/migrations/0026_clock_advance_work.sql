-- The work each test clock's advance under way holds of its tenant's
-- budget (domain.MaxClockAdvanceWork is shared by a tenant's advances under
-- way; see internal/store/test_clock_budget.go). A row counts only while
-- its clock is advancing: one left by an advance that ended counts for
-- nothing, and the clock's next advance writes over it.
CREATE TABLE clock_advance_work (
    clock_id  uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    work      int NOT NULL CHECK (work >= 0),
    CONSTRAINT clock_advance_work_clock FOREIGN KEY (clock_id, tenant_id) REFERENCES test_clocks (id, tenant_id)
);
CREATE INDEX clock_advance_work_by_tenant ON clock_advance_work (tenant_id);
