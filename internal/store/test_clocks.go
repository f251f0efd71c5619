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

// MaxClockAdvance bounds one advance: ten years.
const MaxClockAdvance = 10 * 366 * 24 * time.Hour

// MaxContractsPerClock bounds the contracts one clock carries: an advance
// reads all of them at each step.
const MaxContractsPerClock = 100

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
func (s *Store) CreateTestClock(ctx context.Context, tenantID, actorID, name string, frozen, now time.Time) (TestClock, error) {
	var sandbox bool
	if err := s.db.GetContext(ctx, &sandbox, `SELECT sandbox FROM tenants WHERE id = $1`, tenantID); err != nil {
		return TestClock{}, fmt.Errorf("look up tenant: %w", err)
	}
	if !sandbox {
		return TestClock{}, domain.Errorf(domain.KindForbidden, "", "test clocks are for sandbox tenants only; this tenant is not one")
	}
	id := uuid.NewString()
	frozen = frozen.UTC().Truncate(time.Microsecond)
	// The day the clock starts on has had the sweeps that ran before its
	// time of day.
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO test_clocks (id, tenant_id, name, frozen_time, status, terms_swept_through, billed_through, created_at, created_by)
		VALUES ($1, $2, $3, $4, 'ready', $5, $6, $7, $8)`,
		id, tenantID, name, frozen, domain.DateOf(frozen.Add(-termsSweepTime)), domain.DateOf(frozen.Add(-billingRunTime)), now, actorID); err != nil {
		return TestClock{}, fmt.Errorf("insert test clock: %w", err)
	}
	return s.TestClock(ctx, tenantID, id)
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
	case c.Contracts+n > MaxContractsPerClock:
		return time.Time{}, domain.Errorf(domain.KindUnprocessable, "testClockId", "test clock %s carries %d contracts; a clock carries up to %d", id, c.Contracts, MaxContractsPerClock)
	}
	return c.FrozenTime, nil
}

// TestClock reads one of the tenant's clocks, deleted ones included.
func (s *Store) TestClock(ctx context.Context, tenantID, id string) (TestClock, error) {
	if _, err := uuid.Parse(id); err != nil {
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

// lockClock locks the tenant's clock for a change and reads it.
func lockClock(ctx context.Context, tx *sqlx.Tx, tenantID, id string) (TestClock, error) {
	if _, err := uuid.Parse(id); err != nil {
		return TestClock{}, ErrNotFound
	}
	var c TestClock
	err := tx.GetContext(ctx, &c, `SELECT `+testClockColumns+` FROM test_clocks c WHERE c.tenant_id = $1 AND c.id = $2 FOR UPDATE`, tenantID, id)
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
// clock moves forward only, by up to MaxClockAdvance, one advance at a
// time; advancing to where it stands changes nothing (the clock is
// returned ready).
func (s *Store) StartAdvance(ctx context.Context, tenantID, id string, to time.Time) (TestClock, error) {
	to = to.UTC().Truncate(time.Microsecond)
	var out TestClock
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockClock(ctx, tx, tenantID, id)
		switch {
		case err != nil:
			return err
		case c.Status == ClockDeleted:
			return domain.Errorf(domain.KindConflict, "", "test clock %s is deleted", id)
		case c.Status == ClockAdvancing:
			return domain.Errorf(domain.KindConflict, "", "test clock %s is advancing to %s already; wait until it is ready", id, c.TargetTime.Format(time.RFC3339))
		case to.Before(c.FrozenTime):
			return domain.Errorf(domain.KindUnprocessable, "to", "a test clock never moves back: %s is before its time, %s", to.Format(time.RFC3339), c.FrozenTime.Format(time.RFC3339))
		case to.Sub(c.FrozenTime) > MaxClockAdvance:
			return domain.Errorf(domain.KindUnprocessable, "to", "one advance moves a test clock by up to 10 years; %s is further from its time, %s", to.Format(time.RFC3339), c.FrozenTime.Format(time.RFC3339))
		case to.Equal(c.FrozenTime):
			out = c
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE test_clocks SET status = 'advancing', target_time = $2, advances = advances + 1 WHERE id = $1`, id, to); err != nil {
			return fmt.Errorf("start advancing test clock: %w", err)
		}
		out, err = lockClock(ctx, tx, tenantID, id)
		return err
	})
	return out, err
}

// ClockStep is where the next step of an advance moves the clock: to At,
// where Wake says workflows are due, Sweep that the clock's day is due its
// terms sweep and Bill its billing run (the sweeps' day is At's). Done
// says the advance is over: nothing more was due by its target, and the
// clock stands there, ready.
type ClockStep struct {
	At    time.Time
	Wake  bool
	Sweep bool
	Bill  bool
	Done  bool
}

// NextClockStep records that the advance carried out the step finished
// (zero before its first), then moves the advancing clock to the earliest
// moment by its target at which something is due: a workflow's wait, the
// terms sweep of a day with a notice date not yet watched, or the billing
// run of a day with a period not yet billed. A sweep is recorded done only
// when the advance says it finished it: called again after a crash, before
// the advance learnt of the step, it returns the same step, since what was
// due is due until it has happened. A day whose sweep time the clock
// passed with nothing due is not swept afterwards: what became due later
// (a contract created at the clock's time) waits for the next day's, as on
// the wall clock.
// Long: one transaction that reads every kind of due moment.
func (s *Store) NextClockStep(ctx context.Context, tenantID, id string, finished ClockStep) (ClockStep, error) {
	var step ClockStep
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockClock(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if c.Status != ClockAdvancing {
			step = ClockStep{At: c.FrozenTime, Done: true}
			return nil
		}
		var swept struct {
			Terms  domain.Date `db:"terms_swept_through"`
			Billed domain.Date `db:"billed_through"`
		}
		if err := tx.GetContext(ctx, &swept, `UPDATE test_clocks
			SET terms_swept_through = CASE WHEN $2 THEN greatest(terms_swept_through, $4) ELSE terms_swept_through END,
				billed_through = CASE WHEN $3 THEN greatest(billed_through, $4) ELSE billed_through END
			WHERE id = $1 RETURNING terms_swept_through, billed_through`, id, finished.Sweep, finished.Bill, domain.DateOf(finished.At)); err != nil {
			return fmt.Errorf("record the sweeps of test clock %s: %w", id, err)
		}
		target := *c.TargetTime
		var wait sql.NullTime
		if err := tx.GetContext(ctx, &wait, `SELECT min(due_at) FROM test_clock_waits WHERE clock_id = $1`, id); err != nil {
			return fmt.Errorf("read test clock waits: %w", err)
		}
		sweepAt, err := nextTermsSweep(ctx, tx, id, firstSweepDay(swept.Terms, c.FrozenTime, termsSweepTime))
		if err != nil {
			return err
		}
		billAt, err := nextBillingRun(ctx, tx, tenantID, id, firstSweepDay(swept.Billed, c.FrozenTime, billingRunTime), domain.DateOf(target))
		if err != nil {
			return err
		}
		at := target
		for _, t := range []time.Time{wait.Time, sweepAt, billAt} {
			if !t.IsZero() && t.Before(at) {
				at = t
			}
		}
		at = later(at, c.FrozenTime)
		step = ClockStep{At: at, Wake: wait.Valid && !wait.Time.After(at), Sweep: sweepAt.Equal(at), Bill: billAt.Equal(at)}
		step.Done = !step.Wake && !step.Sweep && !step.Bill
		set := `UPDATE test_clocks SET frozen_time = $2`
		if step.Done {
			set += `, status = 'ready', target_time = NULL`
		}
		if _, err := tx.ExecContext(ctx, set+` WHERE id = $1`, id, at); err != nil {
			return fmt.Errorf("step test clock: %w", err)
		}
		return nil
	})
	return step, err
}

// firstSweepDay is the first day whose daily sweep, at offset into the
// day, may still run on a clock standing at now: after the last day swept,
// and not one whose sweep time the clock has passed.
func firstSweepDay(sweptThrough domain.Date, now time.Time, offset time.Duration) domain.Date {
	day := domain.DateOf(now.Add(-offset))
	if day.Time().Add(offset).Before(now) {
		day = day.AddDays(1) // the clock has passed that day's sweep
	}
	if next := sweptThrough.AddDays(1); next.After(day) {
		return next
	}
	return day
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// nextTermsSweep is the moment of the first terms sweep from the day
// first on that finds a term of the clock's contracts due: the day of the
// earliest notice date not yet watched, or first when that has passed (a
// contract created since). Zero when there is none.
func nextTermsSweep(ctx context.Context, tx *sqlx.Tx, clockID string, first domain.Date) (time.Time, error) {
	var notice *domain.Date
	if err := tx.GetContext(ctx, &notice, `SELECT min(term_notice_date) FROM contracts
		WHERE test_clock_id = $1 AND status = 'active' AND renewal_mode <> 'EVERGREEN' AND term_watched IS DISTINCT FROM expiration_date`, clockID); err != nil {
		return time.Time{}, fmt.Errorf("read the clock's next term notice: %w", err)
	}
	if notice == nil {
		return time.Time{}, nil
	}
	day := *notice
	if day.Before(first) {
		day = first
	}
	return day.Time().Add(termsSweepTime), nil
}

// nextBillingRun is the moment of the first billing run from the day
// first on, and by the day last, that has a period of the clock's
// contracts to bill: the earliest start of a period not yet billed, or
// first when that has passed. Zero when there is none.
func nextBillingRun(ctx context.Context, tx *sqlx.Tx, tenantID, clockID string, first, last domain.Date) (time.Time, error) {
	contracts, _, err := billingContracts(ctx, tx, tenantID, &clockID, last, 0, MaxContractsPerClock)
	if err != nil {
		return time.Time{}, err
	}
	var day domain.Date
	for _, c := range contracts {
		if c.ScheduleStatus != domain.ScheduleActive {
			continue // billed nothing (see activities.InvoiceDuePeriods)
		}
		if due := c.Terms.DuePeriods(last); len(due) > 0 && (day.IsZero() || due[0].Billed.Start.Before(day)) {
			day = due[0].Billed.Start
		}
	}
	if day.IsZero() {
		return time.Time{}, nil
	}
	if day.Before(first) {
		day = first
	}
	if day.After(last) {
		return time.Time{}, nil
	}
	return day.Time().Add(billingRunTime), nil
}

// RegisterClockWait records that workflowID waits until due on the clock,
// and returns the clock's time. A wait already due (the clock stands at or
// past it) is not recorded: the workflow goes on at once, and stays busy.
func (s *Store) RegisterClockWait(ctx context.Context, clockID, workflowID string, due time.Time) (time.Time, error) {
	var now time.Time
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The clock's row is locked so that a step cannot move it between
		// the read and the record.
		if err := tx.GetContext(ctx, &now, `SELECT frozen_time FROM test_clocks WHERE id = $1 FOR SHARE`, clockID); err != nil {
			return fmt.Errorf("read test clock: %w", err)
		}
		var dueAt *time.Time
		if now.Before(due) {
			dueAt = &due
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO test_clock_waits (workflow_id, clock_id, due_at) VALUES ($1, $2, $3)
			ON CONFLICT (workflow_id) DO UPDATE SET due_at = EXCLUDED.due_at`, workflowID, clockID, dueAt)
		if err != nil {
			return fmt.Errorf("record test clock wait: %w", err)
		}
		return nil
	})
	return now, err
}

// holdClock records that a workflow of the clock is starting: the clock's
// advance waits for it until it waits on the clock or closes. A workflow
// already known keeps what it waits for.
func holdClock(ctx context.Context, q sqlx.ExecerContext, clockID, workflowID string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO test_clock_waits (workflow_id, clock_id) VALUES ($1, $2) ON CONFLICT (workflow_id) DO NOTHING`,
		workflowID, clockID); err != nil {
		return fmt.Errorf("hold test clock for workflow %s: %w", workflowID, err)
	}
	return nil
}

// HoldClock is holdClock outside a transaction: for a workflow about to be
// started for a contract on the clock.
func (s *Store) HoldClock(ctx context.Context, clockID, workflowID string) error {
	return holdClock(ctx, s.db, clockID, workflowID)
}

// ClockWait is a workflow waiting on a clock.
type ClockWait struct {
	WorkflowID string    `db:"workflow_id"`
	DueAt      time.Time `db:"due_at"`
}

// DueClockWaits lists the clock's waits due by at, earliest first.
func (s *Store) DueClockWaits(ctx context.Context, clockID string, at time.Time) ([]ClockWait, error) {
	var rows []ClockWait
	if err := s.db.SelectContext(ctx, &rows, `SELECT workflow_id, due_at FROM test_clock_waits
		WHERE clock_id = $1 AND due_at <= $2 ORDER BY due_at, workflow_id`, clockID, at); err != nil {
		return nil, fmt.Errorf("list due test clock waits: %w", err)
	}
	return rows, nil
}

// WakeClockWait marks a due wait busy, before its workflow is told the
// clock's time; false when the workflow has moved on to another wait.
func (s *Store) WakeClockWait(ctx context.Context, w ClockWait) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE test_clock_waits SET due_at = NULL WHERE workflow_id = $1 AND due_at = $2`, w.WorkflowID, w.DueAt)
	if err != nil {
		return false, fmt.Errorf("wake test clock wait: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// BusyClockWorkflows lists the clock's workflows that are busy: started or
// woken, and not yet waiting again.
func (s *Store) BusyClockWorkflows(ctx context.Context, clockID string) ([]string, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, `SELECT workflow_id FROM test_clock_waits WHERE clock_id = $1 AND due_at IS NULL ORDER BY workflow_id`, clockID); err != nil {
		return nil, fmt.Errorf("list busy test clock workflows: %w", err)
	}
	return ids, nil
}

// ClockWorkflows lists every workflow of the clock the clock knows of.
func (s *Store) ClockWorkflows(ctx context.Context, clockID string) ([]string, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, `SELECT workflow_id FROM test_clock_waits WHERE clock_id = $1 ORDER BY workflow_id`, clockID); err != nil {
		return nil, fmt.Errorf("list test clock workflows: %w", err)
	}
	return ids, nil
}

// ReleaseClock forgets a workflow that has closed.
func (s *Store) ReleaseClock(ctx context.Context, workflowID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM test_clock_waits WHERE workflow_id = $1`, workflowID); err != nil {
		return fmt.Errorf("release test clock wait: %w", err)
	}
	return nil
}

// ClockTime reads a clock's time.
func (s *Store) ClockTime(ctx context.Context, clockID string) (time.Time, error) {
	var t time.Time
	if err := s.db.GetContext(ctx, &t, `SELECT frozen_time FROM test_clocks WHERE id = $1`, clockID); err != nil {
		return t, fmt.Errorf("read test clock %s: %w", clockID, err)
	}
	return t, nil
}
