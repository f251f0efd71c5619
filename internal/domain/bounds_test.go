package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestContractDatesAreBounded(t *testing.T) {
	today := NewDate(2026, 3, 15)
	item := func(eff, exp Date) NewContract { return NewContract{EffectiveDate: eff, ExpirationDate: exp} }
	assert.NoError(t, CheckContractDates(item(NewDate(2021, 3, 15), NewDate(2031, 3, 15)), "c", today))
	assert.ErrorContains(t, CheckContractDates(item(NewDate(2021, 3, 14), NewDate(2022, 1, 1)), "c", today), "5 year(s) ago")
	assert.ErrorContains(t, CheckContractDates(item(NewDate(2000, 1, 1), NewDate(2001, 1, 1)), "c", today), "c.effectiveDate")
	assert.ErrorContains(t, CheckContractDates(item(NewDate(2027, 3, 16), NewDate(2028, 1, 1)), "c", today), "ahead")
	assert.ErrorContains(t, CheckContractDates(item(NewDate(2026, 1, 1), NewDate(9999, 12, 31)), "c", today), "10 years")
}

func TestABacklogIsBilledTwelvePeriodsARun(t *testing.T) {
	terms := BillingTerms{EffectiveDate: NewDate(2000, 1, 1), ExpirationDate: NewDate(9999, 12, 31), CycleDay: 1, Period: Monthly}
	due := terms.DuePeriods(NewDate(2026, 12, 1))
	assert.Len(t, due, 324, "the backlog issue 17 found")
	capped := CapPeriods(due)
	assert.Len(t, capped, MaxPeriodsPerRun)
	assert.Equal(t, NewDate(2000, 1, 1), capped[0].Billed.Start, "oldest first")
}

func TestACatalogKeepsWhatIsInUse(t *testing.T) {
	current := Catalog{
		Offerings:       []Offering{{ID: "o", Rates: []Rate{{ID: "r"}}}},
		SalesItems:      []SalesItem{{Code: "S", OfferingID: "o", RateID: "r"}},
		PenaltyServices: []PenaltyService{{ID: 1}},
	}
	usage := CatalogUsage{
		Lines:           []LineUsage{{OfferingID: "o", RateID: "r", Count: 12, Contracts: []string{"CT-1", "CT-2"}}},
		PenaltyServices: []PenaltyServiceUsage{{ID: 1, Count: 1, Terminations: []int64{7}}},
	}
	assert.NoError(t, current.CheckKeeps(&current, usage))
	var empty Catalog
	err := empty.CheckKeeps(&current, usage)
	assert.Equal(t, KindConflict, KindOf(err))
	assert.ErrorContains(t, err, `offering "o" is used by 12 contract(s): CT-1, CT-2 and 10 more`)
	assert.ErrorContains(t, err, "penalty service 1 is named by 1 contract termination(s): 7")
	noRate := Catalog{Offerings: []Offering{{ID: "o"}}, SalesItems: nil, PenaltyServices: current.PenaltyServices}
	assert.ErrorContains(t, noRate.CheckKeeps(&current, usage), `rate "r" of offering "o"`)
	noItem := Catalog{Offerings: current.Offerings, PenaltyServices: current.PenaltyServices}
	assert.ErrorContains(t, noItem.CheckKeeps(&current, usage), "sales item")
}

// An in-use rate keeps its billing period and currency: its contracts'
// changes would otherwise be priced per another period at the unit prices
// they locked, or refused for the currency (hostile probe). Its prices may
// change, as each line keeps its own.
func TestACatalogKeepsTheTermsOfARateInUse(t *testing.T) {
	monthly := Rate{ID: "r", Currency: "USD", BillingPeriod: Monthly, UnitPrices: map[string]int64{"p": 100}}
	with := func(r Rate) *Catalog { return &Catalog{Offerings: []Offering{{ID: "o", Rates: []Rate{r}}}} }
	usage := CatalogUsage{Lines: []LineUsage{{OfferingID: "o", RateID: "r", Count: 1, Contracts: []string{"CT-1"},
		Currencies: []string{"USD"}, BillingPeriods: []BillingPeriod{Monthly}}}}
	current := with(monthly)

	dearer := monthly
	dearer.UnitPrices = map[string]int64{"p": 200}
	assert.NoError(t, with(dearer).CheckKeeps(current, usage))
	annual := monthly
	annual.BillingPeriod = Annual
	err := with(annual).CheckKeeps(current, usage)
	assert.Equal(t, KindConflict, KindOf(err))
	assert.ErrorContains(t, err, `rate "r" of offering "o": its billingPeriod cannot change from MONTHLY to ANNUAL while it is used by 1 contract(s): CT-1`)
	euro := monthly
	euro.Currency = "EUR"
	err = with(euro).CheckKeeps(current, usage)
	assert.Equal(t, KindConflict, KindOf(err))
	assert.ErrorContains(t, err, `rate "r" of offering "o": its currency cannot change from USD to EUR while it is used by 1 contract(s): CT-1`)

	// A catalog that changed the period before this was refused may stay,
	// or be set back to the contracts' period, but not moved further.
	changed := with(annual)
	assert.NoError(t, changed.CheckKeeps(changed, usage))
	assert.NoError(t, current.CheckKeeps(changed, usage))
	quarterly := monthly
	quarterly.BillingPeriod = Quarterly
	assert.ErrorContains(t, with(quarterly).CheckKeeps(changed, usage), "its billingPeriod cannot change from MONTHLY to QUARTERLY")
}
