package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// RegisterClockWait records that workflowID waits until due on the clock,
// and returns the clock's time. A wait already due (the clock stands at or
// past it) is not recorded: the workflow goes on at once, and stays busy.
//
// A deleted clock takes no wait: it never moves again, so a workflow
// waiting on it would wait for good (a probe's restarted schedule left a
// dunning waiting years ahead on one). The deletion stops the workflows it
// finds on the clock; one that comes to wait after it (started as the
// clock was deleted) is refused here, its hold forgotten, and ends failed
// with a conflict, as the deletion would have stopped it. The share
// lock orders this against the deletion, which locks the clock to mark
// it: a wait recorded first is among those the deletion stops.
func (s *Store) RegisterClockWait(ctx context.Context, clockID, workflowID string, due time.Time) (time.Time, error) {
	var clock sharedClock
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Shared so that a step cannot move the clock between the read and
		// the record.
		var err error
		if clock, err = shareClock(ctx, tx, clockID); err != nil {
			return err
		}
		if clock.Deleted {
			return releaseClock(ctx, tx, workflowID)
		}
		var dueAt *time.Time
		if clock.Now.Before(due) {
			dueAt = &due
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO test_clock_waits (workflow_id, clock_id, due_at) VALUES ($1, $2, $3)
			ON CONFLICT (workflow_id) DO UPDATE SET due_at = EXCLUDED.due_at`, workflowID, clockID, dueAt); err != nil {
			return fmt.Errorf("record test clock wait: %w", err)
		}
		return nil
	})
	if err == nil && clock.Deleted {
		err = domain.Errorf(domain.KindConflict, "", "test clock %s is deleted and never moves again: workflow %s cannot wait on it", clockID, workflowID)
	}
	return clock.Now, err
}

// sharedClock is a clock as shareClock reads it.
type sharedClock struct {
	Now       time.Time `db:"frozen_time"`
	Deleted   bool      `db:"deleted"`
	Advancing bool      `db:"advancing"`
}

// shareClock reads the clock's time, and whether it is deleted or
// advancing, under a share lock held until tx ends.
// A step of the clock's advance locks it to move it (NextClockStep), so
// whichever commits second sees what the first did: the step a hold tx
// recorded for a new workflow (and waits for that workflow), or tx the
// time the step moved to. Read without it, a step could move the clock past
// a date tx had checked against the time before, and skip what tx started.
// A deletion locks it too, so tx sees the clock deleted or commits first.
// (Deleting a clock locks it, then its contracts; an opening locks its
// contract, then shares the clock. Postgres ends such a deadlock by failing
// one of the two, whose step is tried again.)
func shareClock(ctx context.Context, q sqlx.QueryerContext, clockID string) (sharedClock, error) {
	var c sharedClock
	if err := sqlx.GetContext(ctx, q, &c, `SELECT frozen_time, status = '`+ClockDeleted+`' AS deleted,
		status = '`+ClockAdvancing+`' AS advancing FROM test_clocks WHERE id = $1 FOR SHARE`, clockID); err != nil {
		return c, fmt.Errorf("read test clock %s: %w", clockID, err)
	}
	return c, nil
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

// WakeClockWait marks a due wait busy once its workflow has been told the
// clock's time, unless the workflow has moved on to another wait already
// (then it reports false): the workflow is busy until it waits again.
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
	return releaseClock(ctx, s.db, workflowID)
}

func releaseClock(ctx context.Context, q sqlx.ExecerContext, workflowID string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM test_clock_waits WHERE workflow_id = $1`, workflowID); err != nil {
		return fmt.Errorf("release test clock wait: %w", err)
	}
	return nil
}
