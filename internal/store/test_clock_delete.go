package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// clockDeletedNote is why a deleted clock's open amendments failed.
const clockDeletedNote = "its contract's test clock was deleted"

// DeleteTestClock deletes a clock: its contracts' open amendments fail,
// its active contracts are cancelled on the clock's time with their
// payment schedules, and the clock stops. The contracts, their amendments,
// invoices and ledger entries stay. It returns the workflows of the clock
// that are still to be stopped (see ClockWorkflows); deleting again
// changes nothing and returns them again.
func (s *Store) DeleteTestClock(ctx context.Context, tenantID, id, actorID string, now time.Time) (TestClock, error) {
	id = asStored(id)
	var out TestClock
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockClock(ctx, tx, tenantID, id)
		if err != nil || c.Status == ClockDeleted {
			out = c
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE test_clocks SET status = 'deleted', target_time = NULL, deleted_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("delete test clock: %w", err)
		}
		var contracts []string
		if err := tx.SelectContext(ctx, &contracts, `SELECT id FROM contracts WHERE test_clock_id = $1 ORDER BY id`, id); err != nil {
			return fmt.Errorf("list the clock's contracts: %w", err)
		}
		var ann announcements
		for _, contractID := range contracts {
			if err := cancelOnDeletedClock(ctx, tx, tenantID, contractID, actorID, c.FrozenTime, &ann); err != nil {
				return err
			}
		}
		if err := ann.append(ctx, tx); err != nil {
			return err
		}
		out, err = lockClock(ctx, tx, tenantID, id)
		return err
	})
	return out, err
}

// cancelOnDeletedClock fails the contract's open amendments and cancels it
// with its schedule, at the clock's time at, unless it has ended already.
// ann gathers what it announces: the clock's next contract is locked after
// it.
func cancelOnDeletedClock(ctx context.Context, tx *sqlx.Tx, tenantID, contractID, actorID string, at time.Time, ann *announcements) error {
	var status string
	if err := tx.GetContext(ctx, &status, `SELECT status FROM contracts WHERE id = $1 FOR UPDATE`, contractID); err != nil {
		return fmt.Errorf("lock contract %s: %w", contractID, err)
	}
	var open []string
	if err := tx.SelectContext(ctx, &open, `SELECT id FROM amendments WHERE contract_id = $1 AND `+isOpen+` ORDER BY id`, contractID); err != nil {
		return fmt.Errorf("list open amendments: %w", err)
	}
	for _, am := range open {
		if err := failOpen(ctx, tx, tenantID, am, clockDeletedNote, at, ann); err != nil {
			return err
		}
	}
	if status != domain.ContractActive {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE contracts SET status = $2, schedule_status = $3, updated_at = $4, updated_by = $5 WHERE id = $1`,
		contractID, domain.ContractCancelled, domain.ScheduleTerminated, at, actorID); err != nil {
		return fmt.Errorf("cancel contract %s: %w", contractID, err)
	}
	// The current segment ends with it, as a cancellation's would.
	if _, err := tx.ExecContext(ctx, `UPDATE contract_segments SET status = $2, updated_at = $3, updated_by = $4
		WHERE contract_id = $1 AND status NOT IN ('expired', 'superseded')`, contractID, domain.ContractCancelled, at, actorID); err != nil {
		return fmt.Errorf("cancel the current segment of contract %s: %w", contractID, err)
	}
	note := clockDeletedNote
	ev := domain.ScheduleEvent{Status: domain.ScheduleTerminated, Comment: &note, ActorID: actorID, Source: "API", At: at}
	if err := recordScheduleEvent(ctx, tx, tenantID, contractID, ev, nil); err != nil {
		return err
	}
	return ann.contract(ctx, tx, tenantID, contractID, nil, EventContractCancelled, at)
}
