package domain

import (
	"reflect"
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
	// Renewal are the renewal terms of contracts created without any;
	// omitted, DefaultRenewalTerms (EXPIRE). Only a contract's creation
	// reads them (DefaultRenewal), which PricesAlike relies on.
	Renewal *RenewalTerms `json:"renewal,omitempty"`
}

// PricesAlike reports whether open amendments are priced alike under c and
// other, so that replacing one by the other need not price them again:
// whether the two differ at most in Renewal. A contract takes the default
// renewal terms once, when it is created, and is priced on its own from
// then on. Anything else may reach a quote (names, prices, bounds, paths,
// codes, cards, ceilings), and is not told apart here: a catalog changed
// anywhere else is priced again. A list that is null in one and empty in
// the other counts as a difference, which only costs a re-pricing.
func (c *Catalog) PricesAlike(other *Catalog) bool {
	a, b := *c, *other
	a.Renewal, b.Renewal = nil, nil
	return reflect.DeepEqual(a, b)
}

// DefaultRenewal is the tenant's default renewal terms.
func (c *Catalog) DefaultRenewal() RenewalTerms {
	if c.Renewal == nil {
		return DefaultRenewalTerms
	}
	return c.Renewal.WithDefaults()
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
