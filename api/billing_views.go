package api

import (
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Views of billing runs, a contract's invoices and an account's balance (views.go says why).

type billingRunResponse struct {
	AsOf domain.Date `json:"asOf"`
	flow.BillingTotals
}

// billingRunStartedView answers a run that outlasted the wait: its id and
// where its progress is.
type billingRunStartedView struct {
	RunID    string `json:"runId"`
	Status   string `json:"status"`
	Progress string `json:"progress"`
}

func toBillingRunStartedView(asOf domain.Date) billingRunStartedView {
	return billingRunStartedView{RunID: asOf.String(), Status: "RUNNING", Progress: "/api/billing/runs/" + asOf.String()}
}

type billingRunView struct {
	RunID      string      `json:"runId"`
	Status     string      `json:"status"`
	AsOf       domain.Date `json:"asOf"`
	Due        int         `json:"due"`
	Checked    int         `json:"checked"`
	StartedAt  *time.Time  `json:"startedAt,omitempty"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
	flow.BillingTotals
}

func toBillingRunView(r flow.BillingRun) billingRunView {
	v := billingRunView{
		RunID: r.AsOf.String(), Status: r.Status, AsOf: r.AsOf, Due: r.Due, Checked: r.Checked,
		FinishedAt: r.FinishedAt, BillingTotals: r.BillingTotals,
	}
	if !r.StartedAt.IsZero() {
		v.StartedAt = &r.StartedAt
	}
	return v
}

type contractInvoicesView struct {
	ContractID     string                    `json:"contractId"`
	ScheduleStatus string                    `json:"scheduleStatus"`
	InArrears      bool                      `json:"inArrears"`
	Items          []invoiceWithPaymentsView `json:"items"`
	CreditNotes    []creditNoteView          `json:"creditNotes"`
}

func toContractInvoicesView(ci store.ContractInvoices) contractInvoicesView {
	return contractInvoicesView{
		ContractID: ci.ContractID, ScheduleStatus: ci.ScheduleStatus, InArrears: ci.InArrears,
		Items: viewsOf(ci.Items, toInvoiceWithPaymentsView), CreditNotes: viewsOf(ci.CreditNotes, toCreditNoteView),
	}
}

type invoiceWithPaymentsView struct {
	domain.Invoice
	Attempts []collectionAttemptView `json:"attempts"`
	Credits  []creditApplicationView `json:"creditsApplied"`
}

func toInvoiceWithPaymentsView(i store.InvoiceWithPayments) invoiceWithPaymentsView {
	return invoiceWithPaymentsView{
		Invoice: i.Invoice, Attempts: viewsOf(i.Attempts, toCollectionAttemptView), Credits: viewsOf(i.Credits, toCreditApplicationView),
	}
}

type collectionAttemptView struct {
	Attempt   int                      `json:"attempt"`
	Outcome   domain.CollectionOutcome `json:"outcome"`
	Reason    *string                  `json:"reason,omitempty"`
	PaymentID *string                  `json:"paymentId,omitempty"`
	Amount    *int64                   `json:"amount,omitempty"`
	At        time.Time                `json:"at"`
}

func toCollectionAttemptView(a store.CollectionAttempt) collectionAttemptView {
	return collectionAttemptView(a)
}

type creditApplicationView struct {
	CreditNoteID string    `json:"creditNoteId"`
	InvoiceID    string    `json:"invoiceId"`
	Amount       int64     `json:"amount"`
	AppliedOn    time.Time `json:"appliedOn"`
}

func toCreditApplicationView(a store.CreditApplication) creditApplicationView {
	return creditApplicationView(a)
}

type creditNoteView struct {
	ID         string    `json:"id"`
	ContractID string    `json:"contractId"`
	InvoiceID  string    `json:"invoiceId"`
	Currency   string    `json:"currency"`
	Amount     int64     `json:"amount"`
	Remaining  int64     `json:"remaining"`
	CreatedOn  time.Time `json:"createdOn"`
}

func toCreditNoteView(n store.CreditNote) creditNoteView { return creditNoteView(n) }

type accountBalanceView struct {
	AccountNumber string                  `json:"accountNumber"`
	Balances      []currencyBalanceView   `json:"balances"`
	OpenInvoices  []domain.Invoice        `json:"openInvoices"`
	CreditNotes   []accountCreditNoteView `json:"creditNotes"`
}

type currencyBalanceView struct {
	Currency  string `json:"currency"`
	Owed      int64  `json:"owed"`
	Credited  int64  `json:"credited"`
	RefundDue int64  `json:"refundDue"`
}

type accountCreditNoteView struct {
	creditNoteView
	ContractStatus string `json:"contractStatus"`
	RefundDue      bool   `json:"refundDue"`
}

func toAccountBalanceView(b store.AccountBalance) accountBalanceView {
	return accountBalanceView{
		AccountNumber: b.AccountNumber,
		Balances:      viewsOf(b.Balances, func(c store.CurrencyBalance) currencyBalanceView { return currencyBalanceView(c) }),
		OpenInvoices:  b.OpenInvoices,
		CreditNotes: viewsOf(b.CreditNotes, func(n store.AccountCreditNote) accountCreditNoteView {
			return accountCreditNoteView{creditNoteView: toCreditNoteView(n.CreditNote), ContractStatus: n.ContractStatus, RefundDue: n.RefundDue}
		}),
	}
}
