package domain

import (
	"fmt"
	"slices"
)

// ProrationLine is the charge (positive) or credit (negative) for one
// offering's change over the rest of its billed stretch (see billedRest).
type ProrationLine struct {
	OfferingID     string `json:"offeringId"`
	Description    string `json:"description"`
	RecurringDelta int64  `json:"recurringDelta"`
	Days           int    `json:"days"`
	PeriodDays     int    `json:"periodDays"`
	Amount         int64  `json:"amount"`
}

// InvoiceLine is one line of an invoice or invoice preview.
type InvoiceLine struct {
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
}

// InvoicePreview is what applying the change will invoice.
type InvoicePreview struct {
	Currency string        `json:"currency"`
	Period   Period        `json:"period"`
	Lines    []InvoiceLine `json:"lines"`
	Total    int64         `json:"total"`
}

// Quote is the priced amendment: what changes, what it costs per period, and
// what it charges or credits now.
type Quote struct {
	ID              string           `json:"id"`
	Status          string           `json:"status"`
	Action          Action           `json:"action"`
	ContractID      string           `json:"contractId"`
	ContractNumber  string           `json:"contractNumber"`
	Currency        string           `json:"currency"`
	EffectiveDate   Date             `json:"effectiveDate"`
	BillingPeriod   BillingPeriod    `json:"billingPeriod"`
	CurrentPeriod   Period           `json:"currentPeriod"`
	LinesBefore     []Line           `json:"linesBefore"`
	LinesAfter      []Line           `json:"linesAfter"`
	RecurringBefore int64            `json:"recurringBefore"`
	RecurringAfter  int64            `json:"recurringAfter"`
	RecurringDelta  int64            `json:"recurringDelta"`
	Proration       []ProrationLine  `json:"proration"`
	ProrationTotal  int64            `json:"prorationTotal"`
	TerminationFee  *FeeLine         `json:"terminationFee,omitempty"`
	InvoicePreview  *InvoicePreview  `json:"invoicePreview"`
	CancelsContract bool             `json:"cancelsContract"`
	BaseVersion     int64            `json:"baseVersion"`
	Crossgrade      *CrossgradeQuote `json:"crossgrade,omitempty"`
	// Discount is the contract's discount once the change applies.
	Discount *AppliedDiscount `json:"discount,omitempty"`
	// Renewal is the term a RENEWAL starts.
	Renewal *RenewalQuote `json:"renewal,omitempty"`
	// Terms are the renewal terms a RENEWAL_TERMS_CHANGE sets.
	Terms *RenewalTerms `json:"renewalTerms,omitempty"`
}

// FeeLine is the early-termination fee a cancellation before the
// contract's expiration owes: the period charge whose month range holds the
// whole months remaining.
type FeeLine struct {
	ChargeID        int64  `json:"chargeId"`
	MonthsRemaining int    `json:"monthsRemaining"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
}

// Immediate reports whether the change takes effect on the day it is made.
func (q Quote) Immediate(today Date) bool { return !q.EffectiveDate.After(today) }

// UpFrontPayment is what the change is paid up front, authorised before it
// applies and captured once it has (a crossgrade upgrade's invoice); 0 for
// a change paid otherwise.
func (q Quote) UpFrontPayment() int64 {
	if q.Crossgrade == nil {
		return 0
	}
	return max(q.Crossgrade.PaymentAmount, 0)
}

// pricing is a change ready to be priced: the contract, its lines once the
// change applies, when, over which period, and what else it settles.
type pricing struct {
	ct        Contract
	action    Action
	after     []Line
	newPeriod BillingPeriod
	effective Date
	period    Period
	charges   []TerminationCharge
	// discount is the contract's discount once the change applies.
	discount *AppliedDiscount
	// field is what a refusal for an amount beyond the limits names.
	field string
}

// quote prices the move to lines `after` on `effective`, prorated over the
// rest of its billed stretch of `period` (billedRest): a credit or charge
// per changed line, the change in discount if
// any, and on a cancellation the early-termination fee from charges. Every
// sum is checked against lim.
func (pc pricing) quote(lim Limits) (Quote, error) {
	ct := pc.ct
	q := Quote{
		Action: pc.action, ContractID: ct.ID, ContractNumber: ct.Number, Currency: ct.Currency,
		EffectiveDate: pc.effective, BillingPeriod: pc.newPeriod, CurrentPeriod: pc.period,
		LinesBefore: ct.Lines, LinesAfter: pc.after, CancelsContract: len(pc.after) == 0, BaseVersion: ct.Version,
		Discount: pc.discount,
	}
	if id, twice := addedTwice(ct.Lines, pc.after); twice {
		return Quote{}, Errorf(KindUnprocessable, pc.field, "offering %q is on contract %s already: the change would put it on a second line", id, ct.Number)
	}
	var err error
	if q.RecurringBefore, err = lim.RecurringTotal(pc.field, ct.Lines); err != nil {
		return Quote{}, err
	}
	if q.RecurringAfter, err = lim.RecurringTotal(pc.field, pc.after); err != nil {
		return Quote{}, err
	}
	if q.RecurringDelta, err = lim.Add(pc.field, q.RecurringAfter, -q.RecurringBefore); err != nil {
		return Quote{}, err
	}
	if q.Proration, err = pc.prorationLines(lim); err != nil {
		return Quote{}, err
	}
	var lines []InvoiceLine
	for _, pl := range q.Proration {
		lines = append(lines, InvoiceLine{Description: pl.Description, Amount: pl.Amount})
	}
	if q.ProrationTotal, err = sumInvoiceLines(lim, pc.field, lines); err != nil {
		return Quote{}, err
	}
	if q.CancelsContract && pc.effective.Before(ct.ExpirationDate) {
		// None at or past the end of the term: the minimum term is served.
		months := MonthsRemaining(pc.effective, ct.ExpirationDate)
		if c, ok := TerminationFee(pc.charges, months); ok && c.Amount > 0 && c.Currency == ct.Currency {
			q.TerminationFee = &FeeLine{ChargeID: c.ID, MonthsRemaining: months, Amount: c.Amount, Currency: c.Currency}
			lines = append(lines, InvoiceLine{Description: fmt.Sprintf("Early termination fee, %d whole months remaining", months), Amount: c.Amount})
		}
	}
	if len(lines) > 0 {
		preview := &InvoicePreview{Currency: ct.Currency, Period: pc.billedRest(), Lines: lines}
		if preview.Total, err = sumInvoiceLines(lim, pc.field, lines); err != nil {
			return Quote{}, err
		}
		q.InvoicePreview = preview
	}
	return q, nil
}

// addedTwice finds an offering that after holds on more lines than before
// and on more than one: a contract holds each offering on one line, since a
// change names the line it changes by its offering and proration matches
// lines by it, so a second line would be billed but never changed. Every
// change is priced here, whichever path built its lines. A contract that
// holds an offering twice already (stored before this check) may still
// change that offering or remove one of its lines.
func addedTwice(before, after []Line) (string, bool) {
	count := func(lines []Line, offeringID string) int {
		n := 0
		for _, l := range lines {
			if l.OfferingID == offeringID {
				n++
			}
		}
		return n
	}
	for _, l := range after {
		if n := count(after, l.OfferingID); n > 1 && n > count(before, l.OfferingID) {
			return l.OfferingID, true
		}
	}
	return "", false
}

func sumInvoiceLines(lim Limits, field string, lines []InvoiceLine) (int64, error) {
	amounts := make([]int64, len(lines))
	for i, l := range lines {
		amounts[i] = l.Amount
	}
	return lim.Add(field, amounts...)
}

// billedRest is what is left from the change's date of the stretch billing
// invoices it in. A stretch invoiced already ends where its invoice ends,
// whatever the terms say since (a renewal mode changed after it was
// billed). One to come ends at the period's end, or at the contract's
// expiration when that comes first and the contract is not evergreen:
// billing stops there (BillingTerms.periodEnd), and a renewal's new term is
// billed on its own at the lines the contract then has. One that billing
// will not invoice, as the contract's schedule stands (Terminated, or
// restarted after the stretch began: see Contract.billsStretch), has
// nothing left: none of it is invoiced, and a restart never back-bills it.
// Prorating past any of these would charge or credit days not billed at
// this price, or at all.
func (pc pricing) billedRest() Period {
	ct, rest := pc.ct, Period{Start: pc.effective, End: pc.period.End}
	if invoiced := !ct.LastBilled.IsZero() && !ct.LastBilled.After(rest.Start) && rest.Start.Before(ct.BilledThrough); invoiced {
		if ct.BilledThrough.Before(rest.End) {
			rest.End = ct.BilledThrough
		}
		return rest
	}
	if !ct.billsStretch(pc.period, rest.Start) {
		rest.End = rest.Start
		return rest
	}
	if exp := ct.ExpirationDate; ct.Renewal.Mode != Evergreen && exp.Before(rest.End) && !exp.Before(rest.Start) {
		rest.End = exp
	}
	return rest
}

// prorationLines charges or credits each offering's recurring change for the
// rest of its billed stretch (billedRest), in the order of the lines before
// then the new ones, then the change in discount, from the price actually
// charged (the lines less a discount in force): what is credited is what
// was charged.
func (pc pricing) prorationLines(lim Limits) ([]ProrationLine, error) {
	before, after, p, effective, rest := pc.ct.Lines, pc.after, pc.period, pc.effective, pc.billedRest()
	if pc.ct.StartsBilledStretch(p, effective) && pc.ct.LastBilled.Before(effective) {
		// The change takes the whole stretch, which is not billed yet: its
		// billing, in advance on its first day, bills it on the new lines.
		// Prorating too would charge (or credit) it twice.
		return []ProrationLine{}, nil
	}
	was, will := pc.ct.Discount.perPeriodOn(effective), pc.discount.perPeriodOn(effective)
	price, err := lim.RecurringTotal(pc.field, before)
	if err != nil {
		return nil, err
	}
	if price, err = lim.Add(pc.field, price, was); err != nil {
		return nil, err
	}
	share, err := newRunningShare(lim, pc.field, p, rest, price)
	if err != nil {
		return nil, err
	}
	out := []ProrationLine{}
	add := func(what string, offeringID string, delta int64) error {
		amount, err := share.step(delta)
		if err != nil || amount == 0 {
			return err
		}
		out = append(out, ProrationLine{
			OfferingID: offeringID, RecurringDelta: delta, Days: rest.Days(), PeriodDays: p.Days(), Amount: amount,
			Description: fmt.Sprintf("%s, %s to %s", what, effective, rest.End.AddDays(-1)),
		})
		return nil
	}
	for _, old := range before {
		idx := slices.IndexFunc(after, func(l Line) bool { return l.OfferingID == old.OfferingID })
		if idx < 0 {
			if err := add(old.OfferingID+" removed", old.OfferingID, -old.RecurringAmount); err != nil {
				return nil, err
			}
			continue
		}
		delta, err := lim.Add(pc.field, after[idx].RecurringAmount, -old.RecurringAmount)
		if err != nil {
			return nil, err
		}
		if err := add(old.OfferingID+" changed", old.OfferingID, delta); err != nil {
			return nil, err
		}
	}
	for _, nl := range after {
		if !slices.ContainsFunc(before, func(l Line) bool { return l.OfferingID == nl.OfferingID }) {
			if err := add(nl.OfferingID+" added", nl.OfferingID, nl.RecurringAmount); err != nil {
				return nil, err
			}
		}
	}
	if was != will {
		if err := add(discountChange(pc.ct.Discount, pc.discount, effective), "", will-was); err != nil {
			return nil, err
		}
	}
	return out, nil
}
