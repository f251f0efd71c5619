package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// A tenant's advances under way share domain.MaxClockAdvanceWork (see
// internal/domain/clock_work_refusals.go). Each advance holds, in
// clock_advance_work, the work counted when it started, raised when
// something added to it later counts more; a row counts while its clock
// is advancing, so an advance that ends, or a clock deleted, gives its
// work back without a write. The rest of an advance shrinks as it goes,
// but its hold does not: the bound is held from the start, not estimated
// as steps go by.
//
// Who holds what is read and written under the tenant's clock-work
// advisory lock, taken after the clock's own row lock (or share lock),
// so that two advances started at once, each within the budget alone,
// cannot both take the last of it, and before the clock's contracts are
// read for the count, so that two changes of them at once are counted one
// after the other. Under it a transaction locks no other row a holder of
// the lock could be waiting for: the sum reads rows without locking them;
// the hold written is the clock's own, whose row in clock_advance_work
// only a holder of the lock writes (a clock's share lock, which a change
// of one of its contracts takes, would not let it write test_clocks
// itself: two such changes at once would deadlock); and the tenant's
// event counter, which the lock's holders go on to take, is taken by none
// before the lock (lockClockWork). The lock is taken in a statement before
// the sum, whose snapshot, taken after the wait, sees what was committed
// meanwhile.

// clockWorkLockClass is the first key of a tenant's clock-work advisory
// lock; the second is the tenant's id, hashed, as catalogLockKeys.
const clockWorkLockClass = 0x636c6f63 // "cloc"

var clockWorkLockKeys = fmt.Sprintf(`%d, hashtext($1::uuid::text)`, clockWorkLockClass)

// lockClockWork takes the tenant's clock-work lock until tx ends (again,
// if tx holds it already). A change of a contract on an advancing clock
// takes it as soon as it holds the clock shared (lockForOpening), before
// it writes anything: a change applied at once appends its events, taking
// the tenant's event counter, and the lock's holders take the counter
// after the lock.
func lockClockWork(ctx context.Context, tx *sqlx.Tx, tenantID string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+clockWorkLockKeys+`)`, tenantID); err != nil {
		return fmt.Errorf("lock the test clocks' work of tenant %s: %w", tenantID, err)
	}
	return nil
}

// workUnderWay takes the tenant's clock-work lock and returns the work held
// by its advances under way but clockID's, and their clocks, the most
// first.
func workUnderWay(ctx context.Context, tx *sqlx.Tx, tenantID, clockID string) (domain.WorkUnderWay, error) {
	var out domain.WorkUnderWay
	if err := lockClockWork(ctx, tx, tenantID); err != nil {
		return out, err
	}
	var holds []struct {
		ClockID string `db:"clock_id"`
		Work    int    `db:"work"`
	}
	err := tx.SelectContext(ctx, &holds, `SELECT w.clock_id, w.work FROM clock_advance_work w
		JOIN test_clocks c ON c.id = w.clock_id AND c.status = 'advancing'
		WHERE w.tenant_id = $1 AND w.clock_id <> $2 AND w.work > 0 ORDER BY w.work DESC, w.clock_id`, tenantID, clockID)
	if err != nil {
		return out, fmt.Errorf("read the work of tenant %s's advances under way: %w", tenantID, err)
	}
	for _, h := range holds {
		out.Work += h.Work
		out.Clocks = append(out.Clocks, h.ClockID)
	}
	return out, nil
}

// holdWork records work as clockID's hold, under the lock workUnderWay
// took: the hold of an advance starting (replacing a past one's), or,
// raised is set, a larger hold of one under way (never a smaller).
func holdWork(ctx context.Context, tx *sqlx.Tx, tenantID, clockID string, work int, raised bool) error {
	set := `EXCLUDED.work`
	if raised {
		set = `GREATEST(clock_advance_work.work, EXCLUDED.work)`
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO clock_advance_work (clock_id, tenant_id, work) VALUES ($1, $2, $3)
		ON CONFLICT (clock_id) DO UPDATE SET work = `+set, clockID, tenantID, work)
	if err != nil {
		return fmt.Errorf("hold the work of test clock %s's advance: %w", clockID, err)
	}
	return nil
}

// AdvancingClockOf is the test clock of the tenant's contract when that
// clock is advancing, and "" otherwise (a contract on the wall clock, or
// one whose clock is ready or deleted).
func (s *Store) AdvancingClockOf(ctx context.Context, tenantID, contractID string) (string, error) {
	var clockID string
	err := s.db.GetContext(ctx, &clockID, `SELECT COALESCE((SELECT t.id::text FROM contracts c
		JOIN test_clocks t ON t.id = c.test_clock_id AND t.status = 'advancing' WHERE c.tenant_id = $1 AND c.id = $2), '')`, tenantID, contractID)
	if err != nil {
		return "", fmt.Errorf("look up the test clock of contract %s: %w", contractID, err)
	}
	return clockID, nil
}
