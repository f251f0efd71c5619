package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/contractd/contractd/internal/domain"
)

// A termination's period charges, as TerminationWriter changes them.

// Charge loads one of a termination's period charges, locking the
// termination; ErrNotFound when either is missing.
func (w *TerminationWriter) Charge(ctx context.Context, terminationID, chargeID int64) (domain.TerminationCharge, error) {
	var c domain.TerminationCharge
	if _, err := w.Termination(ctx, terminationID); err != nil {
		return c, err
	}
	err := w.tx.GetContext(ctx, &c, `SELECT `+chargeColumns+` FROM contract_termination_period_charges
		WHERE tenant_id = $1 AND contract_termination_id = $2 AND id = $3`, w.tenantID, terminationID, chargeID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("load period charge: %w", err)
	}
	return c, nil
}

// CreateCharge adds a period charge to a termination and returns it with its identity.
func (w *TerminationWriter) CreateCharge(ctx context.Context, terminationID int64, c domain.TerminationCharge) (domain.TerminationCharge, error) {
	if _, err := w.Termination(ctx, terminationID); err != nil {
		return c, err
	}
	err := w.tx.QueryRowxContext(ctx, `
		INSERT INTO contract_termination_period_charges
			(tenant_id, contract_termination_id, start_month, end_month, amount, currency, created_at, updated_at, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $8) RETURNING id`,
		w.tenantID, terminationID, c.StartMonth, c.EndMonth, c.Amount, c.Currency, w.at, w.actorID).Scan(&c.ID)
	if err != nil {
		return c, fmt.Errorf("insert period charge: %w", err)
	}
	w.chargesChanged[terminationID] = true
	return c, nil
}

// UpdateCharge replaces a period charge's fields.
func (w *TerminationWriter) UpdateCharge(ctx context.Context, terminationID int64, c domain.TerminationCharge) error {
	if _, err := w.Termination(ctx, terminationID); err != nil {
		return err
	}
	res, err := w.tx.ExecContext(ctx, `
		UPDATE contract_termination_period_charges
		SET start_month = $4, end_month = $5, amount = $6, currency = $7, updated_at = $8, updated_by = $9
		WHERE tenant_id = $1 AND contract_termination_id = $2 AND id = $3`,
		w.tenantID, terminationID, c.ID, c.StartMonth, c.EndMonth, c.Amount, c.Currency, w.at, w.actorID)
	if err := affectedOne(res, err, "update period charge"); err != nil {
		return err
	}
	w.chargesChanged[terminationID] = true
	return nil
}

// DeleteCharge removes a period charge from a termination.
func (w *TerminationWriter) DeleteCharge(ctx context.Context, terminationID, chargeID int64) error {
	if _, err := w.Termination(ctx, terminationID); err != nil {
		return err
	}
	res, err := w.tx.ExecContext(ctx, `
		DELETE FROM contract_termination_period_charges WHERE tenant_id = $1 AND contract_termination_id = $2 AND id = $3`,
		w.tenantID, terminationID, chargeID)
	return affectedOne(res, err, "delete period charge")
}

func (w *TerminationWriter) checkOverlaps(ctx context.Context) error {
	if len(w.chargesChanged) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(w.chargesChanged))
	byTermination, err := loadCharges(ctx, w.tx, w.tenantID, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := domain.CheckChargeOverlaps(byTermination[id]); err != nil {
			return fmt.Errorf("contract termination %d: %w", id, err)
		}
	}
	return nil
}
