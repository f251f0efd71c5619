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
// collection failed, on the wall clock, and Began the day each of those
// billed late began its dunning (DunningInput.Began), by invoice id: an
// invoice collected on its due date is not listed, nor is any in runs
// recorded before.
type StartDunningInput struct {
	Invoices InvoiceRefs
	Began    map[string]domain.Date `json:",omitempty"`
}

// Dunning is the DunningInput of invoice i.
func (in StartDunningInput) Dunning(i int) DunningInput {
	return DunningInput{InvoiceRef: in.Invoices[i], Began: in.Began[in.Invoices[i].InvoiceID]}
}

// DunningInput is a DunningWorkflow's input: the invoice, the day its
// dunning began if that was after its due date, and, for a dunning a
// restart of its payment schedule resumes, where it picks up. A billing
// run's dunning of an invoice collected on time has neither, and encodes as
// the InvoiceRef alone, which the histories recorded before hold.
type DunningInput struct {
	InvoiceRef
	// Began is the day, on the contract's clock, the invoice's first
	// collection was made and failed, when that was after its due date: an
	// invoice billed late (a back-dated contract, the periods a run missed),
	// whose retries are counted from that day rather than from a due date
	// long past (see PlanStart). Unset for an invoice collected on its due
	// date, and in dunnings started before.
	Began  domain.Date    `json:",omitzero"`
	Resume *DunningResume `json:",omitempty"`
}

// DunningOf is the dunning of an invoice whose first collection was made,
// and failed, at tried on its contract's clock.
func DunningOf(inv InvoiceRef, tried time.Time) DunningInput {
	in := DunningInput{InvoiceRef: inv}
	if began := domain.DateOf(tried); !tried.IsZero() && began.After(inv.DueDate) {
		in.Began = began
	}
	return in
}

// PlanStart is the day a dunning's retries are counted from
// (domain.DunningDays): the invoice's due date, or the day its dunning
// began if that was later.
func (in DunningInput) PlanStart() domain.Date {
	if in.Began.After(in.DueDate) {
		return in.Began
	}
	return in.DueDate
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
func FirstDunningRetry(in DunningInput) time.Time {
	return in.PlanStart().AddDays(domain.DunningDays[0]).Time()
}

// StartDunning starts the DunningWorkflow of an invoice whose first
// collection failed, its first task delayed until its first retry is due (a
// workflow of its own with nothing to do until then, which costs Temporal
// one execution rather than a task now and a timer). A dunning already
// started, or already ended, for the invoice is left as it is.
func (f *Client) StartDunning(ctx context.Context, in DunningInput, now time.Time) error {
	inv := in.InvoiceRef
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       DunningWorkflowID(inv),
		TaskQueue:                f.taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		StartDelay:               max(FirstDunningRetry(in).Sub(now), 0),
		StaticSummary:            "Dunning of invoice " + inv.InvoiceID,
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(inv.TenantID), ContractIDKey.ValueSet(inv.ContractID)),
	}, DunningWorkflow, in)
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
