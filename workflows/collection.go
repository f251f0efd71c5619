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
)

// billPages bills the run's pages as a pipeline: while one page's invoices
// are collected, the next page is invoiced, each an activity, so that both
// are in flight at once (a local activity would hold the workflow task, and
// with it the collection's start, until it ended). A page's dunning starts
// once its first collections have ended, beside the next page's work.
func billPages(ctx workflow.Context, in *flow.BillingRunInput, runID string) (flow.BillingTotals, error) {
	publishBillingProgress(ctx, *in)
	invoicing := invoiceNextPage(ctx, *in, runID)
	var dunning []workflow.ChildWorkflowFuture
	for {
		var page flow.InvoicePage
		if err := invoicing.Get(ctx, &page); err != nil {
			return in.Totals, err
		}
		collecting := collectFirstAttempts(ctx, in.TenantID, in.TestClockID, page.Collect)
		if page.More {
			next := *in
			next.AfterRef = page.LastRef
			invoicing = invoiceNextPage(ctx, next, runID)
		}
		if err := allDunningStarted(ctx, dunning); err != nil {
			return in.Totals, err
		}
		outcomes, err := collecting(ctx)
		if err != nil {
			return in.Totals, err
		}
		dunning = dunningFor(ctx, page.Collect, outcomes)
		countPage(in, page, outcomes)
		publishBillingProgress(ctx, *in)
		if !page.More {
			return in.Totals, allDunningStarted(ctx, dunning)
		}
		in.AfterRef = page.LastRef
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// The next page, invoiced already, is invoiced again by the
			// next run, which counts what this one issued as its own.
			if err := errors.Join(invoicing.Get(ctx, nil), allDunningStarted(ctx, dunning)); err != nil {
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
	return workflow.ExecuteActivity(actx, a.InvoiceDuePeriods, invoicePageInput(in, runID, billingPageSize))
}

// collectFirstAttempts starts the first collection of a page's invoices,
// collectionBatch at a time, and returns how to wait for their outcomes, in
// the invoices' order.
func collectFirstAttempts(ctx workflow.Context, tenantID, clockID string, invoices []flow.InvoiceRef) func(workflow.Context) ([]domain.CollectionOutcome, error) {
	var batches []workflow.Future
	for batch := range slices.Chunk(invoices, collectionBatch) {
		batches = append(batches, collectBatch(ctx, tenantID, clockID, 0, batch))
	}
	return func(ctx workflow.Context) ([]domain.CollectionOutcome, error) {
		outcomes := make([]domain.CollectionOutcome, 0, len(invoices))
		for _, f := range batches {
			var out flow.CollectedInvoices
			if err := f.Get(ctx, &out); err != nil {
				return nil, err
			}
			outcomes = append(outcomes, out.Outcomes...)
		}
		return outcomes, nil
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
// not end its collecting.
func dunningFor(ctx workflow.Context, invoices []flow.InvoiceRef, outcomes []domain.CollectionOutcome) []workflow.ChildWorkflowFuture {
	var started []workflow.ChildWorkflowFuture
	for i, inv := range invoices {
		if !outcomes[i].EndsDunning() {
			started = append(started, startDunning(ctx, inv))
		}
	}
	return started
}

// allDunningStarted waits until every dunning has started.
func allDunningStarted(ctx workflow.Context, dunning []workflow.ChildWorkflowFuture) error {
	var errs []error
	for _, f := range dunning {
		errs = append(errs, dunningStarted(ctx, f))
	}
	return errors.Join(errs...)
}
