package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
)

// StartDunningInput names the invoices of a billing run's page whose first
// collection failed, on the wall clock.
type StartDunningInput struct {
	Invoices InvoiceRefs
}

// DunningInput is a DunningWorkflow's input: the invoice and, for a dunning
// a restart of its payment schedule resumes, where it picks up. A billing
// run's dunning has no Resume, and encodes as the InvoiceRef alone, which
// the histories recorded before hold.
type DunningInput struct {
	InvoiceRef
	Resume *DunningResume `json:",omitempty"`
}

// DunningResume is where a restart of an invoice's payment schedule resumes
// its dunning (see the workflows' dunningPlan): from attempt Attempt, one
// after the last attempt recorded when the schedule was restarted, on On,
// the restart's day on the contract's clock. It is also the data of
// DunningResumeSignal.
type DunningResume struct {
	Attempt int
	On      domain.Date
}

// DunningResumeSignal tells an invoice's running DunningWorkflow that its
// schedule was restarted (its data a DunningResume): a retry that found
// nothing to collect while the schedule was Terminated then resumes, where
// it would otherwise end the dunning.
const DunningResumeSignal = "resume"

// FirstDunningRetry is when an invoice's dunning first tries to collect it
// again.
func FirstDunningRetry(inv InvoiceRef) time.Time {
	return inv.DueDate.AddDays(domain.DunningDays[0]).Time()
}

// StartDunning starts the DunningWorkflow of an invoice whose first
// collection failed, its first task delayed until its first retry is due (a
// workflow of its own with nothing to do until then, which costs Temporal
// one execution rather than a task now and a timer). A dunning already
// started, or already ended, for the invoice is left as it is.
func (f *Client) StartDunning(ctx context.Context, inv InvoiceRef, now time.Time) error {
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       DunningWorkflowID(inv),
		TaskQueue:                f.taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		StartDelay:               max(FirstDunningRetry(inv).Sub(now), 0),
		StaticSummary:            "Dunning of invoice " + inv.InvoiceID,
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(inv.TenantID), ContractIDKey.ValueSet(inv.ContractID)),
	}, DunningWorkflow, DunningInput{InvoiceRef: inv})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start the dunning of invoice %s: %w", inv.InvoiceID, err)
	}
	return nil
}

// ResumeDunning resumes the dunning of an invoice that a restart of its
// payment schedule found unpaid: a new DunningWorkflow from in.Resume, or,
// if one is running, that one, told by DunningResumeSignal. Signal-with-start
// is atomic, so a dunning ending at that moment on a retry it skipped while
// the schedule was Terminated either takes the signal or has ended, and a
// new one starts. A new run may follow a closed one (the dunning that ran
// out, or skipped), which is what resuming is for; a dunning that paid its
// invoice is not resumed, as nothing is unpaid.
func (f *Client) ResumeDunning(ctx context.Context, in DunningInput) error {
	_, err := f.c.SignalWithStartWorkflow(ctx, DunningWorkflowID(in.InvoiceRef), DunningResumeSignal, *in.Resume, client.StartWorkflowOptions{
		TaskQueue:                f.taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Dunning of invoice " + in.InvoiceID + " resumed",
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID), ContractIDKey.ValueSet(in.ContractID)),
	}, DunningWorkflow, in)
	if err != nil {
		return fmt.Errorf("resume the dunning of invoice %s: %w", in.InvoiceID, err)
	}
	return nil
}
