package domain

// Prices is where PriceLine takes each product's unit price from. A line's
// unit prices belong to the contract: locked when the line is priced and
// changed only by a renewal's uplift (UpliftLines), so an uplift or an old
// price survives a later change, whatever the catalog says by then.
type Prices struct {
	// kept holds the contract line's own unit prices by product; a product
	// not in it is priced from the rate.
	kept map[string]int64
}

// CatalogPrices prices every product at its rate's catalog price: a new
// contract, an offering joining a contract, a new rate or a new sales item.
func CatalogPrices() Prices { return Prices{} }

// LinePrices is where the line replacing l, for offering o at rate r, takes
// its prices from. At l's own offering and rate (a quantity change, a rate
// change to the same rate) it keeps l's unit prices: a product l has no
// price for (a line stored before lines kept their prices, or a product
// the offering gained since) takes the catalog's. At another offering or
// rate it is a new price list, and every product takes the catalog's.
func LinePrices(l Line, o *Offering, r *Rate) Prices {
	if l.OfferingID != o.ID || l.RateID != r.ID {
		return CatalogPrices()
	}
	kept := map[string]int64{}
	for _, p := range l.Products {
		if p.UnitPrice != nil {
			kept[p.ProductID] = *p.UnitPrice
		}
	}
	return Prices{kept: kept}
}

// unitPrice is productID's price at rate r (the catalog validates that a
// rate prices every product of its offering).
func (p Prices) unitPrice(r *Rate, productID string) int64 {
	if price, ok := p.kept[productID]; ok {
		return price
	}
	return r.UnitPrices[productID]
}

// Equal reports whether p and q hold the same quantity of the same product
// at the same unit price (both unknown counts as the same).
func (p ProductQuantity) Equal(q ProductQuantity) bool {
	if p.ProductID != q.ProductID || p.Quantity != q.Quantity || (p.UnitPrice == nil) != (q.UnitPrice == nil) {
		return false
	}
	return p.UnitPrice == nil || *p.UnitPrice == *q.UnitPrice
}
