package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// ScheduleChange is a cancel or restart of a contract's payment schedule.
type ScheduleChange struct {
	// ID names the change (the request that asked for it), so a retried
	// change finds its own event instead of failing on the status it set.
	ID         string
	TenantID   string
	ContractID string
	Action     domain.ScheduleAction
	Comment    *string
	ActorID    string
	Source     string
	At         time.Time
	// Workflow is the workflow making the change. A restart of a schedule
	// on a test clock holds the clock for it in its own transaction (see
	// listUnpaid), so that an advance waits for the dunnings it resumes.
	Workflow string
}

// ScheduleChanged is what a schedule change recorded.
type ScheduleChanged struct {
	Event domain.ScheduleEvent
	// Rebased reports that open amendments of the contract were re-priced
	// or failed, whose workflows are then to be told (see TellRebased).
	Rebased bool
	// Unpaid lists, for a restart, the contract's unpaid invoices, whose
	// dunning the restart resumes (see listUnpaid), and TestClockID
	// the contract's test clock, if it lives on one.
	Unpaid      []UnpaidInvoice
	TestClockID string
	// clockDeleted reports that the contract's test clock is deleted: a
	// change is refused (refuseOnDeletedClock), and a retry of one made
	// before lists no dunning to resume, which would wait on the clock
	// for good.
	clockDeleted bool
}

// UnpaidInvoice is an invoice a collection has tried and not paid, with the
// number of its next collection attempt and when its first was made, on
// the contract's clock: when its dunning began.
type UnpaidInvoice struct {
	ID          string      `db:"id"`
	PeriodStart domain.Date `db:"period_start"`
	NextAttempt int         `db:"next_attempt"`
	FirstTried  time.Time   `db:"first_tried"`
}

// ChangeSchedule applies a schedule action and records it in the schedule's
// history. It locks the contract row first, so concurrent changes serialise:
// of two identical ones, the second sees the status the first set. Only the
// schedule changes; the contract's version and updated_at stay as they are.
// A restart resumes billing from its own day on. A contract that has ended
// keeps a schedule while it owes anything: that schedule decides whether
// the runs collect what is owed (domain.ScheduleAction.Apply). The schedule
// decides what billing will invoice, and so what a change prorates
// (domain's billedRest): the contract's open amendments are priced again,
// as after any change to their contract. A restart also lists the
// contract's unpaid invoices, whose dunning it resumes: billing runs
// collect only open invoices, and a dunning whose retries came while the
// schedule was Terminated skipped them and ended.
func (s *Store) ChangeSchedule(ctx context.Context, ch ScheduleChange) (ScheduleChanged, error) {
	var out ScheduleChanged
	ev := &out.Event
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		current, err := lockScheduleState(ctx, tx, ch.TenantID, ch.ContractID)
		if err != nil {
			return err
		}
		var clock *time.Time
		if current.ClockID != nil {
			// Read under a share lock, as an opening reads it: a step of
			// the clock's advance either comes before the change, which
			// then happens at its time, or sees the hold listUnpaid takes.
			shared, err := shareClock(ctx, tx, *current.ClockID)
			if err != nil {
				return err
			}
			out.TestClockID, out.clockDeleted, clock = *current.ClockID, shared.Deleted, &shared.Now
		}
		err = tx.GetContext(ctx, ev, `
			SELECT status, comment, actor_id, source, at FROM schedule_events WHERE tenant_id = $1 AND change_id = $2`, ch.TenantID, ch.ID)
		if err == nil {
			// A retry: the first attempt's re-pricing may still wait to be
			// told, and a restart's dunning to be resumed.
			if out.Rebased, err = rebasePending(ctx, tx, ch.ContractID); err != nil {
				return err
			}
			return out.listUnpaid(ctx, tx, ch)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up schedule change: %w", err)
		}
		ch.At = onClock(clock, ch.At)
		next, err := ch.Action.Apply(current.ContractStatus, current.Status, current.Protected, current.Owed)
		if err != nil {
			return err
		}
		if out.clockDeleted {
			return refuseOnDeletedClock(*current.ClockID)
		}
		// A zero date stores NULL, which coalesce turns into "keep": only a
		// restart moves the resume date.
		var resumesOn domain.Date
		if next == domain.ScheduleActive {
			resumesOn = domain.DateOf(ch.At)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE contracts SET schedule_status = $3, schedule_resumes_on = coalesce($4, schedule_resumes_on)
			WHERE tenant_id = $1 AND id = $2`, ch.TenantID, ch.ContractID, next, resumesOn); err != nil {
			return fmt.Errorf("update schedule status: %w", err)
		}
		if current.ClockID != nil && next == domain.ScheduleActive {
			// Billing again, it adds to the work of an advance under way.
			if err := refuseOverAdvance(ctx, tx, ch.TenantID, *current.ClockID, domain.KindInvalid, "", "this restart"); err != nil {
				return err
			}
		}
		var ann announcements
		if out.Rebased, err = rebaseLocked(ctx, tx, ch.TenantID, ch.ContractID, ch.At, &ann); err != nil {
			return err
		}
		*ev = domain.ScheduleEvent{Status: next, Comment: ch.Comment, ActorID: ch.ActorID, Source: ch.Source, At: ch.At}
		if err := recordScheduleEvent(ctx, tx, ch.TenantID, ch.ContractID, *ev, &ch.ID); err != nil {
			return err
		}
		// The schedule's event first, then the re-pricings it caused.
		if err := announceScheduleEvent(ctx, tx, ch.TenantID, ch.ContractID, *ev); err != nil {
			return err
		}
		if err := ann.append(ctx, tx); err != nil {
			return err
		}
		return out.listUnpaid(ctx, tx, ch)
	})
	return out, err
}

// scheduleState is what decides a schedule change on a contract.
type scheduleState struct {
	ContractStatus string `db:"status"`
	Status         string `db:"schedule_status"`
	Protected      bool   `db:"protected"`
	// Whether the contract has an invoice the runs would collect.
	Owed bool `db:"owed"`
	// The contract's test clock, if it lives on one.
	ClockID *string `db:"test_clock_id"`
}

// lockScheduleState locks the contract's row and reads its schedule state.
func lockScheduleState(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string) (scheduleState, error) {
	var current scheduleState
	err := tx.GetContext(ctx, &current, `
		SELECT c.status, c.schedule_status, c.protected, c.test_clock_id,
			EXISTS (SELECT 1 FROM invoices i WHERE i.contract_id = c.id AND i.status = ANY($3) AND i.amount_due > 0 AND NOT i.paid_up_front) AS owed
		FROM contracts c WHERE c.tenant_id = $1 AND c.id = $2 FOR UPDATE OF c`,
		tenantID, contractID, pq.Array([]string{domain.InvoiceOpen, domain.InvoiceUnpaid}))
	if errors.Is(err, sql.ErrNoRows) {
		return current, ErrNotFound
	}
	if err != nil {
		return current, fmt.Errorf("lock contract: %w", err)
	}
	return current, nil
}

// listUnpaid lists, when the change restarted the schedule, the contract's
// invoices that a collection tried and did not pay, oldest first, each with
// the number of its next attempt: one after the last recorded, so that the
// resumed dunning's attempts are keyed (and charged) as none before them,
// and when its first was made, from which the retries of an invoice billed
// late are counted.
// The change's workflow records the list in its history, so the attempts a
// restart resumes are numbered once however often the step that starts
// them is retried. On a test clock the change's workflow holds the clock
// while there are any, until it has started their dunnings (which hold it
// in turn): before, a restart made as an advance stepped on found the
// clock moved days past its retries before their dunnings waited on it,
// and both retries were made at once at the advance's end.
func (out *ScheduleChanged) listUnpaid(ctx context.Context, tx *sqlx.Tx, ch ScheduleChange) error {
	if out.Event.Status != domain.ScheduleActive || out.clockDeleted {
		return nil
	}
	if err := tx.SelectContext(ctx, &out.Unpaid, `
		SELECT i.id, i.period_start, max(a.attempt) + 1 AS next_attempt, min(a.at) AS first_tried
		FROM invoices i JOIN invoice_payment_attempts a ON a.invoice_id = i.id
		WHERE i.tenant_id = $1 AND i.contract_id = $2 AND i.status = $3 AND i.amount_due > 0 AND NOT i.paid_up_front
		GROUP BY i.id, i.period_start ORDER BY i.period_start, i.id`, ch.TenantID, ch.ContractID, domain.InvoiceUnpaid); err != nil {
		return fmt.Errorf("list the unpaid invoices to dun: %w", err)
	}
	if len(out.Unpaid) == 0 || out.TestClockID == "" || ch.Workflow == "" {
		return nil
	}
	return holdClock(ctx, tx, out.TestClockID, ch.Workflow)
}

// refuseOnDeletedClock refuses a schedule change of a contract on a deleted
// test clock. Deleting the clock cancelled the contract (and its schedule,
// unless the contract had ended before) and stopped its workflows, and the
// clock never moves again: no run would ever collect on that schedule, so a
// restart would only resume dunnings that wait on the clock for good (a probe's restart left one waiting years
// ahead, the invoice owed for good), and a cancel would change a schedule
// that decides nothing any more. The refusal is the seed's 400 with its
// specific message, as for an ended contract that owes nothing. It names
// the clock: only staff keys change a schedule (a customer key is refused
// before the contract is looked up), and staff see the tenant's clocks.
func refuseOnDeletedClock(clockID string) error {
	return domain.Errorf(domain.KindInvalid, "",
		"The contract is on test clock %s, which is deleted; the schedule of a contract on a deleted test clock can no longer be cancelled or restarted.", clockID)
}

// recordScheduleEvent writes ev as the newest event of the contract's
// schedule history, at the place one past the newest (the first at 1), with
// the change that made it (changeID, or nil for one no schedule change made).
// The caller holds the contract's lock, as every writer of its schedule does:
// two events are never written at one place (and the unique key would
// refuse the second if they were).
func recordScheduleEvent(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, ev domain.ScheduleEvent, changeID *string) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO schedule_events (tenant_id, contract_id, status, comment, actor_id, source, at, change_id, position)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
			COALESCE((SELECT max(n.position) FROM schedule_events n WHERE n.contract_id = $2), 0) + 1)`,
		tenantID, contractID, ev.Status, ev.Comment, ev.ActorID, ev.Source, ev.At, changeID); err != nil {
		return fmt.Errorf("insert schedule event: %w", err)
	}
	return nil
}
