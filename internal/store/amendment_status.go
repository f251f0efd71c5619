package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// statusConflict refuses a transition from a status it does not start from.
func statusConflict(id, status string) error {
	return domain.Errorf(domain.KindConflict, "", "amendment %s is %s", id, status)
}

// insertEvent adds e to the history of amendment amendmentID.
func insertEvent(ctx context.Context, tx *sqlx.Tx, amendmentID string, e domain.AmendmentEvent) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO amendment_events (amendment_id, status, actor_id, source, note, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		amendmentID, e.Status, e.ActorID, e.Source, e.Note, e.At)
	if err != nil {
		return fmt.Errorf("record amendment event: %w", err)
	}
	return nil
}

// Transition moves an amendment from one of `from` to to.Status and records
// to as its event: who did it, through which surface, with what note, when.
// Repeating a transition that already happened is a no-op.
func (s *Store) Transition(ctx context.Context, tenantID, id string, from []string, to domain.AmendmentEvent) (domain.Amendment, error) {
	var am domain.Amendment
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM amendments WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("lock amendment: %w", err)
		}
		if status != to.Status {
			if !slices.Contains(from, status) {
				return statusConflict(id, status)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, id, to.Status, to.At); err != nil {
				return fmt.Errorf("update amendment status: %w", err)
			}
			if err := insertEvent(ctx, tx, id, to); err != nil {
				return err
			}
		}
		var err error
		if am, err = loadAmendment(ctx, tx, tenantID, id); err != nil || status == to.Status {
			return err
		}
		return insertAmendmentEvent(ctx, tx, tenantID, am, to.At)
	})
	return am, err
}

// RecordEvent adds an event to an amendment's history without changing its
// status: an approval before it is applied, an escalation of a pending review.
// Each such event is recorded once however often this runs.
func (s *Store) RecordEvent(ctx context.Context, tenantID, id string, e domain.AmendmentEvent) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM amendments WHERE tenant_id = $1 AND id = $2)`, tenantID, id); err != nil {
			return fmt.Errorf("look up amendment: %w", err)
		}
		if !exists {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO amendment_events (amendment_id, status, actor_id, source, note, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, id, e.Status, e.ActorID, e.Source, e.Note, e.At)
		if err != nil {
			return fmt.Errorf("record amendment event: %w", err)
		}
		return nil
	})
}
