package domain

import (
	"fmt"
	"slices"
)

// PlanAmendment validates a change against the contract and the catalog and
// prices it. today is the business date the request is made on; charges are
// the period charges of the contract's early-termination definition, if any.
func PlanAmendment(cat *Catalog, ct Contract, ch Change, today Date, charges []TerminationCharge) (Quote, error) {
	effective, period, err := changeableOn(ct, ch, today)
	if err != nil {
		return Quote{}, err
	}
	after, err := applyChange(cat, ct, ch)
	if err != nil {
		return Quote{}, err
	}
	if len(after) == 0 && ch.Action != Cancellation && ch.RelativeEffectiveDate == EndOfTerm {
		// At the end of the term only a CANCELLATION comes before the
		// renewal and owes no fee; a removal would apply to the renewed term.
		return Quote{}, Errorf(KindUnprocessable, "relativeEffectiveDate",
			"removing the last offering of contract %s cancels it: to cancel at the end of its term send a %s with relativeEffectiveDate %s",
			ct.Number, Cancellation, EndOfTerm)
	}
	newPeriod := ct.BillingPeriod
	if len(after) > 0 {
		if newPeriod, err = commonBillingPeriod(cat, after); err != nil {
			return Quote{}, err
		}
		if newPeriod != ct.BillingPeriod && !effective.Equal(period.Start) && !effective.Equal(period.End) {
			return Quote{}, Errorf(KindUnprocessable, "effectiveDate",
				"a change of billing period from %s to %s can only take effect at the start of a billing period (use relativeEffectiveDate %s)",
				ct.BillingPeriod, newPeriod, NextBillCycle)
		}
		if newPeriod != ct.BillingPeriod && effective.Equal(period.Start) && !ct.LastBilled.Before(effective) {
			// That period was billed in the old one: prorating lines priced
			// per month against lines priced per year would mix units.
			return Quote{}, Errorf(KindUnprocessable, "effectiveDate",
				"the %s period starting %s is billed already; a change of billing period takes effect at the start of one not yet billed (use relativeEffectiveDate %s)",
				ct.BillingPeriod, effective, NextBillCycle)
		}
	}
	lim := cat.MoneyLimits()
	pc := pricing{ct: ct, action: ch.Action, after: after, newPeriod: newPeriod, effective: effective, period: period, charges: charges, field: "payload"}
	if pc.discount, err = keptDiscount(lim, ct.Discount, after, effective); err != nil {
		return Quote{}, err
	}
	return pc.quote(lim)
}

// changeableOn checks that a client may change ct and returns the date the
// change takes effect on, with the period it is prorated over.
func changeableOn(ct Contract, ch Change, today Date) (Date, Period, error) {
	if ct.Protected {
		return Date{}, Period{}, Errorf(KindForbidden, "contractId", "contract %s is protected and cannot be changed through the API", ct.Number)
	}
	if ct.Status != ContractActive {
		return Date{}, Period{}, Errorf(KindUnprocessable, "contractId", "contract %s is %s and cannot be changed", ct.Number, ct.Status)
	}
	return effectiveDate(ct, ch, today)
}

func effectiveDate(ct Contract, ch Change, today Date) (Date, Period, error) {
	var effective Date
	var period Period
	switch {
	case ch.RelativeEffectiveDate == EndOfTerm:
		effective, err := endOfTerm(ct, ch, today)
		if err == nil {
			err = renewsForEndOfTerm(ct, ch, effective)
		}
		switch {
		case err != nil:
			return Date{}, Period{}, err
		case ct.Renewal.Mode == Evergreen:
			// An evergreen contract bills on past its minimum term: a change
			// at its end is priced as on any other date.
			return effective, PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, effective), nil
		}
		return effective, termEndPeriod(ct, effective), nil
	case ch.RelativeEffectiveDate == NextBillCycle:
		from := today
		if from.Before(ct.EffectiveDate) {
			from = ct.EffectiveDate
		}
		period = PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, from)
		effective = period.End
	case !ch.EffectiveDate.IsZero():
		effective = ch.EffectiveDate
		if effective.Before(today) {
			return Date{}, Period{}, Errorf(KindUnprocessable, "effectiveDate", "effectiveDate %s is in the past (today is %s)", effective, today)
		}
	default:
		effective = today
	}
	if effective.Before(ct.EffectiveDate) {
		return Date{}, Period{}, Errorf(KindUnprocessable, "effectiveDate", "effectiveDate %s is before contract %s starts on %s", effective, ct.Number, ct.EffectiveDate)
	}
	if !effective.Before(ct.ExpirationDate) && ct.Renewal.Mode != Evergreen {
		return Date{}, Period{}, Errorf(KindUnprocessable, "effectiveDate", "effectiveDate %s is not before contract %s expires on %s (use relativeEffectiveDate %s for a change at the end of its term)",
			effective, ct.Number, ct.ExpirationDate, EndOfTerm)
	}
	if effective.After(LastDate) {
		// The next bill cycle of an evergreen contract, which runs past its
		// expiration date: no clock or projection reaches the date.
		return Date{}, Period{}, Errorf(KindUnprocessable, "effectiveDate", "the change would take effect on %s, after %s, the last date the service supports",
			effective, LastDate)
	}
	if period.End.IsZero() {
		period = PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, effective)
	}
	return effective, period, nil
}

// endOfTerm is the date of an END_OF_TERM change: the contract's expiration
// date, or, when the contract is to renew on the change's date (planned
// against its projection), the new term's first day. An effectiveDate given
// with it must be that date.
func endOfTerm(ct Contract, ch Change, today Date) (Date, error) {
	end := ct.ExpirationDate
	if !ch.EffectiveDate.IsZero() && ch.EffectiveDate.Equal(ct.TermStart) && ct.TermStart.After(ct.EffectiveDate) {
		end = ct.TermStart
	}
	if !ch.EffectiveDate.IsZero() && !ch.EffectiveDate.Equal(end) {
		return Date{}, Errorf(KindUnprocessable, "effectiveDate", "effectiveDate %s is not the end of contract %s's term (%s)", ch.EffectiveDate, ct.Number, end)
	}
	if end.Before(today) {
		return Date{}, Errorf(KindUnprocessable, "relativeEffectiveDate", "contract %s's term ended on %s", ct.Number, end)
	}
	if ch.Action != Cancellation && ct.Renewal.Mode == Expire && end.Equal(ct.ExpirationDate) {
		return Date{}, Errorf(KindUnprocessable, "relativeEffectiveDate",
			"contract %s expires at the end of its term (renewal mode %s): only a cancellation can take effect then", ct.Number, Expire)
	}
	return end, nil
}

// applyChange returns the contract's lines after the change.
func applyChange(cat *Catalog, ct Contract, ch Change) ([]Line, error) {
	if ch.Action == Cancellation {
		return []Line{}, nil
	}
	lines := slices.Clone(ct.Lines)
	for i, item := range ch.Payload.Offerings {
		field := fmt.Sprintf("payload.offerings[%d]", i)
		idx := slices.IndexFunc(lines, func(l Line) bool { return l.OfferingID == item.OfferingID })
		onContract := func() error {
			if idx < 0 {
				return Errorf(KindUnprocessable, field+".offeringId", "%s.offeringId %q is not on contract %s", field, item.OfferingID, ct.Number)
			}
			return nil
		}
		switch ch.Action {
		case QuantityChange, RateChange:
			if err := onContract(); err != nil {
				return nil, err
			}
			line, err := changeLine(cat, ct, lines[idx], item, field)
			if err != nil {
				return nil, err
			}
			lines[idx] = line
		case OfferingChange:
			if err := onContract(); err != nil {
				return nil, err
			}
			line, err := newLine(cat, ct, lines, item.NewOfferingID, "", item.Products, field+".newOfferingId", field)
			if err != nil {
				return nil, err
			}
			lines[idx] = line
		case AddOffering:
			line, err := newLine(cat, ct, lines, item.OfferingID, item.RateID, item.Products, field+".offeringId", field)
			if err != nil {
				return nil, err
			}
			lines = append(lines, line)
		case RemoveOffering:
			if err := onContract(); err != nil {
				return nil, err
			}
			lines = slices.Delete(lines, idx, idx+1)
		}
	}
	return lines, nil
}

// changeLine sets new quantities (unlisted products keep theirs) and, for a
// rate change, the new rate. A line that stays at its rate keeps its unit
// prices; a new rate takes the catalog's (see LinePrices).
func changeLine(cat *Catalog, ct Contract, l Line, item OfferingChangeItem, field string) (Line, error) {
	o, ok := cat.Offering(l.OfferingID)
	if !ok {
		return Line{}, Errorf(KindUnprocessable, field+".offeringId", "offering %q is no longer in the catalog", l.OfferingID)
	}
	rateID := l.RateID
	if item.RateID != "" {
		rateID = item.RateID
	}
	r, ok := o.Rate(rateID)
	if !ok {
		return Line{}, Errorf(KindUnprocessable, field+".rateId", "%s.rateId %q is not a rate of offering %q", field, rateID, o.ID)
	}
	if r.Currency != ct.Currency {
		return Line{}, Errorf(KindUnprocessable, field+".rateId", "%s.rateId %q is in %s but contract %s is in %s", field, r.ID, r.Currency, ct.Number, ct.Currency)
	}
	quantities := map[string]int64{}
	for _, p := range l.Products {
		quantities[p.ProductID] = p.Quantity
	}
	for _, p := range item.Products {
		quantities[p.ProductID] = p.Count()
	}
	return PriceLine(cat, o, r, quantities, LinePrices(l, o, r), field+".products")
}

// newLine prices an offering joining the contract at the catalog's prices,
// on rateID if given (see addedRate), else on rateFor's; unlisted products
// get their default quantity.
func newLine(cat *Catalog, ct Contract, lines []Line, offeringID, rateID string, products []RequestedProduct, idField, field string) (Line, error) {
	o, ok := cat.Offering(offeringID)
	if !ok {
		return Line{}, Errorf(KindUnprocessable, idField, "%s %q is not an offering in the catalog", idField, offeringID)
	}
	if slices.ContainsFunc(lines, func(l Line) bool { return l.OfferingID == offeringID }) {
		return Line{}, Errorf(KindUnprocessable, idField, "%s %q is already on contract %s", idField, offeringID, ct.Number)
	}
	var r *Rate
	if rateID != "" {
		var err error
		if r, err = addedRate(o, ct, rateID, field+".rateId"); err != nil {
			return Line{}, err
		}
	} else if r = rateFor(o, ct.Currency, ct.BillingPeriod); r == nil {
		return Line{}, Errorf(KindUnprocessable, idField, "offering %q has no rate in %s", offeringID, ct.Currency)
	}
	quantities := map[string]int64{}
	for _, p := range products {
		quantities[p.ProductID] = p.Count()
	}
	return PriceLine(cat, o, r, quantities, CatalogPrices(), field+".products")
}

// addedRate is the rate an ADD_OFFERING asks for. It must be one of the
// offering's, and bill the contract's currency and period: the added line
// joins lines that stay on theirs, and every line of a contract bills one
// period (see commonBillingPeriod). A probe's unknown rate, and its
// quarterly rate on a monthly contract, were applied on the rate rateFor
// picks instead, so the client got a rate it had not asked for, unwarned.
func addedRate(o *Offering, ct Contract, rateID, field string) (*Rate, error) {
	r, ok := o.Rate(rateID)
	if !ok {
		return nil, Errorf(KindUnprocessable, field, "%s %q is not a rate of offering %q", field, rateID, o.ID)
	}
	if r.Currency != ct.Currency {
		return nil, Errorf(KindUnprocessable, field, "%s %q is in %s but contract %s is in %s", field, r.ID, r.Currency, ct.Number, ct.Currency)
	}
	if r.BillingPeriod != ct.BillingPeriod {
		return nil, Errorf(KindUnprocessable, field,
			"%s %q bills %s but contract %s bills %s, and every offering on a contract bills one period (add it on a rate billed %s)",
			field, r.ID, r.BillingPeriod, ct.Number, ct.BillingPeriod, ct.BillingPeriod)
	}
	return r, nil
}

// rateFor prefers a rate in the contract's currency and billing period.
func rateFor(o *Offering, currency string, period BillingPeriod) *Rate {
	var fallback *Rate
	for i := range o.Rates {
		r := &o.Rates[i]
		if r.Currency != currency {
			continue
		}
		if r.BillingPeriod == period {
			return r
		}
		if fallback == nil {
			fallback = r
		}
	}
	return fallback
}

func commonBillingPeriod(cat *Catalog, lines []Line) (BillingPeriod, error) {
	var period BillingPeriod
	for _, l := range lines {
		o, ok := cat.Offering(l.OfferingID)
		if !ok {
			return "", Errorf(KindUnprocessable, "payload", "offering %q is no longer in the catalog", l.OfferingID)
		}
		r, ok := o.Rate(l.RateID)
		if !ok {
			return "", Errorf(KindUnprocessable, "payload", "rate %q is no longer in the catalog", l.RateID)
		}
		if period != "" && r.BillingPeriod != period {
			return "", Errorf(KindUnprocessable, "payload", "every offering on a contract must bill %s; rate %q bills %s", period, r.ID, r.BillingPeriod)
		}
		period = r.BillingPeriod
	}
	return period, nil
}
