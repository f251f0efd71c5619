package domain

import (
	"fmt"
	"math"
)

// Contract statuses.
const (
	ContractActive    = "active"
	ContractCancelled = "canceled"
	ContractExpired   = "expired"
)

// ContractStatuses are the statuses a contract can have.
var ContractStatuses = []string{ContractActive, ContractCancelled, ContractExpired}

// SegmentSuperseded marks a segment that never took effect: a second change
// effective on the day it started replaced it within that day. It is kept,
// so the segments stay one chain with one segment per version.
const SegmentSuperseded = "superseded"

// Payment schedule statuses, as the DDCMS surface names them.
const (
	ScheduleActive     = "Active"
	ScheduleTerminated = "Terminated"
)

// ProductQuantity is how many units of a product a line holds.
type ProductQuantity struct {
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
	// UnitPrice is the contract's own price of one unit, per period: locked
	// when the line was priced and uplifted at each renewal. Nil on a line
	// stored before lines kept their prices (see PricedLines).
	UnitPrice *int64 `json:"unitPrice,omitempty"`
}

// Line is one offering on a contract at one rate: the shape the self-service
// surface's payloads use.
type Line struct {
	OfferingID      string            `json:"offeringId"`
	RateID          string            `json:"rateId"`
	SalesItemCode   string            `json:"salesItemCode,omitempty"`
	Products        []ProductQuantity `json:"products"`
	RecurringAmount int64             `json:"recurringAmount"`
}

// Quantity of a product on the line (0 when absent).
func (l Line) Quantity(productID string) int64 {
	for _, p := range l.Products {
		if p.ProductID == productID {
			return p.Quantity
		}
	}
	return 0
}

// PriceLine builds a line for offering o at rate r with the given quantities,
// checking each against the offering's bounds, and records on it each
// product's unit price, taken from prices. Products missing from quantities
// get their default quantity; field names the request path used in error
// messages.
func PriceLine(c *Catalog, o *Offering, r *Rate, quantities map[string]int64, prices Prices, field string) (Line, error) {
	for _, pid := range sortedKeys(quantities) {
		if _, ok := o.Product(pid); !ok {
			return Line{}, Errorf(KindUnprocessable, field, "%s: product %q is not part of offering %q", field, pid, o.ID)
		}
	}
	line := Line{OfferingID: o.ID, RateID: r.ID}
	if si, ok := c.SalesItemFor(o.ID, r.ID); ok {
		line.SalesItemCode = si.Code
	}
	lim := c.MoneyLimits()
	for _, op := range o.Products {
		q, given := quantities[op.ProductID]
		if !given {
			q = op.DefaultQuantity()
		}
		if err := checkBounds(lim, op, q, field); err != nil {
			return Line{}, err
		}
		price := prices.unitPrice(r, op.ProductID)
		line.Products = append(line.Products, ProductQuantity{ProductID: op.ProductID, Quantity: q, UnitPrice: &price})
		amount, err := lim.Mul(field, q, price)
		if err != nil {
			return Line{}, err
		}
		if line.RecurringAmount, err = lim.Add(field, line.RecurringAmount, amount); err != nil {
			return Line{}, err
		}
	}
	return line, nil
}

// checkBounds holds a quantity to the offering's bounds and to the tenant's
// quantity ceiling, which also bounds an offering without a maxQuantity.
func checkBounds(lim Limits, op OfferingProduct, q int64, field string) error {
	if err := lim.Quantity(field, q); err != nil {
		return err
	}
	if q < op.MinQuantity {
		return Errorf(KindUnprocessable, field, "%s: quantity %d of product %q is below its minimum %d", field, q, op.ProductID, op.MinQuantity)
	}
	if op.MaxQuantity != nil && q > *op.MaxQuantity {
		return Errorf(KindUnprocessable, field, "%s: quantity %d of product %q is above its maximum %d", field, q, op.ProductID, *op.MaxQuantity)
	}
	return nil
}

// RecurringTotal sums the lines' recurring amounts per period, checked.
func (l Limits) RecurringTotal(field string, lines []Line) (int64, error) {
	amounts := make([]int64, len(lines))
	for i, line := range lines {
		amounts[i] = line.RecurringAmount
	}
	return l.Add(field, amounts...)
}

// DisplayedRecurringTotal is the total shown for stored lines. Lines are
// checked when priced; one stored before the checks existed shows the int64
// bound its sum passed, never a wrapped sign.
func DisplayedRecurringTotal(lines []Line) int64 {
	var total int64
	for _, l := range lines {
		sum, ok := addInt64(total, l.RecurringAmount)
		if !ok {
			if l.RecurringAmount > 0 {
				return math.MaxInt64
			}
			return math.MinInt64
		}
		total = sum
	}
	return total
}

// BillingCycleType is the lower-case period name the contract-actions surface shows.
func BillingCycleType(p BillingPeriod) string {
	switch p {
	case Quarterly:
		return "quarterly"
	case Annual:
		return "annual"
	default:
		return "monthly"
	}
}

// FormatNumber renders sequential numbers such as CT-0000000001.
func FormatNumber(prefix string, n int64) string {
	return fmt.Sprintf("%s-%010d", prefix, n)
}
