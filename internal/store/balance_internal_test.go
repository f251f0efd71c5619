package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

// An account's balance adds up invoices each within the tenant's ceiling
// (at most 10^16 minor units), so enough of them pass what int64 holds: the
// hostile probe's 960 unpaid invoices of 10^16 were shown as owing
// -8,846,744,073,709,551,616. Such a balance is refused, never wrapped; one
// just below int64's end is exact.
func TestABalanceBeyondInt64IsRefusedNotWrapped(t *testing.T) {
	unpaid := func(n int, amount int64) []domain.Invoice {
		out := make([]domain.Invoice, n)
		for i := range out {
			out[i] = domain.Invoice{Currency: "USD", AmountDue: amount}
		}
		return out
	}
	const ceiling = 10_000_000_000_000_000 // the most a tenant may set as maxAmount

	got, err := balances([]string{"EUR", "USD"}, unpaid(922, ceiling), nil)
	require.NoError(t, err)
	assert.Equal(t, []CurrencyBalance{{Currency: "EUR"}, {Currency: "USD", Owed: 9_220_000_000_000_000_000}}, got)

	_, err = balances([]string{"USD"}, unpaid(960, ceiling), nil)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, domain.KindUnprocessable, de.Kind)
	assert.Contains(t, de.Message, "the amount owed in USD")

	credit := []AccountCreditNote{{CreditNote: CreditNote{Currency: "USD", Remaining: 9_000_000_000_000_000_000}, ContractStatus: domain.ContractActive}}
	credit = append(credit, credit[0])
	_, err = balances([]string{"USD"}, nil, credit)
	assert.ErrorContains(t, err, "the credit in USD")
}
