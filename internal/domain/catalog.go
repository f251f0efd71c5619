package domain

import (
	"sort"
)

// BillingPeriod is how often a rate bills, in advance.
type BillingPeriod string

const (
	Monthly   BillingPeriod = "MONTHLY"
	Quarterly BillingPeriod = "QUARTERLY"
	Annual    BillingPeriod = "ANNUAL"
)

// Months is the period's length in months.
func (p BillingPeriod) Months() int {
	switch p {
	case Quarterly:
		return 3
	case Annual:
		return 12
	default:
		return 1
	}
}

// Valid reports whether p is a known period.
func (p BillingPeriod) Valid() bool { return p == Monthly || p == Quarterly || p == Annual }

// Catalog is a tenant's whole product catalog: what can be sold, at which
// prices, and which changes between sales items are allowed.
type Catalog struct {
	Products        []Product        `json:"products"`
	Offerings       []Offering       `json:"offerings"`
	SalesItems      []SalesItem      `json:"salesItems"`
	CrossgradePaths []CrossgradePath `json:"crossgradePaths"`
	DiscountCodes   []DiscountCode   `json:"discountCodes"`
	ViewingCards    []ViewingCard    `json:"viewingCards"`
	PenaltyServices []PenaltyService `json:"penaltyServices"`
	// Limits are the tenant's money ceilings; omitted, the defaults apply.
	Limits *Limits `json:"limits,omitempty"`
}

// MoneyLimits are the ceilings the tenant's contracts are priced under.
func (c *Catalog) MoneyLimits() Limits {
	if c.Limits == nil {
		return Limits{}.OrDefaults()
	}
	return c.Limits.OrDefaults()
}

type Product struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type Offering struct {
	ID                    string            `json:"id"`
	Name                  string            `json:"name"`
	Products              []OfferingProduct `json:"products"`
	Rates                 []Rate            `json:"rates"`
	ContractTerminationID *int64            `json:"contractTerminationId,omitempty"`
}

// OfferingProduct bounds a product's quantity within an offering. A nil
// MaxQuantity means unbounded.
type OfferingProduct struct {
	ProductID   string `json:"productId"`
	MinQuantity int64  `json:"minQuantity"`
	MaxQuantity *int64 `json:"maxQuantity,omitempty"`
}

// DefaultQuantity is what a product gets when a request does not name it.
func (op OfferingProduct) DefaultQuantity() int64 {
	if op.MinQuantity > 0 {
		return op.MinQuantity
	}
	return 1
}

// Rate prices an offering's products per billing period, in minor units.
type Rate struct {
	ID            string           `json:"id"`
	Currency      string           `json:"currency"`
	BillingPeriod BillingPeriod    `json:"billingPeriod"`
	UnitPrices    map[string]int64 `json:"unitPrices"`
}

type SalesItem struct {
	Code                string `json:"code"`
	OfferingID          string `json:"offeringId"`
	RateID              string `json:"rateId"`
	RequiresViewingCard bool   `json:"requiresViewingCard"`
}

type CrossgradePath struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type DiscountCode struct {
	Code       string   `json:"code"`
	PercentOff int64    `json:"percentOff"`
	AppliesTo  []string `json:"appliesTo"`
	Cycles     int64    `json:"cycles"`
	// MaxRedemptionsPerContract is how often one contract may use the code
	// (0 means the default, 1); MaxRedemptions, when set, caps its uses
	// across the tenant. Both are enforced when a crossgrade is applied.
	MaxRedemptionsPerContract int64  `json:"maxRedemptionsPerContract,omitempty"`
	MaxRedemptions            *int64 `json:"maxRedemptions,omitempty"`
}

// PerContractLimit is how often one contract may redeem the code.
func (dc DiscountCode) PerContractLimit() int64 {
	if dc.MaxRedemptionsPerContract == 0 {
		return 1
	}
	return dc.MaxRedemptionsPerContract
}

// DiscountCode finds a discount code by its code.
func (c *Catalog) DiscountCode(code string) (DiscountCode, bool) {
	for _, dc := range c.DiscountCodes {
		if dc.Code == code {
			return dc, true
		}
	}
	return DiscountCode{}, false
}

type ViewingCard struct {
	Number   string `json:"number"`
	Currency string `json:"currency"`
}

type PenaltyService struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Offering finds an offering by id.
func (c *Catalog) Offering(id string) (*Offering, bool) {
	for i := range c.Offerings {
		if c.Offerings[i].ID == id {
			return &c.Offerings[i], true
		}
	}
	return nil, false
}

// Rate finds one of the offering's rates by id.
func (o *Offering) Rate(id string) (*Rate, bool) {
	for i := range o.Rates {
		if o.Rates[i].ID == id {
			return &o.Rates[i], true
		}
	}
	return nil, false
}

// RateFor picks the offering's first rate in currency.
func (o *Offering) RateFor(currency string) (*Rate, bool) {
	for i := range o.Rates {
		if o.Rates[i].Currency == currency {
			return &o.Rates[i], true
		}
	}
	return nil, false
}

// Product finds the offering's bounds for a product.
func (o *Offering) Product(id string) (OfferingProduct, bool) {
	for _, p := range o.Products {
		if p.ProductID == id {
			return p, true
		}
	}
	return OfferingProduct{}, false
}

// SalesItemFor finds the sales item that sells offeringID at rateID.
func (c *Catalog) SalesItemFor(offeringID, rateID string) (*SalesItem, bool) {
	for i := range c.SalesItems {
		if c.SalesItems[i].OfferingID == offeringID && c.SalesItems[i].RateID == rateID {
			return &c.SalesItems[i], true
		}
	}
	return nil, false
}

// Validate checks the catalog as a whole and reports every problem found.
func (c *Catalog) Validate() error {
	var p Problems
	if len(c.Offerings) == 0 {
		// A PUT replaces the whole catalog: an empty document (null, {})
		// would remove every offering, and it is never what was meant.
		p.Addf("offerings must list at least one offering; a catalog replaces the whole catalog")
	}
	if c.Limits != nil {
		c.Limits.validate(&p)
	}
	lim := c.MoneyLimits()
	products := map[string]bool{}
	for i, pr := range c.Products {
		switch {
		case pr.ID == "":
			p.Addf("products[%d].id is required", i)
		case products[pr.ID]:
			p.Addf("products[%d].id %q is a duplicate", i, pr.ID)
		}
		products[pr.ID] = true
	}

	offerings := map[string]*Offering{}
	rateIDs := map[string]bool{}
	for i := range c.Offerings {
		o := &c.Offerings[i]
		at := func(format string, args ...any) {
			p.Addf("offerings[%d] (%s): "+format, append([]any{i, o.ID}, args...)...)
		}
		switch {
		case o.ID == "":
			p.Addf("offerings[%d].id is required", i)
		case offerings[o.ID] != nil:
			p.Addf("offerings[%d].id %q is a duplicate", i, o.ID)
		}
		offerings[o.ID] = o
		if len(o.Products) == 0 {
			at("an offering needs at least one product")
		}
		seen := map[string]bool{}
		for j, op := range o.Products {
			if !products[op.ProductID] {
				at("products[%d].productId %q is not a catalog product", j, op.ProductID)
			}
			if seen[op.ProductID] {
				at("products[%d].productId %q is listed twice", j, op.ProductID)
			}
			seen[op.ProductID] = true
			if op.MinQuantity < 0 {
				at("products[%d].minQuantity must not be negative", j)
			}
			if op.MaxQuantity != nil && *op.MaxQuantity < op.MinQuantity {
				at("products[%d] minQuantity %d is greater than maxQuantity %d", j, op.MinQuantity, *op.MaxQuantity)
			}
			if op.MinQuantity > lim.MaxQuantity {
				at("products[%d].minQuantity %d is above the quantity limit %d", j, op.MinQuantity, lim.MaxQuantity)
			}
		}
		if len(o.Rates) == 0 {
			at("an offering needs at least one rate")
		}
		for j, r := range o.Rates {
			switch {
			case r.ID == "":
				at("rates[%d].id is required", j)
			case rateIDs[r.ID]:
				at("rates[%d].id %q is a duplicate", j, r.ID)
			}
			rateIDs[r.ID] = true
			if !validCurrency(r.Currency) {
				at("rates[%d].currency %q is not a three-letter ISO code", j, r.Currency)
			}
			if !r.BillingPeriod.Valid() {
				at("rates[%d].billingPeriod %q must be MONTHLY, QUARTERLY or ANNUAL", j, r.BillingPeriod)
			}
			for _, op := range o.Products {
				if _, ok := r.UnitPrices[op.ProductID]; !ok {
					at("rates[%d] (%s) has no unit price for product %q", j, r.ID, op.ProductID)
				}
			}
			for _, pid := range sortedKeys(r.UnitPrices) {
				if !seen[pid] {
					at("rates[%d] (%s) prices product %q, which the offering does not hold", j, r.ID, pid)
				}
				if r.UnitPrices[pid] < 0 {
					at("rates[%d] (%s) has a negative price for product %q", j, r.ID, pid)
				}
				if r.UnitPrices[pid] > lim.MaxAmount {
					at("rates[%d] (%s) prices product %q at %d, above the amount limit %d", j, r.ID, pid, r.UnitPrices[pid], lim.MaxAmount)
				}
			}
		}
	}

	items := map[string]*SalesItem{}
	for i := range c.SalesItems {
		si := &c.SalesItems[i]
		switch {
		case si.Code == "":
			p.Addf("salesItems[%d].code is required", i)
		case items[si.Code] != nil:
			p.Addf("salesItems[%d].code %q is a duplicate", i, si.Code)
		}
		items[si.Code] = si
		o := offerings[si.OfferingID]
		if o == nil {
			p.Addf("salesItems[%d] (%s): offeringId %q is not a catalog offering", i, si.Code, si.OfferingID)
		} else if _, ok := o.Rate(si.RateID); !ok {
			p.Addf("salesItems[%d] (%s): rateId %q is not a rate of offering %q", i, si.Code, si.RateID, si.OfferingID)
		}
	}
	for i, cp := range c.CrossgradePaths {
		if items[cp.From] == nil {
			p.Addf("crossgradePaths[%d].from %q is not a sales item", i, cp.From)
		}
		if items[cp.To] == nil {
			p.Addf("crossgradePaths[%d].to %q is not a sales item", i, cp.To)
		}
		if cp.From == cp.To {
			p.Addf("crossgradePaths[%d] goes from %q to itself", i, cp.From)
		}
	}
	codes := map[string]bool{}
	for i, dc := range c.DiscountCodes {
		switch {
		case dc.Code == "":
			p.Addf("discountCodes[%d].code is required", i)
		case codes[dc.Code]:
			p.Addf("discountCodes[%d].code %q is a duplicate", i, dc.Code)
		}
		codes[dc.Code] = true
		if dc.PercentOff <= 0 || dc.PercentOff > 100 {
			p.Addf("discountCodes[%d].percentOff must be between 1 and 100", i)
		}
		if dc.Cycles < 1 {
			p.Addf("discountCodes[%d].cycles must be at least 1", i)
		}
		if dc.MaxRedemptionsPerContract < 0 {
			p.Addf("discountCodes[%d].maxRedemptionsPerContract must be at least 1", i)
		}
		if dc.MaxRedemptions != nil && *dc.MaxRedemptions < 1 {
			p.Addf("discountCodes[%d].maxRedemptions must be at least 1", i)
		}
		for _, code := range dc.AppliesTo {
			if items[code] == nil {
				p.Addf("discountCodes[%d].appliesTo %q is not a sales item", i, code)
			}
		}
	}
	cards := map[string]bool{}
	for i, vc := range c.ViewingCards {
		if cards[vc.Number] {
			p.Addf("viewingCards[%d].number %q is a duplicate", i, vc.Number)
		}
		cards[vc.Number] = true
		if !validCurrency(vc.Currency) {
			p.Addf("viewingCards[%d].currency %q is not a three-letter ISO code", i, vc.Currency)
		}
	}
	services := map[int64]bool{}
	for i, ps := range c.PenaltyServices {
		if services[ps.ID] {
			p.Addf("penaltyServices[%d].id %d is a duplicate", i, ps.ID)
		}
		services[ps.ID] = true
		if ps.ID <= 0 {
			p.Addf("penaltyServices[%d].id must be a positive number", i)
		}
	}
	return p.Err()
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
