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
// change the business's, set: the terms the contract has on the change's
// date or, for a contract the key creates, the tenant's default. Both are
// whole: the numbers asked left out are set's for a mode-only request
// (TermsAsked.over), the service's (WithDefaults) for one recorded before.
// field is the terms' request path; whose names set for a message
// ("contract CT-…, on 2026-03-01,").
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

// TermsAsked are the renewal numbers a customer key's request gave, nil
// where it left them out: of its terms change, or of a contract it creates
// (RequestedContract.RenewalAsked). Either is mode-only: the numbers are
// the business's whatever it gives (the contract's on the change's date, or
// the tenant's default renewal's), so one it gives that differs from them
// is refused, to tell it so, and one left out is the business's.
type TermsAsked struct {
	TermMonths        *int `json:"termMonths"`
	UpliftBasisPoints *int `json:"upliftBasisPoints"`
	NoticeDays        *int `json:"noticeDays"`
}

// over is terms with the numbers a gave in place of its own; a nil a
// (not known) gave none.
func (a *TermsAsked) over(terms RenewalTerms) RenewalTerms {
	if a == nil {
		return terms
	}
	for _, f := range []struct {
		asked *int
		to    *int
	}{{a.TermMonths, &terms.TermMonths}, {a.UpliftBasisPoints, &terms.UpliftBasisPoints}, {a.NoticeDays, &terms.NoticeDays}} {
		if f.asked != nil {
			*f.to = *f.asked
		}
	}
	return terms
}

// CustomerContracts refuses a contract a customer key asks to create on
// terms other than the business's; requested are planned (PlanContracts),
// so their offerings exist. Its renewal terms, when it gives any, are the
// tenant's default but for the mode (see customerTerms), as its terms
// change keeps the contract's: a renewal the API recorded as mode-only
// (RenewalAsked) takes the default's numbers, those it leaves out included,
// and one it gives other than the default's is refused; one recorded before
// (RenewalAsked nil) is held to the numbers it gave, left out the service's
// 12, 0 and 30, as then. Left out, the contract takes that default, as for
// any key. Its first term is no longer than the default's, and an
// evergreen contract's is the default's (customerFirstTerm); it is not
// protected (customerProtected). Its contractTerminationId, when it gives
// one, must be its offering's, the early-termination fee the business set
// for it: another of the tenant's terminations may owe less, or nothing.
// The rest of a new contract is priced from the catalog, as for any key:
// the catalog has no offering or rate kept from customers, so a customer
// key may take any of them, as a staff key may.
func CustomerContracts(c *Catalog, requested []RequestedContract) error {
	set := c.DefaultRenewal()
	for _, r := range requested {
		if r.Protected {
			return customerProtected(r)
		}
		terms := r.terms(set)
		if r.Renewal != nil {
			if err := customerTerms(set, r.RenewalAsked.over(terms), r.Field+".renewal", "the tenant's default renewal"); err != nil {
				way := "give its numbers with the mode chosen"
				if r.RenewalAsked != nil {
					way = "give the mode alone: termMonths, upliftBasisPoints and noticeDays left out are the default's"
				}
				err.Message += "; leave renewal out for the tenant's default, or " + way
				return err
			}
		}
		if err := customerFirstTerm(set, terms.Mode, r); err != nil {
			return err
		}
		if err := customerTermination(c, r); err != nil {
			return err
		}
	}
	return nil
}

// customerProtected refuses a protected contract: one that refuses every
// change through the API, the business's own (a price change, a
// cancellation by its staff, a cancellation of its payment schedule). A
// customer could otherwise make its contract immune to the business. Only
// its creation sets the flag, so a customer key cannot otherwise change it.
func customerProtected(r RequestedContract) error {
	return Errorf(KindForbidden, r.Field+".protected",
		"%s.protected: a customer key cannot make it true: a protected contract refuses every change through the API, the business's own included, "+
			"so whether a contract is protected is set by the business; leave it out", r.Field)
}

// customerFirstTerm refuses a first term longer than the business's and,
// on a contract whose terms' mode is EVERGREEN, one shorter. A contract a customer key creates ends
// (expirationDate) no later than the default renewal's termMonths after its
// effectiveDate, the term its renewal terms have (customerTerms holds them
// to the default), counted as a renewal counts a term (NextTermEnd: from
// January 31st, 1 month ends on February 28th). The first term runs at the
// catalog's prices with no uplift, so a ten-year one held them for ten
// years, as a 120-month termMonths did; and it is how long the customer is
// committed. That holds whatever the default's mode: under EXPIRE the term
// is the whole contract at those prices, under AUTO_RENEW the first uplift
// comes at its end. A tenant that set no renewal terms has the service's
// (EXPIRE, 12 months), which its contracts show, so 12 months; one that
// sells longer terms to its customers sets its catalog's renewal
// termMonths. A shorter first term is the customer's to choose, as a
// shorter contract is, on a contract that ends or renews then; an
// evergreen contract's is its minimum term, past which it rolls on and
// owes no early-termination fee, so a shorter one, a day, was the whole
// commitment of a contract the business sells for termMonths: it is that
// term exactly, as the business offers it. Staff keys set any dates (the
// bounds of CheckContractDates).
func customerFirstTerm(set RenewalTerms, mode string, r RequestedContract) error {
	end := NextTermEnd(r.EffectiveDate, r.EffectiveDate, set.TermMonths)
	switch {
	case r.ExpirationDate.After(end):
		return Errorf(KindForbidden, r.Field+".expirationDate",
			"%s.expirationDate: a customer key cannot make it %s where the tenant's default renewal has termMonths %d, so a term from %s ends on %s at the latest: "+
				"a contract's term, the time it runs at the catalog's prices, is set by the business; give an expirationDate on or before %s",
			r.Field, r.ExpirationDate, set.TermMonths, r.EffectiveDate, end, end)
	case mode == Evergreen && r.ExpirationDate.Before(end):
		return Errorf(KindForbidden, r.Field+".expirationDate",
			"%s.expirationDate: a customer key cannot make it %s on an %s contract where the tenant's default renewal has termMonths %d, so its minimum term from %s ends on %s: "+
				"an evergreen contract's expirationDate ends its minimum term, past which it owes no early-termination fee, and that term is set by the business; "+
				"give expirationDate %s",
			r.Field, r.ExpirationDate, Evergreen, set.TermMonths, r.EffectiveDate, end, end)
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
