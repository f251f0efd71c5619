package domain

import "fmt"

// What a customer key may decide of its contract's terms, and what is the
// business's. The customer decides whether its contract renews: renewal mode
// AUTO_RENEW or EXPIRE. The rest are price terms, and the business sets them:
//   - upliftBasisPoints prices every renewed term (-10000 renews for free);
//   - noticeDays is the business's time to announce a renewal and to review
//     it before it applies;
//   - termMonths is how often the uplift applies (a 120-month term holds the
//     prices for ten years) and how long the customer is committed (an
//     early-termination fee counts the months left in the term);
//   - EVERGREEN rolls on at the same prices, never uplifted, with no fee past
//     the minimum term: the business offers it, so a customer keeps it where
//     it is set but cannot move a contract to it.
//
// None of these shows in the quote fields approval rules see (a terms
// change moves no amount), so they are refused outright rather than left to
// a rule most tenants do not have.

// customerTerms refuses renewal terms a customer key asks for, asked, that
// change the business's, set (both filled by WithDefaults): the terms the
// contract has on the change's date or, for a contract the key creates, the
// tenant's default. field is the terms' request path; whose names set for a
// message ("contract CT-…, on 2026-03-01,").
func customerTerms(set, asked RenewalTerms, field, whose string) *Error {
	refuse := func(name string, was, is any) *Error {
		return Errorf(KindForbidden, field+"."+name,
			"%s.%s: a customer key cannot make it %v where %s has %v: a contract's renewal termMonths, upliftBasisPoints and noticeDays, "+
				"and the EVERGREEN mode, are set by the business; a customer key chooses whether the contract renews (mode %s or %s)",
			field, name, is, whose, was, AutoRenew, Expire)
	}
	switch {
	case asked.UpliftBasisPoints != set.UpliftBasisPoints:
		return refuse("upliftBasisPoints", set.UpliftBasisPoints, asked.UpliftBasisPoints)
	case asked.NoticeDays != set.NoticeDays:
		return refuse("noticeDays", set.NoticeDays, asked.NoticeDays)
	case asked.TermMonths != set.TermMonths:
		return refuse("termMonths", set.TermMonths, asked.TermMonths)
	case asked.Mode == Evergreen && set.Mode != Evergreen:
		return refuse("mode", set.Mode, asked.Mode)
	}
	return nil
}

// CustomerContracts refuses a contract a customer key asks to create on
// terms other than the business's. Its renewal terms, when it gives any,
// must be the tenant's default but for the mode (see customerTerms): left
// out, the contract takes that default, as for any key, so a customer
// wanting it to expire (or renew) at its end gives the default's numbers
// with its mode, or changes the mode once the contract exists. Its
// contractTerminationId, when it gives one, must be its offering's, the
// early-termination fee the business set for it: another of the tenant's
// terminations may owe less, or nothing. The rest of a new contract is
// priced from the catalog, as for any key.
func CustomerContracts(c *Catalog, requested []RequestedContract) error {
	set := c.DefaultRenewal()
	for _, r := range requested {
		if r.Renewal != nil {
			if err := customerTerms(set, r.Renewal.WithDefaults(), r.Field+".renewal", "the tenant's default renewal"); err != nil {
				err.Message += "; leave renewal out for the tenant's default, or give its numbers with the mode chosen"
				return err
			}
		}
		if err := customerTermination(c, r); err != nil {
			return err
		}
	}
	return nil
}

// customerTermination refuses a contractTerminationId other than the
// offering's (r is planned, so its offering exists).
func customerTermination(c *Catalog, r RequestedContract) error {
	asked := r.ContractTerminationID
	if asked == nil {
		return nil
	}
	o, _ := c.Offering(r.PlanID)
	if set := o.ContractTerminationID; set != nil && *set == *asked {
		return nil
	}
	offering := "none"
	if o.ContractTerminationID != nil {
		offering = fmt.Sprint(*o.ContractTerminationID)
	}
	return Errorf(KindForbidden, r.Field+".contractTerminationId",
		"%s.contractTerminationId: a customer key cannot make it %d where offering %q has %s: a contract's early-termination terms are set by the business; leave it out",
		r.Field, *asked, o.ID, offering)
}
