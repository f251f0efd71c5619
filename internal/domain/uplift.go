package domain

// PricedLines returns lines with the unit prices of a line stored before
// lines kept their prices filled from its rate in the catalog, when those
// prices still make up what the line costs (the catalog may have changed
// since); otherwise such a line is left as it is.
func PricedLines(cat *Catalog, lines []Line) []Line {
	out := make([]Line, len(lines))
	for i, l := range lines {
		out[i] = l
		if !hasUnitPrices(l) {
			out[i] = pricedFromCatalog(cat, l)
		}
	}
	return out
}

// pricedFromCatalog is l with its rate's catalog prices, or l unchanged
// when they do not sum to its recurring amount.
func pricedFromCatalog(cat *Catalog, l Line) Line {
	priced := l
	priced.Products = append([]ProductQuantity(nil), l.Products...)
	var total int64
	for j, p := range priced.Products {
		price, ok := catalogUnitPrice(cat, l, p.ProductID)
		if p.UnitPrice != nil {
			price, ok = *p.UnitPrice, true
		}
		amount, fits := mulInt64(price, p.Quantity)
		if !ok || !fits {
			return l
		}
		if total, fits = addInt64(total, amount); !fits {
			return l
		}
		priced.Products[j].UnitPrice = &price
	}
	if total != l.RecurringAmount {
		return l
	}
	return priced
}

func catalogUnitPrice(cat *Catalog, l Line, productID string) (int64, bool) {
	o, ok := cat.Offering(l.OfferingID)
	if !ok {
		return 0, false
	}
	r, ok := o.Rate(l.RateID)
	if !ok {
		return 0, false
	}
	price, ok := r.UnitPrices[productID]
	return price, ok
}

// UpliftLines raises every unit price of lines by basisPoints (negative
// lowers it), each rounded half away from zero on its own, and prices each
// line again from its new unit prices. A line whose prices are unknown (see
// PricedLines) has its recurring amount uplifted as a whole. Every amount
// is checked against lim; field names a refusal.
func UpliftLines(lim Limits, lines []Line, basisPoints int, field string) ([]Line, error) {
	out := make([]Line, len(lines))
	for i, l := range lines {
		out[i] = l
		out[i].Products = append([]ProductQuantity(nil), l.Products...)
		if !hasUnitPrices(l) {
			amount, err := uplift(lim, field, l.RecurringAmount, basisPoints)
			if err != nil {
				return nil, err
			}
			out[i].RecurringAmount = amount
			continue
		}
		var total int64
		for j, p := range out[i].Products {
			price, err := uplift(lim, field, *p.UnitPrice, basisPoints)
			if err != nil {
				return nil, err
			}
			out[i].Products[j].UnitPrice = &price
			amount, err := lim.Mul(field, p.Quantity, price)
			if err != nil {
				return nil, err
			}
			if total, err = lim.Add(field, total, amount); err != nil {
				return nil, err
			}
		}
		out[i].RecurringAmount = total
	}
	return out, nil
}

func hasUnitPrices(l Line) bool {
	for _, p := range l.Products {
		if p.UnitPrice == nil {
			return false
		}
	}
	return len(l.Products) > 0
}

// uplift is amount × (10000 + basisPoints) / 10000, rounded half away from
// zero and checked. The whole ten-thousandths of amount are multiplied apart
// from the rest, so an amount within the ceiling is never refused only
// because amount × (10000 + basisPoints) would not fit in an int64; whole
// and rest have amount's sign (basis points are at least -10000), so
// rounding the rest rounds the sum.
func uplift(lim Limits, field string, amount int64, basisPoints int) (int64, error) {
	if err := lim.Amount(field, amount); err != nil {
		return 0, err
	}
	factor := int64(10000 + basisPoints)
	whole, okWhole := mulInt64(amount/10000, factor)
	rest, okRest := mulInt64(amount%10000, factor)
	r, okSum := addInt64(whole, divRoundHalfUp(rest, 10000))
	if !okWhole || !okRest || !okSum {
		return 0, MoneyLimitError(field, "%s: %d uplifted by %d basis points is beyond what can be computed", field, amount, basisPoints)
	}
	return r, lim.Amount(field, r)
}
