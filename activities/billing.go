package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
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
	// Refused names contracts not billed because an amount is beyond the limits.
	Refused []string
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
// contracts: the new ones, the prorated charges amendments raised, and ones
// an interrupted run left uncollected; the last page adds the charges left on
// contracts that have ended. A contract whose schedule is Terminated is
// billed nothing.
func (a *Activities) InvoiceDuePeriods(ctx context.Context, in InvoicePageInput) (InvoicePage, error) {
	contracts, more, err := a.Store.BillingContracts(ctx, in.TenantID, in.AsOf, in.AfterRef, in.Limit)
	if err != nil {
		return InvoicePage{}, err
	}
	cat, err := a.Store.Catalog(ctx, in.TenantID)
	if err != nil {
		return InvoicePage{}, err
	}
	lim := cat.MoneyLimits()
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
		invoices, err := recurringInvoices(lim, c, due)
		if err != nil {
			// Only a contract stored before amounts were checked gets here;
			// it is left for an operator, and the rest of the tenant billed.
			activity.GetLogger(ctx).Error("contract not billed: its amounts are beyond the limits", "contractId", c.ID, "err", err)
			page.Refused = append(page.Refused, c.ID)
			continue
		}
		active = append(active, c.ID)
		issue = append(issue, invoices...)
	}
	if page.Invoiced, err = a.Store.IssueRecurringInvoices(ctx, in.TenantID, in.RunID, active, issue, a.now()); err != nil {
		return InvoicePage{}, err
	}
	open, err := a.Store.InvoicesToCollect(ctx, in.TenantID, active, in.AsOf)
	if err != nil {
		return InvoicePage{}, err
	}
	if !more {
		ended, err := a.Store.EndedContractCharges(ctx, in.TenantID, in.AsOf)
		if err != nil {
			return InvoicePage{}, err
		}
		open = append(open, ended...)
	}
	for _, inv := range open {
		page.Collect = append(page.Collect, InvoiceRef{TenantID: in.TenantID, ContractID: inv.ContractID, InvoiceID: inv.ID, DueDate: inv.PeriodStart})
	}
	return page, nil
}

// recurringInvoices prices a contract's due periods, all or none.
func recurringInvoices(lim domain.Limits, c store.BillingContract, due []domain.DuePeriod) ([]store.NewInvoice, error) {
	out := make([]store.NewInvoice, 0, len(due))
	for _, p := range due {
		lines, total, err := domain.RecurringCharges(lim, c.Lines, p)
		if err != nil {
			return nil, err
		}
		out = append(out, store.NewInvoice{ContractID: c.ID, Period: p.Billed, Currency: c.Currency, Lines: lines, Total: total})
	}
	return out, nil
}

// CollectionPlan is what a collection attempt takes; Collect is false when
// there is nothing to collect.
type CollectionPlan struct {
	Collect       bool
	PaymentMethod string
	Amount        int64
	Currency      string
}

// PrepareCollection decides whether an invoice is still to be collected, and
// how much: its amount due (credits applied at issue are not collected). Not
// once it is paid, nor while its schedule is Terminated, nor a recurring one
// once the contract is not active (a dunning retry may come after a cancel):
// an amendment's charge, such as an early-termination fee, is owed whatever
// the contract's state.
func (a *Activities) PrepareCollection(ctx context.Context, inv InvoiceRef) (CollectionPlan, error) {
	t, err := a.Store.CollectionTarget(ctx, inv.TenantID, inv.InvoiceID)
	if errors.Is(err, store.ErrNotFound) {
		return CollectionPlan{}, businessError(domain.Errorf(domain.KindNotFound, "", "invoice %s does not exist", inv.InvoiceID))
	}
	if err != nil {
		return CollectionPlan{}, err
	}
	return CollectionPlan{
		// An amount due that is not positive has nothing to collect (only an
		// invoice issued before amounts were checked can have a negative total).
		Collect: t.InvoiceStatus != store.InvoicePaid && t.AmountDue > 0 && t.ScheduleStatus == domain.ScheduleActive &&
			(t.ContractStatus == domain.ContractActive || t.Kind == store.InvoiceAmendment),
		PaymentMethod: t.PaymentMethod, Amount: t.AmountDue, Currency: t.Currency,
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

// CollectionResult is how one collection attempt on an invoice ended, and
// for a successful one, the amount it took.
type CollectionResult struct {
	Invoice   InvoiceRef
	Attempt   int
	Outcome   domain.CollectionOutcome
	Reason    string
	PaymentID string
	Amount    int64
}

// RecordCollection stores an attempt's outcome on its invoice and settles it.
func (a *Activities) RecordCollection(ctx context.Context, r CollectionResult) error {
	attempt := store.CollectionAttempt{
		Attempt: r.Attempt, Outcome: r.Outcome, Reason: optional(r.Reason), PaymentID: optional(r.PaymentID), At: a.now(),
	}
	if r.Outcome == domain.CollectionSucceeded {
		attempt.Amount = &r.Amount
	}
	return a.Store.RecordCollectionAttempt(ctx, r.Invoice.TenantID, r.Invoice.InvoiceID, attempt)
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
