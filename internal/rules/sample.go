package rules

import (
	"fmt"

	"github.com/google/cel-go/cel"

	"github.com/contractd/contractd/internal/domain"
)

// samples are plausible changes, one of each action, that a rule is tried
// on when it is saved. A rule that fails to evaluate holds the change, so one
// that fails on any ordinary change holds every change of the tenant, its
// renewals too, which then expire. checkRule sees only what is literally
// written: a type mismatch (contract.recurringAmount > "a"), a computed or
// aliased key ([quote].exists(q, q.recurringdelta > 0)) or a cost over the
// limit show only when the rule runs. One sample per action runs the
// branches a rule keys on its action; checkRule still catches a misspelt key
// in a branch none of them takes. Every number is non-zero and of a
// realistic size, so that a rule failing only on an edge value (a division
// by a discount of 0) is still saved and holds just those changes.
var samples = []Facts{
	sample(domain.QuantityChange, "USER", rise),
	sample(domain.RateChange, "USER", rise),
	sample(domain.OfferingChange, "CUSTOMER", rise),
	sample(domain.AddOffering, "HMAC", rise),
	sample(domain.RemoveOffering, "CUSTOMER", QuoteFacts{RecurringDelta: -2000, ProrationAmount: -1000, PercentChange: -20.0, Discount: 10, UpliftBasisPoints: 350, UpliftDelta: 50}),
	sample(domain.Cancellation, "CUSTOMER", QuoteFacts{RecurringDelta: -10000, ProrationAmount: -5000, PercentChange: -100.0, Discount: 10, CancelsContract: true,
		UpliftBasisPoints: 350, UpliftDelta: 50}),
	sample(domain.Crossgrade, "USER", rise),
	sample(domain.RenewalTermsChange, "USER", rise),
	{
		Action: string(domain.Renewal), Source: domain.SystemSource, Actor: domain.SystemActorID,
		Contract: sampleContract, Quote: QuoteFacts{RecurringDelta: 300, ProrationAmount: 300, PercentChange: 3.0, Discount: 10, UpliftBasisPoints: 300, UpliftDelta: 50},
	},
}

var (
	sampleContract = ContractFacts{Status: domain.ContractActive, Currency: "USD", RecurringAmount: 10000, MonthsRemaining: 12}
	rise           = QuoteFacts{RecurringDelta: 1000, ProrationAmount: 500, PercentChange: 10.0, Discount: 10, UpliftBasisPoints: 350, UpliftDelta: 50}
)

func sample(action domain.Action, source string, q QuoteFacts) Facts {
	return Facts{Action: string(action), Source: source, Actor: "3f6c1a52-8d2e-4b7a-9c41-5e0d2b7f8a13", Contract: sampleContract, Quote: q}
}

// trySamples reports the first sample prg fails to evaluate, with CEL's
// error. Only these made-up facts are used: a tenant's real changes are
// not read to check a rule.
func trySamples(prg cel.Program) error {
	for _, f := range samples {
		if _, _, err := prg.Eval(f.activation()); err != nil {
			return fmt.Errorf("fails on a sample change: %v (a %s from %s)", err, f.Action, f.Source)
		}
	}
	return nil
}
