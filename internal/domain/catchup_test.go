package domain

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func catchUpPlan(eff, exp string, terms RenewalTerms) ContractPlan {
	return ContractPlan{NewContract: NewContract{EffectiveDate: d(eff), ExpirationDate: d(exp)}, Renewal: terms}
}

func monthlyTerms(months int) RenewalTerms {
	return RenewalTerms{Mode: AutoRenew, TermMonths: months, NoticeDays: 1}
}

// A contract renews at once for each end of a term on or before today: a
// term ending today renews, one ending tomorrow does not yet.
func TestCatchUpRenewalsCountTheTermEndsUpToToday(t *testing.T) {
	today := d("2026-12-07")
	for _, tc := range []struct {
		name     string
		plan     ContractPlan
		renewals int
	}{
		{"the probe: 1-month terms from 5 years back", catchUpPlan("2021-12-08", "2021-12-09", monthlyTerms(1)), 60},
		{"a year of monthly terms", catchUpPlan("2025-12-01", "2026-01-07", monthlyTerms(1)), 12},
		{"a year and a day", catchUpPlan("2025-12-01", "2025-12-07", monthlyTerms(1)), 13},
		{"yearly terms from 5 years back", catchUpPlan("2021-12-07", "2021-12-08", monthlyTerms(12)), 5},
		{"6-month terms from 5 years back", catchUpPlan("2021-12-07", "2021-12-08", monthlyTerms(6)), 10},
		{"a term ending today", catchUpPlan("2025-12-07", "2026-12-07", monthlyTerms(12)), 1},
		{"a term ending tomorrow", catchUpPlan("2025-12-08", "2026-12-08", monthlyTerms(1)), 0},
		{"EXPIRE", catchUpPlan("2021-12-08", "2021-12-09", RenewalTerms{Mode: Expire, TermMonths: 1}), 0},
		{"EVERGREEN", catchUpPlan("2021-12-08", "2021-12-09", RenewalTerms{Mode: Evergreen, TermMonths: 1}), 0},
	} {
		assert.Equal(t, tc.renewals, CatchUpRenewals(tc.plan, today), tc.name)
	}
}

func TestCatchUpIsBoundedPerContractAndPerRequest(t *testing.T) {
	today := d("2026-12-07")
	requested := func(plans []ContractPlan, given bool) []RequestedContract {
		out := make([]RequestedContract, len(plans))
		for i, p := range plans {
			out[i] = RequestedContract{Field: fmt.Sprintf("actions[0].createContractWithPlan[%d]", i), NewContract: p.NewContract}
			if given {
				out[i].Renewal = &plans[i].Renewal
			}
		}
		return out
	}
	atTheBound := catchUpPlan("2025-12-01", "2026-01-07", monthlyTerms(1))
	plans := []ContractPlan{atTheBound}
	require.NoError(t, CheckCatchUp(requested(plans, true), plans, today))

	plans = append(plans, catchUpPlan("2021-12-08", "2021-12-09", monthlyTerms(1)))
	err := CheckCatchUp(requested(plans, true), plans, today)
	require.Error(t, err)
	assert.Equal(t, KindUnprocessable, KindOf(err))
	assert.Equal(t, "actions[0].createContractWithPlan[1].expirationDate", err.(*Error).Field)
	assert.Equal(t, "actions[0].createContractWithPlan[1].expirationDate 2021-12-09, with effectiveDate 2021-12-08 and renewal.termMonths 1, "+
		"would renew the contract 60 times at once to reach today (2026-12-07), more than the 12 a new contract may; "+
		"a contract being imported should be given the term it is in now: its current term's start as effectiveDate and its end as expirationDate",
		err.Error())
	err = CheckCatchUp(requested(plans, false), plans, today)
	assert.ErrorContains(t, err, "renewal.termMonths 1 (the tenant's default renewal terms, from its catalog), would renew the contract 60 times")
	// A customer key's renewal giving the mode alone has the default's termMonths too.
	modeOnly := requested(plans, true)
	modeOnly[1].RenewalAsked = &TermsAsked{}
	assert.ErrorContains(t, CheckCatchUp(modeOnly, plans, today), "renewal.termMonths 1 (the tenant's default renewal terms, from its catalog), would renew")

	// Eight at the bound are 96 renewals; a ninth makes 108.
	plans = make([]ContractPlan, 8, 9)
	for i := range plans {
		plans[i] = atTheBound
	}
	require.NoError(t, CheckCatchUp(requested(plans, true), plans, today))
	plans = append(plans, atTheBound)
	err = CheckCatchUp(requested(plans, true), plans, today)
	assert.Equal(t, KindUnprocessable, KindOf(err))
	assert.Equal(t, "actions[].createContractWithPlan", err.(*Error).Field)
	assert.ErrorContains(t, err, "the request's contracts would renew 108 times in all at once to reach today (2026-12-07), more than the 100 one request may; send them in smaller requests")
}
