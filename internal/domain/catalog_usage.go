package domain

import (
	"fmt"
	"slices"
	"strings"
)

// CatalogUsage is what of a catalog is in use: the offerings and rates on
// active contracts' lines (with those contracts' currencies and billing
// periods), and the penalty services early-termination definitions name. A
// new catalog must keep all of it.
type CatalogUsage struct {
	Lines           []LineUsage
	PenaltyServices []PenaltyServiceUsage
	// Quantity is the largest quantity on the lines a billing run may still
	// price, and Amount the largest magnitude of a unit price, line or
	// contract total on them.
	Quantity, Amount Extent
}

// Extent is the largest value in use of a kind, and a contract holding it.
type Extent struct {
	Value    int64
	Contract string
}

// LineUsage is an offering at a rate on Count active contracts, the first of
// which are named, and the currencies and billing periods those contracts
// are in (each once).
type LineUsage struct {
	OfferingID, RateID string
	Count              int
	Contracts          []string
	Currencies         []string
	BillingPeriods     []BillingPeriod
}

// PenaltyServiceUsage is a penalty service named by Count terminations.
type PenaltyServiceUsage struct {
	ID           int64
	Count        int
	Terminations []int64
}

// CheckKeeps refuses a catalog replacing current that drops what is in use:
// an offering or a rate an active contract is on, the sales item current
// sells it with (a crossgrade starts from it), or a penalty service a
// termination names; or that changes such a rate's billing period or
// currency. Every such item
// is listed with the contracts or terminations that use it. Dropping them
// would leave those contracts unable to change (every change is priced
// against the catalog), so they are refused rather than kept as retired.
func (c *Catalog) CheckKeeps(current *Catalog, u CatalogUsage) error {
	var p Problems
	for _, l := range u.Lines {
		users := named("contract", l.Count, l.Contracts)
		o, ok := c.Offering(l.OfferingID)
		if !ok {
			p.Addf("offering %q is used by %s", l.OfferingID, users)
			continue
		}
		r, ok := o.Rate(l.RateID)
		if !ok {
			p.Addf("rate %q of offering %q is used by %s", l.RateID, l.OfferingID, users)
			continue
		}
		checkRateTerms(r, current.rate(l.OfferingID, l.RateID), l, users, &p)
		_, sold := current.SalesItemFor(l.OfferingID, l.RateID)
		if _, ok := c.SalesItemFor(l.OfferingID, l.RateID); !ok && sold {
			p.Addf("the sales item for offering %q at rate %q is used by %s", l.OfferingID, l.RateID, users)
		}
	}
	for _, ps := range u.PenaltyServices {
		if _, ok := c.PenaltyService(ps.ID); !ok {
			ids := make([]string, len(ps.Terminations))
			for i, id := range ps.Terminations {
				ids[i] = fmt.Sprint(id)
			}
			p.Addf("penalty service %d is named by %s", ps.ID, named("contract termination", ps.Count, ids))
		}
	}
	c.checkLimitsKeep(current, u, &p)
	if len(p) == 0 {
		return nil
	}
	return Errorf(KindConflict, "", "the catalog drops or changes what is in use: %s", strings.Join(p, "; "))
}

// checkRateTerms refuses to change the billing period or the currency of
// rate r, which l's contracts are on: their changes would be priced per
// the new period at unit prices locked for theirs, or refused for the
// currency, while billing goes on in their own. Prices may change, since
// each line keeps its own. was is the rate in the current catalog.
func checkRateTerms(r, was *Rate, l LineUsage, users string, p *Problems) {
	if !termKept(r.BillingPeriod, was.BillingPeriod, l.BillingPeriods) {
		p.Addf("rate %q of offering %q: its billingPeriod cannot change from %s to %s while it is used by %s",
			l.RateID, l.OfferingID, joinOr(l.BillingPeriods), r.BillingPeriod, users)
	}
	if !termKept(r.Currency, was.Currency, l.Currencies) {
		p.Addf("rate %q of offering %q: its currency cannot change from %s to %s while it is used by %s",
			l.RateID, l.OfferingID, joinOr(l.Currencies), r.Currency, users)
	}
}

// termKept reports whether an in-use rate's billing period or currency may
// be now: what the current catalog has (was) may stay, and what every
// contract on the rate has (held) may be set, so that a catalog changed
// before changes were refused can be set back.
func termKept[T comparable](now, was T, held []T) bool {
	if now == was {
		return true
	}
	for _, h := range held {
		if h != now {
			return false
		}
	}
	return true
}

// joinOr lists what the contracts on a rate hold as alternatives: "USD",
// or "MONTHLY or ANNUAL" where a catalog changed before this was refused.
func joinOr[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, " or ")
}

// rate is the catalog's rate of an offering, or a rate without a billing
// period or a currency when it has none.
func (c *Catalog) rate(offeringID, rateID string) *Rate {
	if o, ok := c.Offering(offeringID); ok {
		if r, ok := o.Rate(rateID); ok {
			return r
		}
	}
	return &Rate{}
}

// checkLimitsKeep refuses ceilings lowered below what a contract is still
// to be billed at: such a contract could no longer be billed (its amounts
// beyond the ceiling) nor changed but below it. A ceiling the current catalog already
// had below it (a contract stored before amounts were checked) may stay.
func (c *Catalog) checkLimitsKeep(current *Catalog, u CatalogUsage, p *Problems) {
	lim, was := c.MoneyLimits(), current.MoneyLimits()
	if lim.MaxQuantity < u.Quantity.Value && lim.MaxQuantity < was.MaxQuantity {
		p.Addf("limits.maxQuantity %d is below the quantity %d contract %s is billed at", lim.MaxQuantity, u.Quantity.Value, u.Quantity.Contract)
	}
	if lim.MaxAmount < u.Amount.Value && lim.MaxAmount < was.MaxAmount {
		p.Addf("limits.maxAmount %d is below the amount %d contract %s is billed at", lim.MaxAmount, u.Amount.Value, u.Amount.Contract)
	}
}

// named lists the first users and how many more there are.
func named(kind string, count int, first []string) string {
	s := fmt.Sprintf("%d %s(s): %s", count, kind, strings.Join(first, ", "))
	if more := count - len(first); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// TerminationIDs are the contract terminations the catalog's offerings
// default to, each once, in ascending order.
func (c *Catalog) TerminationIDs() []int64 {
	var ids []int64
	for _, o := range c.Offerings {
		if id := o.ContractTerminationID; id != nil && !slices.Contains(ids, *id) {
			ids = append(ids, *id)
		}
	}
	slices.Sort(ids)
	return ids
}
