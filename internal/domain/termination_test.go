package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

func TestMonthsRemaining(t *testing.T) {
	d := domain.NewDate
	cases := []struct {
		name                     string
		cancellation, expiration domain.Date
		want                     int
	}{
		{"partial last month is not counted", d(2026, time.March, 15), d(2027, time.January, 1), 9},
		{"exact months", d(2026, time.January, 15), d(2026, time.February, 15), 1},
		{"one day short of a month", d(2026, time.January, 15), d(2026, time.February, 14), 0},
		{"across years", d(2026, time.January, 1), d(2028, time.January, 1), 24},
		{"month end clamps into a short month", d(2026, time.January, 31), d(2026, time.February, 28), 1},
		{"one day short of a clamped month", d(2026, time.January, 31), d(2026, time.February, 27), 0},
		{"month end into the next month's start", d(2026, time.January, 31), d(2026, time.March, 1), 1},
		{"leap day to the next year's February end", d(2024, time.February, 29), d(2025, time.February, 28), 12},
		{"cancelled on the expiration date", d(2026, time.June, 1), d(2026, time.June, 1), 0},
		{"cancelled after the expiration date", d(2026, time.July, 1), d(2026, time.June, 1), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, domain.MonthsRemaining(tc.cancellation, tc.expiration))
		})
	}
}

func TestTerminationFee(t *testing.T) {
	charges := []domain.TerminationCharge{
		{ID: 1, StartMonth: 13, EndMonth: 24, Amount: 20000, Currency: "USD"},
		{ID: 2, StartMonth: 0, EndMonth: 5, Amount: 5000, Currency: "USD"},
		{ID: 3, StartMonth: 6, EndMonth: 12, Amount: 10000, Currency: "USD"},
		// Months 25-29 have no band: no fee.
		{ID: 4, StartMonth: 30, EndMonth: 30, Amount: 30000, Currency: "USD"},
	}
	cases := []struct {
		months int
		wantID int64 // 0: no fee
	}{
		{0, 2}, {5, 2}, {6, 3}, {12, 3}, {13, 1}, {24, 1}, {25, 0}, {29, 0}, {30, 4}, {31, 0}, {-1, 0},
	}
	for _, tc := range cases {
		fee, ok := domain.TerminationFee(charges, tc.months)
		if tc.wantID == 0 {
			assert.False(t, ok, "months %d: want no fee, got %+v", tc.months, fee)
			continue
		}
		require.True(t, ok, "months %d", tc.months)
		assert.Equal(t, tc.wantID, fee.ID, "months %d", tc.months)
	}
	_, ok := domain.TerminationFee(nil, 3)
	assert.False(t, ok, "a termination without charges charges nothing")
}

func TestTerminationFeeForACancellation(t *testing.T) {
	charges := []domain.TerminationCharge{{ID: 7, StartMonth: 7, EndMonth: 12, Amount: 9900, Currency: "EUR"}}
	months := domain.MonthsRemaining(domain.NewDate(2026, time.March, 15), domain.NewDate(2027, time.January, 1))
	fee, ok := domain.TerminationFee(charges, months)
	require.True(t, ok)
	assert.EqualValues(t, 9900, fee.Amount)
}

func TestTerminationChargeValidate(t *testing.T) {
	valid := domain.TerminationCharge{StartMonth: 0, EndMonth: 0, Amount: 0, Currency: "USD"}
	require.NoError(t, valid.Validate(domain.Limits{}.OrDefaults()), "a single-month band with no fee is allowed")

	cases := []struct {
		name   string
		charge domain.TerminationCharge
		want   string
	}{
		{"start after end", domain.TerminationCharge{StartMonth: 7, EndMonth: 6, Currency: "USD"}, "endMonth 6 is before startMonth 7"},
		{"negative start", domain.TerminationCharge{StartMonth: -1, EndMonth: 6, Currency: "USD"}, "startMonth -1 must not be negative"},
		{"negative amount", domain.TerminationCharge{EndMonth: 6, Amount: -1, Currency: "USD"}, "amount -1 must not be negative"},
		{"lower-case currency", domain.TerminationCharge{EndMonth: 6, Currency: "usd"}, `currency "usd" is not a three-letter ISO code`},
		{"missing currency", domain.TerminationCharge{EndMonth: 6}, `currency "" is not a three-letter ISO code`},
		{"amount above the ceiling", domain.TerminationCharge{EndMonth: 6, Amount: domain.DefaultMaxAmount + 1, Currency: "USD"},
			"amount 1000000000000001 is above the amount limit 1000000000000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ve *domain.ValidationError
			require.ErrorAs(t, tc.charge.Validate(domain.Limits{}.OrDefaults()), &ve)
			assert.Equal(t, []string{tc.want}, ve.Problems)
		})
	}
}

func TestCheckChargeOverlaps(t *testing.T) {
	band := func(id int64, start, end int) domain.TerminationCharge {
		return domain.TerminationCharge{ID: id, StartMonth: start, EndMonth: end, Currency: "USD"}
	}
	cases := []struct {
		name    string
		charges []domain.TerminationCharge
		want    []string
	}{
		{"none", nil, nil},
		{"adjacent bands, in any order", []domain.TerminationCharge{band(2, 12, 23), band(1, 0, 11), band(3, 24, 24)}, nil},
		{"bands with gaps", []domain.TerminationCharge{band(1, 0, 5), band(2, 10, 20)}, nil},
		{"sharing a boundary month", []domain.TerminationCharge{band(1, 0, 12), band(2, 12, 24)},
			[]string{"period charge 2 (months 12-24) overlaps period charge 1 (months 0-12)"}},
		{"nested in a long earlier band", []domain.TerminationCharge{band(1, 0, 100), band(2, 10, 20), band(3, 30, 40)},
			[]string{
				"period charge 2 (months 10-20) overlaps period charge 1 (months 0-100)",
				"period charge 3 (months 30-40) overlaps period charge 1 (months 0-100)",
			}},
		{"identical, not yet stored", []domain.TerminationCharge{band(0, 3, 4), band(0, 3, 4)},
			[]string{"period charge (months 3-4) overlaps period charge (months 3-4)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.CheckChargeOverlaps(tc.charges)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.want, ve.Problems)
		})
	}
}

func TestTerminationValidate(t *testing.T) {
	cat := &domain.Catalog{PenaltyServices: []domain.PenaltyService{{ID: 1, Name: "Early termination"}}}
	require.NoError(t, domain.Termination{PenaltyServiceID: 1, Name: "Early Termination Fee"}.Validate(cat))

	var ve *domain.ValidationError
	require.ErrorAs(t, domain.Termination{PenaltyServiceID: 26, Name: "  "}.Validate(cat), &ve)
	assert.Equal(t, []string{"name must not be blank", "penaltyServiceId 26 is not one of the catalog's penaltyServices"}, ve.Problems)

	ps, ok := cat.PenaltyService(1)
	require.True(t, ok)
	assert.Equal(t, "Early termination", ps.Name)
	_, ok = (&domain.Catalog{}).PenaltyService(1)
	assert.False(t, ok, "a tenant without a catalog has no penalty services")
}
