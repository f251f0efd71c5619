package domain

// Validate checks the catalog as a whole and reports every problem found,
// in the order of the document's sections.
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
	if c.Renewal != nil {
		if err := c.Renewal.WithDefaults().Validate("renewal"); err != nil {
			p.Addf("%s", err.Error())
		}
	}
	lim := c.MoneyLimits()
	products := c.validateProducts(&p)
	offerings := c.validateOfferings(&p, lim, products)
	items := c.validateSalesItems(&p, offerings)
	c.validateCrossgradePaths(&p, items)
	c.validateDiscountCodes(&p, items)
	c.validateViewingCards(&p)
	c.validatePenaltyServices(&p)
	return p.Err()
}

// validateProducts returns the catalog's product ids.
func (c *Catalog) validateProducts(p *Problems) map[string]bool {
	products := map[string]bool{}
	for i, pr := range c.Products {
		p.checkKey("products", i, "id", pr.ID, products[pr.ID])
		products[pr.ID] = true
	}
	return products
}

// validateOfferings returns the catalog's offerings by id.
func (c *Catalog) validateOfferings(p *Problems, lim Limits, products map[string]bool) map[string]*Offering {
	offerings := map[string]*Offering{}
	rateIDs := map[string]bool{}
	for i := range c.Offerings {
		o := &c.Offerings[i]
		at := func(format string, args ...any) {
			p.Addf("offerings[%d] (%s): "+format, append([]any{i, o.ID}, args...)...)
		}
		p.checkKey("offerings", i, "id", o.ID, offerings[o.ID] != nil)
		offerings[o.ID] = o
		if len(o.Products) == 0 {
			at("an offering needs at least one product")
		}
		held := validateOfferingProducts(at, lim, o, products)
		validateRates(at, lim, o, held, rateIDs)
	}
	return offerings
}

// validateOfferingProducts checks an offering's products and returns their ids.
func validateOfferingProducts(at func(string, ...any), lim Limits, o *Offering, products map[string]bool) map[string]bool {
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
	return seen
}

// validateRates checks an offering's rates against the products it holds;
// rateIDs are the rate ids seen so far, across offerings.
func validateRates(at func(string, ...any), lim Limits, o *Offering, seen, rateIDs map[string]bool) {
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

// validateSalesItems returns the catalog's sales items by code.
func (c *Catalog) validateSalesItems(p *Problems, offerings map[string]*Offering) map[string]*SalesItem {
	items := map[string]*SalesItem{}
	for i := range c.SalesItems {
		si := &c.SalesItems[i]
		p.checkKey("salesItems", i, "code", si.Code, items[si.Code] != nil)
		items[si.Code] = si
		o := offerings[si.OfferingID]
		if o == nil {
			p.Addf("salesItems[%d] (%s): offeringId %q is not a catalog offering", i, si.Code, si.OfferingID)
		} else if _, ok := o.Rate(si.RateID); !ok {
			p.Addf("salesItems[%d] (%s): rateId %q is not a rate of offering %q", i, si.Code, si.RateID, si.OfferingID)
		}
	}
	return items
}

func (c *Catalog) validateCrossgradePaths(p *Problems, items map[string]*SalesItem) {
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
}

func (c *Catalog) validateDiscountCodes(p *Problems, items map[string]*SalesItem) {
	codes := map[string]bool{}
	for i, dc := range c.DiscountCodes {
		p.checkKey("discountCodes", i, "code", dc.Code, codes[dc.Code])
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
}

func (c *Catalog) validateViewingCards(p *Problems) {
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
}

func (c *Catalog) validatePenaltyServices(p *Problems) {
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
}

// checkKey records a problem with the key (field) of entry i of a catalog
// list: missing, or taken by an earlier entry.
func (p *Problems) checkKey(list string, i int, field, key string, taken bool) {
	switch {
	case key == "":
		p.Addf("%s[%d].%s is required", list, i, field)
	case taken:
		p.Addf("%s[%d].%s %q is a duplicate", list, i, field, key)
	}
}
