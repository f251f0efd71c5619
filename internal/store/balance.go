package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// AccountBalance is what an account owes and what it is owed, per currency,
// with the invoices and credit notes behind the figures.
type AccountBalance struct {
	AccountNumber string
	Balances      []CurrencyBalance
	OpenInvoices  []domain.Invoice
	CreditNotes   []AccountCreditNote
}

// CurrencyBalance sums an account's position in one currency. Owed is the
// amount due on its OPEN and UNPAID invoices; Credited what its active
// contracts' credit notes still hold for their next invoices; RefundDue what
// credit notes of contracts that have ended still hold once set against
// what those contracts owed (creditOutstanding): no invoice will take it, so
// it is owed back to the customer.
type CurrencyBalance struct {
	Currency  string
	Owed      int64
	Credited  int64
	RefundDue int64
}

// AccountCreditNote is a credit note with credit left, and whether its
// contract has ended (so it is to be refunded rather than applied).
type AccountCreditNote struct {
	CreditNote
	ContractStatus string `db:"contract_status"`
	RefundDue      bool   `db:"-"`
}

// AccountBalance reads one of the scope's accounts' balance; another
// tenant's or another account's is ErrNotFound, as a missing one is.
func (s *Store) AccountBalance(ctx context.Context, sc Scope, accountNumber string) (AccountBalance, error) {
	out := AccountBalance{AccountNumber: accountNumber}
	var accountID string
	err := s.db.GetContext(ctx, &accountID, `SELECT id FROM accounts WHERE tenant_id = $1 AND number = $2`, sc.TenantID, accountNumber)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.Covers(accountNumber)) {
		return out, ErrNotFound
	}
	if err != nil {
		return out, fmt.Errorf("look up account: %w", err)
	}
	if out.OpenInvoices, err = loadInvoices(ctx, s.db, `tenant_id = $1 AND amount_due > 0 AND status = ANY($3)
		AND contract_id IN (SELECT id FROM contracts WHERE tenant_id = $1 AND account_id = $2)`,
		sc.TenantID, accountID, pq.Array([]string{domain.InvoiceOpen, domain.InvoiceUnpaid})); err != nil {
		return out, err
	}
	out.CreditNotes = []AccountCreditNote{}
	if err := s.db.SelectContext(ctx, &out.CreditNotes, `
		SELECT n.id, n.contract_id, n.invoice_id, n.currency, n.amount, n.remaining, n.created_at, c.status AS contract_status
		FROM credit_notes n JOIN contracts c ON c.id = n.contract_id
		WHERE n.tenant_id = $1 AND c.account_id = $2 AND n.remaining > 0 ORDER BY n.created_at, n.id`, sc.TenantID, accountID); err != nil {
		return out, fmt.Errorf("load credit notes: %w", err)
	}
	var currencies []string
	if err := s.db.SelectContext(ctx, &currencies, `SELECT DISTINCT currency FROM contracts WHERE tenant_id = $1 AND account_id = $2`,
		sc.TenantID, accountID); err != nil {
		return out, fmt.Errorf("list the account's currencies: %w", err)
	}
	out.Balances, err = balances(currencies, out.OpenInvoices, out.CreditNotes)
	return out, err
}

// balances sums invoices and credit notes per currency, in currency order,
// one balance for each currency the account's contracts are in, and marks
// the credit notes of ended contracts as to refund. A sum beyond what int64
// holds (many invoices, each within the tenant's ceiling) is refused, never
// wrapped.
func balances(currencies []string, invoices []domain.Invoice, notes []AccountCreditNote) ([]CurrencyBalance, error) {
	byCurrency := map[string]*CurrencyBalance{}
	get := func(currency string) *CurrencyBalance {
		if b, ok := byCurrency[currency]; ok {
			return b
		}
		b := &CurrencyBalance{Currency: currency}
		byCurrency[currency] = b
		return b
	}
	add := func(sum *int64, field, currency string, amount int64) error {
		total, err := domain.Total(field+" in "+currency, *sum, amount)
		*sum = total
		return err
	}
	for _, c := range currencies {
		get(c)
	}
	for _, inv := range invoices {
		if err := add(&get(inv.Currency).Owed, "the amount owed", inv.Currency, inv.AmountDue); err != nil {
			return nil, err
		}
	}
	for i := range notes {
		n := &notes[i]
		n.RefundDue = n.ContractStatus != domain.ContractActive
		b := get(n.Currency)
		sum, field := &b.Credited, "the credit"
		if n.RefundDue {
			sum, field = &b.RefundDue, "the refund due"
		}
		if err := add(sum, field, n.Currency, n.Remaining); err != nil {
			return nil, err
		}
	}
	out := make([]CurrencyBalance, 0, len(byCurrency))
	for _, b := range byCurrency {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b CurrencyBalance) int { return strings.Compare(a.Currency, b.Currency) })
	return out, nil
}
