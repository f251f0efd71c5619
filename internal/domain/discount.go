package domain

import (
	"fmt"
	"slices"
)

// A discount is charged for the rest of the period its crossgrade is made in
// (recurring invoices bill list prices). While that period lasts, the
// contract's price is its lines less the discount, so a later change in the
// same period prorates from that price: a credit for the unused part never
// exceeds what was charged for it.

// perPeriodOn is the discount's (negative) amount per period if it is in
// force on d, else 0.
func (d *AppliedDiscount) perPeriodOn(day Date) int64 {
	if d == nil || d.Until.IsZero() || !day.Before(d.Until) {
		return 0
	}
	return d.PerPeriod
}

// priceOn sets the discount's amount per period from the line it is
// taken off, rounded half away from zero.
func (d *AppliedDiscount) priceOn(lim Limits, field string, line Line) error {
	off, err := lim.prorate(field, line.RecurringAmount, d.PercentOff, 100)
	d.PerPeriod = -off
	return err
}

// keptDiscount is what a self-service change leaves of the contract's
// discount: while it is in force, repriced on its item's new line, or ended
// on the change's date when that line goes; otherwise unchanged.
func keptDiscount(lim Limits, d *AppliedDiscount, after []Line, effective Date) (*AppliedDiscount, error) {
	if d.perPeriodOn(effective) == 0 {
		return d, nil
	}
	kept := *d
	idx := slices.IndexFunc(after, func(l Line) bool { return l.SalesItemCode == d.SalesItemCode })
	if idx < 0 {
		kept.Until = effective
		return &kept, nil
	}
	return &kept, kept.priceOn(lim, "payload", after[idx])
}

// discountChange describes the proration line a change of discount adds.
func discountChange(was, will *AppliedDiscount, effective Date) string {
	if will.perPeriodOn(effective) != 0 {
		return fmt.Sprintf("discount %s (%d%% off)", will.Code, will.PercentOff)
	}
	return fmt.Sprintf("discount %s (%d%% off) ends", was.Code, was.PercentOff)
}

// Redemptions count a discount code's uses so far: across the tenant and on
// one contract.
type Redemptions struct {
	Total      int64
	OnContract int64
}

// CheckRedemption refuses one more use of the code beyond its limits.
func (dc DiscountCode) CheckRedemption(used Redemptions) error {
	if dc.MaxRedemptions != nil && used.Total >= *dc.MaxRedemptions {
		return discountRefused(dc.Code, fmt.Sprintf("has been redeemed its limit of %d times", *dc.MaxRedemptions))
	}
	if limit := dc.PerContractLimit(); used.OnContract >= limit {
		return discountRefused(dc.Code, fmt.Sprintf("has been used its limit of %d times on this contract", limit))
	}
	return nil
}

// DiscountCodeGone refuses a code that left the catalog after it was quoted.
func DiscountCodeGone(code string) error { return discountRefused(code, "no longer exists") }

func discountRefused(code, why string) error {
	return faultf(FaultInvalidDiscountCode, KindUnprocessable, "discountCode", "discount code %q %s", code, why)
}
