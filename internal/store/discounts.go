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
// the code's limits as the catalog has them now (a code removed since it was
// quoted is refused too). The caller holds the
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
		return domain.DiscountCodeGone(code)
	}
	var used domain.Redemptions
	if err := tx.GetContext(ctx, &used.Total, `
		INSERT INTO discount_code_usage (tenant_id, code, redemptions) VALUES ($1, $2, 1)
		ON CONFLICT (tenant_id, code) DO UPDATE SET redemptions = discount_code_usage.redemptions + 1
		RETURNING redemptions - 1`, tenantID, code); err != nil {
		return fmt.Errorf("count discount code redemptions: %w", err)
	}
	if err := tx.GetContext(ctx, &used.OnContract, `SELECT count(*) FROM discount_redemptions WHERE contract_id = $1 AND code = $2`,
		contractID, code); err != nil {
		return fmt.Errorf("count the contract's discount redemptions: %w", err)
	}
	if err := dc.CheckRedemption(used); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO discount_redemptions (amendment_id, tenant_id, contract_id, code, redeemed_at) VALUES ($1, $2, $3, $4, $5)`,
		amendmentID, tenantID, contractID, code, now); err != nil {
		return fmt.Errorf("record discount redemption: %w", err)
	}
	return nil
}

// CrossgradeFacts reads what validating cg on the contract needs besides the
// contract and the catalog: whether the requested viewing card is held by
// another active contract (a unique index settles any race) and the
// requested code's redemptions so far (the apply counts again, under lock).
func (s *Store) CrossgradeFacts(ctx context.Context, tenantID, contractID string, cg domain.CrossgradeChange) (domain.CrossgradeFacts, error) {
	return crossgradeFacts(ctx, s.db, tenantID, contractID, cg)
}

// crossgradeFacts reads CrossgradeFacts with q, which may be a transaction.
func crossgradeFacts(ctx context.Context, q sqlx.QueryerContext, tenantID, contractID string, cg domain.CrossgradeChange) (domain.CrossgradeFacts, error) {
	var facts domain.CrossgradeFacts
	if cg.ViewingCardNumber != "" {
		var err error
		if facts.CardInUse, err = viewingCardInUse(ctx, q, tenantID, cg.ViewingCardNumber, contractID); err != nil {
			return facts, err
		}
	}
	if cg.DiscountCode == "" {
		return facts, nil
	}
	err := q.QueryRowxContext(ctx, `SELECT
		(SELECT coalesce(max(redemptions), 0) FROM discount_code_usage WHERE tenant_id = $1 AND code = $2),
		(SELECT count(*) FROM discount_redemptions WHERE tenant_id = $1 AND contract_id = $3 AND code = $2)`,
		tenantID, cg.DiscountCode, contractID).Scan(&facts.Redemptions.Total, &facts.Redemptions.OnContract)
	if err != nil {
		return facts, fmt.Errorf("count discount code redemptions: %w", err)
	}
	return facts, nil
}
