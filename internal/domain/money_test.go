package domain

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaults = Limits{}.OrDefaults()

func TestLimitsMulRefusesOverflowAndTheCeiling(t *testing.T) {
	cases := []struct {
		name string
		a, b int64
		want int64
		ok   bool
	}{
		{"within", 1_000_000_000, 1_000_000, 1_000_000_000_000_000, true},
		{"negative within", -3, 5, -15, true},
		{"zero", 0, math.MaxInt64, 0, true},
		{"just above the ceiling", 1_000_000_000_000_001, 1, 0, false},
		{"wraps to a negative", 6_148_914_691_236_518, 1500, 0, false},
		{"wraps to a small positive", math.MaxInt64/2 + 1, 2, 0, false},
		{"MinInt64 × -1", math.MinInt64, -1, 0, false},
		{"-1 × MinInt64", -1, math.MinInt64, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := defaults.Mul("price", tc.a, tc.b)
			if !tc.ok {
				var de *Error
				require.ErrorAs(t, err, &de)
				assert.Equal(t, KindUnprocessable, de.Kind)
				assert.Equal(t, "price", de.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestLimitsAddRefusesOverflowAndTheCeiling(t *testing.T) {
	got, err := defaults.Add("total", 600_000_000_000_000, 400_000_000_000_000, -1)
	require.NoError(t, err)
	assert.EqualValues(t, 999_999_999_999_999, got)

	_, err = defaults.Add("total", 600_000_000_000_000, 400_000_000_000_001)
	assert.ErrorContains(t, err, "total: amount 1000000000000001 is beyond the limit")
	_, err = defaults.Add("total", math.MaxInt64, 1)
	assert.ErrorContains(t, err, "total: the sum is beyond the limit")
	_, err = defaults.Add("total", math.MinInt64, -1)
	assert.ErrorContains(t, err, "total: the sum is beyond the limit")
	// An overflowing step refuses even when a later term would bring it back.
	_, err = Limits{MaxAmount: math.MaxInt64}.Add("total", math.MaxInt64, 1, -2)
	assert.Error(t, err)
}

func TestLimitsQuantityAndTenantCeilings(t *testing.T) {
	assert.NoError(t, defaults.Quantity("q", 1_000_000_000))
	assert.ErrorContains(t, defaults.Quantity("q", 1_000_000_001), "q: quantity 1000000001 is above the limit of 1000000000")
	own := Limits{MaxQuantity: 10, MaxAmount: 100}.OrDefaults()
	assert.Error(t, own.Quantity("q", 11))
	_, err := own.Mul("line", 10, 11)
	assert.ErrorContains(t, err, "beyond the limit of 100 minor units")
	assert.Equal(t, defaults, Limits{MaxQuantity: -1}.OrDefaults())
}

func TestDivRoundHalfUpCannotOverflow(t *testing.T) {
	assert.EqualValues(t, math.MaxInt64, divRoundHalfUp(math.MaxInt64, 1))
	assert.EqualValues(t, math.MaxInt64/2+1, divRoundHalfUp(math.MaxInt64, 2), "…807/2 = …403.5 rounds up")
	assert.EqualValues(t, -(math.MaxInt64/2 + 1), divRoundHalfUp(-math.MaxInt64, 2))
	assert.EqualValues(t, 2, divRoundHalfUp(5, 3))
	assert.EqualValues(t, 1, divRoundHalfUp(4, 3))
}

func TestProrateAndBillingRefuseAmountsBeyondTheCeiling(t *testing.T) {
	march := Period{Start: d("2026-03-01"), End: d("2026-04-01")}
	_, err := defaults.Prorate("payload", math.MinInt64+1, march, Period{Start: d("2026-03-15"), End: march.End})
	assert.ErrorContains(t, err, "payload: amount")
	got, err := defaults.Prorate("payload", DefaultMaxAmount, march, Period{Start: d("2026-03-15"), End: march.End})
	require.NoError(t, err)
	assert.EqualValues(t, 548_387_096_774_194, got, "10^15 × 17 / 31 computes without overflow")

	wrapped := []Line{{OfferingID: "a", RecurringAmount: -9_223_372_036_854_775_000}}
	_, _, err = RecurringCharges(defaults, wrapped, DuePeriod{Billed: march, Cycle: march})
	assert.ErrorContains(t, err, "lines[0]")
	big := []Line{{OfferingID: "a", RecurringAmount: DefaultMaxAmount}, {OfferingID: "b", RecurringAmount: 1}}
	_, _, err = RecurringCharges(defaults, big, DuePeriod{Billed: march, Cycle: march})
	assert.ErrorContains(t, err, "total")
}

func TestDisplayedRecurringTotalSaturates(t *testing.T) {
	assert.EqualValues(t, math.MaxInt64, DisplayedRecurringTotal([]Line{{RecurringAmount: math.MaxInt64}, {RecurringAmount: 1}}))
	assert.EqualValues(t, math.MinInt64, DisplayedRecurringTotal([]Line{{RecurringAmount: math.MinInt64}, {RecurringAmount: -1}}))
	assert.EqualValues(t, 3, DisplayedRecurringTotal([]Line{{RecurringAmount: 1}, {RecurringAmount: 2}}))
}

// Total has no ceiling but what int64 holds.
func TestTotalRefusesOnlyOverflow(t *testing.T) {
	got, err := Total("owed", 9_000_000_000_000_000_000, 200_000_000_000_000_000)
	require.NoError(t, err)
	assert.EqualValues(t, 9_200_000_000_000_000_000, got)
	_, err = Total("owed", math.MaxInt64, 1)
	assert.ErrorContains(t, err, "owed: the sum is beyond 9223372036854775807 minor units")
	_, err = Total("owed", math.MinInt64, -1)
	assert.Error(t, err)
}
