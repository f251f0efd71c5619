package domain

// Preflight is everything checking a change needs, read before the check:
// the same check runs in a handler, for an answer without a workflow, and in
// the activity that records the change under the contract's lock.
type Preflight struct {
	Catalog  *Catalog
	Contract Contract
	Change   Change
	// Today is the business date the change is made on.
	Today Date
	// Charges are the period charges of the contract's early-termination
	// definition, if any (a self-service change prices a cancellation's fee
	// with them).
	Charges []TerminationCharge
	// Facts is what a crossgrade's validation needs beyond the contract and
	// the catalog.
	Facts CrossgradeFacts
	// Customer is set when a customer key makes the change: it may not
	// change the business's renewal terms (customerTerms).
	Customer bool
	// Asked are the numbers a customer key's terms change gave, where the
	// request is at hand (the API); nil where it is not (the amendment's
	// activity), where a mode-only change's numbers are the contract's and
	// only its mode is checked.
	Asked *TermsAsked
}

// PlanChange validates a self-service change or a crossgrade against the
// contract as given and prices it; PlanOnTimeline plans it against the
// contract as it will be on the change's date.
func PlanChange(p Preflight) (Quote, error) {
	switch p.Change.Action {
	case Crossgrade:
		return PlanCrossgrade(p.Catalog, p.Contract, *p.Change.Crossgrade, p.Today, p.Facts)
	case Renewal:
		return PlanRenewal(p.Catalog, p.Contract, p.Change.EffectiveDate)
	case RenewalTermsChange:
		return PlanTermsChange(p.Catalog, p.Contract, p.Change, p.Today, p.Customer, p.Asked)
	}
	return PlanAmendment(p.Catalog, p.Contract, p.Change, p.Today, p.Charges)
}
