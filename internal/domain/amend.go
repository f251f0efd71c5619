package domain

import (
	"fmt"
	"slices"
)

// Action is one of the self-service amendment actions.
type Action string

const (
	QuantityChange Action = "QUANTITY_CHANGE"
	RateChange     Action = "RATE_CHANGE"
	OfferingChange Action = "OFFERING_CHANGE"
	AddOffering    Action = "ADD_OFFERING"
	RemoveOffering Action = "REMOVE_OFFERING"
	Cancellation   Action = "CANCELLATION"
)

// Actions lists every action, in the seed's order.
var Actions = []Action{QuantityChange, RateChange, OfferingChange, AddOffering, RemoveOffering, Cancellation}

// NextBillCycle is the one relative effective date the seed defines.
const NextBillCycle = "NEXT_BILL_CYCLE"

// Amendment statuses, recorded with every change.
const (
	StatusPending   = "PENDING"
	StatusReview    = "REVIEW"
	StatusScheduled = "SCHEDULED"
	StatusApplied   = "APPLIED"
	StatusRejected  = "REJECTED"
	StatusExpired   = "EXPIRED"
	StatusWithdrawn = "WITHDRAWN"
	StatusFailed    = "FAILED"
)

// Statuses lists every amendment status.
var Statuses = []string{StatusPending, StatusReview, StatusScheduled, StatusApplied, StatusRejected, StatusExpired, StatusWithdrawn, StatusFailed}

// OpenStatuses are the statuses in which an amendment still holds its contract.
var OpenStatuses = []string{StatusPending, StatusReview, StatusScheduled}

// OpenAmendmentConflict refuses a change to a contract that already holds an
// open amendment, naming it so the caller can follow or withdraw it.
func OpenAmendmentConflict(contractNumber, amendmentID string) error {
	return Errorf(KindConflict, "contractId", "contract %s already has an open amendment %s", contractNumber, amendmentID)
}

// OfferingChangeItem is one entry of a payload's offerings list; which fields
// apply depends on the action.
type OfferingChangeItem struct {
	OfferingID    string             `json:"offeringId"`
	RateID        string             `json:"rateId,omitempty"`
	NewOfferingID string             `json:"newOfferingId,omitempty"`
	Products      []RequestedProduct `json:"products,omitempty"`
}

// ChangePayload is the seed's payload for every action but CANCELLATION.
type ChangePayload struct {
	Offerings []OfferingChangeItem `json:"offerings"`
}

// Change is a decoded self-service request.
type Change struct {
	Action                Action         `json:"action"`
	ContractID            string         `json:"contractId"`
	EffectiveDate         Date           `json:"effectiveDate"`
	RelativeEffectiveDate string         `json:"relativeEffectiveDate,omitempty"`
	Payload               *ChangePayload `json:"payload"`
	RequireApproval       bool           `json:"requireApproval,omitempty"`
	// Crossgrade is set by the crossgrade surface only.
	Crossgrade *CrossgradeChange `json:"crossgrade,omitempty"`
}

// Validate checks the request's shape: what can be known without the contract.
func (c Change) Validate() error {
	if !slices.Contains(Actions, c.Action) {
		return Errorf(KindInvalid, "action", "action %q is not one of %v", c.Action, Actions)
	}
	if c.ContractID == "" {
		return Errorf(KindInvalid, "contractId", "contractId is required")
	}
	if c.Crossgrade != nil {
		return Errorf(KindInvalid, "crossgrade", "crossgrade is not a field of a self-service request")
	}
	if c.RelativeEffectiveDate != "" && c.RelativeEffectiveDate != NextBillCycle {
		return Errorf(KindInvalid, "relativeEffectiveDate", "relativeEffectiveDate must be %s", NextBillCycle)
	}
	if c.Action == Cancellation {
		if c.Payload != nil {
			return Errorf(KindInvalid, "payload", "payload must be null for CANCELLATION")
		}
		return nil
	}
	if c.Payload == nil || len(c.Payload.Offerings) == 0 {
		return Errorf(KindInvalid, "payload.offerings", "payload.offerings must list at least one offering for %s", c.Action)
	}
	seen := map[string]bool{}
	for i, o := range c.Payload.Offerings {
		field := fmt.Sprintf("payload.offerings[%d]", i)
		if o.OfferingID == "" {
			return Errorf(KindInvalid, field+".offeringId", "%s.offeringId is required", field)
		}
		if seen[o.OfferingID] {
			return Errorf(KindInvalid, field+".offeringId", "%s.offeringId %q is listed twice", field, o.OfferingID)
		}
		seen[o.OfferingID] = true
		if err := c.validateItem(o, field); err != nil {
			return err
		}
	}
	return nil
}

func (c Change) validateItem(o OfferingChangeItem, field string) error {
	need := func(ok bool, name string) error {
		if ok {
			return nil
		}
		return Errorf(KindInvalid, field+"."+name, "%s.%s is required for %s", field, name, c.Action)
	}
	refuse := func(set bool, name string) error {
		if !set {
			return nil
		}
		return Errorf(KindInvalid, field+"."+name, "%s.%s is not allowed for %s", field, name, c.Action)
	}
	var errs []error
	switch c.Action {
	case QuantityChange:
		errs = []error{need(o.Products != nil, "products"), refuse(o.RateID != "", "rateId"), refuse(o.NewOfferingID != "", "newOfferingId")}
	case RateChange:
		errs = []error{need(o.RateID != "", "rateId"), refuse(o.NewOfferingID != "", "newOfferingId")}
	case OfferingChange:
		errs = []error{need(o.NewOfferingID != "", "newOfferingId"), need(o.Products != nil, "products"), refuse(o.RateID != "", "rateId")}
	case AddOffering:
		errs = []error{need(o.Products != nil, "products"), refuse(o.NewOfferingID != "", "newOfferingId")}
	case RemoveOffering:
		errs = []error{refuse(o.RateID != "", "rateId"), refuse(o.NewOfferingID != "", "newOfferingId"), refuse(o.Products != nil, "products")}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for j, p := range o.Products {
		pf := fmt.Sprintf("%s.products[%d]", field, j)
		if p.ProductID == "" {
			return Errorf(KindInvalid, pf+".productId", "%s.productId is required", pf)
		}
		if seen[p.ProductID] {
			return Errorf(KindInvalid, pf+".productId", "%s.productId %q is listed twice", pf, p.ProductID)
		}
		seen[p.ProductID] = true
		if err := checkQuantity(p.Quantity, pf+".quantity"); err != nil {
			return err
		}
	}
	return nil
}

// ProrationLine is the charge (positive) or credit (negative) for one
// offering's change over the rest of the current period.
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

// PlanAmendment validates a change against the contract and the catalog and
// prices it. today is the business date the request is made on; charges are
// the period charges of the contract's early-termination definition, if any.
func PlanAmendment(cat *Catalog, ct Contract, ch Change, today Date, charges []TerminationCharge) (Quote, error) {
	if ct.Protected {
		return Quote{}, Errorf(KindForbidden, "contractId", "contract %s is protected and cannot be changed through the API", ct.Number)
	}
	if ct.Status != ContractActive {
		return Quote{}, Errorf(KindUnprocessable, "contractId", "contract %s is %s and cannot be changed", ct.Number, ct.Status)
	}
	effective, period, err := effectiveDate(ct, ch, today)
	if err != nil {
		return Quote{}, err
	}
	after, err := applyChange(cat, ct, ch)
	if err != nil {
		return Quote{}, err
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
	}
	lim := cat.MoneyLimits()
	pc := pricing{ct: ct, action: ch.Action, after: after, newPeriod: newPeriod, effective: effective, period: period, charges: charges, field: "payload"}
	if pc.discount, err = keptDiscount(lim, ct.Discount, after, effective); err != nil {
		return Quote{}, err
	}
	return pc.quote(lim)
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

// quote prices the move to lines `after` on `effective`, prorated over
// `period`: a credit or charge per changed line, the change in discount if
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
	if q.CancelsContract {
		months := MonthsRemaining(pc.effective, ct.ExpirationDate)
		if c, ok := TerminationFee(pc.charges, months); ok && c.Amount > 0 && c.Currency == ct.Currency {
			q.TerminationFee = &FeeLine{ChargeID: c.ID, MonthsRemaining: months, Amount: c.Amount, Currency: c.Currency}
			lines = append(lines, InvoiceLine{Description: fmt.Sprintf("Early termination fee, %d whole months remaining", months), Amount: c.Amount})
		}
	}
	if len(lines) > 0 {
		preview := &InvoicePreview{Currency: ct.Currency, Period: Period{Start: pc.effective, End: pc.period.End}, Lines: lines}
		if preview.Total, err = sumInvoiceLines(lim, pc.field, lines); err != nil {
			return Quote{}, err
		}
		q.InvoicePreview = preview
	}
	return q, nil
}

func sumInvoiceLines(lim Limits, field string, lines []InvoiceLine) (int64, error) {
	amounts := make([]int64, len(lines))
	for i, l := range lines {
		amounts[i] = l.Amount
	}
	return lim.Add(field, amounts...)
}

func effectiveDate(ct Contract, ch Change, today Date) (Date, Period, error) {
	var effective Date
	var period Period
	switch {
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
	if !effective.Before(ct.ExpirationDate) {
		return Date{}, Period{}, Errorf(KindUnprocessable, "effectiveDate", "effectiveDate %s is not before contract %s expires on %s", effective, ct.Number, ct.ExpirationDate)
	}
	if period.End.IsZero() {
		period = PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, effective)
	}
	return effective, period, nil
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
			line, err := newLine(cat, ct, lines, item.NewOfferingID, item.Products, field+".newOfferingId", field)
			if err != nil {
				return nil, err
			}
			lines[idx] = line
		case AddOffering:
			line, err := newLine(cat, ct, lines, item.OfferingID, item.Products, field+".offeringId", field)
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
// rate change, the new rate.
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
	return PriceLine(cat, o, r, quantities, field+".products")
}

// newLine prices an offering joining the contract; unlisted products get their default quantity.
func newLine(cat *Catalog, ct Contract, lines []Line, offeringID string, products []RequestedProduct, idField, field string) (Line, error) {
	o, ok := cat.Offering(offeringID)
	if !ok {
		return Line{}, Errorf(KindUnprocessable, idField, "%s %q is not an offering in the catalog", idField, offeringID)
	}
	if slices.ContainsFunc(lines, func(l Line) bool { return l.OfferingID == offeringID }) {
		return Line{}, Errorf(KindUnprocessable, idField, "%s %q is already on contract %s", idField, offeringID, ct.Number)
	}
	r := rateFor(o, ct.Currency, ct.BillingPeriod)
	if r == nil {
		return Line{}, Errorf(KindUnprocessable, idField, "offering %q has no rate in %s", offeringID, ct.Currency)
	}
	quantities := map[string]int64{}
	for _, p := range products {
		quantities[p.ProductID] = p.Count()
	}
	return PriceLine(cat, o, r, quantities, field+".products")
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

// prorationLines charges or credits each offering's recurring change for the
// rest of the period, in the order of the lines before then the new ones,
// then the change in discount, from the price actually charged (the lines
// less a discount in force): what is credited is what was charged.
func (pc pricing) prorationLines(lim Limits) ([]ProrationLine, error) {
	before, after, p, effective := pc.ct.Lines, pc.after, pc.period, pc.effective
	was, will := pc.ct.Discount.perPeriodOn(effective), pc.discount.perPeriodOn(effective)
	price, err := lim.RecurringTotal(pc.field, before)
	if err != nil {
		return nil, err
	}
	if price, err = lim.Add(pc.field, price, was); err != nil {
		return nil, err
	}
	share, err := newRunningShare(lim, pc.field, p, effective, price)
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
			OfferingID: offeringID, RecurringDelta: delta, Days: effective.DaysUntil(p.End), PeriodDays: p.Days(), Amount: amount,
			Description: fmt.Sprintf("%s, %s to %s", what, effective, p.End.AddDays(-1)),
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
