package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

const (
	// batchedCollection names the change that made a page's collections one
	// CollectInvoices activity (and a dunning retry a batch of one) instead
	// of four steps an invoice.
	batchedCollection = "batched-collection"
	// collectionBatch bounds the invoices one CollectInvoices collects.
	collectionBatch = 100
	// billingPageSize bounds the contracts one InvoiceDuePeriods invoices:
	// a page's invoices are collected in batches, all at once.
	billingPageSize = 500
	// delayedDunning names the change that starts the dunning of a page's
	// declined invoices on the wall clock from an activity, each workflow's
	// first task delayed until its first retry, instead of as child
	// workflows, which cost Temporal a task and a timer each at once and
	// two events each in the run's history.
	delayedDunning = "delayed-dunning"
	// compactInvoiceRefs names the change that asks for a page's invoices
	// in their compact form (flow.InvoiceRefs), about half the run's history.
	compactInvoiceRefs = "compact-invoice-refs"
)

// billPages bills the run's pages as a pipeline: while one page's invoices
// are collected, the next page is invoiced, each an activity, so that both
// are in flight at once (a local activity would hold the workflow task, and
// with it the collection's start, until it ended). A page's dunning starts
// once its first collections have ended, beside the next page's work.
func billPages(ctx workflow.Context, in *flow.BillingRunInput, runID string) (flow.BillingTotals, error) {
	publishBillingProgress(ctx, *in)
	invoicing := invoiceNextPage(ctx, *in, runID)
	dunning := noDunning
	for {
		var page flow.InvoicePage
		if err := invoicing.Get(ctx, &page); err != nil {
			return in.Totals, err
		}
		toCollect := page.ToCollect()
		collecting := collectFirstAttempts(ctx, in.TenantID, in.TestClockID, toCollect)
		if page.More {
			next := *in
			next.AfterRef = page.LastRef
			invoicing = invoiceNextPage(ctx, next, runID)
		}
		if err := dunning(ctx); err != nil {
			return in.Totals, err
		}
		first, err := collecting(ctx)
		if err != nil {
			return in.Totals, err
		}
		dunning = dunningFor(ctx, toCollect, first)
		countPage(in, page, first.counted)
		publishBillingProgress(ctx, *in)
		if !page.More {
			return in.Totals, dunning(ctx)
		}
		in.AfterRef = page.LastRef
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// The next page, invoiced already, is invoiced again by the
			// next run, which counts what this one issued as its own.
			if err := errors.Join(invoicing.Get(ctx, nil), dunning(ctx)); err != nil {
				return in.Totals, err
			}
			return in.Totals, workflow.NewContinueAsNewError(ctx, BillingRunWorkflow, *in)
		}
	}
}

// invoiceNextPage invoices the page after in.AfterRef.
func invoiceNextPage(ctx workflow.Context, in flow.BillingRunInput, runID string) workflow.Future {
	var a *activities.Billing
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// As a local activity's database step (withDatabaseStep).
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         untilDone(time.Second),
	})
	page := invoicePageInput(in, runID, billingPageSize)
	page.CompactRefs = workflow.GetVersion(ctx, compactInvoiceRefs, workflow.DefaultVersion, 1) == 1
	return workflow.ExecuteActivity(actx, a.InvoiceDuePeriods, page)
}

// firstAttempts are how a page's first collections ended, in the order of
// its invoices: as they came out, as the run counts them (see
// flow.CollectedInvoices.Counted), and when each was made on the invoices'
// clock (zero when a worker of a release before made it).
type firstAttempts struct {
	outcomes, counted []domain.CollectionOutcome
	tried             []time.Time
}

// collectFirstAttempts starts the first collection of a page's invoices,
// collectionBatch at a time, and returns how to wait for them to end.
func collectFirstAttempts(ctx workflow.Context, tenantID, clockID string, invoices []flow.InvoiceRef) func(workflow.Context) (firstAttempts, error) {
	var batches []workflow.Future
	for batch := range slices.Chunk(invoices, collectionBatch) {
		batches = append(batches, collectBatch(ctx, tenantID, clockID, 0, batch))
	}
	return func(ctx workflow.Context) (firstAttempts, error) {
		var first firstAttempts
		for _, f := range batches {
			var out flow.CollectedInvoices
			if err := f.Get(ctx, &out); err != nil {
				return firstAttempts{}, err
			}
			first.outcomes, first.counted = append(first.outcomes, out.Outcomes...), append(first.counted, out.Counted()...)
			for range out.Outcomes {
				first.tried = append(first.tried, out.At)
			}
		}
		return first, nil
	}
}

// collectBatch makes collection attempt number attempt on each invoice, in
// one activity. It is retried until it succeeds: every invoice's charge and
// record are idempotent, and an attempt that could not be made is an
// outcome, not an error.
func collectBatch(ctx workflow.Context, tenantID, clockID string, attempt int, invoices []flow.InvoiceRef) workflow.Future {
	var a *activities.Collections
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A batch whose provider never answers retries each charge for
		// about 15 s, collectionConcurrency at a time.
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    6 * activities.CollectionHeartbeat,
		RetryPolicy:         untilDone(time.Second),
	})
	return workflow.ExecuteActivity(actx, a.CollectInvoices, flow.CollectInvoicesInput{
		TenantID: tenantID, TestClockID: clockID, Attempt: attempt, Invoices: invoices,
	})
}

// dunningFor starts the dunning of each invoice whose first collection did
// not end its collecting, and returns how to wait until every one has
// started. An invoice billed late (first tried after its due date) begins
// its dunning on the day it was tried (flow.DunningOf). Invoices on the
// wall clock are started by one StartDunning activity; those on a test
// clock, whose dunning must register its wait on the clock at once, and all
// of them in runs recorded before, as child workflows.
func dunningFor(ctx workflow.Context, invoices []flow.InvoiceRef, first firstAttempts) func(workflow.Context) error {
	var due []flow.DunningInput
	for i, inv := range invoices {
		if !first.outcomes[i].EndsDunning() {
			due = append(due, flow.DunningOf(inv, first.tried[i]))
		}
	}
	if len(due) == 0 {
		return noDunning
	}
	var wall []flow.DunningInput
	if workflow.GetVersion(ctx, delayedDunning, workflow.DefaultVersion, 1) == 1 {
		wall = slices.DeleteFunc(slices.Clone(due), func(d flow.DunningInput) bool { return d.TestClockID != "" })
		due = slices.DeleteFunc(due, func(d flow.DunningInput) bool { return d.TestClockID == "" })
	}
	var children []workflow.ChildWorkflowFuture
	for _, d := range due {
		children = append(children, startDunning(ctx, d))
	}
	var delayed workflow.Future
	if len(wall) > 0 {
		var a *activities.Dunning
		delayed = workflow.ExecuteActivity(startingDunning(ctx), a.StartDunning, startDunningInput(wall))
	}
	return func(ctx workflow.Context) error {
		err := allDunningStarted(ctx, children)
		if delayed != nil {
			err = errors.Join(err, delayed.Get(ctx, nil))
		}
		return err
	}
}

// startDunningInput asks StartDunning to start the dunnings: the invoices,
// and the day each one billed late began its dunning. A page collected on
// its invoices' due dates lists no day, and asks as runs recorded before
// did.
func startDunningInput(dunning []flow.DunningInput) flow.StartDunningInput {
	var in flow.StartDunningInput
	for _, d := range dunning {
		in.Invoices = append(in.Invoices, d.InvoiceRef)
		if !d.Began.IsZero() {
			if in.Began == nil {
				in.Began = map[string]domain.Date{}
			}
			in.Began[d.InvoiceID] = d.Began
		}
	}
	return in
}

// startingDunning is how an activity that starts dunning workflows runs:
// retried until it has started them all, which is safe to repeat.
func startingDunning(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         untilDone(time.Second),
	})
}

// noDunning is the wait of a page with no dunning to start.
func noDunning(workflow.Context) error { return nil }

// allDunningStarted waits until every dunning has started.
func allDunningStarted(ctx workflow.Context, dunning []workflow.ChildWorkflowFuture) error {
	var errs []error
	for _, f := range dunning {
		errs = append(errs, dunningStarted(ctx, f))
	}
	return errors.Join(errs...)
}
