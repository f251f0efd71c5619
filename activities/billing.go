package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Billing invoices due periods and records collections.
type Billing struct{ database }

// NewBilling builds the billing activities on s with the business clock now.
func NewBilling(s *store.Store, now func() time.Time) *Billing {
	return &Billing{database{store: s, clock: now}}
}

// InvoiceDuePeriods issues the invoices for the periods due by AsOf on one
// page of the tenant's contracts and returns every open invoice of those
// contracts: the new ones, the prorated charges amendments raised, and ones
// an interrupted run left uncollected; the last page adds the invoices left
// open on contracts that have ended. A contract whose schedule is Terminated
// is billed nothing.
func (a *Billing) InvoiceDuePeriods(ctx context.Context, in flow.InvoicePageInput) (flow.InvoicePage, error) {
	now, err := a.runTime(ctx, in.TestClockID)
	if err != nil {
		return flow.InvoicePage{}, err
	}
	var page flow.InvoicePage
	var active []string // contracts whose schedule collects
	for attempt := 1; ; attempt++ {
		page, active, err = a.issuePage(ctx, in, now)
		// A contract changed between reading and invoicing it: read the page
		// again (several changes racing the run can take a few tries; after
		// that Temporal retries the step).
		if !errors.Is(err, store.ErrContractChanged) || attempt == maxPricingAttempts {
			break
		}
	}
	if err != nil {
		return flow.InvoicePage{}, err
	}
	open, err := a.store.InvoicesToCollect(ctx, in.TenantID, active, in.AsOf)
	if err != nil {
		return flow.InvoicePage{}, err
	}
	if !page.More {
		ended, err := a.store.EndedContractCharges(ctx, in.TenantID, optional(in.TestClockID), in.AsOf)
		if err != nil {
			return flow.InvoicePage{}, err
		}
		// An expired contract still billed for its last periods is on a page
		// too, and its charge listed there already: an invoice twice in one
		// collection batch is refused, and the batch retried for ever.
		listed := make(map[string]bool, len(open))
		for _, inv := range open {
			listed[inv.ID] = true
		}
		for _, inv := range ended {
			if !listed[inv.ID] {
				open = append(open, inv)
			}
		}
	}
	var refs flow.InvoiceRefs
	for _, inv := range open {
		refs = append(refs, flow.InvoiceRef{
			TenantID: in.TenantID, ContractID: inv.ContractID, InvoiceID: inv.ID, DueDate: inv.PeriodStart, TestClockID: in.TestClockID,
		})
	}
	if in.CompactRefs {
		page.Refs = refs
	} else {
		page.Collect = refs
	}
	return page, nil
}

// maxPricingAttempts bounds how often one step reads and prices its page
// again because a contract changed under it (store.ErrContractChanged).
const maxPricingAttempts = 5

// issuePage reads one page of the contracts to bill, prices their due
// periods each at the lines then in force, and issues the invoices. It
// returns the page's counts and the contracts whose schedule collects.
func (a *Billing) issuePage(ctx context.Context, in flow.InvoicePageInput, now time.Time) (flow.InvoicePage, []string, error) {
	contracts, more, err := a.store.BillingContracts(ctx, in.TenantID, optional(in.TestClockID), in.AsOf, in.AfterRef, in.Limit)
	if err != nil {
		return flow.InvoicePage{}, nil, err
	}
	cat, err := a.store.Catalog(ctx, in.TenantID)
	if err != nil {
		return flow.InvoicePage{}, nil, err
	}
	histories, err := a.segmentHistories(ctx, in.TenantID, contracts)
	if err != nil {
		return flow.InvoicePage{}, nil, err
	}
	lim := cat.MoneyLimits()
	page := flow.InvoicePage{More: more, Checked: len(contracts)}
	var issue []store.NewInvoice
	var active []string
	for _, c := range contracts {
		page.LastRef = c.Ref
		due := domain.CapPeriods(c.Terms.DuePeriods(in.AsOf))
		if c.ScheduleStatus != domain.ScheduleActive {
			page.Skipped += len(due)
			continue
		}
		invoices, err := recurringInvoices(lim, c, histories[c.ID], due)
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
	page.Invoiced, err = a.store.IssueRecurringInvoices(ctx, in.TenantID, in.RunID, active, issue, now)
	return page, active, err
}

// segmentHistories reads the segment histories of the contracts that have
// changed since they were created; the others are priced at their lines.
func (a *Billing) segmentHistories(ctx context.Context, tenantID string, contracts []store.BillingContract) (map[string][]store.SegmentLines, error) {
	var changed []string
	for _, c := range contracts {
		if c.Version > 1 {
			changed = append(changed, c.ID)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return a.store.SegmentHistories(ctx, tenantID, changed)
}

// CountBillingContracts counts the contracts a run as of in.AsOf goes
// through, so that its progress has a whole to show against.
func (a *Billing) CountBillingContracts(ctx context.Context, in flow.BillingRunInput) (int, error) {
	return a.store.CountBillingContracts(ctx, in.TenantID, optional(in.TestClockID), in.AsOf)
}

// runTime is the business time of a billing step: the test clock's time
// when it bills the contracts on one, else the business clock's.
func (d database) runTime(ctx context.Context, clockID string) (time.Time, error) {
	if clockID == "" {
		return d.clock.now(), nil
	}
	return d.store.ClockTime(ctx, clockID)
}

// recurringInvoices prices a contract's due periods, all or none.
func recurringInvoices(lim domain.Limits, c store.BillingContract, history []store.SegmentLines, due []domain.DuePeriod) ([]store.NewInvoice, error) {
	out := make([]store.NewInvoice, 0, len(due))
	for _, p := range due {
		lines, total, err := domain.RecurringCharges(lim, linesInForce(history, c.Lines, p.Billed), p)
		if err != nil {
			return nil, err
		}
		out = append(out, store.NewInvoice{ContractID: c.ID, Period: p.Billed, Currency: c.Currency, Lines: lines, Total: total, PricedAt: c.State})
	}
	return out, nil
}

// linesInForce are the lines a period is billed at: those of the contract's
// last segment to have taken effect by the period's first day. A period a
// run missed is so billed at the price of its time, not today's; a change
// that took effect within a period raised its own prorated charge for the
// rest of it. Without a history (a contract never changed) they are the
// contract's lines.
func linesInForce(history []store.SegmentLines, current []domain.Line, p domain.Period) []domain.Line {
	lines := current
	for _, s := range history {
		if s.Effective.After(p.Start) {
			break
		}
		lines = s.Lines
	}
	return lines
}

// PrepareCollection (the collections of runs and dunning recorded before
// CollectInvoices batched them) decides whether an invoice is still to be collected, and
// how much: its amount due (credits applied are not collected). Not once it
// is paid, nor while its schedule is Terminated. Whatever the contract's
// state: an invoice is for what the contract ran up while it ran (a period
// it was billed for, an amendment's charge, an early-termination fee), so a
// contract that has ended still owes it, less the credit its cancellation
// set against it (a dunning retry may come after a cancel).
func (a *Billing) PrepareCollection(ctx context.Context, inv flow.InvoiceRef) (flow.CollectionPlan, error) {
	t, err := a.store.CollectionTarget(ctx, inv.TenantID, inv.InvoiceID)
	if errors.Is(err, store.ErrNotFound) {
		return flow.CollectionPlan{}, businessError(domain.Errorf(domain.KindNotFound, "", "invoice %s does not exist", inv.InvoiceID))
	}
	if err != nil {
		return flow.CollectionPlan{}, err
	}
	return collectionPlan(t), nil
}

// collectionPlan is what PrepareCollection decides of a loaded invoice.
func collectionPlan(t store.CollectionTarget) flow.CollectionPlan {
	return flow.CollectionPlan{
		// An amount due that is not positive has nothing to collect (only an
		// invoice issued before amounts were checked can have a negative total).
		Collect:       t.InvoiceStatus != domain.InvoicePaid && t.AmountDue > 0 && t.ScheduleStatus == domain.ScheduleActive,
		PaymentMethod: t.PaymentMethod, Amount: t.AmountDue, Currency: t.Currency,
	}
}

// RecordCollection (before CollectInvoices) stores an attempt's outcome on its invoice and settles it.
func (a *Billing) RecordCollection(ctx context.Context, r flow.CollectionResult) error {
	at, err := a.runTime(ctx, r.Invoice.TestClockID)
	if err != nil {
		return err
	}
	if r.Invoice.TestClockID != "" && r.Attempt == 0 && !r.Outcome.EndsDunning() {
		// Its dunning is about to start: the clock's advance waits for it.
		if err := a.store.HoldClock(ctx, r.Invoice.TestClockID, flow.DunningWorkflowID(r.Invoice)); err != nil {
			return err
		}
	}
	attempt := store.CollectionAttempt{
		Attempt: r.Attempt, Outcome: r.Outcome, Reason: optional(r.Reason), PaymentID: optional(r.PaymentID), At: at,
	}
	if r.Outcome == domain.CollectionSucceeded {
		attempt.Amount = &r.Amount
	}
	return a.store.RecordCollectionAttempt(ctx, r.Invoice.TenantID, r.Invoice.InvoiceID, attempt)
}

// MarkInArrears flags the schedule of an invoice whose dunning ran out.
func (a *Billing) MarkInArrears(ctx context.Context, inv flow.InvoiceRef) error {
	return a.store.MarkScheduleInArrears(ctx, inv.TenantID, inv.ContractID, inv.InvoiceID)
}

// BillingTenants lists the tenants the daily billing runs for.
func (a *Billing) BillingTenants(ctx context.Context) ([]string, error) {
	return a.store.TenantIDs(ctx)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
