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
	// OpenAmendment is the contract's open amendment, "" when it has none or
	// when the caller did not look (a preview opens nothing; under the lock
	// the store refuses a second open amendment itself).
	OpenAmendment string
}

// PlanChange validates a self-service change or a crossgrade and prices it.
// An open amendment is part of the contract's state: a crossgrade reports it
// first, as the seed's fault table puts state (90029) before anything about
// the request; a self-service change reports what is wrong with the request
// first, so that its preview and its submission name the same refusal.
func PlanChange(p Preflight) (Quote, error) {
	if p.Change.Action == Crossgrade {
		if err := p.openConflict(); err != nil {
			return Quote{}, err
		}
		return PlanCrossgrade(p.Catalog, p.Contract, *p.Change.Crossgrade, p.Today, p.Facts)
	}
	q, err := PlanAmendment(p.Catalog, p.Contract, p.Change, p.Today, p.Charges)
	if err != nil {
		return Quote{}, err
	}
	if err := p.openConflict(); err != nil {
		return Quote{}, err
	}
	return q, nil
}

func (p Preflight) openConflict() error {
	if p.OpenAmendment == "" {
		return nil
	}
	return OpenAmendmentConflict(p.Contract.Number, p.OpenAmendment)
}
