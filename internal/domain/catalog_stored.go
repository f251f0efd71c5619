package domain

import "fmt"

// CheckStored holds a catalog replacing current to what only the stored
// state can tell, listing every problem (400, nothing stored):
//   - an offering's contractTerminationId must be one of the tenant's
//     terminations (known holds those of TerminationIDs that are), else
//     every contract created on it without a termination of its own is
//     refused for a field its request never sent;
//   - an id or code the catalog defines (products, offerings, rates, sales
//     items, discount codes) must be an identifier people can read and
//     compare (CheckIdentifier), unless current defines it already: a
//     catalog stored before this check is not migrated, and one read back
//     and sent again with an item contracts are on (which may not be
//     dropped) is still taken.
func (c *Catalog) CheckStored(current *Catalog, known map[int64]bool) error {
	var p Problems
	had := current.identifiers().set()
	for i, o := range c.Offerings {
		if id := o.ContractTerminationID; id != nil && !known[*id] {
			p.Addf("offerings[%d] (%s): contractTerminationId %d is not a contract termination of this tenant", i, o.ID, *id)
		}
	}
	for _, id := range c.identifiers() {
		if had[id.kind+"\x00"+id.value] {
			continue
		}
		if err := CheckIdentifier(id.value); err != nil {
			p.Addf("%s %q %s", id.path, id.value, err)
		}
	}
	return p.Err()
}

type catalogIdentifier struct{ kind, path, value string }

// identifiers are the ids and codes the catalog defines, with their paths.
func (c *Catalog) identifiers() identifierList {
	var out identifierList
	for i, pr := range c.Products {
		out = append(out, catalogIdentifier{"product", fmt.Sprintf("products[%d].id", i), pr.ID})
	}
	for i, o := range c.Offerings {
		out = append(out, catalogIdentifier{"offering", fmt.Sprintf("offerings[%d].id", i), o.ID})
		for j, r := range o.Rates {
			out = append(out, catalogIdentifier{"rate", fmt.Sprintf("offerings[%d].rates[%d].id", i, j), r.ID})
		}
	}
	for i, si := range c.SalesItems {
		out = append(out, catalogIdentifier{"sales item", fmt.Sprintf("salesItems[%d].code", i), si.Code})
	}
	for i, dc := range c.DiscountCodes {
		out = append(out, catalogIdentifier{"discount code", fmt.Sprintf("discountCodes[%d].code", i), dc.Code})
	}
	return out
}

type identifierList []catalogIdentifier

// set holds each identifier's kind and value, for lookups.
func (l identifierList) set() map[string]bool {
	m := make(map[string]bool, len(l))
	for _, id := range l {
		m[id.kind+"\x00"+id.value] = true
	}
	return m
}
