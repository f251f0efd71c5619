package domain

import "slices"

// NewContract is one contract a contract-actions request asks for, as the
// client sent it (after JSON decoding).
type NewContract struct {
	PlanID                string           `json:"planId"`
	EffectiveDate         Date             `json:"effectiveDate"`
	ExpirationDate        Date             `json:"expirationDate"`
	Currency              []string         `json:"currency"`
	RateID                string           `json:"rateId,omitempty"`
	Quantities            map[string]int64 `json:"quantities,omitempty"`
	BillingCycleDay       int              `json:"billingCycleDay,omitempty"`
	PaymentMethod         string           `json:"paymentMethod,omitempty"`
	ViewingCardNumber     string           `json:"viewingCardNumber,omitempty"`
	Protected             bool             `json:"protected,omitempty"`
	ContractTerminationID *int64           `json:"contractTerminationId,omitempty"`
	// Renewal are the contract's terms; the tenant's default when left out.
	Renewal *RenewalTerms `json:"renewal,omitempty"`
}

// ContractPlan is a validated, priced NewContract, ready to be stored.
type ContractPlan struct {
	NewContract
	Currency      string        `json:"currencyCode"`
	BillingPeriod BillingPeriod `json:"billingPeriod"`
	Line          Line          `json:"line"`
	// Renewal are the terms the contract is created with: the request's, or
	// the tenant's default.
	Renewal RenewalTerms `json:"renewalTerms"`
}

// DefaultPaymentMethod is the sandbox token that approves every payment.
const DefaultPaymentMethod = "pm_ok"

// PlanContract validates a requested contract against the catalog and prices
// it; r.Field, the request path of the item, names it in error messages.
func PlanContract(c *Catalog, r RequestedContract) (ContractPlan, error) {
	nc, field := r.NewContract, r.Field
	if nc.PlanID == "" {
		return ContractPlan{}, Errorf(KindInvalid, field+".planId", "%s.planId is required", field)
	}
	o, ok := c.Offering(nc.PlanID)
	if !ok {
		return ContractPlan{}, Errorf(KindInvalid, field+".planId", "%s.planId %q is not an offering in the catalog", field, nc.PlanID)
	}
	if nc.EffectiveDate.IsZero() {
		return ContractPlan{}, Errorf(KindInvalid, field+".effectiveDate", "%s.effectiveDate is required", field)
	}
	if nc.ExpirationDate.IsZero() {
		return ContractPlan{}, Errorf(KindInvalid, field+".expirationDate", "%s.expirationDate is required", field)
	}
	if !nc.ExpirationDate.After(nc.EffectiveDate) {
		return ContractPlan{}, Errorf(KindInvalid, field+".expirationDate", "%s.expirationDate %s must be after effectiveDate %s", field, nc.ExpirationDate, nc.EffectiveDate)
	}
	if len(nc.Currency) != 1 {
		return ContractPlan{}, Errorf(KindInvalid, field+".currency", "%s.currency must list exactly one currency", field)
	}
	currency := nc.Currency[0]
	var rate *Rate
	if nc.RateID != "" {
		if rate, ok = o.Rate(nc.RateID); !ok {
			return ContractPlan{}, Errorf(KindInvalid, field+".rateId", "%s.rateId %q is not a rate of plan %q", field, nc.RateID, o.ID)
		}
		if rate.Currency != currency {
			return ContractPlan{}, Errorf(KindInvalid, field+".currency", "%s.currency %q does not match rate %q, which is in %s", field, currency, rate.ID, rate.Currency)
		}
	} else if rate, ok = o.RateFor(currency); !ok {
		return ContractPlan{}, Errorf(KindInvalid, field+".currency", "%s.currency: plan %q has no rate in %q", field, o.ID, currency)
	}
	if nc.BillingCycleDay < 0 || nc.BillingCycleDay > 31 {
		return ContractPlan{}, Errorf(KindInvalid, field+".billingCycleDay", "%s.billingCycleDay must be between 1 and 31", field)
	}
	if nc.BillingCycleDay == 0 {
		nc.BillingCycleDay = nc.EffectiveDate.Day()
	}
	if nc.ContractTerminationID == nil {
		nc.ContractTerminationID = o.ContractTerminationID
	}
	if nc.PaymentMethod == "" {
		nc.PaymentMethod = DefaultPaymentMethod
	}
	if n := nc.ViewingCardNumber; n != "" {
		// The same checks a crossgrade makes; a card held by another active
		// contract is refused by a unique index when the contract is stored.
		idx := slices.IndexFunc(c.ViewingCards, func(vc ViewingCard) bool { return vc.Number == n })
		if !ValidViewingCardNumber(n) || idx < 0 {
			return ContractPlan{}, Errorf(KindInvalid, field+".viewingCardNumber", "%s.viewingCardNumber %q is not a viewing card in the catalog", field, n)
		}
		if c.ViewingCards[idx].Currency != currency {
			return ContractPlan{}, Errorf(KindInvalid, field+".viewingCardNumber", "%s.viewingCardNumber %q is for %s, not %s", field, n, c.ViewingCards[idx].Currency, currency)
		}
	}
	terms := r.terms(c.DefaultRenewal())
	if nc.Renewal != nil {
		if err := terms.Validate(field + ".renewal"); err != nil {
			return ContractPlan{}, err
		}
	}
	line, err := PriceLine(c, o, rate, nc.Quantities, CatalogPrices(), field+".quantities")
	if err != nil {
		// Out-of-bounds quantities on a new contract are a bad request, not a refused change.
		return ContractPlan{}, &Error{Kind: KindInvalid, Field: field + ".quantities", Message: err.Error()}
	}
	return ContractPlan{NewContract: nc, Currency: currency, BillingPeriod: rate.BillingPeriod, Line: line, Renewal: terms}, nil
}

// RequestedContract is a NewContract with the request path it came from.
type RequestedContract struct {
	Field string `json:"field"`
	NewContract
	// RenewalAsked are the numbers of the renewal a customer key's contract
	// gives, nil where it left them out, recorded by the API from the
	// request's body: its renewal is mode-only in effect, as the key's terms
	// change is (Change.ModeOnly), so the contract takes the tenant's
	// default renewal's numbers with its mode (terms) and the numbers it gave
	// are only checked against them (CustomerContracts). It travels with the
	// request to the workflow's activity, which plans and checks the
	// contracts again without the body, on the catalog it stores them with.
	// Nil for a staff key's contract, whose numbers left out are the
	// service's (WithDefaults: README, "Which numbers a request may give"),
	// for one that gives no renewal, and for a customer's requested before
	// it existed (a history from then), checked as then. Never a field of a
	// request, which decodes a NewContract.
	RenewalAsked *TermsAsked `json:"renewalAsked,omitempty"`
}

// terms are the renewal terms r is created with, def the tenant's default
// renewal: def when r gives none; def's numbers with r's mode when its
// renewal is mode-only (RenewalAsked); else r's own, its numbers left out
// the service's.
func (r RequestedContract) terms(def RenewalTerms) RenewalTerms {
	switch {
	case r.Renewal == nil:
		return def
	case r.RenewalAsked != nil:
		def.Mode = r.Renewal.Mode
		return def
	}
	return r.Renewal.WithDefaults()
}

// termMonthsDefault reports whether r's termMonths is the tenant's default
// renewal's: r gives no renewal, or a mode-only one without it.
func (r RequestedContract) termMonthsDefault() bool {
	return r.Renewal == nil || (r.RenewalAsked != nil && r.RenewalAsked.TermMonths == nil)
}

// PlanContracts plans every requested contract, stopping at the first invalid one.
func PlanContracts(c *Catalog, requested []RequestedContract) ([]ContractPlan, error) {
	plans := make([]ContractPlan, 0, len(requested))
	for _, r := range requested {
		p, err := PlanContract(c, r)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}
