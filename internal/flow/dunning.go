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
	}, DunningWorkflow, inv)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start the dunning of invoice %s: %w", inv.InvoiceID, err)
	}
	return nil
}
