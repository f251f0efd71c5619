package domain

import (
	"errors"
	"slices"
)

// Crossgrade changes a contract to another sales item (crossgrade surface).
const Crossgrade Action = "CROSSGRADE"

// Fault is a crossgrade refusal as the crossgrade surface names it.
type Fault string

const (
	FaultNoContractFound           Fault = "NoContractFoundFault"
	FaultInvalidStateForCrossgrade Fault = "InvalidStateForCrossgradeFault"
	FaultInvalidCrossgradePath     Fault = "InvalidCrossgradePathFault"
	FaultInvalidDiscountCode       Fault = "InvalidDiscountCodeFault"
	FaultVCNRequired               Fault = "VCNRequiredFault"
	FaultInvalidVCN                Fault = "InvalidVCNFault"
	FaultVCNCurrencyMismatch       Fault = "VCNCurrencyMismatchFault"
	FaultVCNInUse                  Fault = "VCNInUseFault"
	FaultPaymentAuthorisation      Fault = "PaymentAuthorisationFault"
	FaultPaymentSystem             Fault = "PaymentSystemFault"
	FaultUnableToCrossgrade        Fault = "UnableToCrossgradeFault"
	FaultSystemFailure             Fault = "SystemFailureFault"
)

func faultf(fault Fault, kind Kind, field, format string, args ...any) *Error {
	e := Errorf(kind, field, format, args...)
	e.Fault = fault
	return e
}

// CrossgradeChange is a request to move a contract to another sales item.
type CrossgradeChange struct {
	SalesItemCode        string `json:"salesItemCode"`
	Referrer             string `json:"referrer,omitempty"`
	DiscountCode         string `json:"discountCode,omitempty"`
	DowngradeImmediately bool   `json:"downgradeImmediately,omitempty"`
	ViewingCardNumber    string `json:"viewingCardNumber,omitempty"`
}

// CrossgradeQuote is what a crossgrade adds to a quote.
type CrossgradeQuote struct {
	From              string           `json:"fromSalesItem"`
	To                string           `json:"toSalesItem"`
	Upgrade           bool             `json:"upgrade"`
	Discount          *AppliedDiscount `json:"discount,omitempty"`
	ViewingCardNumber string           `json:"viewingCardNumber,omitempty"`
	Referrer          string           `json:"referrer,omitempty"`
	// PaymentAmount is authorised before an upgrade is applied and captured after.
	PaymentAmount int64 `json:"paymentAmount"`
}

// AppliedDiscount is a discount code as it applies to the new item.
type AppliedDiscount struct {
	Code       string `json:"code"`
	PercentOff int64  `json:"percentOff"`
	Cycles     int64  `json:"cycles"`
	// PerPeriod is the (negative) amount taken off each discounted period.
	PerPeriod int64 `json:"perPeriod"`
	// SalesItemCode is the item whose line the discount is taken off.
	SalesItemCode string `json:"salesItemCode,omitempty"`
	// Until is the end of the period the discount was charged for: until
	// then, a change credits or charges at the discounted price. Zero for a
	// discount recorded before this was kept.
	Until Date `json:"until"`
}

// CrossgradeFacts is what validating a crossgrade needs to know beyond the
// contract and the catalog.
type CrossgradeFacts struct {
	// CardInUse reports whether another active contract holds the requested viewing card.
	CardInUse bool
	// Redemptions counts the requested discount code's uses so far.
	Redemptions Redemptions
}

// MaxReferrerLength bounds a crossgrade's referrer, as the seed does.
const MaxReferrerLength = 50

// PlanCrossgrade validates a crossgrade and prices it. When several faults
// apply, the one reported is the first in the seed's table: state (90029),
// path (90018), card currency (90077), anything else that makes it
// impossible (90063), card required (90079), invalid card (90031), card in
// use (90078), discount code (90022, its redemption limits included).
// Payment faults come after all of these, since payment is attempted only
// for a valid request. A code's redemption limits are checked here for a
// prompt answer; the apply checks them again, under lock.
//
// An upgrade (a higher list price per period) applies today and is paid up
// front; a downgrade waits for the next billing period unless asked to apply
// now, with a prorated credit. So does any crossgrade that changes the
// billing period.
func PlanCrossgrade(cat *Catalog, ct Contract, cg CrossgradeChange, today Date, facts CrossgradeFacts) (Quote, error) {
	if ct.Status != ContractActive {
		return Quote{}, faultf(FaultInvalidStateForCrossgrade, KindConflict, "", "contract %s is %s", ct.Number, ct.Status)
	}
	if ct.Protected {
		return Quote{}, faultf(FaultInvalidStateForCrossgrade, KindForbidden, "", "contract %s is protected and cannot be changed through the API", ct.Number)
	}
	idx, from, to, err := crossgradePath(cat, ct, cg.SalesItemCode)
	if err != nil {
		return Quote{}, err
	}
	o, _ := cat.Offering(to.OfferingID)
	r, _ := o.Rate(to.RateID)
	if vc, known := knownViewingCard(cat, cg.ViewingCardNumber); known && vc.Currency != r.Currency {
		return Quote{}, faultf(FaultVCNCurrencyMismatch, KindInvalid, "viewingCardNumber", "viewing card %q is for %s, not %s", vc.Number, vc.Currency, r.Currency)
	}
	line, effective, err := crossgradeLine(cat, ct, cg, ct.Lines[idx], o, r, today)
	if err != nil {
		return Quote{}, err
	}
	after := slices.Clone(ct.Lines)
	after[idx] = line
	// The new item replaces the current item's line only: its offering on
	// another line would be on the contract twice. Refused here, among the
	// other 90063 refusals, not only by the quote's own check, which comes
	// after the card and discount faults.
	if id, twice := addedTwice(ct.Lines, after); twice {
		return Quote{}, faultf(FaultUnableToCrossgrade, KindUnprocessable, "salesItemCode",
			"offering %q is on contract %s already: the crossgrade from %s to %s replaces the %s line and would put the offering on the contract twice (remove its line first)",
			id, ct.Number, from.Code, to.Code, from.Code)
	}
	// The new item may change the billing period, but only of the line it
	// replaces: billing charges every line's price once per the contract's
	// period, so a line left on another would be billed wrong (a monthly
	// Sports line on a contract gone annual, its monthly price once a
	// year). As a self-service change that mixes periods is refused
	// (commonBillingPeriod), so is this crossgrade, among the 90063s.
	if l, period, mixed := otherPeriod(cat, after, r.BillingPeriod); mixed {
		return Quote{}, faultf(FaultUnableToCrossgrade, KindUnprocessable, "salesItemCode",
			"offering %q on contract %s bills %s, and every offering on a contract bills one period: the crossgrade from %s to %s would bill %s (remove the offerings billed %s first, or crossgrade to an item billed %s)",
			l.OfferingID, ct.Number, period, from.Code, to.Code, r.BillingPeriod, period, period)
	}
	card, err := viewingCard(cat, ct, cg, to, facts.CardInUse)
	if err != nil {
		return Quote{}, err
	}
	discount, err := applicableDiscount(cat, cg.DiscountCode, to.Code, facts.Redemptions)
	if err != nil {
		return Quote{}, err
	}
	upgrade := line.RecurringAmount > ct.Lines[idx].RecurringAmount
	period := PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, today)
	lim := cat.MoneyLimits()
	pc := pricing{ct: ct, action: Crossgrade, after: after, newPeriod: r.BillingPeriod, effective: effective, period: period, discount: discount, field: "salesItemCode"}
	if discount != nil {
		// For the days the change is prorated over: billing, which
		// applies no discount, bills whatever comes after them.
		discount.SalesItemCode, discount.Until = to.Code, pc.billedRest().End
		if err := discount.priceOn(lim, "discountCode", line); err != nil {
			return Quote{}, unableToCrossgrade(err)
		}
	}
	q, err := pc.quote(lim)
	if err != nil {
		return Quote{}, unableToCrossgrade(err)
	}
	q.Crossgrade = &CrossgradeQuote{From: from.Code, To: to.Code, Upgrade: upgrade, Discount: discount, ViewingCardNumber: card, Referrer: cg.Referrer}
	if upgrade && q.InvoicePreview != nil && q.InvoicePreview.Total > 0 {
		q.Crossgrade.PaymentAmount = q.InvoicePreview.Total
	}
	return q, nil
}

// unableToCrossgrade reports a refusal of the new item's price (bounds,
// money limits) as the surface's UnableToCrossgradeFault, keeping its field.
func unableToCrossgrade(err error) error {
	field := "salesItemCode"
	var de *Error
	if errors.As(err, &de) && de.Field != "" {
		field = de.Field
	}
	return faultf(FaultUnableToCrossgrade, KindUnprocessable, field, "%s", err.Error())
}

// crossgradePath finds the contract's current line and sales item and the
// one asked for, refusing (90018) a crossgrade the catalog has no path for.
func crossgradePath(cat *Catalog, ct Contract, code string) (int, *SalesItem, *SalesItem, error) {
	if code == "" {
		return 0, nil, nil, faultf(FaultInvalidCrossgradePath, KindInvalid, "salesItemCode", "salesItemCode is required")
	}
	idx, from := currentSalesItem(cat, ct)
	to, ok := salesItem(cat, code)
	if from == nil || !ok || !slices.Contains(cat.CrossgradePaths, CrossgradePath{From: from.Code, To: code}) {
		return 0, nil, nil, faultf(FaultInvalidCrossgradePath, KindUnprocessable, "salesItemCode", "contract %s cannot be crossgraded to %q", ct.Number, code)
	}
	return idx, from, to, nil
}

// crossgradeLine prices the new item's line, keeping the quantities of the
// products it shares with the current one, and finds when it takes effect.
// The new item is a new offering or rate, so its line takes the catalog's
// prices, not the current line's; only two items naming the same offering
// and rate keep them, as nothing about the price changes (see LinePrices).
// Whatever makes it impossible is an UnableToCrossgradeFault (90063).
func crossgradeLine(cat *Catalog, ct Contract, cg CrossgradeChange, current Line, o *Offering, r *Rate, today Date) (Line, Date, error) {
	unable := func(field, format string, args ...any) (Line, Date, error) {
		return Line{}, Date{}, faultf(FaultUnableToCrossgrade, KindUnprocessable, field, format, args...)
	}
	if len(cg.Referrer) > MaxReferrerLength {
		return unable("referrer", "referrer must be at most %d characters", MaxReferrerLength)
	}
	if r.Currency != ct.Currency {
		return unable("salesItemCode", "%s is sold in %s but contract %s is in %s", cg.SalesItemCode, r.Currency, ct.Number, ct.Currency)
	}
	quantities := map[string]int64{}
	for _, p := range current.Products {
		if _, ok := o.Product(p.ProductID); ok {
			quantities[p.ProductID] = p.Quantity
		}
	}
	line, err := PriceLine(cat, o, r, quantities, LinePrices(current, o, r), "salesItemCode")
	if err != nil {
		return Line{}, Date{}, unableToCrossgrade(err)
	}
	upgrade := line.RecurringAmount > current.RecurringAmount
	effective := today
	if r.BillingPeriod != ct.BillingPeriod || (!upgrade && !cg.DowngradeImmediately) {
		effective = PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, today).End
	}
	// An evergreen contract runs on past its expiration date, the end of
	// its minimum term, until it is cancelled.
	if !effective.Before(ct.ExpirationDate) && ct.Renewal.Mode != Evergreen {
		return unable("", "contract %s expires on %s, before the crossgrade could take effect", ct.Number, ct.ExpirationDate)
	}
	if effective.After(LastDate) {
		return unable("", "the crossgrade would take effect on %s, after %s, the last date the service supports", effective, LastDate)
	}
	return line, effective, nil
}

// otherPeriod finds a line of lines whose rate bills another period than
// period. A line whose rate the catalog lacks (it keeps those of active
// contracts) tells nothing, and is passed over.
func otherPeriod(cat *Catalog, lines []Line, period BillingPeriod) (Line, BillingPeriod, bool) {
	for _, l := range lines {
		o, ok := cat.Offering(l.OfferingID)
		if !ok {
			continue
		}
		if r, ok := o.Rate(l.RateID); ok && r.BillingPeriod != period {
			return l, r.BillingPeriod, true
		}
	}
	return Line{}, "", false
}

// currentSalesItem is the sales item whose offering and rate the contract holds.
func currentSalesItem(cat *Catalog, ct Contract) (int, *SalesItem) {
	for i, l := range ct.Lines {
		if si, ok := cat.SalesItemFor(l.OfferingID, l.RateID); ok {
			return i, si
		}
	}
	return -1, nil
}

func salesItem(cat *Catalog, code string) (*SalesItem, bool) {
	for i := range cat.SalesItems {
		if cat.SalesItems[i].Code == code {
			return &cat.SalesItems[i], true
		}
	}
	return nil, false
}

func applicableDiscount(cat *Catalog, code, item string, used Redemptions) (*AppliedDiscount, error) {
	if code == "" {
		return nil, nil
	}
	dc, ok := cat.DiscountCode(code)
	if !ok || !slices.Contains(dc.AppliesTo, item) {
		return nil, faultf(FaultInvalidDiscountCode, KindNotFound, "discountCode", "discount code %q does not exist for %s", code, item)
	}
	if err := dc.CheckRedemption(used); err != nil {
		return nil, err
	}
	return &AppliedDiscount{Code: dc.Code, PercentOff: dc.PercentOff, Cycles: dc.Cycles}, nil
}

// knownViewingCard finds a requested card of a valid form in the catalog.
func knownViewingCard(cat *Catalog, number string) (ViewingCard, bool) {
	if number == "" || !ValidViewingCardNumber(number) {
		return ViewingCard{}, false
	}
	idx := slices.IndexFunc(cat.ViewingCards, func(vc ViewingCard) bool { return vc.Number == number })
	if idx < 0 {
		return ViewingCard{}, false
	}
	return cat.ViewingCards[idx], true
}

// viewingCard picks the card the new item uses: the requested one, checked,
// or the contract's own. A requested card's currency was checked before.
func viewingCard(cat *Catalog, ct Contract, cg CrossgradeChange, to *SalesItem, inUse bool) (string, error) {
	number := cg.ViewingCardNumber
	if number == "" {
		if ct.ViewingCardNumber != nil {
			number = *ct.ViewingCardNumber
		}
		if number == "" && to.RequiresViewingCard {
			return "", faultf(FaultVCNRequired, KindInvalid, "viewingCardNumber", "%s requires a viewing card", to.Code)
		}
		return number, nil
	}
	if _, known := knownViewingCard(cat, number); !known {
		return "", faultf(FaultInvalidVCN, KindInvalid, "viewingCardNumber", "viewing card %q is not valid", number)
	}
	if inUse {
		return "", faultf(FaultVCNInUse, KindConflict, "viewingCardNumber", "viewing card %q is already on another contract", number)
	}
	return number, nil
}

// ValidViewingCardNumber checks the form of a card number: 9 to 16 digits
// whose last is a valid Luhn check digit.
func ValidViewingCardNumber(n string) bool {
	if len(n) < 9 || len(n) > 16 {
		return false
	}
	sum := 0
	for i := len(n) - 1; i >= 0; i-- {
		d := int(n[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if (len(n)-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
