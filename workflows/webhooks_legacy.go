package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/webhooks"
)

// Before lanes, a delivery workflow per queue (one subscription's events
// about one contract) delivered them. Dispatchers that started before lanes
// still wake these until they continue as new, and woken ones must finish,
// so WebhookDeliveryWorkflow stays registered, unchanged, until none runs.

// WebhookDeliveryWorkflow works through one queue (one subscription's events
// about one contract) in event order, one delivery at a time. A delivery is
// retried with exponential backoff for the retry window, then given up so
// the queue moves on. The workflow ends when the queue is empty; the
// dispatcher signals-with-start it again when the queue grows.
func WebhookDeliveryWorkflow(ctx workflow.Context, in flow.WebhookDeliveryInput) error {
	q := in.Queue
	if err := workflow.UpsertTypedSearchAttributes(ctx, flow.TenantIDKey.ValueSet(q.TenantID), flow.ContractIDKey.ValueSet(q.ContractID)); err != nil {
		return err
	}
	var a *activities.Webhooks
	sendCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// One attempt is one HTTP request plus bookkeeping.
		StartToCloseTimeout:    webhooks.Timeout + 20*time.Second,
		ScheduleToCloseTimeout: in.Retry.Window,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: in.Retry.InitialInterval, BackoffCoefficient: 2, MaximumInterval: in.Retry.MaximumInterval,
		},
	})
	dbCtx := withDatabaseStep(ctx)
	wake := workflow.GetSignalChannel(ctx, flow.WebhookWakeSignal)
	for {
		// A wake-up only says "look again", which the next step does.
		for wake.ReceiveAsync(nil) {
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, WebhookDeliveryWorkflow, in)
		}
		var next string
		if err := workflow.ExecuteLocalActivity(dbCtx, a.NextWebhookDelivery, q).Get(ctx, &next); err != nil {
			return err
		}
		if next == "" {
			// A wake-up that came while looking may be for a delivery committed since.
			if wake.Len() > 0 {
				continue
			}
			return nil
		}
		ref := flow.WebhookDeliveryRef{TenantID: q.TenantID, DeliveryID: next}
		err := workflow.ExecuteActivity(sendCtx, a.DeliverWebhook, ref).Get(ctx, nil)
		if err == nil {
			continue
		}
		if temporal.IsCanceledError(err) {
			return err
		}
		reason := fmt.Sprintf("not delivered within %s: %s", in.Retry.Window, applicationMessage(err))
		if err := workflow.ExecuteLocalActivity(dbCtx, a.GiveUpWebhookDelivery, flow.GiveUpWebhookInput{
			WebhookDeliveryRef: ref, Reason: reason,
		}).Get(ctx, nil); err != nil {
			return err
		}
	}
}
