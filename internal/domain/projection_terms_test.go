package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The contract as it will be on a date carries out its term's end: a probe
// found one to EXPIRE on 2028-01-01 shown active on that day and on every
// date after it.
func TestProjectOnExpiresAnExpiringContractFromItsEnd(t *testing.T) {
	ct := timelineContract() // ends 2028-01-01
	ct.Renewal = RenewalTerms{Mode: Expire, TermMonths: 12, NoticeDays: 30}
	cases := []struct{ on, status string }{
		{"2027-12-31", ContractActive}, {"2028-01-01", ContractExpired}, {"2030-01-01", ContractExpired}, {"2999-12-31", ContractExpired},
	}
	for _, c := range cases {
		assert.Equal(t, c.status, ProjectOn(ct, nil, d(c.on)).Contract.Status, "EXPIRE on %s", c.on)
	}
	assert.Equal(t, ContractActive, ct.Status, "projecting leaves the contract as it is")

	// An evergreen contract runs on past the end of its minimum term.
	ct.Renewal.Mode = Evergreen
	assert.Equal(t, ContractActive, ProjectOn(ct, nil, d("2030-01-01")).Contract.Status, "EVERGREEN")

	// A cancellation before the end ends it as cancelled, not expired.
	ct.Renewal.Mode = Expire
	tl := []Pending{pending(t, ct, nil, "cancel", StatusScheduled, 1, cancellationOn("2027-06-01"))}
	pr := ProjectOn(ct, tl, d("2030-01-01"))
	assert.Equal(t, ContractCancelled, pr.Contract.Status)
	assert.Equal(t, "cancel", pr.CancelledBy)
}

// An auto-renewing contract stays active past its end; an accepted renewal
// on its timeline moves its end, and a change of its terms to EXPIRE on the
// timeline expires it at the end of the term it then has.
func TestProjectOnKeepsAnAutoRenewingContractActive(t *testing.T) {
	ct := timelineContract()
	ct.Renewal = RenewalTerms{Mode: AutoRenew, TermMonths: 12, NoticeDays: 30}
	assert.Equal(t, ContractActive, ProjectOn(ct, nil, d("2030-01-01")).Contract.Status)

	renewal := pending(t, ct, nil, "renewal", StatusScheduled, 1, Change{Action: Renewal, ContractID: "c", EffectiveDate: d("2028-01-01")})
	pr := ProjectOn(ct, []Pending{renewal}, d("2028-06-01"))
	assert.Equal(t, ContractActive, pr.Contract.Status)
	assert.Equal(t, "2029-01-01", pr.Contract.ExpirationDate.String())

	toExpire := pending(t, ct, nil, "terms", StatusScheduled, 2, Change{Action: RenewalTermsChange, ContractID: "c",
		EffectiveDate: d("2026-06-01"), Renewal: &RenewalTerms{Mode: Expire}})
	assert.Equal(t, ContractActive, ProjectOn(ct, []Pending{toExpire}, d("2027-12-31")).Contract.Status)
	assert.Equal(t, ContractExpired, ProjectOn(ct, []Pending{toExpire}, d("2028-01-01")).Contract.Status)
}
