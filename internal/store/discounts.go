package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// redeemDiscount records that amendment amendmentID used discount code on
// the contract, in the transaction that applies it, and refuses a use beyond
// the code's limits as the catalog has them now. The caller holds the
// contract's row lock, so its count of the contract's uses is final; the
// code's counter row, incremented first, stays locked until commit, so
// concurrent redemptions of one code queue on it and each sees the count the
// ones before it left.
func redeemDiscount(ctx context.Context, tx *sqlx.Tx, tenantID, contractID, amendmentID, code string, now time.Time) error {
	cat, err := loadCatalog(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	dc, ok := cat.DiscountCode(code)
	if !ok {
		return discountRefused(code, "no longer exists")
	}
	var total int64
	if err := tx.GetContext(ctx, &total, `
		INSERT INTO discount_code_usage (tenant_id, code, redemptions) VALUES ($1, $2, 1)
		ON CONFLICT (tenant_id, code) DO UPDATE SET redemptions = discount_code_usage.redemptions + 1
		RETURNING redemptions`, tenantID, code); err != nil {
		return fmt.Errorf("count discount code redemptions: %w", err)
	}
	if dc.MaxRedemptions != nil && total > *dc.MaxRedemptions {
		return discountRefused(code, fmt.Sprintf("has been redeemed its limit of %d times", *dc.MaxRedemptions))
	}
	var onContract int64
	if err := tx.GetContext(ctx, &onContract, `SELECT count(*) FROM discount_redemptions WHERE contract_id = $1 AND code = $2`,
		contractID, code); err != nil {
		return fmt.Errorf("count the contract's discount redemptions: %w", err)
	}
	if limit := dc.PerContractLimit(); onContract >= limit {
		return discountRefused(code, fmt.Sprintf("has been used its limit of %d times on this contract", limit))
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO discount_redemptions (amendment_id, tenant_id, contract_id, code, redeemed_at) VALUES ($1, $2, $3, $4, $5)`,
		amendmentID, tenantID, contractID, code, now); err != nil {
		return fmt.Errorf("record discount redemption: %w", err)
	}
	return nil
}

func discountRefused(code, why string) error {
	return &domain.Error{Kind: domain.KindUnprocessable, Field: "discountCode", Fault: domain.FaultInvalidDiscountCode,
		Message: fmt.Sprintf("discount code %q %s", code, why)}
}
