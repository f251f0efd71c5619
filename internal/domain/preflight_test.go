package domain

import (
	"errors"
	"testing"
)

// TestPlanChangeOrdersAnOpenAmendment checks the pre-flight's precedence: a
// crossgrade reports an open amendment before anything about the request
// (the seed's state fault first); a self-service change reports what is
// wrong with the request first, then the open amendment.
func TestPlanChangeOrdersAnOpenAmendment(t *testing.T) {
	ct := Contract{
		ID: "c", Number: "CT-1", Status: ContractActive, Currency: "USD", BillingPeriod: Monthly, BillingCycleDay: 1,
		EffectiveDate: d("2026-01-01"), ExpirationDate: d("2028-01-01"), Version: 1,
		Lines: []Line{{OfferingID: "team", RateID: "m", Products: []ProductQuantity{{"seat", 5}, {"tb", 1}}, RecurringAmount: 8000}},
	}
	ten := Number("10")
	change := func(offering string) Change {
		return Change{Action: QuantityChange, ContractID: "c", Payload: &ChangePayload{Offerings: []OfferingChangeItem{
			{OfferingID: offering, Products: []RequestedProduct{{"seat", &ten}}},
		}}}
	}
	base := Preflight{Catalog: benchCatalog(), Contract: ct, Today: d("2026-03-15"), OpenAmendment: "am-1"}
	kind := func(err error) Kind {
		var de *Error
		if !errors.As(err, &de) {
			t.Fatalf("error %v is not a domain error", err)
		}
		return de.Kind
	}

	valid, invalid := base, base
	valid.Change, invalid.Change = change("team"), change("nope")
	if _, err := PlanChange(valid); err == nil || kind(err) != KindConflict {
		t.Errorf("a valid change to a contract with an open amendment: got %v, want a conflict", err)
	}
	if _, err := PlanChange(invalid); err == nil || kind(err) != KindUnprocessable {
		t.Errorf("an invalid change to a contract with an open amendment: got %v, want the change's own refusal", err)
	}
	valid.OpenAmendment = ""
	if _, err := PlanChange(valid); err != nil {
		t.Errorf("a valid change without an open amendment: %v", err)
	}

	cg := base
	cg.Change = Change{Action: Crossgrade, ContractID: "c", Crossgrade: &CrossgradeChange{SalesItemCode: "nowhere"}}
	_, err := PlanChange(cg)
	if err == nil || kind(err) != KindConflict {
		t.Errorf("a crossgrade to nowhere on a contract with an open amendment: got %v, want the open amendment first", err)
	}
	cg.OpenAmendment = ""
	var de *Error
	if _, err := PlanChange(cg); !errors.As(err, &de) || de.Fault != FaultInvalidCrossgradePath {
		t.Errorf("a crossgrade to nowhere: got %v, want %s", err, FaultInvalidCrossgradePath)
	}
}
