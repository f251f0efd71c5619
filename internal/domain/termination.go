package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Termination is an early-termination penalty definition: what a contract
// cancelled before its expiration owes, in bands of whole months left in its
// term. The v5 surface calls it a ContractTermination.
type Termination struct {
	ID               int64 `json:"identity" db:"id"`
	PenaltyServiceID int64 `json:"penaltyServiceId" db:"penalty_service_id"`
	// PenaltyServiceName is not stored: it is read from the catalog, so a
	// renamed service shows its current name.
	PenaltyServiceName string `json:"penaltyServiceName" db:"-"`
	Name               string `json:"name" db:"name"`
}

// TerminationCharge is one band of a termination: Amount is due when between
// StartMonth and EndMonth (both inclusive) whole months of the term remain.
type TerminationCharge struct {
	ID         int64  `json:"identity" db:"id"`
	StartMonth int    `json:"startMonth" db:"start_month"`
	EndMonth   int    `json:"endMonth" db:"end_month"`
	Amount     int64  `json:"amount" db:"amount"`
	Currency   string `json:"currency" db:"currency"`
}

// PenaltyService finds one of the catalog's penalty services by id.
func (c *Catalog) PenaltyService(id int64) (PenaltyService, bool) {
	for _, ps := range c.PenaltyServices {
		if ps.ID == id {
			return ps, true
		}
	}
	return PenaltyService{}, false
}

// Validate checks a termination against the tenant's catalog.
func (t Termination) Validate(c *Catalog) error {
	var p Problems
	if strings.TrimSpace(t.Name) == "" {
		p.Addf("name must not be blank")
	}
	if _, ok := c.PenaltyService(t.PenaltyServiceID); !ok {
		p.Addf("penaltyServiceId %d is not one of the catalog's penaltyServices", t.PenaltyServiceID)
	}
	return p.Err()
}

// Validate checks one charge on its own, its amount against the tenant's
// money limits; CheckChargeOverlaps checks a termination's charges together.
func (c TerminationCharge) Validate(lim Limits) error {
	var p Problems
	if c.StartMonth < 0 {
		p.Addf("startMonth %d must not be negative", c.StartMonth)
	}
	if c.EndMonth < c.StartMonth {
		p.Addf("endMonth %d is before startMonth %d", c.EndMonth, c.StartMonth)
	}
	if c.Amount < 0 {
		p.Addf("amount %d must not be negative", c.Amount)
	}
	if c.Amount > lim.MaxAmount {
		p.Addf("amount %d is above the amount limit %d", c.Amount, lim.MaxAmount)
	}
	if !validCurrency(c.Currency) {
		p.Addf("currency %q is not a three-letter ISO code", c.Currency)
	}
	return p.Err()
}

// Covers reports whether the charge applies with monthsRemaining whole months left.
func (c TerminationCharge) Covers(monthsRemaining int) bool {
	return c.StartMonth <= monthsRemaining && monthsRemaining <= c.EndMonth
}

// CheckChargeOverlaps refuses charges whose month ranges share a month, since
// the fee for any number of months remaining must be unambiguous. Every charge
// that overlaps an earlier-starting one is reported.
func CheckChargeOverlaps(charges []TerminationCharge) error {
	sorted := slices.SortedFunc(slices.Values(charges), func(a, b TerminationCharge) int {
		return cmp.Or(cmp.Compare(a.StartMonth, b.StartMonth), cmp.Compare(a.EndMonth, b.EndMonth), cmp.Compare(a.ID, b.ID))
	})
	var p Problems
	// Comparing with the charge reaching furthest so far, not only the
	// previous one, also catches a range nested in a long earlier one.
	for i, reach := 1, 0; i < len(sorted); i++ {
		if sorted[i].StartMonth <= sorted[reach].EndMonth {
			p.Addf("period charge %s overlaps period charge %s", describeCharge(sorted[i]), describeCharge(sorted[reach]))
		}
		if sorted[i].EndMonth > sorted[reach].EndMonth {
			reach = i
		}
	}
	return p.Err()
}

// describeCharge names a charge by identity when it has one, and by its range.
func describeCharge(c TerminationCharge) string {
	if c.ID == 0 {
		return fmt.Sprintf("(months %d-%d)", c.StartMonth, c.EndMonth)
	}
	return fmt.Sprintf("%d (months %d-%d)", c.ID, c.StartMonth, c.EndMonth)
}

// TerminationFee picks the charge due when a contract is cancelled with
// monthsRemaining whole months left in its term. ok is false when no charge's
// range holds it, meaning no fee is due.
func TerminationFee(charges []TerminationCharge, monthsRemaining int) (fee TerminationCharge, ok bool) {
	for _, c := range charges {
		if c.Covers(monthsRemaining) {
			return c, true
		}
	}
	return TerminationCharge{}, false
}

// MonthsRemaining counts the whole months from a cancellation date up to the
// contract's expiration date: the largest n such that cancellation plus n
// months is not after expiration. Month steps clamp to the target month's
// last day, as billing anchors do, so Jan 31 -> Feb 28 is one whole month.
// A cancellation on or after the expiration date leaves 0.
func MonthsRemaining(cancellation, expiration Date) int {
	if !expiration.After(cancellation) {
		return 0
	}
	n := (expiration.Year()-cancellation.Year())*12 + int(expiration.Month()-cancellation.Month())
	// n months lands in the expiration's month; past its day, the last
	// month is not whole.
	if AddMonthsClamped(cancellation.Year(), cancellation.Month(), n, cancellation.Day()).After(expiration) {
		n--
	}
	return n
}
