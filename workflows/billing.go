package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
)

const (
	// invoicePageSize bounds the contracts one local activity invoices, in
	// runs recorded before batched collection.
	invoicePageSize = 100
	// maxParallelCollections bounds the collections a run has in flight.
	maxParallelCollections = 20
)

// BillingRunWorkflow bills a tenant's due periods a page of contracts at a
// time: it issues their invoices, makes each one's first collection and hands
// those that fail to a DunningWorkflow. Issuing and collecting are idempotent,
// so a repeated or overlapping run bills each period and captures each
// payment once. Its result is its final state, progress and totals, which a
// reader of the ended run gets without a worker replaying it for the query
// (runs that ended before returned their totals alone, which decode the same).
func BillingRunWorkflow(ctx workflow.Context, in flow.BillingRunInput) (flow.BillingRunState, error) {
	// The first run's id stays the same across continue-as-new.
	runID := workflow.GetInfo(ctx).FirstRunID
	if err := workflow.SetQueryHandler(ctx, flow.BillingProgressQuery, func() (flow.BillingRunState, error) {
		return runState(in, in.Totals), nil
	}); err != nil {
		return runState(in, in.Totals), fmt.Errorf("set the progress query: %w", err)
	}
	if err := countBillingContracts(ctx, &in); err != nil {
		return runState(in, in.Totals), err
	}
	bill := billPages
	if workflow.GetVersion(ctx, batchedCollection, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		bill = billOneByOne
	}
	totals, err := bill(ctx, &in, runID)
	return runState(in, totals), err
}

// runState is the run's state as its query and its result show it.
func runState(in flow.BillingRunInput, totals flow.BillingTotals) flow.BillingRunState {
	return flow.BillingRunState{AsOf: in.AsOf, BillingRunProgress: in.Progress, BillingTotals: totals}
}

// billOneByOne is how runs recorded before collections were batched go on:
// a page invoiced, then each of its invoices collected in steps of its own.
func billOneByOne(ctx workflow.Context, in *flow.BillingRunInput, runID string) (flow.BillingTotals, error) {
	var a *activities.Billing
	for {
		publishBillingProgress(ctx, *in)
		var page flow.InvoicePage
		err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.InvoiceDuePeriods, invoicePageInput(*in, runID, invoicePageSize)).Get(ctx, &page)
		if err != nil {
			return in.Totals, err
		}
		outcomes, err := collectFirst(ctx, page.Collect)
		if err != nil {
			return in.Totals, err
		}
		countPage(in, page, outcomes)
		if !page.More {
			publishBillingProgress(ctx, *in)
			return in.Totals, nil
		}
		in.AfterRef = page.LastRef
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return in.Totals, workflow.NewContinueAsNewError(ctx, BillingRunWorkflow, *in)
		}
	}
}

// invoicePageInput asks for the run's next page of size contracts after
// in.AfterRef.
func invoicePageInput(in flow.BillingRunInput, runID string, size int) flow.InvoicePageInput {
	return flow.InvoicePageInput{
		TenantID: in.TenantID, RunID: runID, AsOf: in.AsOf, AfterRef: in.AfterRef, Limit: size, TestClockID: in.TestClockID,
	}
}

// countPage adds what a page's invoicing and first collections did to the
// run's totals and progress.
func countPage(in *flow.BillingRunInput, page flow.InvoicePage, outcomes []domain.CollectionOutcome) {
	in.Totals.Invoiced += page.Invoiced
	in.Totals.Skipped += page.Skipped
	in.Totals.Refused = append(in.Totals.Refused, page.Refused...)
	for _, o := range outcomes {
		in.Totals.Count(o)
	}
	in.Progress.Checked += page.Checked
}

// countBillingContracts counts, when a run starts, the contracts it will go
// through, the whole its progress is shown against. Runs recorded before
// runs counted them do not.
func countBillingContracts(ctx workflow.Context, in *flow.BillingRunInput) error {
	if workflow.GetVersion(ctx, "billing-run-progress", workflow.DefaultVersion, 1) == workflow.DefaultVersion || in.AfterRef != 0 {
		return nil
	}
	in.Progress.StartedAt = workflow.GetInfo(ctx).WorkflowStartTime
	var a *activities.Billing
	err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.CountBillingContracts, *in).Get(ctx, &in.Progress.Due)
	if err != nil {
		return fmt.Errorf("count the contracts to bill: %w", err)
	}
	return nil
}

// publishBillingProgress shows the run's progress in the Temporal UI's
// workflow details, as the progress query answers it.
func publishBillingProgress(ctx workflow.Context, in flow.BillingRunInput) {
	t := in.Totals
	workflow.SetCurrentDetails(ctx, fmt.Sprintf(
		"Billing as of %s\nContracts: %d of %d\nInvoiced: %d\nCollected: %d\nDeclined: %d\nFailed: %d\nSkipped: %d\nRefused: %d",
		in.AsOf, in.Progress.Checked, in.Progress.Due, t.Invoiced, t.Collected, t.Declined, t.Failed, t.Skipped, len(t.Refused)))
}

// collectFirst makes the first collection of each invoice, a bounded number
// at a time, and starts dunning for those that fail.
func collectFirst(ctx workflow.Context, invoices []flow.InvoiceRef) ([]domain.CollectionOutcome, error) {
	outcomes := make([]domain.CollectionOutcome, len(invoices))
	for start := 0; start < len(invoices); start += maxParallelCollections {
		batch := invoices[start:min(start+maxParallelCollections, len(invoices))]
		errs := make([]error, len(batch))
		wg := workflow.NewWaitGroup(ctx)
		for i, inv := range batch {
			wg.Add(1)
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer wg.Done()
				outcomes[start+i], errs[i] = collectOrDun(ctx, inv)
			})
		}
		wg.Wait(ctx)
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	return outcomes, nil
}

func collectOrDun(ctx workflow.Context, inv flow.InvoiceRef) (domain.CollectionOutcome, error) {
	outcome, err := collect(ctx, inv, 0)
	if err != nil || outcome.EndsDunning() {
		return outcome, err
	}
	return outcome, dunningStarted(ctx, startDunning(ctx, flow.DunningInput{InvoiceRef: inv}))
}

// startDunning starts the dunning of an invoice whose first collection
// failed.
func startDunning(ctx workflow.Context, in flow.DunningInput) workflow.ChildWorkflowFuture {
	inv := in.InvoiceRef
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: flow.DunningWorkflowID(inv),
		// Dunning outlives the run by days.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(flow.TenantIDKey.ValueSet(inv.TenantID), flow.ContractIDKey.ValueSet(inv.ContractID)),
	})
	return workflow.ExecuteChildWorkflow(cctx, flow.DunningWorkflow, in)
}

// dunningStarted waits until a dunning has started, or was already.
func dunningStarted(ctx workflow.Context, f workflow.ChildWorkflowFuture) error {
	err := f.GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		// An overlapping run got there first.
		return nil
	}
	return err
}

// collect makes collection attempt number attempt on an invoice and records
// how it ended: in a batch of one, or, in a dunning recorded before
// collections were batched, in a step each. Its idempotency keys derive from invoice and attempt, so a
// replayed or overlapping attempt moves money once.
func collect(ctx workflow.Context, inv flow.InvoiceRef, attempt int) (domain.CollectionOutcome, error) {
	if workflow.GetVersion(ctx, batchedCollection, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		var out flow.CollectedInvoices
		err := collectBatch(ctx, inv.TenantID, inv.TestClockID, attempt, []flow.InvoiceRef{inv}).Get(ctx, &out)
		if err != nil {
			return "", err
		}
		return out.Outcomes[0], nil
	}
	var a *activities.Billing
	var plan flow.CollectionPlan
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.PrepareCollection, inv).Get(ctx, &plan); err != nil {
		return "", err
	}
	if !plan.Collect {
		return domain.CollectionSkipped, nil
	}
	result, err := pay(ctx, plan, flow.CollectionKey(inv, attempt))
	if err != nil {
		return "", err
	}
	result.Invoice, result.Attempt, result.Amount = inv, attempt, plan.Amount
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.RecordCollection, result).Get(ctx, nil); err != nil {
		return "", err
	}
	return result.Outcome, nil
}

// pay authorises and captures the plan's amount. An authorisation whose
// capture fails is voided, so every authorisation is settled exactly once.
// A provider call is retried with backoff while the provider is down; after
// the last retry the attempt counts as failed and dunning tries again days
// later. A void must happen, so it retries until it does.
func pay(ctx workflow.Context, plan flow.CollectionPlan, key string) (flow.CollectionResult, error) {
	p := payment{key: key, authoriseRetry: providerCall, captureRetry: providerCall, voidRetry: untilDone(500 * time.Millisecond)}
	auth, err := p.authorise(ctx, payments.AuthoriseRequest{PaymentMethod: plan.PaymentMethod, Amount: plan.Amount, Currency: plan.Currency})
	if err != nil {
		return unsuccessful(err)
	}
	capture, err := p.capture(ctx, auth.ID, plan.Amount)
	if err != nil {
		if _, voidErr := p.void(ctx, auth.ID); voidErr != nil {
			return flow.CollectionResult{}, fmt.Errorf("void authorisation %s after a failed capture: %w", auth.ID, voidErr)
		}
		return unsuccessful(err)
	}
	return flow.CollectionResult{Outcome: domain.CollectionSucceeded, PaymentID: capture.ID}, nil
}

// providerCall is how a collection's authorisation and capture retry.
var providerCall = &temporal.RetryPolicy{
	InitialInterval:    500 * time.Millisecond,
	BackoffCoefficient: 2,
	MaximumInterval:    30 * time.Second,
	MaximumAttempts:    6,
}

// unsuccessful turns a failed provider call into the attempt's outcome:
// declined when the payment method was refused, failed when the provider did
// not answer through every retry. Any other refusal means the request itself
// is wrong, and cancellation must stop the workflow: both stay errors.
func unsuccessful(err error) (flow.CollectionResult, error) {
	if reason, ok := declined(err); ok {
		return flow.CollectionResult{Outcome: domain.CollectionDeclined, Reason: reason}, nil
	}
	var appErr *temporal.ApplicationError
	if (errors.As(err, &appErr) && appErr.NonRetryable()) || temporal.IsCanceledError(err) {
		return flow.CollectionResult{}, err
	}
	return flow.CollectionResult{Outcome: domain.CollectionFailed, Reason: "the payment provider did not answer"}, nil
}

// DailyBillingWorkflow is what the billing Schedule starts every day: a
// billing run for each tenant as of that day. A tenant whose run fails does
// not hold up the others.
func DailyBillingWorkflow(ctx workflow.Context) error {
	var a *activities.Billing
	var tenants []string
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.BillingTenants).Get(ctx, &tenants); err != nil {
		return err
	}
	asOf := domain.DateOf(workflow.Now(ctx))
	var errs []error
	for _, tenantID := range tenants {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            flow.BillingRunWorkflowID(tenantID, asOf),
			TypedSearchAttributes: temporal.NewSearchAttributes(flow.TenantIDKey.ValueSet(tenantID)),
		})
		var totals flow.BillingTotals
		err := workflow.ExecuteChildWorkflow(cctx, flow.BillingRunWorkflow, flow.BillingRunInput{TenantID: tenantID, AsOf: asOf}).Get(ctx, &totals)
		switch {
		case temporal.IsWorkflowExecutionAlreadyStartedError(err):
			// An operator's run for the same day is on it.
		case err != nil:
			errs = append(errs, fmt.Errorf("bill tenant %s: %w", tenantID, err))
		default:
			workflow.GetLogger(ctx).Info("billing run finished", "tenantId", tenantID, "asOf", asOf.String(), "totals", totals)
		}
	}
	return errors.Join(errs...)
}
