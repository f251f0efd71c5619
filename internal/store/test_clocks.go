package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// A test clock is a sandbox tenant's own time. Its contracts read "now"
// from it (domain.Contract.Now), and their workflows wait for it instead of
// for timers: each registers the moment it waits for (RegisterClockWait)
// in test_clock_waits. An advance (workflows.TestClockAdvanceWorkflow)
// steps the clock from one due moment to the next (NextClockStep), wakes
// what was due, and takes the next step only once every workflow of the
// clock waits again or has closed (see migration 0018).

// Test clock statuses.
const (
	ClockReady     = "ready"
	ClockAdvancing = "advancing"
	ClockDeleted   = "deleted"
)

// MaxClockAdvanceYears bounds one advance, in calendar years from the
// clock's time.
const MaxClockAdvanceYears = 10

// MaxContractsPerClock bounds the contracts one clock carries: an advance
// reads all of them at each step.
const MaxContractsPerClock = 100

// MaxClocksPerTenant bounds a tenant's clocks that are not deleted (a
// deleted one never moves again, and nothing waits on it). The workflows of
// a clock's contracts wait on it, open, until it is advanced past what
// they wait for or deleted: bounded, a sandbox's rehearsals hold at most
// 100 clocks of MaxContractsPerClock contracts, and their list a few pages.
const MaxClocksPerTenant = 100

// The wall clock's daily Schedules run the terms sweep at 00:05 and the
// billing run at 00:30 UTC; a test clock runs them at the same times of
// its own days.
const (
	termsSweepTime = 5 * time.Minute
	billingRunTime = 30 * time.Minute
)

// TestClock is a test clock as the API shows it.
type TestClock struct {
	ID         string     `db:"id"`
	TenantID   string     `db:"tenant_id"`
	Name       string     `db:"name"`
	FrozenTime time.Time  `db:"frozen_time"`
	Status     string     `db:"status"`
	TargetTime *time.Time `db:"target_time"`
	Advances   int        `db:"advances"`
	CreatedAt  time.Time  `db:"created_at"`
	CreatedBy  string     `db:"created_by"`
	DeletedAt  *time.Time `db:"deleted_at"`
	// Contracts counts the contracts on the clock.
	Contracts int `db:"contracts"`
}

const testClockColumns = `c.id, c.tenant_id, c.name, c.frozen_time, c.status, c.target_time, c.advances, c.created_at, c.created_by, c.deleted_at,
	(SELECT count(*) FROM contracts k WHERE k.test_clock_id = c.id) AS contracts`

// CreateTestClock stores a new clock of a sandbox tenant, frozen at frozen.
// A tenant has at most MaxClocksPerTenant clocks that are not deleted.
func (s *Store) CreateTestClock(ctx context.Context, tenantID, actorID, name string, frozen, now time.Time) (TestClock, error) {
	id := uuid.NewString()
	frozen = frozen.UTC().Truncate(time.Microsecond)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := roomForAClock(ctx, tx, tenantID); err != nil {
			return err
		}
		// The day the clock starts on has had the sweeps that ran before its
		// time of day.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO test_clocks (id, tenant_id, name, frozen_time, status, terms_swept_through, billed_through, created_at, created_by)
			VALUES ($1, $2, $3, $4, 'ready', $5, $6, $7, $8)`,
			id, tenantID, name, frozen, domain.DateOf(frozen.Add(-termsSweepTime)), domain.DateOf(frozen.Add(-billingRunTime)), now, actorID); err != nil {
			return fmt.Errorf("insert test clock: %w", err)
		}
		return nil
	})
	if err != nil {
		return TestClock{}, err
	}
	return s.TestClock(ctx, tenantID, id)
}

// roomForAClock refuses a new clock to a tenant that is not a sandbox
// (403), or that has MaxClocksPerTenant clocks not deleted (409). The
// tenant's row, locked until tx ends, serialises its clocks' creations
// (as CreateWebhook's), so two at once cannot both take the last place:
// the count is a statement of its own, whose snapshot is taken once the
// lock is held. NO KEY UPDATE leaves the key share locks of the tenant's
// other inserts free.
func roomForAClock(ctx context.Context, tx *sqlx.Tx, tenantID string) error {
	var sandbox bool
	if err := tx.GetContext(ctx, &sandbox, `SELECT sandbox FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID); err != nil {
		return fmt.Errorf("look up tenant: %w", err)
	}
	if !sandbox {
		return domain.Errorf(domain.KindForbidden, "", "test clocks are for sandbox tenants only; this tenant is not one")
	}
	var held int
	if err := tx.GetContext(ctx, &held, `SELECT count(*) FROM test_clocks WHERE tenant_id = $1 AND status <> 'deleted'`, tenantID); err != nil {
		return fmt.Errorf("count test clocks: %w", err)
	}
	if held >= MaxClocksPerTenant {
		return domain.Errorf(domain.KindConflict, "", "a tenant has at most %d test clocks that are not deleted; delete one (DELETE /api/test-clocks/{id}) to create another", MaxClocksPerTenant)
	}
	return nil
}

// clockForNewContracts locks the tenant's clock for n new contracts and
// returns its time, which they are created at; a deleted clock, or one
// that would carry more than MaxContractsPerClock, takes none.
func clockForNewContracts(ctx context.Context, tx *sqlx.Tx, tenantID, id string, n int) (time.Time, error) {
	c, err := lockClock(ctx, tx, tenantID, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return time.Time{}, domain.Errorf(domain.KindInvalid, "testClockId", "testClockId %s is not a test clock of this tenant", id)
	case err != nil:
		return time.Time{}, err
	case c.Status == ClockDeleted:
		return time.Time{}, domain.Errorf(domain.KindUnprocessable, "testClockId", "test clock %s is deleted", id)
	}
	// Counted again now that the clock is locked: the count lockClock read
	// came from its statement's snapshot, taken before it waited for the
	// lock, so it missed the contracts of the creation that held the lock,
	// and concurrent creations each passed the bound.
	var carried int
	if err := tx.GetContext(ctx, &carried, `SELECT count(*) FROM contracts WHERE test_clock_id = $1`, c.ID); err != nil {
		return time.Time{}, fmt.Errorf("count test clock contracts: %w", err)
	}
	if carried+n > MaxContractsPerClock {
		return time.Time{}, domain.Errorf(domain.KindUnprocessable, "testClockId", "test clock %s carries %d contracts; a clock carries up to %d", id, carried, MaxContractsPerClock)
	}
	return c.FrozenTime, nil
}

// TestClock reads one of the tenant's clocks, deleted ones included.
func (s *Store) TestClock(ctx context.Context, tenantID, id string) (TestClock, error) {
	id, ok := canonicalID(id)
	if !ok {
		return TestClock{}, ErrNotFound
	}
	var c TestClock
	err := s.db.GetContext(ctx, &c, `SELECT `+testClockColumns+` FROM test_clocks c WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("load test clock: %w", err)
	}
	return c, nil
}

// TestClocks lists the tenant's clocks that are not deleted, oldest first,
// a page after the clock afterID.
func (s *Store) TestClocks(ctx context.Context, tenantID, afterID string, limit int) ([]TestClock, bool, error) {
	var rows []TestClock
	var err error
	if afterID == "" {
		err = s.db.SelectContext(ctx, &rows, `SELECT `+testClockColumns+` FROM test_clocks c
			WHERE c.tenant_id = $1 AND c.status <> 'deleted' ORDER BY c.created_at, c.id LIMIT $2`, tenantID, limit+1)
	} else {
		err = s.db.SelectContext(ctx, &rows, `SELECT `+testClockColumns+` FROM test_clocks c
			WHERE c.tenant_id = $1 AND c.status <> 'deleted' AND (c.created_at, c.id) > (SELECT created_at, id FROM test_clocks WHERE tenant_id = $1 AND id = $3)
			ORDER BY c.created_at, c.id LIMIT $2`, tenantID, limit+1, afterID)
	}
	if err != nil {
		return nil, false, fmt.Errorf("list test clocks: %w", err)
	}
	rows, more := page(rows, limit)
	return rows, more, nil
}

// lockClock locks the tenant's clock for a change and reads it. The lock
// leaves the clock's key alone (FOR NO KEY UPDATE): a row that names the
// clock, as a workflow's hold does, is inserted under it without waiting.
// A deletion holds the clock while it locks the clock's contracts one by
// one, and a change holding one of those holds the clock for its workflow
// before it commits: with FOR UPDATE, each would wait for the other.
func lockClock(ctx context.Context, tx *sqlx.Tx, tenantID, id string) (TestClock, error) {
	id, ok := canonicalID(id)
	if !ok {
		return TestClock{}, ErrNotFound
	}
	var c TestClock
	err := tx.GetContext(ctx, &c, `SELECT `+testClockColumns+` FROM test_clocks c WHERE c.tenant_id = $1 AND c.id = $2 FOR NO KEY UPDATE`, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("lock test clock: %w", err)
	}
	return c, nil
}

// StartAdvance records that the clock is advancing to `to` and returns it
// with the number of its advance (which names the advance's workflow). A
// clock moves forward only, by up to MaxClockAdvanceYears and as far as
// domain.MaxClockAdvanceWork lets it (a *domain.TooMuchWork otherwise, which
// says how far), one advance at a time; advancing to where it stands
// changes nothing (the clock is returned ready). The work is counted under
// the clock's lock, which a contract created on it takes too, and held of
// the tenant's budget, which its other advances under way share
// (test_clock_budget.go).
func (s *Store) StartAdvance(ctx context.Context, tenantID, id string, to time.Time) (TestClock, error) {
	id, to = asStored(id), to.UTC().Truncate(time.Microsecond)
	var out TestClock
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockClock(ctx, tx, tenantID, id)
		switch {
		case err != nil:
			return err
		case c.Status == ClockDeleted:
			return domain.Errorf(domain.KindConflict, "", "test clock %s is deleted", id)
		case c.Status == ClockAdvancing:
			return domain.Errorf(domain.KindConflict, "", "test clock %s is advancing to %s already; wait until it is ready (a read that shows it stopped: repeat that advance, or delete the clock)", id, c.TargetTime.Format(time.RFC3339))
		case to.Before(c.FrozenTime):
			return domain.Errorf(domain.KindUnprocessable, "to", "a test clock never moves back: %s is before its time, %s", to.Format(time.RFC3339Nano), c.FrozenTime.Format(time.RFC3339Nano))
		case to.After(c.FrozenTime.AddDate(MaxClockAdvanceYears, 0, 0)):
			return domain.Errorf(domain.KindUnprocessable, "to", "one advance moves a test clock by up to %d years; %s is further from its time, %s",
				MaxClockAdvanceYears, to.Format(time.RFC3339Nano), c.FrozenTime.Format(time.RFC3339Nano))
		case to.Equal(c.FrozenTime):
			out = c
			return nil
		}
		contracts, err := clockContracts(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		underWay, err := workUnderWay(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		w, err := domain.CheckClockAdvance(id, contracts, c.FrozenTime, to, underWay)
		if err != nil {
			return err
		}
		if err := holdWork(ctx, tx, tenantID, id, w.Work.Total(), false); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE test_clocks SET status = 'advancing', target_time = $2, advances = advances + 1 WHERE id = $1`, id, to); err != nil {
			return fmt.Errorf("start advancing test clock: %w", err)
		}
		out, err = lockClock(ctx, tx, tenantID, id)
		return err
	})
	return out, err
}

// ClockTime reads a clock's time.
func (s *Store) ClockTime(ctx context.Context, clockID string) (time.Time, error) {
	var t time.Time
	if err := s.db.GetContext(ctx, &t, `SELECT frozen_time FROM test_clocks WHERE id = $1`, clockID); err != nil {
		return t, fmt.Errorf("read test clock %s: %w", clockID, err)
	}
	return t, nil
}
