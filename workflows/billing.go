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
	return outcome, dunningStarted(ctx, startDunning(ctx, inv))
}

// startDunning starts the dunning of an invoice whose first collection
// failed.
func startDunning(ctx workflow.Context, inv flow.InvoiceRef) workflow.ChildWorkflowFuture {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: flow.DunningWorkflowID(inv),
		// Dunning outlives the run by days.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(flow.TenantIDKey.ValueSet(inv.TenantID), flow.ContractIDKey.ValueSet(inv.ContractID)),
	})
	return workflow.ExecuteChildWorkflow(cctx, flow.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})
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

// DunningWorkflow retries a failed collection domain.DunningDays after the
// invoice's due date until a retry succeeds or the invoice no longer needs
// collecting (paid, or the schedule was cancelled). When every retry fails,
// the schedule is marked in arrears. A dunning a restart of the schedule
// resumes (in.Resume) follows its own plan (dunningPlan); and a retry that
// found nothing to collect takes up the latest resume it was sent, if one
// names that attempt or a later one, rather than end: the schedule was
// restarted as the retry read it Terminated.
func DunningWorkflow(ctx workflow.Context, in flow.DunningInput) error {
	clock := onTestClock(in.TestClockID, time.Time{})
	if err := clock.listen(ctx); err != nil {
		return err
	}
	resumes := workflow.GetSignalChannel(ctx, flow.DunningResumeSignal)
	plan := dunningPlan(in.InvoiceRef, in.Resume)
	for len(plan) > 0 {
		retry := plan[0]
		plan = plan[1:]
		if err := clock.sleepUntil(ctx, retry.at); err != nil {
			return err
		}
		outcome, err := collect(ctx, in.InvoiceRef, retry.attempt)
		if err != nil {
			return err
		}
		if outcome == domain.CollectionSkipped {
			if resume := latestResume(resumes, retry.attempt); resume != nil {
				plan = dunningPlan(in.InvoiceRef, resume)
				continue
			}
		}
		if outcome.EndsDunning() {
			return nil
		}
	}
	var a *activities.Billing
	return workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.MarkInArrears, in.InvoiceRef).Get(ctx, nil)
}

// dunningRetry is an attempt a dunning makes and when.
type dunningRetry struct {
	attempt int
	at      time.Time
}

// dunningPlan is when a dunning tries an invoice again: retry n
// domain.DunningDays[n-1] days after its due date. A dunning that a restart
// of the schedule resumes (resume) makes its retries from resume.Attempt
// on, the first on the restart's day (or its own, if later) and each after
// it as many days later as the plan spaces them: a retry skipped while the
// schedule was Terminated is made at once, and the invoice goes to arrears
// only once every retry has been tried. An invoice whose retries had all
// been made (in arrears) gets one more attempt, on the restart's day: the
// business restarts the schedule to collect what is owed.
func dunningPlan(inv flow.InvoiceRef, resume *flow.DunningResume) []dunningRetry {
	first, anchor := 1, inv.DueDate
	if resume != nil {
		first = resume.Attempt
		if first > len(domain.DunningDays) {
			return []dunningRetry{{attempt: first, at: resume.On.Time()}}
		}
		// The plan moves by however late its next retry now comes.
		if due := inv.DueDate.AddDays(domain.DunningDays[first-1]); resume.On.After(due) {
			anchor = resume.On.AddDays(-domain.DunningDays[first-1])
		}
	}
	var plan []dunningRetry
	for n := first; n <= len(domain.DunningDays); n++ {
		plan = append(plan, dunningRetry{attempt: n, at: anchor.AddDays(domain.DunningDays[n-1]).Time()})
	}
	return plan
}

// latestResume is the latest resume the dunning was sent (flow.Client.
// ResumeDunning) that names attempt, the one it skipped, or a later one;
// nil when there is none. One that names an earlier attempt was sent before
// the attempts since were made: resuming from it would charge an attempt
// number again, under keys its recorded attempt used.
func latestResume(resumes workflow.ReceiveChannel, attempt int) *flow.DunningResume {
	var latest *flow.DunningResume
	for {
		var r flow.DunningResume
		if !resumes.ReceiveAsync(&r) {
			return latest
		}
		if r.Attempt >= attempt {
			latest = &r
		}
	}
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
