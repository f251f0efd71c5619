package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

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
// run of a day with a period not yet billed or a charge not yet tried (see
// nextBillingRun). A sweep is recorded done only
// when the advance says it finished it: called again after a crash, before
// the advance learnt of the step, it returns the same step, since what was
// due is due until it has happened. A day whose sweep time the clock
// passed with nothing due is not swept afterwards: what became due later
// (a contract created at the clock's time) waits for the next day's, as on
// the wall clock. An advance other than the clock's (a workflow of an
// advance over, started again) is done at once, recording nothing: the
// clock's own advance is its workflow's to carry out; advance 0 is any.
// Long: one transaction that reads every kind of due moment.
func (s *Store) NextClockStep(ctx context.Context, tenantID, id string, advance int, finished ClockStep) (ClockStep, error) {
	id = asStored(id)
	var step ClockStep
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockClock(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if c.Status != ClockAdvancing || advance != 0 && advance != c.Advances {
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
		var waits struct {
			Next sql.NullTime `db:"next"`
			Busy bool         `db:"busy"`
		}
		if err := tx.GetContext(ctx, &waits, `SELECT min(due_at) AS next, coalesce(bool_or(due_at IS NULL), false) AS busy
			FROM test_clock_waits WHERE clock_id = $1`, id); err != nil {
			return fmt.Errorf("read test clock waits: %w", err)
		}
		if waits.Busy {
			// A workflow started since the last step settled (an amendment
			// opened meanwhile) is still on its way: the clock waits for
			// it where it stands, as a step's wake does, so that what it
			// waits for is due in a later step, not stepped past.
			step = ClockStep{At: c.FrozenTime, Wake: true}
			return nil
		}
		wait := waits.Next
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
// first on, and by the day last, that has something of the clock's
// contracts to bill or collect: the earliest start of a period not yet
// billed or due date of a charge not yet tried (see firstUntriedCharge),
// or first when that has passed. Zero when there is none.
func nextBillingRun(ctx context.Context, tx *sqlx.Tx, tenantID, clockID string, first, last domain.Date) (time.Time, error) {
	contracts, _, err := billingContracts(ctx, tx, tenantID, &clockID, last, 0, MaxContractsPerClock)
	if err != nil {
		return time.Time{}, err
	}
	day, err := firstUntriedCharge(ctx, tx, clockID)
	if err != nil {
		return time.Time{}, err
	}
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

// firstUntriedCharge is the due date of the earliest open invoice of the
// clock's contracts that no collection has tried yet (zero for none): the
// prorated charge of a change made mid-period, or one left on a contract
// that has ended. On the wall clock the daily billing run collects these
// the day they are due; a clock, which runs only the days something is due,
// would otherwise leave them to the next period's start, or for ever once
// the contract has no period left to bill. One a collection has tried is
// its dunning's to retry, which has waits of its own. Only a charge a
// billing run would collect counts (see InvoicesToCollect,
// EndedContractCharges and activities' collectionPlan), so that one it
// would pass over does not make the clock stop every day.
func firstUntriedCharge(ctx context.Context, tx *sqlx.Tx, clockID string) (domain.Date, error) {
	var due *domain.Date
	if err := tx.GetContext(ctx, &due, `SELECT min(i.period_start) FROM invoices i JOIN contracts c ON c.id = i.contract_id
		WHERE c.test_clock_id = $1 AND c.schedule_status = $2 AND i.status = $3 AND NOT i.paid_up_front AND i.amount_due > 0
			AND (c.status = $4 OR i.kind = 'AMENDMENT')
			AND NOT EXISTS (SELECT 1 FROM invoice_payment_attempts a WHERE a.invoice_id = i.id)`,
		clockID, domain.ScheduleActive, domain.InvoiceOpen, domain.ContractActive); err != nil {
		return domain.Date{}, fmt.Errorf("read the clock's first charge to collect: %w", err)
	}
	if due == nil {
		return domain.Date{}, nil
	}
	return *due, nil
}
