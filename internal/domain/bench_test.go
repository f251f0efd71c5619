package domain

import (
	"testing"
)

func benchCatalog() *Catalog {
	limit := int64(100)
	return &Catalog{
		Products: []Product{{ID: "seat"}, {ID: "tb"}},
		Offerings: []Offering{{
			ID: "team", Products: []OfferingProduct{{ProductID: "seat", MinQuantity: 1, MaxQuantity: &limit}, {ProductID: "tb"}},
			Rates: []Rate{{ID: "m", Currency: "USD", BillingPeriod: Monthly, UnitPrices: map[string]int64{"seat": 1500, "tb": 500}}},
		}},
	}
}

// BenchmarkPlanAmendment prices an immediate quantity change: the pure work
// every self-service request does twice (in the handler and the activity).
func BenchmarkPlanAmendment(b *testing.B) {
	cat := benchCatalog()
	ct := Contract{
		ID: "c", Number: "CT-1", Status: ContractActive, Currency: "USD", BillingPeriod: Monthly, BillingCycleDay: 1,
		EffectiveDate: d("2026-01-01"), ExpirationDate: d("2028-01-01"), Version: 1,
		Lines: []Line{{OfferingID: "team", RateID: "m", Products: []ProductQuantity{{ProductID: "seat", Quantity: 5}, {ProductID: "tb", Quantity: 1}}, RecurringAmount: 8000}},
	}
	ten := Number("10")
	ch := Change{Action: QuantityChange, ContractID: "c", Payload: &ChangePayload{Offerings: []OfferingChangeItem{
		{OfferingID: "team", Products: []RequestedProduct{{"seat", &ten}}},
	}}}
	today := d("2026-03-15")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanAmendment(cat, ct, ch, today, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPeriodContaining(b *testing.B) {
	anchor, at := d("2020-01-31"), d("2026-03-15")
	for b.Loop() {
		PeriodContaining(anchor, 31, Monthly, at)
	}
}
