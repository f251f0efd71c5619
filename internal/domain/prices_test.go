package domain

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func unitPrice(n int64) *int64 { return &n }

// pricesCatalog is the timeline catalog with a second rate on team, each
// team rate sold as a sales item, and a crossgrade path between them.
func pricesCatalog() *Catalog {
	cat := timelineCatalog()
	cat.Offerings[0].Rates = append(cat.Offerings[0].Rates,
		Rate{ID: "m2", Currency: "USD", BillingPeriod: Monthly, UnitPrices: map[string]int64{"seat": 1800, "tb": 600}})
	cat.SalesItems = []SalesItem{{Code: "TEAM", OfferingID: "team", RateID: "m"}, {Code: "TEAM-2", OfferingID: "team", RateID: "m2"}}
	cat.CrossgradePaths = []CrossgradePath{{From: "TEAM", To: "TEAM-2"}}
	return cat
}

// upliftedContract holds five seats and a terabyte on team at its own
// prices, 1600 and 550 (the catalog's 1500 and 500 after earlier
// renewals), and, on addon, two backups stored before lines kept prices.
func upliftedContract() Contract {
	ct := timelineContract()
	ct.Lines[0] = Line{OfferingID: "team", RateID: "m", SalesItemCode: "TEAM", RecurringAmount: 8550, Products: []ProductQuantity{
		{ProductID: "seat", Quantity: 5, UnitPrice: unitPrice(1600)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(550)},
	}}
	ct.RecurringAmount = 9150
	return ct
}

func planOn(t *testing.T, cat *Catalog, ct Contract, ch Change) Quote {
	t.Helper()
	q, err := PlanAmendment(cat, ct, ch, d(timelineToday), nil)
	require.NoError(t, err)
	return q
}

func lineOf(t *testing.T, lines []Line, offering string) Line {
	t.Helper()
	i := indexOfOffering(lines, offering)
	require.GreaterOrEqual(t, i, 0, "no %s line in %v", offering, lines)
	return lines[i]
}

func TestANewContractLocksTheCatalogPrices(t *testing.T) {
	cat := pricesCatalog()
	plan, err := PlanContract(cat, RequestedContract{Field: "contracts[0]", NewContract: NewContract{PlanID: "team", EffectiveDate: d("2026-01-01"), ExpirationDate: d("2027-01-01"),
		Currency: []string{"USD"}, Quantities: map[string]int64{"seat": 3}}})
	require.NoError(t, err)
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 3, UnitPrice: unitPrice(1500)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(500)}}, plan.Line.Products)
	assert.EqualValues(t, 5000, plan.Line.RecurringAmount)
}

func TestAQuantityChangeKeepsTheContractsPricesWhateverTheCatalogSays(t *testing.T) {
	cat := pricesCatalog()
	cat.Offerings[0].Rates[0].UnitPrices["seat"] = 1700
	cat.Offerings[1].Rates[0].UnitPrices["backup"] = 350
	ct := upliftedContract()

	q := planOn(t, cat, ct, seatsOn("10", timelineToday))
	team := lineOf(t, q.LinesAfter, "team")
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 10, UnitPrice: unitPrice(1600)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(550)}}, team.Products)
	assert.EqualValues(t, 16550, team.RecurringAmount, "10 × 1600 + 550, not the catalog's 1700 a seat")
	assert.Equal(t, ct.Lines[1], lineOf(t, q.LinesAfter, "addon"), "a line the change does not name is left as it is")
	assert.EqualValues(t, 17150, q.RecurringAfter)

	// A line stored without prices takes the catalog's for what it does
	// not know, and keeps them from then on.
	q = planOn(t, cat, ct, quantity("addon", "backup", "3", timelineToday))
	addon := lineOf(t, q.LinesAfter, "addon")
	assert.Equal(t, []ProductQuantity{{ProductID: "backup", Quantity: 3, UnitPrice: unitPrice(350)}}, addon.Products)
	assert.EqualValues(t, 1050, addon.RecurringAmount)
}

func TestANewRateOrOfferingTakesTheCatalogPrices(t *testing.T) {
	cat := pricesCatalog()
	cat.Offerings[1].Rates[0].UnitPrices["backup"] = 350
	ct := upliftedContract()
	rate := func(id string) Change {
		return Change{Action: RateChange, ContractID: "c", EffectiveDate: d(timelineToday), Payload: &ChangePayload{Offerings: []OfferingChangeItem{{OfferingID: "team", RateID: id}}}}
	}

	team := lineOf(t, planOn(t, cat, ct, rate("m2")).LinesAfter, "team")
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: unitPrice(1800)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(600)}}, team.Products)
	assert.EqualValues(t, 9600, team.RecurringAmount)

	team = lineOf(t, planOn(t, cat, ct, rate("m")).LinesAfter, "team")
	assert.Equal(t, ct.Lines[0], team, "a rate change to the line's own rate keeps its prices")

	ct.Lines = ct.Lines[:1]
	add := Change{Action: AddOffering, ContractID: "c", EffectiveDate: d(timelineToday), Payload: &ChangePayload{Offerings: []OfferingChangeItem{{OfferingID: "addon", Products: []RequestedProduct{}}}}}
	addon := lineOf(t, planOn(t, cat, ct, add).LinesAfter, "addon")
	assert.Equal(t, []ProductQuantity{{ProductID: "backup", Quantity: 1, UnitPrice: unitPrice(350)}}, addon.Products)
}

func TestACrossgradeTakesTheNewItemsCatalogPrices(t *testing.T) {
	ct := upliftedContract()
	q, err := PlanCrossgrade(pricesCatalog(), ct, CrossgradeChange{SalesItemCode: "TEAM-2"}, d(timelineToday), CrossgradeFacts{})
	require.NoError(t, err)
	team := lineOf(t, q.LinesAfter, "team")
	assert.Equal(t, "TEAM-2", team.SalesItemCode)
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: unitPrice(1800)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(600)}}, team.Products)
	assert.True(t, q.Crossgrade.Upgrade, "9600 a period against the contract's 8550")
}

func TestUpliftLinesRoundsEachUnitPriceHalfAwayFromZero(t *testing.T) {
	lim := Limits{}.OrDefaults()
	for _, tc := range []struct {
		price, quantity int64
		basisPoints     int
		wantPrice       int64
	}{
		{999, 3, 350, 1034},     // 1033.965
		{999, 3, -350, 964},     // 964.035
		{1000, 3, 350, 1035},    // exact
		{1, 10, 5000, 2},        // 1.5: each unit rounds, so the line is 20, not 15
		{3, 1, -5000, 2},        // 1.5
		{10000, 2, -10000, 0},   // free
		{1033, 1, 10000, 2066},  // doubled
		{0, 5, 350, 0},          // nothing to uplift
		{1999, 2, 1, 1999},      // 1999.1999
		{15000, 7, 3333, 20000}, // 19999.5
	} {
		line := Line{OfferingID: "team", RateID: "m", Products: []ProductQuantity{{ProductID: "seat", Quantity: tc.quantity, UnitPrice: &tc.price}}, RecurringAmount: tc.price * tc.quantity}
		got, err := UpliftLines(lim, []Line{line}, tc.basisPoints, "lines")
		require.NoError(t, err, "%d by %d bp", tc.price, tc.basisPoints)
		assert.EqualValues(t, tc.wantPrice, *got[0].Products[0].UnitPrice, "%d by %d bp", tc.price, tc.basisPoints)
		assert.EqualValues(t, tc.wantPrice*tc.quantity, got[0].RecurringAmount, "%d by %d bp", tc.price, tc.basisPoints)
		assert.EqualValues(t, tc.price, *line.Products[0].UnitPrice, "the lines given are left as they were")
	}
	// A price near the ceiling is uplifted, though price × 10350 would not
	// fit in an int64.
	got, err := UpliftLines(lim, []Line{{Products: []ProductQuantity{{ProductID: "seat", Quantity: 1, UnitPrice: unitPrice(900_000_000_000_001)}}}}, 350, "lines")
	require.NoError(t, err)
	assert.EqualValues(t, 931_500_000_000_001, *got[0].Products[0].UnitPrice) // …001.035
	// Below zero (an amount, not a catalog price) rounds the same way.
	for in, want := range map[int64]int64{-999: -1034, -1: -1, -2: -2} {
		got, err := uplift(lim, "lines", in, 350)
		require.NoError(t, err)
		assert.EqualValues(t, want, got, "%d by 350 bp", in)
	}
}

func TestUpliftLinesRefusesWhatWouldOverflow(t *testing.T) {
	line := func(price, quantity int64) []Line {
		return []Line{{OfferingID: "team", RateID: "m", Products: []ProductQuantity{{ProductID: "seat", Quantity: quantity, UnitPrice: &price}}}}
	}
	unbounded := Limits{MaxQuantity: HardMaxQuantity, MaxAmount: math.MaxInt64}
	for name, tc := range map[string]struct {
		lim   Limits
		lines []Line
		want  string
	}{
		"the uplifted price overflows int64":        {unbounded, line(math.MaxInt64, 1), "beyond what can be computed"},
		"the uplifted price passes the ceiling":     {Limits{}.OrDefaults(), line(DefaultMaxAmount, 1), "beyond the limit"},
		"the line at the new price passes it":       {Limits{}.OrDefaults(), line(DefaultMaxAmount/3, 3), "beyond the limit"},
		"the line at the new price overflows int64": {unbounded, line(800_000_000_000_000, 20_000), "beyond the limit"},
	} {
		got, err := UpliftLines(tc.lim, tc.lines, 350, "lines")
		var de *Error
		require.ErrorAs(t, err, &de, name)
		assert.Equal(t, KindUnprocessable, de.Kind, name)
		assert.Contains(t, de.Message, tc.want, name)
		assert.Nil(t, got, name)
	}
}

func TestALegacyLineTakesItsPricesFromTheCatalog(t *testing.T) {
	cat := pricesCatalog()
	legacy := timelineContract().Lines // no unit prices
	gone := Line{OfferingID: "retired", RateID: "m", Products: []ProductQuantity{{ProductID: "x", Quantity: 1}}, RecurringAmount: 700}
	mixed := Line{OfferingID: "team", RateID: "m", RecurringAmount: 8100, Products: []ProductQuantity{
		{ProductID: "seat", Quantity: 5, UnitPrice: unitPrice(1520)}, {ProductID: "tb", Quantity: 1},
	}}

	priced := PricedLines(cat, []Line{legacy[0], gone, mixed})
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: unitPrice(1500)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(500)}}, priced[0].Products)
	assert.Nil(t, priced[1].Products[0].UnitPrice, "an offering the catalog no longer has leaves the price unknown")
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: unitPrice(1520)}, {ProductID: "tb", Quantity: 1, UnitPrice: unitPrice(500)}}, priced[2].Products,
		"a known price is kept")
	assert.Nil(t, legacy[0].Products[0].UnitPrice, "the lines given are left as they were")

	// Without all its unit prices, a line's amount is uplifted as a whole.
	uplifted, err := UpliftLines(Limits{}.OrDefaults(), []Line{legacy[0], gone, mixed}, 350, "lines")
	require.NoError(t, err)
	assert.EqualValues(t, []int64{8280, 725, 8384}, []int64{uplifted[0].RecurringAmount, uplifted[1].RecurringAmount, uplifted[2].RecurringAmount}) // 724.5, 8383.5
	assert.Equal(t, mixed.Products, uplifted[2].Products)
}

// A pending amendment's recorded lines match the contract's by value: the
// same prices read back from JSON are the same lines.
func TestLinesWithTheSamePricesAreEqual(t *testing.T) {
	ct := upliftedContract()
	raw, err := json.Marshal(ct.Lines)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"unitPrice":1600`)
	var decoded []Line
	require.NoError(t, json.Unmarshal(raw, &decoded))
	assert.True(t, linesEqual(ct.Lines[0], decoded[0]))
	assert.True(t, linesEqual(ct.Lines[1], decoded[1]), "both without prices")

	decoded[0].Products[0].UnitPrice = unitPrice(1601)
	assert.False(t, linesEqual(ct.Lines[0], decoded[0]))
	decoded[0].Products[0].UnitPrice = nil
	assert.False(t, linesEqual(ct.Lines[0], decoded[0]), "a known price is not an unknown one")
}

// The README's example: a renewal's uplift survives the next change.
func TestAnUpliftSurvivesTheNextChange(t *testing.T) {
	cat := pricesCatalog()
	plan, err := PlanContract(cat, RequestedContract{Field: "contracts[0]", NewContract: NewContract{PlanID: "team", EffectiveDate: d("2026-01-01"), ExpirationDate: d("2027-01-01"),
		Currency: []string{"USD"}, Quantities: map[string]int64{"seat": 5}}})
	require.NoError(t, err)
	renewed, err := UpliftLines(cat.MoneyLimits(), []Line{plan.Line}, 350, "lines")
	require.NoError(t, err)
	assert.EqualValues(t, 8283, renewed[0].RecurringAmount, "5 × 1553 + 518")

	cat.Offerings[0].Rates[0].UnitPrices["seat"] = 1600
	ct := timelineContract()
	ct.Lines, ct.RecurringAmount = renewed, 8283
	q := planOn(t, cat, ct, seatsOn("10", timelineToday))
	assert.EqualValues(t, 16048, q.RecurringAfter, "10 × 1553 + 518")
}
