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
// it. field is the request path of the item, used in error messages.
func PlanContract(c *Catalog, nc NewContract, field string) (ContractPlan, error) {
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
	terms := c.DefaultRenewal()
	if nc.Renewal != nil {
		terms = nc.Renewal.WithDefaults()
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
}

// PlanContracts plans every requested contract, stopping at the first invalid one.
func PlanContracts(c *Catalog, requested []RequestedContract) ([]ContractPlan, error) {
	plans := make([]ContractPlan, 0, len(requested))
	for _, r := range requested {
		p, err := PlanContract(c, r.NewContract, r.Field)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}
