package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/payments"
)

const (
	// invoicePageSize bounds the contracts one local activity invoices.
	invoicePageSize = 100
	// maxParallelCollections bounds the collections a run has in flight.
	maxParallelCollections = 20
	// BillingScheduleID names the Temporal Schedule that bills every day.
	BillingScheduleID = "billing-daily"
)

// BillingRunInput asks for a tenant's periods due by AsOf to be billed.
// AfterRef and Totals carry a run across continue-as-new.
type BillingRunInput struct {
	TenantID string
	AsOf     domain.Date
	AfterRef int64
	Totals   BillingTotals
}

// BillingTotals count what a billing run did.
type BillingTotals struct {
	Invoiced  int `json:"invoiced"`  // invoices issued
	Collected int `json:"collected"` // first collections captured
	Declined  int `json:"declined"`  // first collections declined; dunning retries them
	Failed    int `json:"failed"`    // first collections the provider never answered; dunning retries them
	Skipped   int `json:"skipped"`   // due periods not billed as the schedule is Terminated, and invoices no longer to collect
	// Refused lists contracts not billed because an amount is beyond the
	// tenant's money limits (stored before amounts were checked).
	Refused []string `json:"refused,omitempty"`
}

func (t *BillingTotals) count(o domain.CollectionOutcome) {
	switch o {
	case domain.CollectionSucceeded:
		t.Collected++
	case domain.CollectionDeclined:
		t.Declined++
	case domain.CollectionFailed:
		t.Failed++
	case domain.CollectionSkipped:
		t.Skipped++
	}
}

// BillingRunWorkflowID allows one run per tenant and date at a time; a
// second request for the same date joins it.
func BillingRunWorkflowID(tenantID string, asOf domain.Date) string {
	return "billing-run/" + tenantID + "/" + asOf.String()
}

// DunningWorkflowID is per invoice: an invoice is dunned at most once.
func DunningWorkflowID(inv activities.InvoiceRef) string {
	return "dunning/" + inv.TenantID + "/" + inv.InvoiceID
}

// BillingRunWorkflow bills a tenant's due periods a page of contracts at a
// time: it issues their invoices, makes each one's first collection and hands
// those that fail to a DunningWorkflow. Issuing and collecting are idempotent,
// so a repeated or overlapping run bills each period and captures each
// payment once.
func BillingRunWorkflow(ctx workflow.Context, in BillingRunInput) (BillingTotals, error) {
	var a *activities.Activities
	// The first run's id stays the same across continue-as-new.
	runID := workflow.GetInfo(ctx).FirstRunID
	for {
		var page activities.InvoicePage
		err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.InvoiceDuePeriods, activities.InvoicePageInput{
			TenantID: in.TenantID, RunID: runID, AsOf: in.AsOf, AfterRef: in.AfterRef, Limit: invoicePageSize,
		}).Get(ctx, &page)
		if err != nil {
			return in.Totals, err
		}
		in.Totals.Invoiced += page.Invoiced
		in.Totals.Skipped += page.Skipped
		in.Totals.Refused = append(in.Totals.Refused, page.Refused...)
		outcomes, err := collectFirst(ctx, page.Collect)
		if err != nil {
			return in.Totals, err
		}
		for _, o := range outcomes {
			in.Totals.count(o)
		}
		if !page.More {
			return in.Totals, nil
		}
		in.AfterRef = page.LastRef
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return in.Totals, workflow.NewContinueAsNewError(ctx, BillingRunWorkflow, in)
		}
	}
}

// collectFirst makes the first collection of each invoice, a bounded number
// at a time, and starts dunning for those that fail.
func collectFirst(ctx workflow.Context, invoices []activities.InvoiceRef) ([]domain.CollectionOutcome, error) {
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

func collectOrDun(ctx workflow.Context, inv activities.InvoiceRef) (domain.CollectionOutcome, error) {
	outcome, err := collect(ctx, inv, 0)
	if err != nil || outcome.EndsDunning() {
		return outcome, err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: DunningWorkflowID(inv),
		// Dunning outlives the run by days.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(TenantIDKey.ValueSet(inv.TenantID), ContractIDKey.ValueSet(inv.ContractID)),
	})
	err = workflow.ExecuteChildWorkflow(cctx, DunningWorkflow, inv).GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		// An overlapping run got there first.
		err = nil
	}
	return outcome, err
}

// DunningWorkflow retries a failed collection domain.DunningDays after the
// invoice's due date until a retry succeeds or the invoice no longer needs
// collecting (paid, or the schedule was cancelled). When every retry fails,
// the schedule is marked in arrears.
func DunningWorkflow(ctx workflow.Context, inv activities.InvoiceRef) error {
	for i, days := range domain.DunningDays {
		if err := sleepUntil(ctx, inv.DueDate.AddDays(days)); err != nil {
			return err
		}
		outcome, err := collect(ctx, inv, i+1)
		if err != nil || outcome.EndsDunning() {
			return err
		}
	}
	var a *activities.Activities
	return workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.MarkInArrears, inv).Get(ctx, nil)
}

// sleepUntil waits for the start of day (UTC); a day already begun does not wait.
func sleepUntil(ctx workflow.Context, day domain.Date) error {
	if wait := day.Time().Sub(workflow.Now(ctx)); wait > 0 {
		return workflow.Sleep(ctx, wait)
	}
	return nil
}

// collect makes collection attempt number attempt on an invoice and records
// how it ended. Its idempotency keys derive from invoice and attempt, so a
// replayed or overlapping attempt moves money once.
func collect(ctx workflow.Context, inv activities.InvoiceRef, attempt int) (domain.CollectionOutcome, error) {
	var a *activities.Activities
	var plan activities.CollectionPlan
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.PrepareCollection, inv).Get(ctx, &plan); err != nil {
		return "", err
	}
	if !plan.Collect {
		return domain.CollectionSkipped, nil
	}
	result, err := pay(ctx, plan, fmt.Sprintf("invoice/%s/attempt/%d", inv.InvoiceID, attempt))
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
func pay(ctx workflow.Context, plan activities.CollectionPlan, key string) (activities.CollectionResult, error) {
	var a *activities.Activities
	callCtx := withPaymentCall(ctx)
	var auth payments.Authorisation
	err := workflow.ExecuteActivity(callCtx, a.AuthorisePayment, activities.AuthoriseInput{
		IdempotencyKey: key + "/authorise",
		Request:        payments.AuthoriseRequest{PaymentMethod: plan.PaymentMethod, Amount: plan.Amount, Currency: plan.Currency},
	}).Get(ctx, &auth)
	if err != nil {
		return unsuccessful(err)
	}
	var capture payments.Capture
	err = workflow.ExecuteActivity(callCtx, a.CapturePayment, activities.CaptureInput{
		IdempotencyKey: key + "/capture", AuthorisationID: auth.ID, Amount: plan.Amount,
	}).Get(ctx, &capture)
	if err != nil {
		voidErr := workflow.ExecuteActivity(withCompensation(ctx), a.VoidPayment, activities.VoidInput{
			IdempotencyKey: key + "/void", AuthorisationID: auth.ID,
		}).Get(ctx, nil)
		if voidErr != nil {
			return activities.CollectionResult{}, fmt.Errorf("void authorisation %s after a failed capture: %w", auth.ID, voidErr)
		}
		return unsuccessful(err)
	}
	return activities.CollectionResult{Outcome: domain.CollectionSucceeded, PaymentID: capture.ID}, nil
}

// unsuccessful turns a failed provider call into the attempt's outcome:
// declined when the payment method was refused, failed when the provider did
// not answer through every retry. Any other refusal means the request itself
// is wrong, and cancellation must stop the workflow: both stay errors.
func unsuccessful(err error) (activities.CollectionResult, error) {
	var appErr *temporal.ApplicationError
	refused := errors.As(err, &appErr) && appErr.NonRetryable()
	switch {
	case refused && appErr.Type() == string(payments.CodeDeclined):
		return activities.CollectionResult{Outcome: domain.CollectionDeclined, Reason: appErr.Message()}, nil
	case refused, temporal.IsCanceledError(err):
		return activities.CollectionResult{}, err
	default:
		return activities.CollectionResult{Outcome: domain.CollectionFailed, Reason: "the payment provider did not answer"}, nil
	}
}

// withPaymentCall runs a provider call as a regular activity, retried with
// backoff while the provider is down. After the last retry the attempt counts
// as failed and dunning tries again days later.
func withPaymentCall(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    6,
		},
	})
}

// withCompensation runs a void: it must happen, so it retries until it does.
func withCompensation(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// DailyBillingWorkflow is what the billing Schedule starts every day: a
// billing run for each tenant as of that day. A tenant whose run fails does
// not hold up the others.
func DailyBillingWorkflow(ctx workflow.Context) error {
	var a *activities.Activities
	var tenants []string
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.BillingTenants).Get(ctx, &tenants); err != nil {
		return err
	}
	asOf := domain.DateOf(workflow.Now(ctx))
	var errs []error
	for _, tenantID := range tenants {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            BillingRunWorkflowID(tenantID, asOf),
			TypedSearchAttributes: temporal.NewSearchAttributes(TenantIDKey.ValueSet(tenantID)),
		})
		var totals BillingTotals
		err := workflow.ExecuteChildWorkflow(cctx, BillingRunWorkflow, BillingRunInput{TenantID: tenantID, AsOf: asOf}).Get(ctx, &totals)
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

// EnsureBillingSchedule creates the Temporal Schedule that starts
// DailyBillingWorkflow at 00:30 UTC, unless it exists. A day whose run starts
// while the previous one still runs waits for it instead of being dropped.
func EnsureBillingSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: BillingScheduleID,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Minute: []client.ScheduleRange{{Start: 30}}, Comment: "daily at 00:30 UTC",
		}}},
		Action:  &client.ScheduleWorkflowAction{ID: BillingScheduleID, Workflow: DailyBillingWorkflow, TaskQueue: taskQueue},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create billing schedule: %w", err)
	}
	return nil
}
