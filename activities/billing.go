package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
)

// InvoicePageInput asks for one page of a tenant's contracts to be invoiced.
type InvoicePageInput struct {
	TenantID string
	// RunID names the billing run, whose invoices are counted as its own.
	RunID    string
	AsOf     domain.Date
	AfterRef int64
	Limit    int
}

// InvoicePage is what invoicing one page did, and the invoices it leaves to
// collect.
type InvoicePage struct {
	Invoiced int
	// Skipped counts due periods not billed because the schedule is Terminated.
	Skipped int
	Collect []InvoiceRef
	LastRef int64
	More    bool
}

// InvoiceRef names an invoice to collect.
type InvoiceRef struct {
	TenantID   string
	ContractID string
	InvoiceID  string
	DueDate    domain.Date
}

// InvoiceDuePeriods issues the invoices for the periods due by AsOf on one
// page of the tenant's contracts and returns every open invoice of those
// contracts, including ones an interrupted run left uncollected. A contract
// whose schedule is Terminated is billed nothing.
func (a *Activities) InvoiceDuePeriods(ctx context.Context, in InvoicePageInput) (InvoicePage, error) {
	contracts, more, err := a.Store.BillingContracts(ctx, in.TenantID, in.AsOf, in.AfterRef, in.Limit)
	if err != nil {
		return InvoicePage{}, err
	}
	page := InvoicePage{More: more}
	var issue []store.NewInvoice
	var active []string // contracts whose schedule collects
	for _, c := range contracts {
		page.LastRef = c.Ref
		due := domain.CapPeriods(c.Terms.DuePeriods(in.AsOf))
		if c.ScheduleStatus != domain.ScheduleActive {
			page.Skipped += len(due)
			continue
		}
		active = append(active, c.ID)
		for _, p := range due {
			lines, total := domain.RecurringCharges(c.Lines, p)
			issue = append(issue, store.NewInvoice{ContractID: c.ID, Period: p.Billed, Currency: c.Currency, Lines: lines, Total: total})
		}
	}
	if page.Invoiced, err = a.Store.IssueRecurringInvoices(ctx, in.TenantID, in.RunID, active, issue, a.now()); err != nil {
		return InvoicePage{}, err
	}
	open, err := a.Store.OpenRecurringInvoices(ctx, in.TenantID, active, in.AsOf)
	if err != nil {
		return InvoicePage{}, err
	}
	for _, inv := range open {
		page.Collect = append(page.Collect, InvoiceRef{TenantID: in.TenantID, ContractID: inv.ContractID, InvoiceID: inv.ID, DueDate: inv.PeriodStart})
	}
	return page, nil
}

// CollectionPlan is what a collection attempt takes; Collect is false when
// there is nothing to collect.
type CollectionPlan struct {
	Collect       bool
	PaymentMethod string
	Amount        int64
	Currency      string
}

// PrepareCollection decides whether an invoice is still to be collected: not
// once it is paid, nor while the contract is not active or its schedule is
// Terminated (a dunning retry may come after a cancel).
func (a *Activities) PrepareCollection(ctx context.Context, inv InvoiceRef) (CollectionPlan, error) {
	t, err := a.Store.CollectionTarget(ctx, inv.TenantID, inv.InvoiceID)
	if errors.Is(err, store.ErrNotFound) {
		return CollectionPlan{}, businessError(domain.Errorf(domain.KindNotFound, "", "invoice %s does not exist", inv.InvoiceID))
	}
	if err != nil {
		return CollectionPlan{}, err
	}
	return CollectionPlan{
		Collect:       t.InvoiceStatus != store.InvoicePaid && t.ContractStatus == domain.ContractActive && t.ScheduleStatus == domain.ScheduleActive,
		PaymentMethod: t.PaymentMethod, Amount: t.Total, Currency: t.Currency,
	}, nil
}

// AuthoriseInput is one authorisation call.
type AuthoriseInput struct {
	IdempotencyKey string
	Request        payments.AuthoriseRequest
}

// AuthorisePayment reserves an invoice's amount with the payment provider.
func (a *Activities) AuthorisePayment(ctx context.Context, in AuthoriseInput) (payments.Authorisation, error) {
	auth, err := a.Payments.Authorise(ctx, in.IdempotencyKey, in.Request)
	return auth, paymentError("authorise", err)
}

// CaptureInput is one capture call.
type CaptureInput struct {
	IdempotencyKey  string
	AuthorisationID string
	Amount          int64
}

// CapturePayment takes an authorised amount.
func (a *Activities) CapturePayment(ctx context.Context, in CaptureInput) (payments.Capture, error) {
	capture, err := a.Payments.Capture(ctx, in.IdempotencyKey, in.AuthorisationID, in.Amount)
	return capture, paymentError("capture", err)
}

// VoidInput is one void call.
type VoidInput struct {
	IdempotencyKey  string
	AuthorisationID string
}

// VoidPayment releases an authorisation that will not be captured.
func (a *Activities) VoidPayment(ctx context.Context, in VoidInput) (payments.Void, error) {
	void, err := a.Payments.Void(ctx, in.IdempotencyKey, in.AuthorisationID)
	return void, paymentError("void", err)
}

// paymentError makes a provider's refusal a non-retryable application error
// typed by its code; other failures are transient and retried.
func paymentError(op string, err error) error {
	if err == nil {
		return nil
	}
	var refusal *payments.Error
	if errors.As(err, &refusal) {
		return temporal.NewNonRetryableApplicationError(refusal.Message, string(refusal.Code), err)
	}
	return fmt.Errorf("%s payment: %w", op, err)
}

// CollectionResult is how one collection attempt on an invoice ended.
type CollectionResult struct {
	Invoice   InvoiceRef
	Attempt   int
	Outcome   domain.CollectionOutcome
	Reason    string
	PaymentID string
}

// RecordCollection stores an attempt's outcome on its invoice.
func (a *Activities) RecordCollection(ctx context.Context, r CollectionResult) error {
	return a.Store.RecordCollectionAttempt(ctx, r.Invoice.TenantID, r.Invoice.InvoiceID, store.CollectionAttempt{
		Attempt: r.Attempt, Outcome: r.Outcome, Reason: optional(r.Reason), PaymentID: optional(r.PaymentID), At: a.now(),
	})
}

// MarkInArrears flags the schedule of an invoice whose dunning ran out.
func (a *Activities) MarkInArrears(ctx context.Context, inv InvoiceRef) error {
	return a.Store.MarkScheduleInArrears(ctx, inv.TenantID, inv.ContractID)
}

// BillingTenants lists the tenants the daily billing runs for.
func (a *Activities) BillingTenants(ctx context.Context) ([]string, error) {
	return a.Store.TenantIDs(ctx)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
