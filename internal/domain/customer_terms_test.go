package domain

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// customerCatalog is the timeline catalog whose tenant renews for two
// years at +3 % on 60 days' notice: defaults that differ from the
// service's (12 months, 0, 30 days).
func customerCatalog(mode string) *Catalog {
	cat := timelineCatalog()
	cat.Renewal = &RenewalTerms{Mode: mode, TermMonths: 24, UpliftBasisPoints: 300, NoticeDays: 60}
	return cat
}

// customerContract is a contract on team from eff to exp with renewal
// terms given (nil: none), the numbers it gave asked (nil: the request
// was recorded before they were).
func customerContract(eff, exp string, renewal *RenewalTerms, asked *TermsAsked) RequestedContract {
	return RequestedContract{Field: "actions[0].createContractWithPlan[0]", RenewalAsked: asked, NewContract: NewContract{
		PlanID: "team", EffectiveDate: d(eff), ExpirationDate: d(exp), Currency: []string{"USD"}, Renewal: renewal,
	}}
}

// requireForbidden checks err is the 403 naming the item's field, and
// returns its message.
func requireForbidden(t *testing.T, err error, field string) string {
	t.Helper()
	var de *Error
	require.True(t, errors.As(err, &de), "%v", err)
	assert.Equal(t, KindForbidden, de.Kind)
	assert.Equal(t, "actions[0].createContractWithPlan[0]."+field, de.Field)
	return de.Error()
}

// A customer key's renewal is mode-only, as its terms change is: the
// numbers it leaves out are the tenant's default renewal's, which the
// contract is created with, its mode the customer's. One it gives other
// than the default's is refused. A request recorded before (no
// RenewalAsked, a workflow's history from then) keeps the service's 12, 0
// and 30 for the numbers it left out, checked as then, as a staff key's
// are.
func TestACustomersContractTakesTheDefaultsNumbersWithItsMode(t *testing.T) {
	cat := customerCatalog(AutoRenew)
	expire := &RenewalTerms{Mode: Expire}
	want := RenewalTerms{Mode: Expire, TermMonths: 24, UpliftBasisPoints: 300, NoticeDays: 60}
	sixty := 60
	for name, asked := range map[string]*TermsAsked{"the mode alone": {}, "the default's notice given": {NoticeDays: &sixty}} {
		r := customerContract("2026-04-01", "2027-04-01", expire, asked)
		plans, err := PlanContracts(cat, []RequestedContract{r})
		require.NoError(t, err, name)
		assert.Equal(t, want, plans[0].Renewal, name)
		assert.NoError(t, CustomerContracts(cat, []RequestedContract{r}), name)
	}

	zero := 0
	msg := requireForbidden(t, CustomerContracts(cat, []RequestedContract{customerContract("2026-04-01", "2027-04-01", expire, &TermsAsked{UpliftBasisPoints: &zero})}),
		"renewal.upliftBasisPoints")
	assert.Contains(t, msg, "cannot make it 0 where the tenant's default renewal has 300")
	assert.Contains(t, msg, "give the mode alone: termMonths, upliftBasisPoints and noticeDays left out are the default's")

	before := customerContract("2026-04-01", "2027-04-01", expire, nil)
	plans, err := PlanContracts(cat, []RequestedContract{before})
	require.NoError(t, err)
	assert.Equal(t, RenewalTerms{Mode: Expire, TermMonths: 12, NoticeDays: 30}, plans[0].Renewal)
	msg = requireForbidden(t, CustomerContracts(cat, []RequestedContract{before}), "renewal.upliftBasisPoints")
	assert.Contains(t, msg, "or give its numbers with the mode chosen")
}

// Under EVERGREEN terms a contract's expirationDate ends its minimum term,
// past which it owes no early-termination fee: a customer key's evergreen
// contract has the business's, the default's termMonths from its
// effectiveDate counted as a renewal counts a term, neither shorter (a day
// had been its whole commitment) nor longer. One that expires or renews
// there may be shorter, as under any default.
func TestACustomersEvergreenContractHasTheBusinesssMinimumTerm(t *testing.T) {
	cat := customerCatalog(Evergreen)
	cat.Renewal.TermMonths = 1
	evergreen := &RenewalTerms{Mode: Evergreen}
	for _, r := range []RequestedContract{
		customerContract("2026-04-01", "2026-04-02", nil, nil),
		customerContract("2026-04-01", "2026-04-30", evergreen, &TermsAsked{}),
		customerContract("2026-01-31", "2026-02-27", nil, nil),
	} {
		msg := requireForbidden(t, CustomerContracts(cat, []RequestedContract{r}), "expirationDate")
		end := NextTermEnd(r.EffectiveDate, r.EffectiveDate, 1)
		assert.Contains(t, msg, "on an EVERGREEN contract where the tenant's default renewal has termMonths 1")
		assert.Contains(t, msg, "set by the business; give expirationDate "+end.String())
	}
	for _, r := range []RequestedContract{
		customerContract("2026-04-01", "2026-05-01", nil, nil),
		customerContract("2026-01-31", "2026-02-28", evergreen, &TermsAsked{}),
		customerContract("2026-04-01", "2026-04-02", &RenewalTerms{Mode: Expire}, &TermsAsked{}),
		customerContract("2026-04-01", "2026-04-02", &RenewalTerms{Mode: AutoRenew}, &TermsAsked{}),
	} {
		assert.NoError(t, CustomerContracts(cat, []RequestedContract{r}), "%s to %s", r.EffectiveDate, r.ExpirationDate)
	}
	msg := requireForbidden(t, CustomerContracts(cat, []RequestedContract{customerContract("2026-04-01", "2026-05-02", nil, nil)}), "expirationDate")
	assert.Contains(t, msg, "ends on 2026-05-01 at the latest")
}
